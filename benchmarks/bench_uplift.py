"""The uplift model against the generator's true effects of asking, over seeded worlds.

Each repetition: a world; quarterly runs that list its customers (ranked by their true
propensity) and hold out half of every segment's contactable customers at random; every
run's outreach replayed in the world (`features.generator.outreach`); ingestion; and
`train_uplift`, which learns from all runs but the last and is judged on the last. The
uplift model's Qini coefficient against the true effects of the last run's campaign
should be at least 70 % of the ranking by true effects; the ranking by true propensity
is printed beside it.

Run by hand, e.g. `.venv/bin/python -m benchmarks.bench_uplift --repetitions 10`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from features.build import FeatureSettings
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.labels import LabelSettings
from features.store import current_version
from models.outreach.plan import plan_from_run
from models.outreach.settings import OutreachSettings
from models.outreach.uplift import UpliftResult, UpliftSettings, train_uplift
from models.scoring.control import control_split, hold_out_controls
from models.scoring.files import write_manifest

AS_OF = tuple(
    pd.Timestamp(day, tz="UTC")
    for day in ("2025-07-01", "2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01")
)
"""Quarterly runs, each a horizon apart, the last 13 weeks before the world's end."""
SEGMENTS = (
    ("Champion", 0.05, "ambassador"),
    ("Likely advocate", 0.20, "review invitation"),
    ("Nurture", 0.50, "community"),
    ("Not now", 1.00, "none"),
)
EXPERIMENT = OutreachSettings(
    control_share=0.5, measured_segments=[name for name, _, _ in SEGMENTS]
)
"""Every segment asked, half of each held out: an experiment to learn who responds."""


def experiment_run(world: Path, as_of: pd.Timestamp, scores: Path) -> pd.DataFrame:
    """A run folder at `as_of`: customers ranked by true propensity, half held out."""
    truth = pd.read_parquet(world / "truth" / "propensity.parquet")
    listed = truth[truth["cutoff"] == as_of].sort_values(
        "true_probability", ascending=False, ignore_index=True
    )
    share = (listed.index + 1) / len(listed)
    for name, top, program in reversed(SEGMENTS):
        listed.loc[share <= top, ["segment", "suggested_program"]] = [name, program]
    opt_in = pd.read_parquet(world / "customers.parquet").set_index("customer_id")
    ranked = listed.rename(columns={"true_probability": "probability"}).assign(
        contactable=listed["customer_id"].map(opt_in["marketing_opt_in"]).astype(bool),
        as_of=as_of,
        model_version="truth",
    )
    ranked["control"] = hold_out_controls(ranked, EXPERIMENT)
    run = scores / f"{as_of:%Y-%m-%d}_vtruth"
    run.mkdir(parents=True)
    ranked.to_parquet(run / "ranked_list.parquet")
    write_manifest(
        run,
        {
            "as_of": as_of.isoformat(),
            "model_version": "truth",
            "control": control_split(ranked, EXPERIMENT),
        },
    )
    return ranked


def experiment_world(seed: int, customers: int, folder: Path) -> None:
    """A world asked by quarterly experiment runs: scores/, asked/ (its truth) and store/."""
    settings = GeneratorSettings(customers=customers, seed=seed, years=2.0)
    generate_world(settings, folder / "world")
    plans = [
        plan_from_run(
            experiment_run(folder / "world", as_of, folder / "scores"),
            EXPERIMENT.measured_segments,
            1.0,
        )
        for as_of in AS_OF
    ]
    pd.concat(plans, ignore_index=True).to_parquet(folder / "plan.parquet")
    generate_world(
        settings.model_copy(update={"outreach": folder / "plan.parquet"}), folder / "asked"
    )
    ingest(
        IngestSettings(
            source=folder / "asked",
            store=folder / "store",
            as_of=pd.Timestamp("2026-10-02", tz="UTC"),
        )
    )


def judged(folder: Path) -> UpliftResult:
    """`train_uplift` on an experiment world, with Qini against its true effects."""
    return train_uplift(
        folder / "scores",
        current_version(folder / "store"),
        LabelSettings(),
        EXPERIMENT,
        FeatureSettings(),
        UpliftSettings(),
        folder / "asked" / "truth" / "outreach_effect.parquet",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    began = time.perf_counter()
    rows = []
    for seed in range(args.repetitions):
        with tempfile.TemporaryDirectory(prefix="bench-uplift-") as scratch:
            experiment_world(seed, args.customers, Path(scratch))
            metrics = judged(Path(scratch)).metrics
        rows.append({"seed": seed} | metrics)
        print(json.dumps(rows[-1]), flush=True)
    results = pd.DataFrame(rows)
    print(
        json.dumps(
            {
                "repetitions": args.repetitions,
                "customers": args.customers,
                "qini_true_share_mean": float(results["qini_true_share"].mean()),
                "qini_true_share_min": float(results["qini_true_share"].min()),
                "at_least_70_percent": float((results["qini_true_share"] >= 0.7).mean()),
                "propensity_share_mean": float(results["qini_true_share_propensity"].mean()),
                "seconds": round(time.perf_counter() - began, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
