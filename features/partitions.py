"""The feature build per customer partition of the store, and the parts put back together.

With `ingest.partitions` N > 1 every table of a store version is written as N files, a
customer's rows of every table in the same part (`features.store.partition_of`).
The feature SQL then runs on one part at a time (a Dask task each, see
`pipelines.flows`) and gives that part's customers exactly the rows the whole store
gives them: every feature reads only the customer's own rows but one,
`acquired_by_referral`, which reads the referral events of other customers (those who
referred them). Each part's build reads those from every part (the `referrals` view of
`features.views`): two columns of one small table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.atomic import write_parquet_atomically
from features.build import FeatureSettings, build_features, check_eligible, store_features
from features.schemas import feature_table_schema, validate_table
from features.views import open_version


def write_partition_features(
    store_version: Path, index: int, as_of: pd.Timestamp, out: Path, settings: FeatureSettings
) -> Path:
    """Build the feature table of the customers of part `index` into `out`; returns `out`."""
    connection = open_version(store_version, engine=settings.duckdb, partition=index)
    table = build_features(connection, [as_of], settings, store_features(store_version))
    table.to_parquet(out, index=False)
    return out


def combine_partition_features(
    store_version: Path,
    parts: list[Path],
    as_of: pd.Timestamp,
    out: Path,
    settings: FeatureSettings,
) -> pd.DataFrame:
    """The parts' feature tables as one, in the single-machine build's order, written to `out`.

    The part files are removed once the table is written.
    """
    tables = [table for table in map(pd.read_parquet, parts) if len(table)]
    check_eligible(sum(map(len, tables)), as_of, settings.activity_days)
    table = pd.concat(tables, ignore_index=True).sort_values(
        ["cutoff", "customer_id"], ignore_index=True
    )
    validate_table(table, feature_table_schema(store_features(store_version)))
    write_parquet_atomically(table, out)
    for part in parts:
        part.unlink()
    return table
