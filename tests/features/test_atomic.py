"""Staging folders of dead processes are swept; old folders are pruned, never the current."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from features.atomic import (
    STAGING_PREFIX,
    owner_has_ended,
    point_link,
    process_owner,
    prune_folders,
    stage_folder,
)


@pytest.fixture(scope="module")
def ended_pid() -> int:
    """The id of a process that has run and ended (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_only_a_process_of_this_host_that_is_gone_has_ended(ended_pid: int) -> None:
    host = socket.gethostname()
    assert owner_has_ended(f"{ended_pid}@{host}")
    assert not owner_has_ended(process_owner())
    assert not owner_has_ended(f"{ended_pid}@another-{host}")
    assert not owner_has_ended("")


def test_a_new_staging_folder_sweeps_those_of_ended_processes(
    tmp_path: Path, ended_pid: int
) -> None:
    host = socket.gethostname()
    dead = tmp_path / f"{STAGING_PREFIX}{ended_pid}@{host}-{'a' * 32}"
    alive = tmp_path / f"{STAGING_PREFIX}{os.getpid()}@{host}-{'b' * 32}"
    elsewhere = tmp_path / f"{STAGING_PREFIX}{ended_pid}@other-{host}-{'c' * 32}"
    unowned = tmp_path / f"{STAGING_PREFIX}{'d' * 32}"  # named before owners were recorded
    for folder in (dead, alive, elsewhere, unowned):
        (folder / "work").mkdir(parents=True)
        (folder / "work" / "part.parquet").write_bytes(b"half")

    staged = stage_folder(tmp_path)

    assert staged.name.startswith(f"{STAGING_PREFIX}{process_owner()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (alive, elsewhere, unowned, staged)
    )


def _published(parent: Path, names: list[str]) -> list[Path]:
    """Folders made in the order given: the last is the newest."""
    folders = []
    for age, name in enumerate(names):
        folder = parent / name
        folder.mkdir()
        os.utime(folder, (1_000_000 + age, 1_000_000 + age))
        folders.append(folder)
    return folders


def test_pruning_keeps_the_newest_and_the_pointed_folders(tmp_path: Path) -> None:
    oldest, old, pointed, newer, published = _published(tmp_path, ["a", "b", "c", "d", "e"])
    point_link(tmp_path / "latest", pointed)  # e.g. a concurrent run published `c` last
    hidden = tmp_path / f"{STAGING_PREFIX}{os.getpid()}@{socket.gethostname()}-{'f' * 32}"
    hidden.mkdir()

    prune_folders(published, tmp_path / "latest", keep=3)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["latest", hidden.name, pointed.name, newer.name, published.name]
    )
    prune_folders(published, tmp_path / "latest", keep=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["latest", hidden.name, pointed.name, published.name]
    )
    assert not oldest.exists() and not old.exists()


def test_pruning_with_one_kept_leaves_the_published_folder(tmp_path: Path) -> None:
    *_, published = _published(tmp_path, ["a", "b", "c"])
    point_link(tmp_path / "latest", published)
    prune_folders(published, tmp_path / "latest", keep=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "latest"]
    assert (tmp_path / "latest").resolve() == published
