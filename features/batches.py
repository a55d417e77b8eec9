"""Parquet files read batch by batch, in memory bounded by a batch.

`ParquetFile.iter_batches` pre-buffers each row group it reads and keeps those buffers
until the reader is done (apache/arrow#39808): reading the 300 million rows of a
ten-million-customer purchases file held gigabytes of row groups already passed.
Without pre-buffering, a batch's memory is released once the batch is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def parquet_batches(
    path: Path, rows: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """The file's rows (only `columns`, if named) in batches of at most `rows` rows."""
    yield from pq.ParquetFile(path, pre_buffer=False).iter_batches(rows, columns=columns)
