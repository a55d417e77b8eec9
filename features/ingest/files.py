"""Finding and reading the raw input tables in batches, with errors a user can act on.

A table is one file or several (a glob: monthly exports make one table), laid out and
named as the user's `TableSource` says. Files are read in batches of rows so that
ingestion's memory stays bounded whatever their size. CSV values stay strings (typing
happens in `features.ingest.parsing`, so a bad value can be quarantined with its
original text). Rows are numbered by their 0-based position across the table's files,
in file-name order; `FileRows` turns a position back into its file and row.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from features.batches import parquet_batches
from features.contracts import OPTIONAL_TABLES, TableContract
from features.errors import UserError
from features.ingest.parsing import ValueFormat, known_timezone

SUFFIXES = (".parquet", ".csv")
"""Default file names: `<table>.parquet` or `<table>.csv`."""
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
"""Files read as delimited text (see `TableSource.delimiter`); all others must be Parquet."""
BATCH_ROWS = 1_000_000
CSV_BLOCK_BYTES = 64 << 20


class TableSource(BaseModel):
    """How one input table lies in the user's files: where, written how, named how."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str | None = None
    """File name or glob inside the source folder (`orders_*.csv`: several files make one
    table, read in name order); default `<table>.parquet` or `<table>.csv`."""
    columns: dict[str, str] = {}
    """Renames: column name in the files -> contract column."""
    values: dict[str, dict[str, str]] = {}
    """Per text or yes/no column (named as in the files): value in the files -> contract
    value (`delivered: completed`, `ja: true`)."""
    delimiter: str = Field(",", min_length=1, max_length=1)
    """Field separator of text files."""
    encoding: str = "utf-8"
    """Encoding of text files (utf-8, cp1252, latin-1, ...)."""
    decimal: Literal[".", ","] = "."
    """Decimal separator of numbers written as text."""
    timestamp_format: str | None = None
    """strftime format of timestamps written as text, e.g. `%d.%m.%Y %H:%M`; default ISO 8601."""
    timezone: Annotated[str, AfterValidator(known_timezone)] | None = None
    """Zone of timestamps written without an offset; default `ingest.naive_timezone`."""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, name: str) -> str:
        try:
            codecs.lookup(name)
        except LookupError as error:
            raise ValueError(f"unknown encoding '{name}'") from error
        return name

    def source_name(self, column: str) -> str:
        """The user's name of a contract column."""
        return next((theirs for theirs, ours in self.columns.items() if ours == column), column)

    def value_format(self, naive_timezone: str) -> ValueFormat:
        """How this source writes values, with value maps keyed by contract column."""
        return ValueFormat(
            naive_timezone=self.timezone or naive_timezone,
            timestamp_format=self.timestamp_format,
            decimal=self.decimal,
            replacements={self.columns.get(theirs, theirs): m for theirs, m in self.values.items()},
        )

    def check_against(self, contract: TableContract) -> None:
        """A ValueError naming the first rename or value map that fits no contract column."""
        unknown = sorted(set(self.columns.values()) - set(contract.column_names))
        if unknown:
            raise ValueError(f"columns: unknown contract columns {unknown}")
        renamed = list(self.columns.values())
        twice = sorted({column for column in renamed if renamed.count(column) > 1})
        if twice:
            raise ValueError(f"columns: several columns renamed to {twice}")
        for theirs in self.values:
            ours = self.columns.get(theirs, theirs)
            mappable = [c.name for c in contract.columns if c.kind in ("text", "boolean")]
            if ours not in mappable:
                raise ValueError(
                    f"values.{theirs}: value maps apply to text and yes/no columns "
                    f"({', '.join(mappable)})"
                )


