"""Validated ingestion: raw tables in, a typed curated store and quarantine files out.

Every row read ends up in exactly one place: the curated table, the table's quarantine
file (with the rules it broke and its original values), or the count of exact duplicates
that were dropped. The run's report says how many went where, per rule.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
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
from features.ingest.files import TableSource, open_source
from features.ingest.parsing import parse_table
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


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone '{name}'") from error
    return name


class IngestSettings(BaseModel):
    """Where ingestion reads and writes, and how it reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Path = Path("data/sample")
    store: Path = Path("data/store")
    as_of: datetime | None = None
    """Rows dated after this are quarantined as `future_date`; default: the time of the run."""
    naive_timezone: Annotated[str, AfterValidator(_known_timezone)] = "UTC"
    """Time zone of timestamps written without an offset."""
    tables: dict[str, TableSource] = {}
    keep_versions: int = Field(3, ge=1)
    """Store versions kept, the current one included; older ones are removed."""

    @model_validator(mode="after")
    def _tables_follow_the_contracts(self) -> IngestSettings:
        for table, spec in self.tables.items():
            if table not in CONTRACTS:
                raise ValueError(f"unknown table '{table}' (tables: {', '.join(TABLE_NAMES)})")
            unknown = set(spec.columns) - set(CONTRACTS[table].column_names)
            if unknown:
                raise ValueError(
                    f"tables.{table}.columns: unknown contract columns {sorted(unknown)}"
                )
        return self


@dataclass(frozen=True)
class TableReport:
    """What happened to the rows of one table."""

    table: str
    source: str
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

    contract: TableContract
    source: Path
    folder: Path
    kept_ids: list[pd.Series] = field(default_factory=list)
    quarantined: list[pd.DataFrame] = field(default_factory=list)
    rules: list[pd.Series] = field(default_factory=list)
    rows_kept: int = 0
    _writer: pq.ParquetWriter | None = None

    def write(self, raw: pd.DataFrame, typed: pd.DataFrame, failures: pd.DataFrame) -> None:
        """Keep the rows without failures; quarantine the others with their reasons."""
        kept = with_all_columns(typed.drop(index=failures["row"].unique()), self.contract)
        table = pa.Table.from_pandas(kept, schema=self._schema(), preserve_index=False)
        if self._writer is None:
            path = self.folder / f"{self.contract.name}.parquet"
            self._writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows_kept += len(kept)
        self.kept_ids.append(kept[self.contract.id_column])
        if not failures.empty:
            self.quarantined.append(quarantine_records(raw, failures, self.source))
            self.rules.append(failures["rule"])

    def _schema(self) -> pa.Schema:
        return pa.schema(
            [(column.name, ARROW_TYPES[column.kind]) for column in self.contract.columns]
        )

    def close(self) -> tuple[int, dict[str, int]]:
        """Finish both files; return the quarantined row count and the count per rule."""
        if self._writer is not None:
            self._writer.close()
        quarantine = (
            pd.concat(self.quarantined, ignore_index=True)
            if self.quarantined
            else pd.DataFrame({"source_file": [], "source_row": [], "rules": []})
        )
        quarantine.to_parquet(
            self.folder / "quarantine" / f"{self.contract.name}.parquet",
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

    Rows whose id occurs more than once in the file are held back and judged together
    at the end (exact copies dropped, conflicting ones quarantined); every other row is
    validated with its batch, so memory is bounded by a batch, not by the file.
    """
    source = open_source(
        settings.source, contract, settings.tables.get(contract.name, TableSource())
    )
    ids = source.read_ids()
    shares_id = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    schema = build_schema(contract, as_of, known_customers)
    writer = _TableWriter(contract, source.path, out)
    held_raw, held_typed, held_failures = [], [], []
    for raw in source.read_batches():
        typed, parse_failures = parse_table(raw, contract, settings.naive_timezone)
        held = shares_id[raw.index]
        held_raw.append(raw[held])
        held_typed.append(typed[held])
        held_failures.append(parse_failures[parse_failures["row"].isin(raw.index[held])])
        alone = parse_failures[~parse_failures["row"].isin(raw.index[held])]
        typed = typed[~held]
        writer.write(raw[~held], typed, _all_failures(alone, validate_rows(typed, schema)))
    raw, typed = pd.concat(held_raw), pd.concat(held_typed)
    repeated = exact_duplicates(typed, contract.id_column)
    typed = typed[~repeated]
    parse_failures = pd.concat(held_failures)
    parse_failures = parse_failures[parse_failures["row"].isin(typed.index)]
    writer.write(raw, typed, _all_failures(parse_failures, validate_rows(typed, schema)))
    quarantined, by_rule = writer.close()
    report = TableReport(
        table=contract.name,
        source=str(source.path),
        rows_read=len(ids),
        exact_duplicates_dropped=int(repeated.sum()),
        rows_kept=writer.rows_kept,
        rows_quarantined=quarantined,
        quarantined_by_rule=by_rule,
    )
    return report, pd.concat(writer.kept_ids, ignore_index=True)


def _all_failures(parse_failures: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    # A value that could not be parsed is missing in the typed table: report only the parse.
    return pd.concat([parse_failures, failures]).drop_duplicates(["row", "column"])


def ingest(settings: IngestSettings) -> IngestReport:
    """Validate the five source tables and publish them as a new curated store version."""
    as_of = as_utc(settings.as_of)
    reports: list[TableReport] = []

    def build(folder: Path) -> None:
        (folder / "quarantine").mkdir()
        known_customers: pd.Index | None = None
        for name in TABLE_NAMES:
            report, kept_ids = _ingest_table(
                CONTRACTS[name], settings, as_of, known_customers, folder
            )
            if name == "customers":
                known_customers = pd.Index(kept_ids)
            reports.append(report)
        manifest = {
            "tables": [asdict(report) for report in reports],
            "sources": {report.table: file_fingerprint(Path(report.source)) for report in reports},
            "as_of": as_of.isoformat(),
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    version = publish_version(settings.store, build, keep=settings.keep_versions)
    return IngestReport(store_version=version, as_of=as_of.isoformat(), tables=reports)
