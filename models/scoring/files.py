"""The files of a scoring run, written so that nobody ever opens a half-written list.

A run is staged and published through `features.atomic` (`latest` points at the newest
complete run): an interrupted run leaves the previous runs and `latest` as they were.

Spreadsheet programs run a cell that starts with = + - @ (or a tab or carriage
return) as a formula; in the CSV and XLSX files such text gets a leading apostrophe.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from features.atomic import pointed_folder

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_575  # data rows below the header
LATEST = "latest"
MANIFEST = "manifest.json"


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text that a spreadsheet would run as a formula starts with '."""
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_string_dtype(safe[column]) or safe[column].dtype == object:
            text = safe[column].astype("str")
            risky = text.str.startswith(FORMULA_START).fillna(False)
            safe[column] = text.where(~risky, "'" + text).where(safe[column].notna())
    return safe


def spreadsheet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralised, with time zones written out as text (Excel has no time zones)."""
    safe = neutralise_formulas(frame)
    for column in safe.columns:
        if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
            safe[column] = safe[column].dt.strftime("%Y-%m-%d %H:%M %Z")
    return safe


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 with a byte-order mark, so that Excel shows accents and symbols correctly."""
    spreadsheet_ready(frame).to_csv(path, index=False, encoding="utf-8-sig")


def write_xlsx(frame: pd.DataFrame, path: Path, sheet: str = "advocates") -> None:
    """One sheet, at most Excel's row limit (the Parquet and CSV files hold every row)."""
    spreadsheet_ready(frame.head(EXCEL_MAX_ROWS)).to_excel(
        path,
        sheet_name=sheet,
        index=False,
        engine="xlsxwriter",
        engine_kwargs={"options": {"constant_memory": True, "strings_to_formulas": False}},
    )


def slug(name: str) -> str:
    """A file-name-safe version of a segment name: "Recover first" -> "recover-first"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def run_name(as_of: pd.Timestamp, model_version: str) -> str:
    """Folder name of a run: as-of date, model version, and when it ran (UTC)."""
    started = pd.Timestamp.now(tz="UTC")
    return f"{as_of:%Y-%m-%d}_v{model_version}_{started:%Y%m%dT%H%M%S%f}"


def latest_run(root: Path) -> Path:
    """The folder of the newest complete scoring run."""
    return pointed_folder(root / LATEST, f"No scoring run in {root}: run `advocacy score` first.")


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """The run's manifest as JSON."""
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
