"""Coverage of the measured lift: closed loops on generated worlds whose true effect is known.

Each repetition: a world; a run that ranks its customers by their true propensity into
segments and holds out control groups (`models.scoring.control`); the run's outreach
replayed in the world (`features.generator.outreach`); ingestion; and
`evaluate_outreach`. The 95 % interval of each measured segment's lift should cover the
segment's true mean effect (from truth/outreach_effect.parquet) in at least 95 % of
repetitions, and must in at least 90 %.

Run by hand, e.g. `.venv/bin/python -m benchmarks.bench_outreach --repetitions 100`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.labels import LabelSettings
from features.store import current_version
from models.outreach.evaluate import evaluate_outreach
from models.outreach.plan import plan_from_run
from models.outreach.settings import OutreachSettings
from models.scoring.control import control_split, hold_out_controls
from models.scoring.files import write_manifest

AS_OF = pd.Timestamp("2026-07-02", tz="UTC")  # 13 weeks before the generated end
SEGMENTS = (("Champion", 0.10, "ambassador"), ("Likely advocate", 0.40, "review invitation"))


def ranked_by_truth(world: Path, control_share: float) -> pd.DataFrame:
    """A run's list: customers listed at the month's truth cutoff, ranked by true propensity."""
    truth = pd.read_parquet(world / "truth" / "propensity.parquet")
    listed = truth[truth["cutoff"] == truth["cutoff"].max()].sort_values(
        "true_probability", ascending=False, ignore_index=True
    )
    share = (listed.index + 1) / len(listed)
    listed["segment"], listed["suggested_program"] = "Not now", "none"
    for name, top, program in reversed(SEGMENTS):
        listed.loc[share <= top, ["segment", "suggested_program"]] = [name, program]
    opt_in = pd.read_parquet(world / "customers.parquet").set_index("customer_id")
    ranked = listed.assign(
        contactable=listed["customer_id"].map(opt_in["marketing_opt_in"]).astype(bool),
        as_of=AS_OF,
        model_version="truth",
    )
    return ranked.assign(
        control=hold_out_controls(
            ranked, OutreachSettings(control_share=control_share, measured_segments=_names())
        )
    )


def _names() -> list[str]:
    return [name for name, _, _ in SEGMENTS]


def closed_loop(seed: int, customers: int, folder: Path, control_share: float) -> pd.DataFrame:
    """One repetition: the measured lift per segment next to the segment's true effect."""
    settings = GeneratorSettings(customers=customers, seed=seed, years=2.0)
    generate_world(settings, folder / "world")
    ranked = ranked_by_truth(folder / "world", control_share)
    run = folder / "run"
    run.mkdir()
    ranked.to_parquet(run / "ranked_list.parquet")
    outreach = OutreachSettings(control_share=control_share, measured_segments=_names())
    write_manifest(
        run,
        {
            "as_of": AS_OF.isoformat(),
            "model_version": "truth",
            "control": control_split(ranked, outreach),
        },
    )
    plan_from_run(ranked, _names(), 1.0).to_parquet(folder / "plan.parquet")
    asked = settings.model_copy(update={"outreach": folder / "plan.parquet"})
    generate_world(asked, folder / "asked")
    store = folder / "store"
    ingest(
        IngestSettings(
            source=folder / "asked", store=store, as_of=pd.Timestamp("2026-10-02", tz="UTC")
        )
    )
    results = evaluate_outreach(run, current_version(store), LabelSettings(), outreach).results
    effect = pd.read_parquet(folder / "asked" / "truth" / "outreach_effect.parquet")
    members = ranked[ranked["contactable"]].merge(effect, on="customer_id", how="left")
    truth = members.fillna({"effect": 0.0}).groupby("segment")["effect"].mean()
    results["true_effect"] = results["segment"].map(truth)
    results["covered"] = results["lift_low"].le(results["true_effect"]) & results["true_effect"].le(
        results["lift_high"]
    )
    results["seed"] = seed
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=100)
    parser.add_argument("--customers", type=int, default=4_000)
    parser.add_argument("--control-share", type=float, default=0.1)
    args = parser.parse_args()
    began = time.perf_counter()
    parts = []
    for seed in range(args.repetitions):
        with tempfile.TemporaryDirectory(prefix="bench-outreach-") as scratch:
            parts.append(closed_loop(seed, args.customers, Path(scratch), args.control_share))
    results = pd.concat(parts, ignore_index=True)
    by_segment = results.groupby("segment").agg(
        coverage=("covered", "mean"),
        true_effect=("true_effect", "mean"),
        measured_lift=("lift", "mean"),
        interval_width=("lift_high", "mean"),
        asked=("asked", "mean"),
        control=("control", "mean"),
    )
    by_segment["interval_width"] -= results.groupby("segment")["lift_low"].mean()
    print(by_segment.to_string(float_format=lambda x: f"{x:.4f}"))
    print(
        json.dumps(
            {
                "repetitions": args.repetitions,
                "customers": args.customers,
                "coverage": float(results["covered"].mean()),
                "seconds": round(time.perf_counter() - began, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
