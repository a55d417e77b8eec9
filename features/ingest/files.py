"""Finding and reading the raw input tables in batches, with errors a user can act on.

Tables are read in batches of rows so that ingestion's memory stays bounded whatever
the size of the file. CSV values stay strings (typing happens in `features.ingest.parsing`, so
a bad value can be quarantined with its original text). Batch indexes are the 0-based
data-row numbers of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from features.contracts import TableContract
from features.errors import UserError

SUFFIXES = (".parquet", ".csv")
BATCH_ROWS = 1_000_000
CSV_BLOCK_BYTES = 64 << 20


class TableSource(BaseModel):
    """Where one input table lives inside the source folder and how its columns are named."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str | None = None
    """File name inside the source folder; default `<table>.parquet` or `<table>.csv`."""
    columns: dict[str, str] = {}
    """Contract column name -> column name in the file, for files that name them otherwise."""


@dataclass(frozen=True)
class SourceFile:
    """An input file whose required columns are known to be there."""

    path: Path
    contract: TableContract
    to_contract: dict[str, str]
    """Column in the file -> contract column, for the contract columns the file has."""

    def read_ids(self) -> pd.Series:
        """The table's id column, every row, as text."""
        source = next(s for s, c in self.to_contract.items() if c == self.contract.id_column)
        return pd.concat(
            (batch[source].astype("str") for batch in self._batches([source])), ignore_index=True
        )

    def read_batches(self) -> Iterator[pd.DataFrame]:
        """Batches of rows under the contract's column names, indexed by data-row number."""
        start = 0
        for batch in self._batches(list(self.to_contract)):
            frame = batch.rename(columns=self.to_contract)
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame

    def _batches(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        try:
            if self.path.suffix == ".csv":
                reader = pacsv.open_csv(
                    self.path,
                    read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                    convert_options=pacsv.ConvertOptions(
                        include_columns=columns,
                        column_types=dict.fromkeys(columns, pa.string()),
                        strings_can_be_null=True,
                    ),
                )
                batches: Iterator[pa.RecordBatch] = iter(reader)
            else:
                batches = pq.ParquetFile(self.path).iter_batches(BATCH_ROWS, columns=columns)
            for batch in batches:
                yield batch.to_pandas()
        except (OSError, pa.ArrowException) as error:
            raise UserError(f"{self.path}: cannot be read: {error}") from error


def locate_table(source: Path, table: str, spec: TableSource) -> Path:
    """The file that holds `table`, or a clear error naming what was looked for."""
    if spec.file is not None:
        path = source / spec.file
        if not path.is_file():
            raise UserError(f"{path}: file for table '{table}' not found.")
        if path.suffix not in SUFFIXES:
            raise UserError(f"{path}: table '{table}' must be a .parquet or .csv file.")
        return path
    found = [source / f"{table}{suffix}" for suffix in SUFFIXES]
    found = [path for path in found if path.is_file()]
    if not found:
        raise UserError(f"{source}: no {table}.parquet or {table}.csv found for table '{table}'.")
    if len(found) > 1:
        raise UserError(
            f"{source}: both {found[0].name} and {found[1].name} exist; "
            f"name the one to use for '{table}' in the config (ingest.tables.{table}.file)."
        )
    return found[0]


def _file_columns(path: Path) -> list[str]:
    try:
        if path.suffix == ".csv":
            return list(pacsv.open_csv(path).schema.names)
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"{path}: cannot be read as {path.suffix[1:]}: {error}") from error


def open_source(source: Path, contract: TableContract, spec: TableSource) -> SourceFile:
    """Locate a table's file and check that it has every required column."""
    path = locate_table(source, contract.name, spec)
    present = set(_file_columns(path))
    wanted = {spec.columns.get(name, name): name for name in contract.column_names}
    missing = [
        f"'{column}'" + (f" (contract column '{name}')" if column != name else "")
        for column, name in wanted.items()
        if name in contract.required_columns and column not in present
    ]
    if missing:
        raise UserError(
            f"{path}: required column {', '.join(missing)} missing; "
            f"the file has: {', '.join(sorted(present))}."
        )
    return SourceFile(path, contract, {c: n for c, n in wanted.items() if c in present})
