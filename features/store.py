"""The curated store: typed Parquet tables published atomically as immutable versions.

Layout of a store folder::

    store/
      current -> versions/<fingerprint>     (symlink, replaced atomically)
      versions/<fingerprint>/<table>.parquet, quarantine/<table>.parquet, manifest.json

A version is written completely into a temporary folder, then renamed into place, and
only then does `current` move; a crash at any point leaves the previous store readable.
Versions are named by a hash of their data files (not of `manifest.json`, which records
the run), so re-publishing the same data keeps the existing version and makes it current.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from features.errors import UserError

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
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    staging = versions / f".staging-{uuid.uuid4().hex}"
    try:
        staging.mkdir()
        build(staging)
        final = versions / content_fingerprint(staging, exclude=frozenset({MANIFEST}))[:16]
        if final.exists():
            shutil.rmtree(staging)
        else:
            staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    point_link(root / CURRENT, final)
    _prune(versions, final, keep)
    return final


def point_link(link: Path, folder: Path) -> None:
    """Make the symlink `link` point at `folder` (a sibling or below) in one atomic step."""
    staged = link.with_name(f".{link.name}-{uuid.uuid4().hex}")
    staged.symlink_to(folder.relative_to(link.parent), target_is_directory=True)
    staged.replace(link)


def _prune(versions: Path, current: Path, keep: int) -> None:
    done = sorted(
        (p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in [p for p in done if p != current][max(keep - 1, 0) :]:
        shutil.rmtree(old, ignore_errors=True)


def current_version(root: Path) -> Path:
    """The folder of the current version, or a clear error when there is none."""
    link = root / CURRENT
    if not link.exists():
        raise UserError(f"No curated store at {root}: run `advocacy ingest` first.")
    return link.resolve()


def table_path(root: Path, table: str) -> Path:
    """Path of one curated table in the current version."""
    return current_version(root) / f"{table}.parquet"


def read_table(root: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one curated table of the current version."""
    return pd.read_parquet(table_path(root, table), columns=columns)


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Let `write` fill a temporary file, then move it to `path` in one step.

    Readers see the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        write(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_parquet_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` to `path` as Parquet, atomically."""
    write_atomically(
        path, lambda partial: frame.to_parquet(partial, index=False, compression="zstd")
    )


def write_text_atomically(text: str, path: Path) -> None:
    """Write `text` to `path` as UTF-8, atomically."""
    write_atomically(path, lambda partial: partial.write_text(text, encoding="utf-8"))