@dataclass(frozen=True)
class FileRows:
    """Which file and row each position of a table read from several files comes from."""

    files: tuple[Path, ...]
    starts: np.ndarray
    """Position of each file's first row."""

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The file (as text) and the 1-based data-row number in it of each position."""
        index = np.searchsorted(self.starts, positions, side="right") - 1
        names = np.array([str(path) for path in self.files], dtype=object)
        return names[index], positions - self.starts[index] + 1


@dataclass(frozen=True)
class SourceFile:
    """One input file and the contract columns it has."""

    path: Path
    to_contract: dict[str, str]
    """Column in the file -> contract column, for the contract columns the file has."""


@dataclass(frozen=True)
class SourceTable:
    """The files of one input table, each with every required column.

    No files: the source does not have this (optional) table.
    """

    contract: TableContract
    spec: TableSource
    files: tuple[SourceFile, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The contract columns that some file has, in contract order."""
        present = {c for file in self.files for c in file.to_contract.values()}
        return tuple(c for c in self.contract.column_names if c in present)

    def write_ids(self, path: Path) -> FileRows:
        """Write every row's id as text, with its position across the files, to `path`.

        Parquet (position, id), batch by batch: a table's ids may not fit in memory.
        Returns where the rows lie.
        """
        schema = pa.schema([("position", pa.int64()), ("id", pa.string())])
        starts, position = [], 0
        with pq.ParquetWriter(path, schema) as writer:
            for file in self.files:
                starts.append(position)
                for ids in self._file_ids(file):
                    positions = np.arange(position, position + len(ids), dtype=np.int64)
                    writer.write_table(
                        pa.table([positions, pa.array(ids, type=pa.string())], schema=schema)
                    )
                    position += len(ids)
        return FileRows(tuple(file.path for file in self.files), np.array(starts, dtype=np.int64))

    def read_batches(self) -> Iterator[pd.DataFrame]:
        """Batches of rows under contract column names, indexed by position across files.

        Small files (monthly exports) are read together into batches of about BATCH_ROWS
        rows: validating a batch has a fixed cost that many rows should share.
        """
        start, pending, rows = 0, [], 0
        for file in self.files:
            for batch in self._batches(file, list(file.to_contract)):
                names = [file.to_contract[name] for name in batch.schema.names]
                pending.append(pa.Table.from_batches([batch]).rename_columns(names))
                rows += batch.num_rows
                if rows >= BATCH_ROWS:
                    yield self._frame(pending, start)
                    start, pending, rows = start + rows, [], 0
        if pending:
            yield self._frame(pending, start)

    def _frame(self, tables: list[pa.Table], start: int) -> pd.DataFrame:
        try:
            joined = pa.concat_tables(tables, promote_options="permissive")
        except pa.ArrowException as error:
            raise UserError(
                f"{self.contract.name}: its files disagree on column types: {error}"
            ) from error
        # One chunk per column: pandas' filters and takes are slower on many chunks.
        frame = joined.combine_chunks().to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        return frame

    def _file_ids(self, file: SourceFile) -> Iterator[pd.Series]:
        source = next(s for s, c in file.to_contract.items() if c == self.contract.id_column)
        for batch in self._batches(file, [source]):
            yield batch.column(0).to_pandas().astype("str")

    def _batches(self, file: SourceFile, columns: list[str]) -> Iterator[pa.RecordBatch]:
        try:
            if file.path.suffix in TEXT_SUFFIXES:
                reader = pacsv.open_csv(
                    file.path,
                    read_options=_csv_read_options(self.spec),
                    parse_options=pacsv.ParseOptions(delimiter=self.spec.delimiter),
                    convert_options=pacsv.ConvertOptions(
                        include_columns=columns,
                        column_types=dict.fromkeys(columns, pa.string()),
                        strings_can_be_null=True,
                    ),
                )
                yield from reader
            else:
                yield from parquet_batches(file.path, BATCH_ROWS, columns)
        except (OSError, pa.ArrowException) as error:
            raise UserError(f"{file.path}: cannot be read: {error}") from error


def _csv_read_options(spec: TableSource) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, encoding=spec.encoding)


def locate_files(source: Path, table: str, spec: TableSource) -> list[Path]:
    """The files that hold `table` (none: the source does not have it), or a clear error."""
    if spec.file is not None:
        found = sorted(path for path in source.glob(spec.file) if path.is_file())
        if not found:
            raise UserError(f"{source / spec.file}: no file found for table '{table}'.")
        wrong = [path for path in found if path.suffix not in (*TEXT_SUFFIXES, ".parquet")]
        if wrong:
            raise UserError(
                f"{wrong[0]}: table '{table}' must be in .parquet or .csv (.tsv, .txt) files."
            )
        return found
    found = [source / f"{table}{suffix}" for suffix in SUFFIXES]
    found = [path for path in found if path.is_file()]
    if len(found) > 1:
        raise UserError(
            f"{source}: both {found[0].name} and {found[1].name} exist; "
            f"name the one to use for '{table}' in the config (ingest.tables.{table}.file)."
        )
    return found


def _file_columns(path: Path, spec: TableSource) -> list[str]:
    try:
        if path.suffix in TEXT_SUFFIXES:
            options = pacsv.ParseOptions(delimiter=spec.delimiter)
            return list(pacsv.open_csv(path, _csv_read_options(spec), options).schema.names)
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as error:
        kind = "text" if path.suffix in TEXT_SUFFIXES else "parquet"
        raise UserError(f"{path}: cannot be read as {kind}: {error}") from error


def _open_file(path: Path, contract: TableContract, spec: TableSource) -> SourceFile:
    """One file of a table, checked to have every required column."""
    present = set(_file_columns(path, spec))
    wanted = {spec.source_name(name): name for name in contract.column_names}
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
    return SourceFile(path, {c: n for c, n in wanted.items() if c in present})


def open_table(source: Path, contract: TableContract, spec: TableSource) -> SourceTable:
    """A table's files, each checked for the required columns.

    An optional table that the source does not have is a table of no files: it reads as
    no rows, and the store holds it empty.
    """
    paths = locate_files(source, contract.name, spec)
    if not paths and contract.name not in OPTIONAL_TABLES:
        raise UserError(
            f"{source}: no {contract.name}.parquet or {contract.name}.csv found for table "
            f"'{contract.name}' (or name its files in ingest.tables.{contract.name}.file)."
        )
    return SourceTable(contract, spec, tuple(_open_file(path, contract, spec) for path in paths))
