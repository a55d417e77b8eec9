"""The scoring runs the web page may show, found by listing the runs folder.

A request names a run; the name is looked up in the list of complete run folders and
only a name from that list is ever joined to the folder. Hidden (staging) folders,
symbolic links and folders without a manifest are not runs, so no request can reach a
file outside the runs folder, whatever it contains (`..`, an absolute path, a link).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from features.errors import UserError
from features.store import VERSIONS
from models.scoring.files import MANIFEST, latest_run


class UnknownRun(LookupError):
    """A run name that is not one of the complete runs (or there is no run at all)."""


@dataclass(frozen=True)
class Run:
    """One complete scoring run: its folder name, folder and manifest."""

    name: str
    folder: Path
    manifest: dict[str, Any]

    @property
    def store_version(self) -> Path:
        """The curated store version the run was scored on (it may have been pruned since)."""
        return Path(self.manifest["input_store"]) / VERSIONS / self.manifest["input_fingerprint"]


def run_names(root: Path) -> list[str]:
    """Names of the complete run folders in `root`, the most recently finished first."""
    if not root.is_dir():
        return []
    runs = [
        folder
        for folder in root.iterdir()
        if not folder.name.startswith(".")
        and folder.is_dir()
        and not folder.is_symlink()
        and (folder / MANIFEST).is_file()
        and not (folder / MANIFEST).is_symlink()
    ]
    runs.sort(key=lambda folder: (folder / MANIFEST).stat().st_mtime, reverse=True)
    return [folder.name for folder in runs]


def latest_name(root: Path, names: list[str]) -> str | None:
    """The run `latest` points at, or the most recent one when the link is missing."""
    try:
        name = latest_run(root).name
    except UserError:
        name = None
    if name in names:
        return name
    return names[0] if names else None


def find_run(root: Path, requested: str | None) -> Run:
    """The run named `requested` (the latest when none is named), if it is a known run."""
    names = run_names(root)
    name = requested or latest_name(root, names)
    if name not in names:
        raise UnknownRun(requested or "latest")
    folder = root / names[names.index(name)]
    manifest = json.loads((folder / MANIFEST).read_text())
    return Run(name=folder.name, folder=folder, manifest=manifest)
