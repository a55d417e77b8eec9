"""Training time on a 12-cutoff training set of about a million rows.

    python -m benchmarks.bench_train --customers 100000

Uses the store that `benchmarks.bench_ingest` leaves in data/bench/store-<N>. LightGBM
slows down badly when another process competes for the cores: the CPU time the rest
of the machine used during a run is measured (/proc/stat minus the run's own), and a
run during which others kept more than --max-competing cores busy is discarded.
Target (2 cores): under 60 s including the training-set construction.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.measure import busy_cpu_seconds, measure_with_result, own_cpu_seconds
from features.store import current_version
from features.views import open_version
from models.training.dataset import build_training_set
from models.training.fit import MODEL, REFERENCE, TrainSettings, train_model

BENCH = Path("data/bench")


def train_once(store: Path) -> dict[str, float]:
    """The measured work: training set, then model, calibration and baselines."""
    connection = open_version(current_version(store))
    connection.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    parts = build_training_set(connection)
    built = time.perf_counter()
    result = train_model(parts, TrainSettings())
    done = time.perf_counter()
    return {
        "rows": len(parts.train),
        "features": len(result.model.features),
        "training_set_s": built - started,
        "train_and_evaluate_s": done - built,
        "trees": result.best_iteration,
        "pr_auc": result.evaluation.loc[MODEL, "pr_auc"],
        "reference_pr_auc": result.evaluation.loc[REFERENCE, "pr_auc"],
        "cpu_s": own_cpu_seconds(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--max-competing", type=float, default=0.2, help="cores used by other processes"
    )
    args = parser.parse_args()
    store = BENCH / f"store-{args.customers}"
    kept: list[tuple[float, float, dict[str, float]]] = []
    for _ in range(args.repeat):
        before = busy_cpu_seconds()
        seconds, peak, stages = measure_with_result(train_once, store)
        competing = (busy_cpu_seconds() - before - stages["cpu_s"]) / seconds
        if competing > args.max_competing:
            print(f"discarded: other processes kept {competing:.2f} cores busy ({seconds:.1f} s)")
            continue
        kept.append((seconds, peak, stages))
        print(
            f"{stages['rows']:,.0f} rows x {stages['features']:.0f} features: {seconds:.1f} s "
            f"(training set {stages['training_set_s']:.1f} s, train + calibrate + baselines + "
            f"unconstrained reference {stages['train_and_evaluate_s']:.1f} s), "
            f"{stages['trees']:.0f} trees, peak {peak:.2f} GiB, PR-AUC {stages['pr_auc']:.4f} "
            f"vs unconstrained {stages['reference_pr_auc']:.4f}"
        )
    if kept:
        print(f"median of {len(kept)} runs kept: {statistics.median(s for s, _, _ in kept):.1f} s")


if __name__ == "__main__":
    main()
