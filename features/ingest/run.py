"""Validated ingestion: raw tables in, a typed curated store and quarantine files out.

Every row read ends up in exactly one place: the curated table, the table's quarantine
file (with the rules it broke and its original values), or the count of exact duplicates
that were dropped. The run's report says how many went where, per rule.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from features.clock import as_utc
from features.contracts import (
    CONTRACTS,
    TABLE_NAMES,
    TableContract,
    arrow_schema,
    build_schema,
    with_all_columns,
)
from features.engine import EngineSettings
from features.ingest.files import FileRows, SourceTable, TableSource, open_table
from features.ingest.parsing import known_timezone, parse_table
from features.ingest.quarantine import quarantine_records, validate_rows
from features.ingest.shared import HeldRows, SharedIds
from features.known_ids import KnownIds
from features.store import (
    MANIFEST,
    PART,
    file_fingerprint,
    partition_of,
    publish_version,
    table_files,
)

DUCKDB_MEMORY = "1GiB"
"""DuckDB's memory during ingestion: the batches being checked need the rest."""


class IngestSettings(BaseModel):
    """Where ingestion reads and writes, and how it reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Path = Path("data/sample")
    store: Path = Path("data/store")
    as_of: datetime | None = None
    """Rows dated after this are quarantined as `future_date`; default: the time of the run."""
    naive_timezone: Annotated[str, AfterValidator(known_timezone)] = "UTC"
    """Time zone of timestamps written without an offset."""
    tables: dict[str, TableSource] = {}
    """Per table: its files and how they are written and named, when not as the contract."""
    keep_versions: int = Field(3, ge=1)
    """Store versions kept, the current one included; older ones are removed."""
    partitions: int = Field(1, ge=1, le=1000)
    """Customer partitions the store is written in (`features.store`); 1: one file a table."""

    @model_validator(mode="after")
    def _tables_follow_the_contracts(self) -> IngestSettings:
        for table, spec in self.tables.items():
            if table not in CONTRACTS:
                raise ValueError(f"unknown table '{table}' (tables: {', '.join(TABLE_NAMES)})")
            try:
                spec.check_against(CONTRACTS[table])
            except ValueError as error:
                raise ValueError(f"tables.{table}.{error}") from error
        return self


@dataclass(frozen=True)
class TableReport:
    """What happened to the rows of one table."""

    table: str
    files: list[str]
    """The source files; none when the source does not have the table."""
    columns: list[str]
    """The contract columns the files have."""
    rows_read: int
    exact_duplicates_dropped: int
    rows_kept: int
    rows_quarantined: int
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingestion run."""

    store_version: Path
    as_of: str
    tables: list[TableReport]


@dataclass
class _TableWriter:
    """Writes one table's kept rows and quarantined rows, batch by batch, and counts them."""

    source: SourceTable
    rows: FileRows
    folder: Path
    partitions: int = 1
    rows_kept: int = 0
    rows_quarantined: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    _writers: list[pq.ParquetWriter] = field(default_factory=list)
    _quarantine: pq.ParquetWriter | None = None

    def write(self, raw: pd.DataFrame, typed: pd.DataFrame, failures: pd.DataFrame) -> None:
        """Keep the rows without failures; quarantine the others with their reasons."""
        contract = self.source.contract
        kept = with_all_columns(typed.drop(index=failures["row"].unique()), contract)
        table = pa.Table.from_pandas(kept, schema=arrow_schema(contract), preserve_index=False)
        writers = self._parquet()
        if len(writers) == 1:
            writers[0].write_table(table)
        else:  # each customer's rows into the part of their id (`features.store`)
            part = partition_of(table.column("customer_id"), len(writers))
            for index, writer in enumerate(writers):
                writer.write_table(table.filter(pa.array(part == index)))
        self.rows_kept += len(kept)
        if not failures.empty:
            names = {c: self.source.spec.source_name(c) for c in contract.column_names}
            self._quarantine_records(quarantine_records(raw, failures, self.rows, names))
            self.by_rule.update(failures["rule"].astype("str"))

    def _parquet(self) -> list[pq.ParquetWriter]:
        if not self._writers:
            name, schema = self.source.contract.name, arrow_schema(self.source.contract)
            paths = [self.folder / f"{name}.parquet"]
            if self.partitions > 1:
                (self.folder / name).mkdir()
                paths = [self.folder / name / PART.format(i) for i in range(self.partitions)]
            self._writers = [pq.ParquetWriter(p, schema, compression="zstd") for p in paths]
        return self._writers

    def _quarantine_records(self, records: pd.DataFrame) -> None:
        if self._quarantine is None:
            # Every column of the table's files, also those a glob's first files lack.
            theirs = [self.source.spec.source_name(c) for c in self.source.columns]
            absent = [name for name in theirs if name not in records.columns]
            records = pd.concat(
                [records, pd.DataFrame(None, index=records.index, columns=absent, dtype="str")],
                axis=1,
            )
            table = pa.Table.from_pandas(records, preserve_index=False)
            path = self.folder / "quarantine" / f"{self.source.contract.name}.parquet"
            self._quarantine = pq.ParquetWriter(path, table.schema, compression="zstd")
        else:
            records = records.reindex(columns=self._quarantine.schema.names)
            table = pa.Table.from_pandas(
                records, schema=self._quarantine.schema, preserve_index=False
            )
        self._quarantine.write_table(table)
        self.rows_quarantined += len(records)

    def close(self) -> tuple[int, dict[str, int]]:
        """Finish both files; return the quarantined row count and the count per rule.

        A table without rows (or without files) is written empty with the full schema, so
        the SQL downstream runs on any source.
        """
        for writer in self._parquet():  # every part is written, also without rows
            writer.close()
        if self._quarantine is None:
            pd.DataFrame({"source_file": [], "source_row": [], "rules": []}).to_parquet(
                self.folder / "quarantine" / f"{self.source.contract.name}.parquet",
                index=False,
                compression="zstd",
            )
        else:
            self._quarantine.close()
        return self.rows_quarantined, dict(sorted(self.by_rule.items()))


