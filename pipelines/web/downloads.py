"""Downloads of a filtered list, in the run's own file formats, and their audit log.

The files come from the writers of the run's files (`models.scoring.files.write_csv`
and `write_xlsx`), so a download of the whole list equals the run's ranked_list.csv.
Each download adds one JSON line to downloads.jsonl beside the runs: who, when, which
run and filter, how many rows.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from models.scoring.files import write_csv, write_xlsx
from models.scoring.segments import SegmentSettings

AUDIT_FILE = "downloads.jsonl"
Format = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_audit_lock = threading.Lock()


def write_download(
    frame: pd.DataFrame, kind: Format, path: Path, segments: SegmentSettings
) -> None:
    """Write the rows of a download as the run's CSV or XLSX file would hold them."""
    if kind == "csv":
        write_csv(frame, path)
    else:
        write_xlsx(frame, path, segments)


def log_download(
    audit: Path, user: str | None, run: str, kind: Format, chosen: dict[str, Any], rows: int
) -> None:
    """Append one download to the audit file (JSON lines)."""
    line = {
        "at": pd.Timestamp.now(tz="UTC").isoformat(),
        "user": user,
        "run": run,
        "format": kind,
        "filter": chosen,
        "rows": rows,
    }
    with _audit_lock, audit.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
