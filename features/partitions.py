"""Customer partitions: the store split by a hash of the customer id, features built per part.

With `ingest.partitions` N > 1 every table of a store version is written as N files
(`<table>/part-0000.parquet`, ...), and a customer's rows of every table land in the part
numbered by a stable hash of their id. The feature SQL then runs on one part at a time
(a Dask task each, see `pipelines.flows`) and gives that part's customers exactly the
rows the whole store gives them: every feature reads only the customer's own rows, but
one, `acquired_by_referral`, which reads the referral events of other customers (those
who referred them). Each part's build reads those from every part (the `referrals` view
of `features.views`), two columns of one small table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.atomic import write_parquet_atomically
from features.build import FeatureSettings, build_features, store_features
from features.contracts import TABLE_NAMES
from features.schemas import feature_table_schema, validate_table
from features.store import PART
from features.views import open_version

HASH_KEY = "advocacy-parts16"
"""SipHash key of the customer hash (16 characters): changing it moves customers between parts."""
BATCH_ROWS = 1_000_000


def partition_of(ids: pa.Array | pa.ChunkedArray, partitions: int) -> np.ndarray:
    """The part of each customer id: SipHash-2-4 of its UTF-8 bytes, modulo `partitions`.

    The same id gets the same part in every table, run and machine.
    """
    values = np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)
    hashes = pd.util.hash_array(values, hash_key=HASH_KEY, categorize=False)
    return (hashes % np.uint64(partitions)).astype(np.int64)


def partition_tables(version: Path, partitions: int) -> None:
    """Split every `<table>.parquet` of a version being written into `partitions` parts.

    Batch by batch, so memory stays bounded; rows keep their order within a part, and
    every part is written, empty or not, with the table's schema.
    """
    for table in TABLE_NAMES:
        whole = version / f"{table}.parquet"
        source = pq.ParquetFile(whole)
        (version / table).mkdir()
        schema = source.schema_arrow
        writers = [
            pq.ParquetWriter(version / table / PART.format(i), schema, compression="zstd")
            for i in range(partitions)
        ]
        try:
            for batch in source.iter_batches(BATCH_ROWS):
                part = partition_of(batch.column("customer_id"), partitions)
                for index, writer in enumerate(writers):
                    writer.write_batch(batch.filter(pa.array(part == index)))
        finally:
            for writer in writers:
                writer.close()
        whole.unlink()


def write_partition_features(
    store_version: Path, index: int, as_of: pd.Timestamp, out: Path, settings: FeatureSettings
) -> Path:
    """Build the feature table of the customers of part `index` into `out`; returns `out`."""
    connection = open_version(store_version, engine=settings.duckdb, partition=index)
    table = build_features(connection, [as_of], settings, store_features(store_version))
    table.to_parquet(out, index=False)
    return out


def combine_partition_features(store_version: Path, parts: list[Path], out: Path) -> pd.DataFrame:
    """The parts' feature tables as one, in the single-machine build's order, written to `out`.

    The part files are removed once the table is written.
    """
    tables = [pd.read_parquet(part) for part in parts]
    filled = [table for table in tables if len(table)] or tables[:1]
    table = pd.concat(filled, ignore_index=True).sort_values(
        ["cutoff", "customer_id"], ignore_index=True
    )
    validate_table(table, feature_table_schema(store_features(store_version)))
    write_parquet_atomically(table, out)
    for part in parts:
        part.unlink()
    return table
