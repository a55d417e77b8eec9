"""Feature-build time and peak memory, against the plain-pandas reference on the same data.

    python -m benchmarks.bench_features --customers 1000000 --training-customers 100000
    python -m benchmarks.bench_features --customers 1000000 --categories 1000 \
        --reference-customers 0 --training-customers 0

Uses the stores that `benchmarks.bench_ingest` leaves in data/bench/store-<N>[-c<K>]
(the same --categories there). The plain-pandas reference runs on the
--reference-customers store (it needs the whole world in memory), next to DuckDB on
the same store; 0 skips it, as --training-customers 0 skips the training set.
Targets (2 cores): one cutoff over 1,000,000 customers under 15 s and 2 GiB; a
12-cutoff training set over 100,000 customers under 30 s. The ratio to the reference,
measured in the same run, is the figure that holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.measure import measure
from features.build import build_features
from features.contracts import TABLE_NAMES
from features.generator import GeneratorSettings
from features.store import current_version, read_table
from features.views import open_version
from models.training.dataset import build_training_set
from tests.features.reference import reference_features

BENCH = Path("data/bench")
CUTOFF = pd.Timestamp("2026-07-01T00:00:00Z")


def _quiet_store(store: Path) -> duckdb.DuckDBPyConnection:
    connection = open_version(current_version(store))
    connection.execute("SET enable_progress_bar = false")
    return connection


def sql_features(store: Path) -> None:
    """The measured work: the DuckDB feature build for one cutoff."""
    build_features(_quiet_store(store), [CUTOFF])


def pandas_features(store: Path) -> None:
    """The reference work: the plain-pandas feature build for one cutoff."""
    reference_features(
        {name: read_table(current_version(store), name) for name in TABLE_NAMES}, CUTOFF
    )


def training_set(store: Path) -> None:
    """The measured work: a 12-cutoff time-split training set."""
    build_training_set(_quiet_store(store))


def _runs(work: object, store: Path, repeat: int) -> tuple[float, float, str]:
    results = [measure(work, store) for _ in range(repeat)]  # type: ignore[arg-type]
    seconds = [s for s, _ in results]
    runs = " ".join(f"{s:.1f}" for s in seconds)
    return statistics.median(seconds), max(p for _, p in results), runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--training-customers", type=int, default=100_000)
    parser.add_argument("--reference-customers", type=int, default=100_000)
    parser.add_argument("--categories", type=int, default=GeneratorSettings().categories)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    suffix = "" if args.categories == GeneratorSettings().categories else f"-c{args.categories}"
    store = BENCH / f"store-{args.customers}{suffix}"
    sql_s, sql_peak, sql_runs = _runs(sql_features, store, args.repeat)
    print(
        f"features, 1 cutoff, {args.customers:,} customers, {args.categories:,} categories "
        f"(DuckDB): median {sql_s:.1f} s "
        f"[{sql_runs}], peak {sql_peak:.2f} GiB"
    )
    if args.reference_customers:
        compare_with_reference(BENCH / f"store-{args.reference_customers}{suffix}", args)
    if args.training_customers:
        train_store = BENCH / f"store-{args.training_customers}{suffix}"
        ts_s, ts_peak, ts_runs = _runs(training_set, train_store, args.repeat)
        print(f"training set, 12+2 cutoffs, {args.training_customers:,} customers: median "
              f"{ts_s:.1f} s [{ts_runs}], peak {ts_peak:.2f} GiB")  # fmt: skip


def compare_with_reference(reference_store: Path, args: argparse.Namespace) -> None:
    """DuckDB against the plain-pandas reference on one (smaller) store.

    The reference holds every table in memory at once (about 18 GiB at 1M customers), so
    the ratio is measured on a smaller store, both builds in this process's run.
    """
    small_s, small_peak, _ = _runs(sql_features, reference_store, args.repeat)
    ref_s, ref_peak, _ = _runs(pandas_features, reference_store, 1)
    print(
        f"{args.reference_customers:,} customers: DuckDB {small_s:.1f} s, {small_peak:.2f} GiB; "
        f"plain-pandas reference {ref_s:.1f} s, {ref_peak:.2f} GiB; DuckDB is "
        f"{ref_s / small_s:.1f}x faster with {ref_peak / small_peak:.1f}x less memory"
    )


if __name__ == "__main__":
    main()
