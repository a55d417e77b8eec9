"""Finding and reading the raw input tables, with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from features.contracts import TableContract
from features.errors import UserError

SUFFIXES = (".parquet", ".csv")


class TableSource(BaseModel):
    """Where one input table lives inside the source folder and how its columns are named."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str | None = None
    """File name inside the source folder; default `<table>.parquet` or `<table>.csv`."""
    columns: dict[str, str] = {}
    """Contract column name -> column name in the file, for files that name them otherwise."""


def locate_table(source: Path, table: str, spec: TableSource) -> Path:
    """The file that holds `table`, or a clear error naming what was looked for."""
    if spec.file is not None:
        path = source / spec.file
        if not path.is_file():
            raise UserError(f"{path}: file for table '{table}' not found.")
        if path.suffix not in SUFFIXES:
            raise UserError(f"{path}: table '{table}' must be a .parquet or .csv file.")
        return path
    found = [
        source / f"{table}{suffix}"
        for suffix in SUFFIXES
        if (source / f"{table}{suffix}").is_file()
    ]
    if not found:
        raise UserError(f"{source}: no {table}.parquet or {table}.csv found for table '{table}'.")
    if len(found) > 1:
        raise UserError(
            f"{source}: both {found[0].name} and {found[1].name} exist; "
            f"name the one to use for '{table}' in the config (sources.{table}.file)."
        )
    return found[0]


def read_raw_table(path: Path, contract: TableContract, spec: TableSource) -> pd.DataFrame:
    """Read a table as it is in the file, under the contract's column names.

    CSV values stay strings (typing happens in `features.parsing`, so that a bad value
    can be quarantined with the original text). The index is the 0-based data row.
    """
    try:
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])
        else:
            frame = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as error:
        raise UserError(f"{path}: cannot be read as {path.suffix[1:]}: {error}") from error
    to_contract = {spec.columns.get(name, name): name for name in contract.column_names}
    missing = [
        f"'{source}'" + (f" (contract column '{name}')" if source != name else "")
        for source, name in to_contract.items()
        if name in contract.required_columns and source not in frame.columns
    ]
    if missing:
        raise UserError(
            f"{path}: required column {', '.join(missing)} missing; "
            f"the file has: {', '.join(map(str, frame.columns))}."
        )
    present = [source for source in to_contract if source in frame.columns]
    frame = frame[present].rename(columns=to_contract)
    return frame.reset_index(drop=True)
