"""Run one piece of work in a fresh process and measure its wall time and peak memory.

A fresh process per measurement keeps one run's memory out of the next one's figure.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from typing import Any


def _child(work: Callable[..., Any], args: tuple[Any, ...], queue: mp.Queue) -> None:
    start = time.perf_counter()
    work(*args)
    seconds = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    queue.put((seconds, peak_gib))


def measure(work: Callable[..., Any], *args: Any) -> tuple[float, float]:
    """(seconds, peak resident memory in GiB) of `work(*args)` run in a new process."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(work, args, queue))
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"benchmark process failed with exit code {process.exitcode}")
    return result
