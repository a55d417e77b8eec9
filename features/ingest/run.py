"""Validated ingestion: raw tables in, a typed curated store and quarantine files out.

Every row read ends up in exactly one place: the curated table, the table's quarantine
file (with the rules it broke and its original values), or the count of exact duplicates
that were dropped. The run's report says how many went where, per rule.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from features.clock import as_utc
from features.contracts import (
    CONTRACTS,
    TABLE_NAMES,
    ColumnKind,
    TableContract,
    build_schema,
    with_all_columns,
)
from features.ingest.files import FileRows, SourceTable, TableSource, open_table
from features.ingest.parsing import known_timezone, parse_table
from features.ingest.quarantine import exact_duplicates, quarantine_records, validate_rows
from features.store import MANIFEST, file_fingerprint, publish_version

# Parquet types of the curated store; they match `features.contracts.STORE_DTYPES`.
ARROW_TYPES: dict[ColumnKind, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "number": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
}


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
    kept_ids: list[pd.Series] = field(default_factory=list)
    quarantined: list[pd.DataFrame] = field(default_factory=list)
    rules: list[pd.Series] = field(default_factory=list)
    rows_kept: int = 0
    _writer: pq.ParquetWriter | None = None

    def write(self, raw: pd.DataFrame, typed: pd.DataFrame, failures: pd.DataFrame) -> None:
        """Keep the rows without failures; quarantine the others with their reasons."""
        contract = self.source.contract
        kept = with_all_columns(typed.drop(index=failures["row"].unique()), contract)
        self._parquet().write_table(
            pa.Table.from_pandas(kept, schema=self._schema(), preserve_index=False)
        )
        self.rows_kept += len(kept)
        self.kept_ids.append(kept[contract.id_column])
        if not failures.empty:
            names = {c: self.source.spec.source_name(c) for c in contract.column_names}
            self.quarantined.append(quarantine_records(raw, failures, self.rows, names))
            self.rules.append(failures["rule"])

    def _parquet(self) -> pq.ParquetWriter:
        if self._writer is None:
            path = self.folder / f"{self.source.contract.name}.parquet"
            self._writer = pq.ParquetWriter(path, self._schema(), compression="zstd")
        return self._writer

    def _schema(self) -> pa.Schema:
        return pa.schema(
            [(column.name, ARROW_TYPES[column.kind]) for column in self.source.contract.columns]
        )

    def close(self) -> tuple[int, dict[str, int]]:
        """Finish both files; return the quarantined row count and the count per rule.

        A table without rows (or without files) is written empty with the full schema, so
        the SQL downstream runs on any source.
        """
        self._parquet().close()
        quarantine = (
            pd.concat(self.quarantined, ignore_index=True)
            if self.quarantined
            else pd.DataFrame({"source_file": [], "source_row": [], "rules": []})
        )
        quarantine.to_parquet(
            self.folder / "quarantine" / f"{self.source.contract.name}.parquet",
            index=False,
            compression="zstd",
        )
        rules = pd.concat(self.rules) if self.rules else pd.Series(dtype="str")
        by_rule = {str(rule): int(n) for rule, n in rules.value_counts().sort_index().items()}
        return len(quarantine), by_rule


def _ingest_table(
    contract: TableContract,
    settings: IngestSettings,
    as_of: pd.Timestamp,
    known_customers: pd.Index | None,
    out: Path,
) -> tuple[TableReport, pd.Series]:
    """Ingest one table in batches; returns its report and the ids of the kept rows.

    Rows whose id occurs more than once in the files are held back and judged together
    at the end (exact copies dropped, conflicting ones quarantined); every other row is
    validated with its batch, so memory is bounded by a batch, not by the files.
    """
    spec = settings.tables.get(contract.name, TableSource())
    source = open_table(settings.source, contract, spec)
    spelling = spec.value_format(settings.naive_timezone)
    ids, rows = source.read_ids()
    shares_id = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    schema = build_schema(contract, as_of, known_customers)
    writer = _TableWriter(source, rows, out)
    held_raw, held_typed, held_failures = [], [], []
    for raw in source.read_batches():
        typed, parse_failures = parse_table(raw, contract, spelling)
        held = shares_id[raw.index]
        held_raw.append(raw[held])
        held_typed.append(typed[held])
        held_failures.append(parse_failures[parse_failures["row"].isin(raw.index[held])])
        alone = parse_failures[~parse_failures["row"].isin(raw.index[held])]
        typed = typed[~held]
        writer.write(raw[~held], typed, _all_failures(alone, validate_rows(typed, schema)))
    dropped = _judge_held(held_raw, held_typed, held_failures, schema, writer)
    quarantined, by_rule = writer.close()
    report = TableReport(
        table=contract.name,
        files=[str(file.path) for file in source.files],
        columns=list(source.columns),
        rows_read=len(ids),
        exact_duplicates_dropped=dropped,
        rows_kept=writer.rows_kept,
        rows_quarantined=quarantined,
        quarantined_by_rule=by_rule,
    )
    return report, pd.concat([pd.Series(dtype="str"), *writer.kept_ids], ignore_index=True)


def _judge_held(
    held_raw: list[pd.DataFrame],
    held_typed: list[pd.DataFrame],
    held_failures: list[pd.DataFrame],
    schema: pandera.DataFrameSchema,
    writer: _TableWriter,
) -> int:
    """Write the rows that share their id with others; returns the exact copies dropped."""
    if not held_raw:  # no rows at all
        return 0
    raw, typed = pd.concat(held_raw), pd.concat(held_typed)
    repeated = exact_duplicates(typed, writer.source.contract.id_column)
    typed = typed[~repeated]
    parse_failures = pd.concat(held_failures)
    parse_failures = parse_failures[parse_failures["row"].isin(typed.index)]
    writer.write(raw, typed, _all_failures(parse_failures, validate_rows(typed, schema)))
    return int(repeated.sum())


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
    known_customers: pd.Index | None = None
    reports: list[TableReport] = []
    for name in TABLE_NAMES:
        report, kept_ids = _ingest_table(CONTRACTS[name], settings, as_of, known_customers, folder)
        if name == "customers":
            known_customers = pd.Index(kept_ids)
        reports.append(report)
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
