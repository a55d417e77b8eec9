"""Processes that tests start in their own process group, and stop without leaving any behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_group(
    command: list[str], log: Path, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start `command` as the leader of a new process group, output into `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def group_members(group: int) -> list[int]:
    """Living (not zombie) processes of a process group, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_until(done: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `done` until it holds; fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds:.0f} s: {what}")
        time.sleep(0.2)


def stop_group(leader: subprocess.Popen[bytes], grace: float = 120) -> None:
    """SIGTERM the whole group, SIGKILL what is left after `grace` s; assert none is left."""
    group = leader.pid
    if group_members(group):
        os.killpg(group, signal.SIGTERM)
    try:
        wait_until(lambda: not group_members(group), grace, f"process group {group} to end")
    except AssertionError:
        os.killpg(group, signal.SIGKILL)
        raise
    finally:
        leader.wait(timeout=30)
    assert group_members(group) == []
