"""Ingestion time and peak memory for generated worlds of given sizes.

    python -m benchmarks.bench_ingest --customers 100000 1000000 [--categories 1000] [--mapped]

Worlds are generated into data/bench/world-<N>[-c<K>] when missing (reused otherwise)
and ingested into data/bench/store-<N>[-c<K>]. With --mapped, each world is also
written as a company's own export (renamed columns, its own words for statuses and
survey types, orders split into monthly files) and ingested through the matching
`ingest.tables` mapping, next to the plain run.
Targets (2 cores): 1,000,000 customers ingested in under 2 minutes and 6 GiB; a
mapped source within 10 % of the plain one.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.measure import measure
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.ingest.files import TableSource

BENCH = Path("data/bench")
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

# The export's names: column renames (theirs -> contract) and value words (theirs -> contract).
EXPORT = {
    "customers": TableSource(
        file="customer_export.parquet",
        columns={"CustomerNo": "customer_id", "Created": "signup_at",
                 "Newsletter": "marketing_opt_in"},
    ),
    "purchases": TableSource(
        file="orders/orders_*.parquet",
        columns={"OrderNo": "order_id", "CustomerNo": "customer_id", "OrderDate": "ordered_at",
                 "Total": "amount", "OrderState": "status"},
        values={"OrderState": {"delivered": "completed", "refunded": "returned",
                               "canceled": "cancelled"}},
    ),
    "support_tickets": TableSource(file="tickets.parquet", columns={"CaseNo": "ticket_id"}),
    "survey_responses": TableSource(
        file="surveys.parquet",
        columns={"Survey": "survey_type", "Answer": "score"},
        values={"Survey": {"Net Promoter": "nps", "Satisfaction": "csat", "Effort": "ces"}},
    ),
    "advocacy_events": TableSource(file="advocacy.parquet", columns={"Kind": "event_type"}),
}  # fmt: skip


def _exported(table: str, batch: pa.RecordBatch | pa.Table) -> pa.Table:
    """Rows under the export's column names and words."""
    spec = EXPORT[table]
    theirs = {ours: their for their, ours in spec.columns.items()}
    columns = []
    for name in batch.schema.names:
        values = batch.column(name)
        words = spec.values.get(theirs.get(name, name))
        if words:
            ours_to_theirs = {ours: their for their, ours in words.items()}
            position = pc.index_in(values, value_set=pa.array(list(ours_to_theirs)))
            mapped = pc.take(pa.array(list(ours_to_theirs.values())), position)
            values = pc.if_else(pc.is_null(position), values, mapped)
        columns.append(values)
    return pa.table(columns, names=[theirs.get(name, name) for name in batch.schema.names])


def write_export(world: Path, export: Path) -> None:
    """The world as a company's own export: its names, its words, monthly order files.

    Files are written as the world is (zstd, row groups of up to a million rows), so the
    comparison measures the mapping and the many files, not how they were compressed.
    """
    (export / "orders").mkdir(parents=True, exist_ok=True)
    for table, spec in EXPORT.items():
        exported = _exported(table, pq.read_table(world / f"{table}.parquet"))
        if table != "purchases":
            pq.write_table(exported, export / str(spec.file), compression="zstd")
            continue
        month = pc.strftime(exported["OrderDate"], format="%Y-%m")
        for value in sorted(pc.unique(month).to_pylist()):
            path = export / "orders" / f"orders_{value}.parquet"
            pq.write_table(exported.filter(pc.equal(month, value)), path, compression="zstd")


def ingest_world(world: Path, store: Path, tables: dict[str, TableSource]) -> None:
    """The measured work: one full ingestion."""
    ingest(IngestSettings(source=world, store=store, as_of=AS_OF, tables=tables))


Source = tuple[Path, Path, dict[str, TableSource]]
"""Folder read, store written, mapping."""


def _measure_in_turn(sources: list[Source], repeat: int) -> list[list[float]]:
    """Seconds of `repeat` runs of each source, the sources taking turns so that a change in
    the machine's load falls on all of them alike; prints a line per source."""
    runs: list[list[tuple[float, float]]] = [[] for _ in sources]
    for _ in range(repeat):
        for measured, (world, store, tables) in zip(runs, sources, strict=True):
            measured.append(measure(ingest_world, world, store, tables))
    for (world, _, _), measured in zip(sources, runs, strict=True):
        seconds = [s for s, _ in measured]
        print(
            f"{world.name:>28} {statistics.median(seconds):>9.1f} "
            f"{' '.join(f'{s:.1f}' for s in seconds):>24} {max(p for _, p in measured):>9.2f}"
        )
    return [[s for s, _ in measured] for measured in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--categories", type=int, default=GeneratorSettings().categories)
    parser.add_argument("--mapped", action="store_true", help="also ingest the world as an export")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is shown")
    args = parser.parse_args()
    suffix = "" if args.categories == GeneratorSettings().categories else f"-c{args.categories}"
    print(f"{'source':>28} {'median s':>9} {'runs s':>24} {'peak GiB':>9}")
    for customers in args.customers:
        world = BENCH / f"world-{customers}{suffix}"
        if not (world / "world.json").exists():
            settings = GeneratorSettings(customers=customers, categories=args.categories)
            generate_world(settings, world)
        sources: list[Source] = [(world, BENCH / f"store-{customers}{suffix}", {})]
        if args.mapped:
            export = BENCH / f"export-{customers}{suffix}"
            if not (export / "customer_export.parquet").exists():
                write_export(world, export)
            sources.append((export, BENCH / f"store-export-{customers}{suffix}", EXPORT))
        seconds = _measure_in_turn(sources, args.repeat)
        if args.mapped:
            ratio = statistics.median(seconds[1]) / statistics.median(seconds[0])
            print(f"{'mapped / plain':>28} {ratio:>9.2f}")


if __name__ == "__main__":
    main()
