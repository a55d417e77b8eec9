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
import pandera.pandas as pa
from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from features.clock import as_utc
from features.contracts import CONTRACTS, TABLE_CHECKS, TABLE_NAMES, TableContract, build_schema
from features.parsing import no_failures, parse_table, with_all_columns
from features.sources import TableSource, locate_table, read_raw_table
from features.store import MANIFEST, file_fingerprint, publish_version

PANDERA_RULES = {"not_nullable": "missing_value", "field_uniqueness": "duplicate_id"}


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
    keep_versions: int = 3

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


def validate_rows(
    typed: pd.DataFrame,
    contract: TableContract,
    as_of: pd.Timestamp,
    known_customers: pd.Series | None,
) -> pd.DataFrame:
    """Rows that break the contract, as (row, column, rule) records."""
    schema = build_schema(contract, list(typed.columns), as_of, known_customers)
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        structural = cases[cases["index"].isna()]
        if not structural.empty:
            raise RuntimeError(
                f"typed {contract.name} table does not fit its schema:\n{structural}"
            ) from errors
        rules = cases["check"].astype("str").replace(PANDERA_RULES)
        table_columns = {name: column for name, column, _ in TABLE_CHECKS.get(contract.name, [])}
        reported = cases["column"].astype("str")
        columns = reported.where(~rules.isin(list(table_columns)), rules.map(table_columns))
        return pd.DataFrame(
            {"row": cases["index"].astype("int64"), "column": columns, "rule": rules}
        ).drop_duplicates()
    return no_failures()


def exact_duplicates(typed: pd.DataFrame, id_column: str) -> pd.Series:
    """Rows that repeat an earlier row value for value (only rows sharing an id can)."""
    shares_id = typed[id_column].notna() & typed[id_column].duplicated(keep=False)
    repeated = pd.Series(False, index=typed.index)
    repeated[shares_id] = typed[shares_id].duplicated(keep="first")
    return repeated


def quarantine_records(raw: pd.DataFrame, failures: pd.DataFrame, source: Path) -> pd.DataFrame:
    """The failed rows with their original values, their position and the rules they broke."""
    reasons = (
        (failures["column"] + ": " + failures["rule"])
        .groupby(failures["row"])
        .agg(lambda texts: "; ".join(sorted(set(texts))))
    )
    original = raw.loc[reasons.index].astype("str")
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "source_file": str(source),
                    "source_row": reasons.index + 1,
                    "rules": reasons.to_numpy(),
                },
                index=reasons.index,
            ),
            original,
        ],
        axis=1,
    ).reset_index(drop=True)


def _ingest_table(
    contract: TableContract,
    settings: IngestSettings,
    as_of: pd.Timestamp,
    known_customers: pd.Series | None,
    out: Path,
) -> tuple[TableReport, pd.DataFrame]:
    path = locate_table(
        settings.source, contract.name, settings.tables.get(contract.name, TableSource())
    )
    raw = read_raw_table(path, contract, settings.tables.get(contract.name, TableSource()))
    typed, parse_failures = parse_table(raw, contract, settings.naive_timezone)
    repeated = exact_duplicates(typed, contract.id_column)
    typed = typed[~repeated]
    failures = validate_rows(typed, contract, as_of, known_customers)
    # A value that could not be parsed is missing in the typed table: report only the parse.
    failures = pd.concat([parse_failures, failures]).drop_duplicates(["row", "column"])
    bad_rows = failures["row"].unique()
    kept = with_all_columns(typed.drop(index=bad_rows), contract)
    kept.to_parquet(out / f"{contract.name}.parquet", index=False, compression="zstd")
    quarantine_records(raw, failures, path).to_parquet(
        out / "quarantine" / f"{contract.name}.parquet", index=False, compression="zstd"
    )
    report = TableReport(
        table=contract.name,
        source=str(path),
        rows_read=len(raw),
        exact_duplicates_dropped=int(repeated.sum()),
        rows_kept=len(kept),
        rows_quarantined=len(bad_rows),
        quarantined_by_rule={
            str(rule): int(n) for rule, n in failures["rule"].value_counts().sort_index().items()
        },
    )
    return report, kept


def ingest(settings: IngestSettings) -> IngestReport:
    """Validate the five source tables and publish them as a new curated store version."""
    as_of = as_utc(settings.as_of)
    reports: list[TableReport] = []

    def build(folder: Path) -> None:
        (folder / "quarantine").mkdir()
        known_customers: pd.Series | None = None
        for name in TABLE_NAMES:
            report, kept = _ingest_table(CONTRACTS[name], settings, as_of, known_customers, folder)
            if name == "customers":
                known_customers = kept["customer_id"]
            reports.append(report)
        manifest = {
            "tables": [asdict(report) for report in reports],
            "sources": {report.table: file_fingerprint(Path(report.source)) for report in reports},
            "as_of": as_of.isoformat(),
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    version = publish_version(settings.store, build, keep=settings.keep_versions)
    return IngestReport(store_version=version, as_of=as_of.isoformat(), tables=reports)
