"""Values looked up by customer id in tables of millions of customers.

`Series.map` over a table indexed by pandas' Arrow-backed strings hashes every id of
the table as a Python string: at ten million customers over a gigabyte held only for
the lookup. Arrow's `index_in` hashes the ids where they lie, in a third of that.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def value_by_id(ids: pd.Series, table: pd.Series, missing: object) -> pd.Series:
    """For each id, `table`'s value at that id (its index), or `missing` where it has none."""
    keys = pa.array(table.index.astype("str"))  # an empty table may have a number index
    at = pc.index_in(pa.array(ids, pa.string()), value_set=keys)
    positions = at.fill_null(-1).to_numpy()
    return pd.Series(
        table.array.take(positions, allow_fill=True, fill_value=missing), index=ids.index
    )
