"""Files and folders that readers see whole or not at all.

One mechanism serves the curated store (`current` -> a version) and the scoring runs
(`latest` -> a run): a folder is built under a hidden staging name beside the finished
ones, renamed into place when complete, and only then does the pointer (a symlink)
move. A crash at any point leaves the previous folder and pointer as they were.

A staging name carries its owner (process id and host), so the next run can remove what
a crashed one left without touching a folder that a live process is still writing.
Old folders are pruned the same way: renamed to a staging name, then deleted.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from features.errors import UserError

STAGING_PREFIX = ".staging-"


def process_owner() -> str:
    """The running process as `pid@host`: the owner of staging folders and training runs."""
    return f"{os.getpid()}@{socket.gethostname()}"


def owner_has_ended(owner: str) -> bool:
    """Whether the process that `owner` (from `process_owner`) names is known to have ended.

    Only a process of this host can be checked; any other owner counts as still running.
    A later process that reuses the id also counts as running: cleaned up on a later run.
    """
    pid, _, host = owner.partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0 sends nothing: it asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's process
        pass
    return False


def stage_folder(parent: Path) -> Path:
    """A fresh hidden folder in `parent` (an absolute path) to build a new folder in.

    Staging folders whose owner has ended (a killed run) are removed first.
    """
    parent = parent.resolve()  # other processes (Dask workers) may run in other folders
    parent.mkdir(parents=True, exist_ok=True)
    sweep_staging(parent)
    staged = parent / _staging_name()
    staged.mkdir()
    return staged


def _staging_name() -> str:
    return f"{STAGING_PREFIX}{process_owner()}-{uuid.uuid4().hex}"


def sweep_staging(parent: Path) -> None:
    """Remove the staging folders in `parent` left by processes that have ended.

    Folders of live processes, of other hosts and without an owner in their name (made
    before owners were recorded) are kept.
    """
    for staged in parent.glob(f"{STAGING_PREFIX}*"):
        owner, separator, _ = staged.name.removeprefix(STAGING_PREFIX).rpartition("-")
        if separator and owner_has_ended(owner):
            discard_folder(staged)


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


def prune_folders(published: Path, link: Path, keep: int) -> None:
    """Keep the `keep` newest folders beside `published` (by modification time).

    Never removes `published`, nor the folder `link` points at (another process may have
    published since). Each old folder is renamed to a staging name before it is deleted,
    so a crash midway leaves a hidden folder for the next sweep, not half a folder.
    """
    protected = {published.resolve(), link.resolve()}
    folders = sorted(
        (
            p
            for p in published.parent.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    older = [p for p in folders if p.resolve() not in protected]
    room = keep - (len(folders) - len(older))  # the protected folders count toward `keep`
    for old in older[max(room, 0) :]:
        hidden = old.with_name(_staging_name())
        try:
            old.rename(hidden)
        except FileNotFoundError:  # another process pruned it first
            continue
        discard_folder(hidden)


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
