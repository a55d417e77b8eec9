"""Reading a Parquet file batch by batch holds one batch, not the row groups already read."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.batches import parquet_batches

GROUP_ROWS = 200_000  # row groups of about 5 MB: smaller ones are pre-buffered all at once
GROUPS = 12


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batches") / "rows.parquet"
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "id": pa.array(rng.integers(0, 10**12, GROUP_ROWS * GROUPS).astype(str)),
            "amount": rng.normal(size=GROUP_ROWS * GROUPS),
        }
    )
    pq.write_table(table, path, row_group_size=GROUP_ROWS)
    return path


def test_every_row_once_in_order_and_only_the_named_columns(path: Path) -> None:
    batches = list(parquet_batches(path, 150_000, ["amount"]))
    assert max(batch.num_rows for batch in batches) <= 150_000
    read = pa.Table.from_batches(batches)
    assert read.column_names == ["amount"]
    assert read.column("amount").equals(pq.read_table(path).column("amount"))


def test_memory_held_stays_that_of_one_batch(path: Path) -> None:
    group_bytes = pq.ParquetFile(path).metadata.row_group(0).total_byte_size
    before = pa.total_allocated_bytes()
    held = []
    for batch in parquet_batches(path, GROUP_ROWS):
        del batch
        held.append(pa.total_allocated_bytes() - before)
    # One batch and its decoding need about 3 row groups' bytes; pre-buffered reading
    # kept every row group read until the end (12 of them here).
    assert max(held) < 5 * group_bytes
