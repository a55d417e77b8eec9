"""Benchmark world generation: wall time, peak memory, rows and file sizes per size.

Run by hand, e.g. `.venv/bin/python benchmarks/bench_generate.py --customers 100000 1000000`.
Each size runs in a fresh child process, so peak memory (the child's ru_maxrss, the
resident set high-water mark reported by the kernel) belongs to that size alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

from features.generator import GeneratorSettings, generate_world


def _measure(
    customers: int, file_format: Literal["parquet", "csv"], out: Path
) -> dict[str, object]:
    summary = generate_world(GeneratorSettings(customers=customers, format=file_format), out)
    sizes = {
        path.relative_to(out).as_posix(): path.stat().st_size
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }
    return {
        "customers": customers,
        "format": file_format,
        "seconds": round(summary.seconds, 1),
        "peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "rows": summary.rows,
        "file_mib": {name: round(size / 2**20, 1) for name, size in sizes.items()},
    }


def _report(result: dict[str, object]) -> None:
    print(
        f"{result['customers']:>10,} customers ({result['format']}): "
        f"{result['seconds']} s, peak {result['peak_gib']} GiB (ru_maxrss)"
    )
    rows = result["rows"]
    assert isinstance(rows, dict)
    for name, count in rows.items():
        print(f"    {name:<18} {count:>12,} rows")
    files = result["file_mib"]
    assert isinstance(files, dict)
    for name, mib in files.items():
        print(f"    {name:<30} {mib:>9} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(_measure(args.customers[0], args.format, Path(folder))))
        return
    for customers in args.customers:
        command = [sys.executable, __file__, "--child", "--format", args.format]
        completed = subprocess.run(
            [*command, "--customers", str(customers)], check=True, capture_output=True, text=True
        )
        _report(json.loads(completed.stdout))


if __name__ == "__main__":
    main()
