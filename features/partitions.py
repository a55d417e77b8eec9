"""The feature build per customer partition of the store, and the parts put back together.

With `ingest.partitions` N > 1 every table of a store version is written as N files, a
customer's rows of every table in the same part (`features.store.partition_of`).
The feature SQL then runs on one part at a time (a Dask task each, see
`pipelines.flows`) and gives that part's customers exactly the rows the whole store
gives them: every feature reads only the customer's own rows but one,
`acquired_by_referral`, which reads the referral events of other customers (those who
referred them). Each part's build reads those from every part (the `referrals` view of
`features.views`): two columns of one small table. The parts are put back together by
DuckDB within its memory limit, so the whole table is never held in memory at once.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.atomic import write_atomically
from features.build import FeatureSettings, build_features, check_eligible, store_features
from features.engine import connect
from features.schemas import feature_table_schema, validate_table
from features.views import open_version

BATCH_ROWS = 1 << 20
"""Rows per batch, and so at most per row group, of the combined table."""


def write_partition_features(
    store_version: Path, index: int, as_of: pd.Timestamp, out: Path, settings: FeatureSettings
) -> Path:
    """Build the feature table of the customers of part `index` into `out`; returns `out`."""
    names = store_features(store_version)
    connection = open_version(store_version, engine=settings.duckdb, partition=index)
    table = build_features(connection, [as_of], settings, names)
    if len(table):  # an empty part has no rows to check, nor the dtypes they would give
        validate_table(table, feature_table_schema(names))
    table.to_parquet(out, index=False)
    return out


def combine_partition_features(
    parts: list[Path], as_of: pd.Timestamp, out: Path, settings: FeatureSettings
) -> int:
    """The parts' feature tables as one file `out`, in the single-machine build's order.

    Returns its number of rows. Each part was checked against the feature table's schema
    as it was built; the file keeps that schema. The part files are removed once it is
    written.
    """
    counts = {part: pq.ParquetFile(part).metadata.num_rows for part in parts}
    filled = [part for part, count in counts.items() if count]
    rows = sum(counts.values())
    check_eligible(rows, as_of, settings.activity_days)
    schema = pq.read_schema(filled[0])
    with connect(settings.duckdb) as connection:
        ordered = connection.sql(
            "SELECT * FROM read_parquet($parts) ORDER BY cutoff, customer_id",
            params={"parts": [str(part) for part in filled]},
        ).to_arrow_reader(BATCH_ROWS)
        write_atomically(out, lambda partial: _write_batches(ordered, schema, partial))
    for part in parts:
        part.unlink()
    return rows


def _write_batches(batches: pa.RecordBatchReader, schema: pa.Schema, path: Path) -> None:
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_table(pa.Table.from_batches([batch]).cast(schema))
