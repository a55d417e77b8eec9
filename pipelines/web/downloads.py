"""Downloads of a filtered list, in the run's own file formats, and their audit log.

The files come from the writers of the run's files (`models.scoring.files.write_csv`
and `write_xlsx`), so a download of the whole list equals the run's ranked_list.csv.
A CSV file is sent while it is being written, so a download of any size starts at
once; an XLSX file is a zip archive, complete only at the end, and is sent then.
Each download adds one JSON line to downloads.jsonl beside the runs: who, when, which
run and filter, how many rows.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pandas as pd

AUDIT_FILE = "downloads.jsonl"
CHUNK_BYTES = 1 << 16
Format = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_audit_lock = threading.Lock()


def temporary_file(kind: Format) -> Path:
    """A new empty file in the system's temporary folder for one download."""
    handle, name = tempfile.mkstemp(prefix="advocates-", suffix=f".{kind}")
    os.close(handle)
    return Path(name)


def sent_while_written(path: Path, write: Callable[[Path], None]) -> Iterator[bytes]:
    """The bytes of `path` as `write(path)`, run in a thread, writes them; then removes it.

    A failed write ends the stream with its error, so the browser reports the download
    as failed instead of keeping a cut-off file.
    """
    failures: list[BaseException] = []

    def run() -> None:
        try:
            write(path)
        except BaseException as error:
            failures.append(error)

    writer = threading.Thread(target=run, daemon=True)
    try:
        with path.open("rb") as handle:
            writer.start()
            while True:
                finished = not writer.is_alive()
                chunk = handle.read(CHUNK_BYTES)
                if chunk:
                    yield chunk
                elif finished:
                    break
                else:
                    time.sleep(0.02)
        if failures:
            raise failures[0]
    finally:
        path.unlink(missing_ok=True)


def log_download(
    audit: Path, user: str | None, run: str, kind: Format, chosen: dict[str, Any], rows: int
) -> None:
    """Append one download to the audit file (JSON lines); `user` is None on open access."""
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
