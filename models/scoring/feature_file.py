"""Parts of a scoring run's feature table, read without loading the whole table.

At ten million customers the feature table holds several gigabytes as data frames; a
scoring step needs a slice of its rows, a few of its columns, or one column at a time.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def row_count(path: Path) -> int:
    """Rows of the Parquet file at `path`, from its footer."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def _row_groups(file: pq.ParquetFile) -> list[tuple[int, int, int]]:
    """(index, first row, row after the last) of each row group of the file."""
    groups, offset = [], 0
    for index in range(file.num_row_groups):
        size = file.metadata.row_group(index).num_rows
        groups.append((index, offset, offset + size))
        offset += size
    return groups


def read_rows(path: Path, start: int, stop: int) -> pd.DataFrame:
    """Rows [start, stop) of the file, reading only the row groups that hold them."""
    file = pq.ParquetFile(path)
    holding = [
        (index, first) for index, first, end in _row_groups(file) if first < stop and end > start
    ]
    if not holding:
        return file.schema_arrow.empty_table().to_pandas()
    table = file.read_row_groups([index for index, _ in holding])
    return table.slice(start - holding[0][1], stop - start).to_pandas()


def sample_rows(path: Path, count: int, seed: int = 0) -> pd.DataFrame:
    """The rows `DataFrame.sample(count, random_state=seed)` would draw from the whole file."""
    rows = row_count(path)
    positions = pd.RangeIndex(rows).to_series().sample(min(count, rows), random_state=seed)
    file = pq.ParquetFile(path)
    pieces = []
    for index, first, end in _row_groups(file):
        inside = positions[(positions >= first) & (positions < end)]
        if len(inside):
            group = file.read_row_group(index)
            piece = group.take(pa.array(inside.to_numpy() - first)).to_pandas()
            pieces.append(piece.set_axis(inside.index))
    if not pieces:
        return file.schema_arrow.empty_table().to_pandas()
    return pd.concat(pieces).loc[positions.index].reset_index(drop=True)


def read_columns(path: Path, names: list[str]) -> pd.DataFrame:
    """The named columns that the file has, every row."""
    present = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[name for name in dict.fromkeys(names) if name in present])


class FeatureColumns:
    """The feature table as columns read one at a time: `columns["tenure_days"]`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __getitem__(self, name: str) -> pd.Series:
        return read_columns(self.path, [name])[name]
