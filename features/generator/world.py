"""Generate a whole world chunk by chunk, writing each chunk as soon as it is simulated.

Chunks have a fixed size and their own random streams (spawned from the seed), so the
output is byte-identical for a seed and memory stays bounded by one chunk.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features.contracts import TABLE_NAMES
from features.generator.messiness import corrupt_tables, timestamps_as_text
from features.generator.outreach import ASK_WEEKS, Asks, OutreachPlan, read_plan
from features.generator.settings import GeneratorSettings
from features.generator.simulation import LABEL_TYPES, simulate_chunk
from features.generator.tables import (
    CUSTOMER_WIDTH,
    IdSpace,
    arrow_schema,
    build_tables,
    split_categories,
)
from features.generator.timeline import Timeline, build_timeline, iso_day
from features.generator.truth import (
    OUTREACH_EFFECT_SCHEMA,
    PROPENSITY_SCHEMA,
    TRAITS_SCHEMA,
    build_outreach_effect,
    build_propensity,
    build_traits,
)

CHUNK_SIZE = 50_000
PARQUET_COMPRESSION = "zstd"
TRUTH_FOLDER = "truth"
_NO_CONTACTS = pd.DataFrame(
    {"number": [], "sent_at": [], "program": [], "channel": [], "cost": [], "campaign": []}
).astype({"number": "int64", "sent_at": "int64", "cost": "float64"})


@dataclass(frozen=True)
class WorldSummary:
    """What `generate_world` wrote: where, how many rows per table, the truth cutoffs, how long."""

    out: Path
    rows: dict[str, int]
    cutoffs: tuple[datetime, ...]
    seconds: float


class _Sink:
    """One output file, written a chunk at a time."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str) -> None:
        self._writer: pq.ParquetWriter | pacsv.CSVWriter
        if file_format == "csv":
            self._writer = pacsv.CSVWriter(path, schema)
        else:
            self._writer = pq.ParquetWriter(path, schema, compression=PARQUET_COMPRESSION)
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


def _output_schema(name: str, as_text: bool) -> pa.Schema:
    schema = arrow_schema(name)
    if not as_text:
        return schema
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_timestamp(f.type) else f for f in schema]
    )


def _customer_width(settings: GeneratorSettings) -> int:
    return max(CUSTOMER_WIDTH, len(str(settings.customers)))


def _open_sinks(settings: GeneratorSettings, out: Path, plan: bool) -> dict[str, _Sink]:
    as_text = settings.format == "csv" or settings.messiness.enabled
    sinks = {
        name: _Sink(
            out / f"{name}.{settings.format}", _output_schema(name, as_text), settings.format
        )
        for name in TABLE_NAMES
    }
    truth = out / TRUTH_FOLDER
    sinks["propensity"] = _Sink(truth / "propensity.parquet", PROPENSITY_SCHEMA, "parquet")
    sinks["traits"] = _Sink(truth / "traits.parquet", TRAITS_SCHEMA, "parquet")
    if plan:
        sinks["outreach_effect"] = _Sink(
            truth / "outreach_effect.parquet", OUTREACH_EFFECT_SCHEMA, "parquet"
        )
    return sinks


def _generate_chunk(
    settings: GeneratorSettings,
    timeline: Timeline,
    seed: np.random.SeedSequence,
    ids: IdSpace,
    size: int,
    plan: OutreachPlan | None,
) -> tuple[dict[str, pa.Table], dict[str, int]]:
    """All tables of one chunk, ready to write, and how many ids each input table used.

    Messiness is applied after the ids are counted, so the clean rows keep their ids.
    """
    # Spawning a fourth stream leaves the first three, and so the default world, as they were.
    simulation_seed, tables_seed, messiness_seed, categories_seed = seed.spawn(4)
    asks = Asks(plan, timeline, ids.first_customer, size) if plan else None
    history = simulate_chunk(size, timeline, np.random.default_rng(simulation_seed), asks)
    contacts = plan.for_chunk(ids.first_customer, size) if plan else _NO_CONTACTS
    tables = build_tables(history, timeline, ids, np.random.default_rng(tables_seed), contacts)
    tables["purchases"] = split_categories(
        tables["purchases"], settings.categories, np.random.default_rng(categories_seed)
    )
    used = {name: table.num_rows for name, table in tables.items()}
    if settings.messiness.enabled:
        tables = corrupt_tables(
            tables,
            settings.messiness,
            np.random.default_rng(messiness_seed),
            first_unknown=settings.customers + 1,
            width=ids.customer_width,
        )
    elif settings.format == "csv":
        tables = {name: timestamps_as_text(name, table) for name, table in tables.items()}
    tables["propensity"] = build_propensity(history, timeline, ids)
    tables["traits"] = build_traits(history, ids)
    if asks is not None:
        tables["outreach_effect"] = build_outreach_effect(
            history, timeline, ids, asks.sent_at, asks.asked
        )
    return tables, used


def _describe(
    settings: GeneratorSettings, timeline: Timeline, rows: dict[str, int], plan: OutreachPlan | None
) -> str:
    description: dict[str, object] = {
        # Where the world is written is not part of what it is: the same bytes in any folder.
        "settings": settings.model_dump(mode="json", exclude={"out"}),
        "span": {"start": iso_day(timeline.start), "end": iso_day(timeline.end)},
        "truth": {
            "cutoffs": [iso_day(cutoff) for cutoff in timeline.cutoffs],
            "horizon_days": settings.truth_horizon_days,
            "label_types": list(LABEL_TYPES),
        },
        "rows": rows,
        "chunk_size": CHUNK_SIZE,
    }
    if plan is not None:
        description["outreach"] = {
            "campaigns": [iso_day(int(sent)) for sent in plan.sent_at],
            "contacts": len(plan.contacts),
            "ask_weeks": ASK_WEEKS,
        }
    return json.dumps(description, indent=2, sort_keys=True) + "\n"


def generate_world(
    settings: GeneratorSettings,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> WorldSummary:
    """Write the six input tables, the ground truth and world.json into `out`.

    `progress`, if given, is called after each chunk with the number of customers that
    chunk finished (an increment, not a running total).
    """
    began = time.perf_counter()
    timeline = build_timeline(settings)
    out = Path(out)
    (out / TRUTH_FOLDER).mkdir(parents=True, exist_ok=True)
    n_chunks = math.ceil(settings.customers / CHUNK_SIZE)
    seeds = np.random.SeedSequence(settings.seed).spawn(n_chunks)
    plan = read_plan(settings.outreach, settings.customers, timeline) if settings.outreach else None
    sinks = _open_sinks(settings, out, plan is not None)
    next_row = dict.fromkeys(TABLE_NAMES, 1)
    try:
        for index, seed in enumerate(seeds):
            size = min(CHUNK_SIZE, settings.customers - index * CHUNK_SIZE)
            ids = IdSpace(index * CHUNK_SIZE + 1, _customer_width(settings), dict(next_row))
            tables, used = _generate_chunk(settings, timeline, seed, ids, size, plan)
            for name, table in tables.items():
                sinks[name].write(table)
            for name in TABLE_NAMES:
                next_row[name] += used[name]
            if progress is not None:
                progress(size)
    finally:
        for sink in sinks.values():
            sink.close()
    rows = {name: sinks[name].rows for name in TABLE_NAMES}
    (out / "world.json").write_text(_describe(settings, timeline, rows, plan), encoding="utf-8")
    return WorldSummary(
        out=out,
        rows=rows,
        cutoffs=tuple(datetime.fromtimestamp(c, tz=UTC) for c in timeline.cutoffs),
        seconds=time.perf_counter() - began,
    )
