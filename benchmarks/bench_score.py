"""Scoring a million customers: features, probabilities, exact SHAP reasons, files.

    python -m benchmarks.bench_score --customers 1000000 --model-customers 100000
    python -m benchmarks.bench_score --files-only    # the XLSX and CSV files alone

Uses the stores that `benchmarks.bench_ingest` leaves in data/bench/store-<N>. The model
is trained once on the --model-customers store and registered in a benchmark MLflow
store (data/bench/mlflow.db). Each stage is timed on its own, in a fresh process.
Targets (2 cores): probabilities in under 10 s beyond the feature build; exact SHAP
reasons at 5,000 rows/s or more; the whole list with reasons in under 4 minutes and
under 8 GiB. Then the spreadsheet files of a synthetic list of --customers rows are
written three times (median shown): the XLSX file in under 20 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shap

from benchmarks.measure import measure_with_result
from features.build import FeatureSettings, build_features
from features.labels import LabelSettings
from features.store import current_version, read_table
from features.views import open_version
from models.model_registry import CHAMPION, load_model
from models.scoring.files import write_csv, write_xlsx
from models.scoring.ranked_list import LIST_COLUMNS, rank_customers
from models.scoring.reasons import top_reasons
from models.tracking import TrackingSettings, configure_tracking
from models.training.dataset import TrainingSetSettings
from models.training.fit import TrainSettings
from models.training.run import train_and_register
from pipelines.config import load_config

BENCH = Path("data/bench")
TRACKING = TrackingSettings(
    uri=f"sqlite:///{BENCH / 'mlflow.db'}", artifacts=BENCH / "mlflow-artifacts"
)
AS_OF = pd.Timestamp("2026-10-01T00:00:00Z")


def score_once(store: Path, out: Path) -> dict[str, float]:
    """The measured work: every stage of a scoring run, timed one by one."""
    configure_tracking(TRACKING)
    model, version = load_model(CHAMPION)
    times: dict[str, float] = {}

    def timed(stage: str, started: float) -> float:
        now = time.perf_counter()
        times[stage] = now - started
        return now

    start = time.perf_counter()
    connection = open_version(current_version(store))
    connection.execute("SET enable_progress_bar = false")
    features = build_features(connection, [AS_OF])
    now = timed("features", start)
    probability = model.probability(features)
    now = timed("probabilities", now)
    contributions = model.contributions(features)
    now = timed("shap", now)
    reasons = top_reasons(contributions[:, :-1], model.matrix(features), model.features)
    now = timed("reason_texts", now)
    raw = contributions.sum(axis=1)
    scored = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": features["customer_id"],
                    "raw_score": raw,
                    "probability": probability,
                }
            ),
            reasons,
        ],
        axis=1,
    )
    opt_in = read_table(current_version(store), "customers", ["customer_id", "marketing_opt_in"])
    ranked = rank_customers(
        scored,
        features,
        opt_in.set_index("customer_id")["marketing_opt_in"],
        load_config().scoring.segments,
        version,
        AS_OF,
    )
    now = timed("rank_and_segments", now)
    out.mkdir(parents=True, exist_ok=True)
    ranked.to_parquet(out / "ranked_list.parquet", index=False)
    write_csv(ranked, out / "ranked_list.csv")
    now = timed("parquet_and_csv", now)
    write_xlsx(ranked, out / "ranked_list.xlsx", load_config().scoring.segments)
    timed("xlsx", now)
    sample = features.sample(2000, random_state=0)
    exact = np.asarray(shap.TreeExplainer(model.booster).shap_values(model.matrix(sample)))
    exact = exact[-1] if exact.ndim == 3 else exact
    times["max_abs_diff_vs_tree_explainer"] = float(
        np.abs(exact - model.contributions(sample)[:, :-1]).max()
    )
    times["rows"] = len(features)
    times["trees"] = model.booster.num_trees()
    return times


def ensure_model(customers: int = 100_000) -> None:
    """Register a champion in the benchmark MLflow store, trained on `customers`, if none is."""
    configure_tracking(TRACKING)
    try:
        load_model(CHAMPION)
    except Exception:
        train_and_register(
            current_version(BENCH / f"store-{customers}"),
            BENCH / "training",
            FeatureSettings(),
            LabelSettings(),
            TrainingSetSettings(),
            TrainSettings(),
            TRACKING,
            {},
        )


def synthetic_list(rows: int) -> pd.DataFrame:
    """A ranked list of `rows` customers shaped like a real one, without a model."""
    rng = np.random.default_rng(0)
    segments = np.array(["Champion", "Likely advocate", "Nurture", "Not now", "Recover first"])
    programs = np.array(["ambassador", "referral invitation", "community content", "none"])
    reasons = np.array(
        ["Raises: gave NPS 10", "Lowers: urgent ticket still open", "Raises: 3 reviews", ""]
    )
    rank = np.arange(1, rows + 1)
    columns = {
        "rank": rank,
        "customer_id": pd.Series([f"C{i:08d}" for i in rng.permutation(rows)], dtype="str"),
        "probability": np.sort(rng.random(rows))[::-1],
        "percentile": 1 - (rank - 1) / rows,
        "segment": pd.Series(segments[rng.integers(0, len(segments), rows)], dtype="str"),
        "suggested_program": pd.Series(programs[rng.integers(0, 4, rows)], dtype="str"),
        **{
            f"reason_{i}": pd.Series(reasons[rng.integers(0, 4, rows)], dtype="str")
            for i in (1, 2, 3)
        },
        "contactable": rng.random(rows) < 0.7,
        "control": rng.random(rows) < 0.05,
        "model_name": "advocacy-propensity",
        "model_version": "1",
        "as_of": AS_OF,
    }
    return pd.DataFrame(columns)[list(LIST_COLUMNS)]


def write_list_files(rows: int, out: Path) -> dict[str, float]:
    """The measured work: the XLSX and CSV files of a synthetic list, timed one by one."""
    ranked = synthetic_list(rows)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    write_xlsx(ranked, out / "ranked_list.xlsx", load_config().scoring.segments)
    written = time.perf_counter()
    write_csv(ranked, out / "ranked_list.csv")
    return {"xlsx": written - start, "csv": time.perf_counter() - written}


def bench_list_files(rows: int, repeat: int = 3) -> None:
    """Median time of the spreadsheet files over `repeat` runs, each in a fresh process."""
    runs = [measure_with_result(write_list_files, rows, BENCH / "files") for _ in range(repeat)]
    print(f"{rows:,}-row synthetic list, {repeat} runs; peak {max(p for _, p, _ in runs):.2f} GiB")
    for kind in ("xlsx", "csv"):
        seconds = [times[kind] for _, _, times in runs]
        print(f"  {kind:<5} median {statistics.median(seconds):5.1f} s  "
              f"(runs {' '.join(f'{s:.1f}' for s in seconds)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--model-customers", type=int, default=100_000)
    parser.add_argument("--files-only", action="store_true", help="time only the XLSX and CSV")
    args = parser.parse_args()
    if args.files_only:
        bench_list_files(args.customers)
        return
    ensure_model(args.model_customers)
    seconds, peak, times = measure_with_result(
        score_once, BENCH / f"store-{args.customers}", BENCH / "scores"
    )
    rows = times["rows"]
    shap_rate = rows / (times["shap"] + times["reason_texts"])
    print(f"{rows:,.0f} customers, {times['trees']:.0f} trees; whole run {seconds:.1f} s, "
          f"peak {peak:.2f} GiB")  # fmt: skip
    for stage in (
        "features", "probabilities", "shap", "reason_texts", "rank_and_segments",
        "parquet_and_csv", "xlsx",
    ):  # fmt: skip
        print(f"  {stage:<18} {times[stage]:7.1f} s")
    print(f"  SHAP reasons: {shap_rate:,.0f} rows/s; max |difference| to shap.TreeExplainer "
          f"{times['max_abs_diff_vs_tree_explainer']:.1e}")  # fmt: skip
    bench_list_files(args.customers)


if __name__ == "__main__":
    main()
