"""The curated store: typed Parquet tables published atomically as immutable versions.

Layout of a store folder::

    store/
      current -> versions/<fingerprint>     (symlink, replaced atomically)
      versions/<fingerprint>/<table>.parquet, quarantine/<table>.parquet, manifest.json

A version is written and published through `features.atomic`: a crash at any point
leaves the previous store readable.
Versions are named by a hash of their data files (not of `manifest.json`, which records
the run), so re-publishing the same data keeps the existing version and makes it current.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from features.atomic import (
    discard_folder,
    pointed_folder,
    prune_folders,
    publish_folder,
    stage_folder,
)

CURRENT = "current"
VERSIONS = "versions"
MANIFEST = "manifest.json"


def _update(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def file_fingerprint(path: Path) -> str:
    """SHA-256 of one file's bytes."""
    digest = hashlib.sha256()
    _update(digest, path)
    return digest.hexdigest()


def content_fingerprint(folder: Path, exclude: frozenset[str] = frozenset()) -> str:
    """SHA-256 over the relative paths and bytes of every file below `folder`."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name not in exclude:
            digest.update(name.encode())
            _update(digest, path)
    return digest.hexdigest()


def publish_version(root: Path, build: Callable[[Path], None], keep: int = 3) -> Path:
    """Build a new version with `build(folder)` and make it current, atomically.

    Returns the published version folder. Older versions beyond `keep` are removed,
    never the current one.
    """
    staged = stage_folder(root / VERSIONS)
    try:
        build(staged)
        name = content_fingerprint(staged, exclude=frozenset({MANIFEST}))[:16]
        final = publish_folder(staged, name, root / CURRENT)
    except BaseException:
        discard_folder(staged)
        raise
    prune_folders(final, root / CURRENT, keep)
    return final


def current_version(root: Path) -> Path:
    """The folder of the current version, or a clear error when there is none."""
    return pointed_folder(
        root / CURRENT, f"No curated store at {root}: run `advocacy ingest` first."
    )


def read_table(version: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one curated table of a store version (a folder `current_version` returned)."""
    return pd.read_parquet(version / f"{table}.parquet", columns=columns)
