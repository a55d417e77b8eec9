"""Run one piece of work in a fresh process and measure its wall time and peak memory.

A fresh process per measurement keeps one run's memory out of the next one's figure.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _child(work: Callable[..., Any], args: tuple[Any, ...], queue: mp.Queue) -> None:
    start = time.perf_counter()
    result = work(*args)
    seconds = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    queue.put((seconds, peak_gib, result))


def measure(work: Callable[..., Any], *args: Any) -> tuple[float, float]:
    """(seconds, peak resident memory in GiB) of `work(*args)` run in a new process."""
    seconds, peak, _ = measure_with_result(work, *args)
    return seconds, peak


def busy_cpu_seconds() -> float:
    """CPU time all processes of the machine have used since boot (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time this process has used (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_with_result(work: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """Like `measure`, plus what `work` returned (e.g. the timings of its stages)."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(work, args, queue))
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"benchmark process failed with exit code {process.exitcode}")
    return result
