"""Ingestion time and peak memory for generated worlds of given sizes.

    python benchmarks/bench_ingest.py --customers 100000 1000000

Worlds are generated into data/bench/world-<N> when missing (reused otherwise).
Targets (2 cores): 1,000,000 customers ingested in under 2 minutes and 6 GiB.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import measure
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest

BENCH = Path("data/bench")


def ingest_world(world: Path, store: Path) -> None:
    """The measured work: one full ingestion."""
    ingest(IngestSettings(source=world, store=store, as_of=datetime(2026, 11, 1, tzinfo=UTC)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is shown")
    args = parser.parse_args()
    print(f"{'customers':>10} {'median s':>9} {'runs s':>24} {'peak GiB':>9}")
    for customers in args.customers:
        world = BENCH / f"world-{customers}"
        if not (world / "world.json").exists():
            generate_world(GeneratorSettings(customers=customers), world)
        runs = [
            measure(ingest_world, world, BENCH / f"store-{customers}") for _ in range(args.repeat)
        ]
        seconds = [s for s, _ in runs]
        print(
            f"{customers:>10,} {statistics.median(seconds):>9.1f} "
            f"{' '.join(f'{s:.1f}' for s in seconds):>24} {max(p for _, p in runs):>9.2f}"
        )


if __name__ == "__main__":
    main()
