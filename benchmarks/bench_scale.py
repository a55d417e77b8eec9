"""The weekly cycle at scale: generate, ingest, then score with reasons and every file.

    python -m benchmarks.bench_scale --customers 1000000 5000000 10000000

For each size the world is generated into data/bench/world-<N> when missing (and timed
then), ingested into data/bench/scale-store-<N> in parts of about
--customers-per-partition customers (`ingest.partitions`), and scored by the score flow
as `advocacy score` runs it: the feature build part by part, probabilities, exact SHAP
reasons, the ranked list and every file of the run. Each step runs in a fresh process
(`benchmarks.measure`); its peak is that process's resident-set high-water mark. The
model is the one `benchmarks.bench_score` trains on 100,000 customers (data/bench/mlflow.db).
Every measurement is appended to data/bench/scale.jsonl.

Targets (2 cores): the weekly cycle (ingest, features, scoring with reasons, files) for
10M customers in under 30 minutes, no step above 16 GiB; ingestion at most 4 GiB at 5M
and 10M customers; scoring at most 8 GiB at 10M.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_score import AS_OF, BENCH, TRACKING, ensure_model
from benchmarks.measure import measure_with_result
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from models.scoring.monitoring import read_manifest
from pipelines.config import load_config, with_overrides
from pipelines.flows import prefect_api, run_score_flow

INGEST_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
RESULTS = BENCH / "scale.jsonl"


def generate(customers: int, world: Path) -> dict[str, Any]:
    """The measured work: one generated world."""
    summary = generate_world(GeneratorSettings(customers=customers), world)
    return {"rows": summary.rows}


def ingest_world(world: Path, store: Path, partitions: int) -> dict[str, Any]:
    """The measured work: one full ingestion into a store of `partitions` parts."""
    ingest(IngestSettings(source=world, store=store, as_of=INGEST_AS_OF, partitions=partitions))
    return {"partitions": partitions}


def score(store: Path, out: Path) -> dict[str, Any]:
    """The measured work: one scoring run through the score flow, as `advocacy score` runs it."""
    defaults = load_config()
    config = defaults.model_copy(
        update={
            "ingest": with_overrides(defaults.ingest, store=store),
            "scoring": with_overrides(defaults.scoring, out=out),
            "tracking": TRACKING,
        }
    )
    with prefect_api(config.prefect):
        folder = run_score_flow(config, AS_OF)
    manifest = read_manifest(folder)
    return {"customers": manifest["customers"], "stages": manifest["seconds"]}


def record(customers: int, step: str, seconds: float, peak: float, detail: dict[str, Any]) -> None:
    """Print one step's figures and append them to `RESULTS`."""
    print(f"{customers:>11,} {step:<9} {seconds:8.1f} s {peak:6.2f} GiB  {detail}", flush=True)
    line = {
        "customers": customers,
        "step": step,
        "seconds": round(seconds, 1),
        "peak_gib": round(peak, 2),
        "load": os.getloadavg()[0],
        **detail,
    }
    with RESULTS.open("a") as results:
        results.write(json.dumps(line) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--customers-per-partition", type=int, default=1_250_000)
    parser.add_argument(
        "--steps", nargs="+", default=["generate", "ingest", "score"],
        choices=["generate", "ingest", "score"],
    )  # fmt: skip
    args = parser.parse_args()
    if "score" in args.steps:
        ensure_model()
    for customers in args.customers:
        world = BENCH / f"world-{customers}"
        store = BENCH / f"scale-store-{customers}"
        if "generate" in args.steps and not (world / "world.json").exists():
            record(customers, "generate", *measure_with_result(generate, customers, world))
        if "ingest" in args.steps:
            partitions = math.ceil(customers / args.customers_per_partition)
            record(
                customers, "ingest", *measure_with_result(ingest_world, world, store, partitions)
            )
        if "score" in args.steps:
            out = BENCH / f"scale-scores-{customers}"
            record(customers, "score", *measure_with_result(score, store, out))


if __name__ == "__main__":
    main()
