"""DuckDB connections with a memory limit and a spill folder, so large joins go to disk.

DuckDB keeps within its memory limit by writing what does not fit to its temporary
folder. The feature build (also when scoring) opens its connections here, with the limit
and folder of the configuration (`features.duckdb` in configs/advocacy.yaml); ingestion
uses a fixed gigabyte and spills into the store version it is writing.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, field_validator

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
_SHARE = re.compile(r"^(\d+(\.\d+)?)\s*%$")
SPILL = "advocacy-duckdb"
"""Default spill folder, in the system's temporary folder."""


class EngineSettings(BaseModel):
    """How much memory DuckDB may use, and where it spills the rest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory_limit: str = "50%"
    """A share of the machine's memory (`50%`) or a size (`6GB`, `512MiB`)."""
    spill_folder: Path | None = None
    """Where DuckDB writes what does not fit in memory; default: a folder in the system's
    temporary folder."""

    @field_validator("memory_limit")
    @classmethod
    def _share_or_size(cls, value: str) -> str:
        share = _SHARE.match(value.strip())
        if share and 0 < float(share.group(1)) <= 100:
            return value.strip()
        if not share and _SIZE.match(value.strip()):
            return value.strip()
        raise ValueError(f"'{value}' is neither a share of memory (50%) nor a size (6GB)")

    def memory_bytes(self) -> int:
        """The limit in bytes (a share is taken of the machine's physical memory)."""
        share = _SHARE.match(self.memory_limit)
        if share:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            return int(total * float(share.group(1)) / 100)
        size = _SIZE.match(self.memory_limit)
        if size is None:  # unreachable: the validator admits only shares and sizes
            raise ValueError(self.memory_limit)
        number, unit = size.groups()
        power = "KMGT".index(unit[0].upper()) + 1
        base = 1024 if unit.lower().endswith("ib") else 1000
        return int(float(number) * base**power)


def connect(settings: EngineSettings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC, within the memory limit of `settings`."""
    folder = settings.spill_folder or Path(tempfile.gettempdir()) / SPILL
    folder.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(
        config={
            "memory_limit": f"{settings.memory_bytes() // 2**20}MiB",
            "temp_directory": str(folder),
        }
    )
    connection.execute("SET TimeZone = 'UTC'")
    return connection