def _ingest_table(
    contract: TableContract,
    settings: IngestSettings,
    as_of: pd.Timestamp,
    known_customers: KnownIds | None,
    out: Path,
    scratch: Path,
) -> TableReport:
    """Ingest one table in batches into `out`, staging in `scratch`; returns its report.

    Rows whose id occurs more than once in the files are held back (staged on disk) and
    judged together at the end (exact copies dropped, conflicting ones quarantined); every
    row is validated with its batch, so memory is bounded by a batch, not by the files.
    """
    spec = settings.tables.get(contract.name, TableSource())
    source = open_table(settings.source, contract, spec)
    spelling = spec.value_format(settings.naive_timezone)
    engine = EngineSettings(memory_limit=DUCKDB_MEMORY, spill_folder=scratch / "duckdb")
    rows = source.write_ids(scratch / f"{contract.name}-ids.parquet")
    shared = SharedIds(
        engine,
        scratch / f"{contract.name}-ids.parquet",
        scratch / f"{contract.name}-shared.parquet",
    )
    schema = build_schema(contract, as_of, known_customers)
    row_checks = build_schema(contract, as_of, known_customers, unique_ids=False)
    writer = _TableWriter(source, rows, out, settings.partitions)
    held = HeldRows(contract, scratch / f"{contract.name}-held.parquet")
    rows_read = 0
    for raw in source.read_batches():
        rows_read += len(raw)
        typed, parse_failures = parse_table(raw, contract, spelling)
        is_held = shared.mask(raw.index)
        held_failures = parse_failures["row"].isin(raw.index[is_held])
        held.write(
            raw[is_held],
            typed[is_held],
            _all_failures(parse_failures[held_failures], validate_rows(typed[is_held], row_checks)),
        )
        typed = typed[~is_held]
        writer.write(
            raw[~is_held],
            typed,
            _all_failures(parse_failures[~held_failures], validate_rows(typed, schema)),
        )
    dropped, judged = held.judge(engine, scratch / f"{contract.name}-judged.parquet")
    for raw, typed, failures in judged:
        writer.write(raw, typed, failures)
    quarantined, by_rule = writer.close()
    return TableReport(
        table=contract.name,
        files=[str(file.path) for file in source.files],
        columns=list(source.columns),
        rows_read=rows_read,
        exact_duplicates_dropped=dropped,
        rows_kept=writer.rows_kept,
        rows_quarantined=quarantined,
        quarantined_by_rule=by_rule,
    )


def _all_failures(parse_failures: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    # A value that could not be parsed is missing in the typed table: report only the parse.
    return pd.concat([parse_failures, failures]).drop_duplicates(["row", "column"])


def _validate_into(
    folder: Path, settings: IngestSettings, as_of: pd.Timestamp
) -> list[TableReport]:
    """Validate every table into `folder` as a store version: tables, quarantine, manifest.

    The manifest records which files and columns each table had (`present_sources` in
    `features.store` reads it): a table or column the source lacks is stored empty, and
    only the manifest tells it from one that is there without values.
    """
    (folder / "quarantine").mkdir()
    scratch = folder / "scratch"  # staged rows; removed before the version is named
    scratch.mkdir()
    known_customers: KnownIds | None = None
    reports: list[TableReport] = []
    try:
        for name in TABLE_NAMES:
            reports.append(
                _ingest_table(CONTRACTS[name], settings, as_of, known_customers, folder, scratch)
            )
            if name == "customers":
                files = table_files(folder, "customers")
                ids = [pq.read_table(file, columns=["customer_id"]) for file in files]
                known_customers = KnownIds(pa.concat_tables(ids).column(0).combine_chunks())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    manifest = {
        "tables": [asdict(report) for report in reports],
        "sources": {
            report.table: {path: file_fingerprint(Path(path)) for path in report.files}
            for report in reports
        },
        "as_of": as_of.isoformat(),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return reports


def ingest(settings: IngestSettings) -> IngestReport:
    """Validate the source tables and publish them as a new curated store version."""
    as_of = as_utc(settings.as_of)
    reports: list[TableReport] = []

    def build(folder: Path) -> None:
        reports.extend(_validate_into(folder, settings, as_of))

    version = publish_version(settings.store, build, keep=settings.keep_versions)
    return IngestReport(store_version=version, as_of=as_of.isoformat(), tables=reports)


def check_source(settings: IngestSettings) -> list[TableReport]:
    """Everything `ingest` does but publish: the reports of the tables a store would hold.

    Runs the very same validation into a temporary folder, so its answers are ingest's.
    """
    with tempfile.TemporaryDirectory(prefix="advocacy-check-") as scratch:
        return _validate_into(Path(scratch), settings, as_utc(settings.as_of))
