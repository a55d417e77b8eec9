"""Files and folders that readers see whole or not at all.

One mechanism serves the curated store (`current` -> a version) and the scoring runs
(`latest` -> a run): a folder is built under a hidden staging name beside the finished
ones, renamed into place when complete, and only then does the pointer (a symlink)
move. A crash at any point leaves the previous folder and pointer as they were.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from features.errors import UserError

STAGING_PREFIX = ".staging-"


def stage_folder(parent: Path) -> Path:
    """A fresh hidden folder in `parent` (an absolute path) to build a new folder in."""
    parent = parent.resolve()  # other processes (Dask workers) may run in other folders
    parent.mkdir(parents=True, exist_ok=True)
    staged = parent / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    staged.mkdir()
    return staged


def publish_folder(staged: Path, name: str, link: Path) -> Path:
    """Rename `staged` to `name` beside it, then point `link` at it; returns the folder.

    An existing folder of that name is kept and `staged` dropped: names are chosen so
    that the same name means the same content (a fingerprint, or a run's timestamp).
    """
    final = staged.parent / name
    if final.exists():
        shutil.rmtree(staged)
    else:
        staged.rename(final)
    point_link(link, final)
    return final


def discard_folder(staged: Path) -> None:
    """Remove a staged folder that will not be published."""
    shutil.rmtree(staged, ignore_errors=True)


def point_link(link: Path, folder: Path) -> None:
    """Make the symlink `link` point at `folder` (a sibling or below) in one atomic step."""
    staged = link.with_name(f".{link.name}-{uuid.uuid4().hex}")
    staged.symlink_to(folder.relative_to(link.parent.resolve()), target_is_directory=True)
    staged.replace(link)


def pointed_folder(link: Path, missing: str) -> Path:
    """The folder `link` points at; `missing` is the user's message when there is none."""
    if not link.exists():
        raise UserError(missing)
    return link.resolve()


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Let `write` fill a temporary file, then move it to `path` in one step."""
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
