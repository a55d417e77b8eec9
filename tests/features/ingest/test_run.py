"""Ingestion: every contract rule quarantines what it should, and nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.errors import UserError
from features.generator import GeneratorSettings, Messiness, generate_world
from features.ingest import IngestReport, IngestSettings, ingest
from features.ingest.files import TableSource
from features.store import current_version, read_table
from tests.worlds import clean_tables

AS_OF = "2025-01-01T00:00:00Z"


def write_world(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def run_ingest(source: Path, store: Path, **overrides: object) -> IngestReport:
    settings = {"as_of": AS_OF, **overrides}
    return ingest(IngestSettings(source=source, store=store, **settings))


def test_clean_world_is_kept_whole_and_typed(tmp_path: Path) -> None:
    tables = clean_tables()
    report = run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    counts = {t.table: (t.rows_kept, t.rows_quarantined) for t in report.tables}
    assert counts == {name: (3, 0) for name in tables} | {"outreach": (0, 0)}
    purchases = read_table(current_version(tmp_path / "store"), "purchases")
    assert str(purchases["ordered_at"].dtype) == "datetime64[us, UTC]"
    assert purchases["amount"].tolist() == [10.5, 0.0, 99.0]
    assert purchases["discount"].isna().tolist() == [False, True, False]
    customers = read_table(current_version(tmp_path / "store"), "customers")
    assert customers["marketing_opt_in"].tolist() == [True, False, True]


# (table, column, bad value, rule the row must be quarantined under)
RULES = [
    ("customers", "customer_id", "", "missing_value"),
    ("customers", "signup_at", "2024-13-45", "unparseable_timestamp"),
    ("customers", "signup_at", "2031-01-01", "future_date"),
    ("customers", "marketing_opt_in", "maybe", "unparseable_boolean"),
    ("purchases", "amount", "-5", "negative_amount"),
    ("purchases", "amount", "ten", "unparseable_number"),
    ("purchases", "discount", "1.5", "discount_out_of_range"),
    ("purchases", "status", "lost", "unknown_status"),
    ("purchases", "customer_id", "C999", "unknown_customer"),
    ("purchases", "ordered_at", "not a date", "unparseable_timestamp"),
    ("purchases", "ordered_at", "2030-06-01T00:00:00Z", "future_date"),
    ("support_tickets", "priority", "critical", "unknown_priority"),
    ("support_tickets", "csat", "6", "csat_out_of_range"),
    ("support_tickets", "csat", "2.5", "unparseable_integer"),
    ("support_tickets", "reopened", "-1", "negative_reopened"),
    ("support_tickets", "resolved_at", "2024-01-01T00:00:00Z", "resolved_before_opened"),
    ("survey_responses", "score", "11", "score_out_of_range"),
    ("survey_responses", "survey_type", "ces5", "unknown_survey_type"),
    ("survey_responses", "customer_id", "", "missing_value"),
    ("advocacy_events", "event_type", "tweet", "unknown_event_type"),
    ("advocacy_events", "rating", "9", "rating_out_of_range"),
]


@pytest.mark.parametrize(("table", "column", "value", "rule"), RULES)
def test_each_rule_quarantines_the_bad_row(
    tmp_path: Path, table: str, column: str, value: str, rule: str
) -> None:
    tables = clean_tables()
    tables[table].loc[1, column] = value
    report = run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    by_table = {t.table: t for t in report.tables}
    assert by_table[table].rows_quarantined == 1
    assert by_table[table].quarantined_by_rule == {rule: 1}
    quarantine = pd.read_parquet(
        current_version(tmp_path / "store") / "quarantine" / f"{table}.parquet"
    )
    assert quarantine["source_row"].tolist() == [2]
    assert quarantine["rules"].tolist() == [f"{column}: {rule}"]
    assert quarantine[column].fillna("").tolist() == [value]
    kept = read_table(current_version(tmp_path / "store"), table)
    id_column = kept.columns[0]
    assert tables[table].loc[1, id_column] not in set(kept[id_column]) or value == ""


def test_rows_of_a_quarantined_customer_become_unknown(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["customers"].loc[0, "signup_at"] = "garbage"  # C1 is quarantined
    report = run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    by_table = {t.table: t for t in report.tables}
    assert by_table["purchases"].quarantined_by_rule == {"unknown_customer": 2}
    assert by_table["advocacy_events"].quarantined_by_rule == {"unknown_customer": 2}


def test_exact_duplicates_are_dropped_and_conflicting_ids_quarantined(tmp_path: Path) -> None:
    tables = clean_tables()
    purchases = tables["purchases"]
    conflicting = purchases.iloc[[1]].assign(amount="12")
    tables["purchases"] = pd.concat(
        [purchases, purchases.iloc[[0]], conflicting], ignore_index=True
    )
    report = run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    purchases_report = next(t for t in report.tables if t.table == "purchases")
    assert purchases_report.rows_read == 5
    assert purchases_report.exact_duplicates_dropped == 1
    assert purchases_report.quarantined_by_rule == {"duplicate_id": 2}
    assert sorted(read_table(current_version(tmp_path / "store"), "purchases")["order_id"]) == [
        "O1",
        "O3",
    ]
    assert purchases_report.rows_kept + purchases_report.rows_quarantined + 1 == 5


def test_mixed_time_zones_become_the_same_utc_instant(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["purchases"]["ordered_at"] = [
        "2024-01-01T10:00:00Z",
        "2024-01-01T12:00:00+02:00",
        "2024-01-01 10:00:00",
    ]
    run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    ordered = read_table(current_version(tmp_path / "store"), "purchases")["ordered_at"]
    assert ordered.nunique() == 1
    assert ordered.iloc[0] == pd.Timestamp("2024-01-01T10:00:00Z")


def test_naive_timestamps_follow_the_configured_zone(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["purchases"]["ordered_at"] = [
        "2024-07-01 12:00:00",
        "2024-07-01T12:00:00Z",
        "2024-01-01",
    ]
    run_ingest(
        write_world(tables, tmp_path / "src"), tmp_path / "store", naive_timezone="Europe/Berlin"
    )
    ordered = read_table(current_version(tmp_path / "store"), "purchases")["ordered_at"].tolist()
    assert ordered == [
        pd.Timestamp("2024-07-01T10:00:00Z"),  # CEST is UTC+2
        pd.Timestamp("2024-07-01T12:00:00Z"),
        pd.Timestamp("2023-12-31T23:00:00Z"),  # CET is UTC+1
    ]


def test_renamed_columns_are_mapped_by_config(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["purchases"] = tables["purchases"].rename(columns={"amount": "order_value"})
    source = write_world(tables, tmp_path / "src")
    with pytest.raises(UserError, match=r"purchases\.csv: required column 'amount' missing"):
        run_ingest(source, tmp_path / "store")
    run_ingest(
        source,
        tmp_path / "store",
        tables={"purchases": TableSource(columns={"order_value": "amount"})},
    )
    assert read_table(current_version(tmp_path / "store"), "purchases")[
        "amount"
    ].sum() == pytest.approx(109.5)


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["survey_responses"] = tables["survey_responses"].drop(columns="score")
    with pytest.raises(UserError) as error:
        run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    assert "survey_responses.csv" in str(error.value)
    assert "'score'" in str(error.value)
    assert not (tmp_path / "store" / "current").exists()


def test_missing_and_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    source = write_world(clean_tables(), tmp_path / "src")
    (source / "purchases.csv").unlink()
    with pytest.raises(UserError, match=r"purchases\.parquet or purchases\.csv"):
        run_ingest(source, tmp_path / "store")
    (source / "purchases.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(UserError, match=r"purchases\.parquet: cannot be read"):
        run_ingest(source, tmp_path / "store")


def test_parquet_sources_with_typed_columns(tmp_path: Path) -> None:
    source = write_world(clean_tables(), tmp_path / "src")
    purchases = pd.read_csv(source / "purchases.csv")
    purchases["ordered_at"] = pd.to_datetime(purchases["ordered_at"], format="ISO8601", utc=True)
    (source / "purchases.csv").unlink()
    purchases.to_parquet(source / "purchases.parquet")
    run_ingest(source, tmp_path / "store")
    stored = read_table(current_version(tmp_path / "store"), "purchases")
    assert stored["ordered_at"].tolist() == purchases["ordered_at"].tolist()
    assert stored["amount"].tolist() == [10.5, 0.0, 99.0]


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["purchases"].loc[2, "amount"] = "-1"
    source = write_world(tables, tmp_path / "src")
    first = run_ingest(source, tmp_path / "store")
    files = {p.name: p.read_bytes() for p in first.store_version.rglob("*.parquet")}
    second = run_ingest(source, tmp_path / "store")
    assert second.store_version == first.store_version
    assert {p.name: p.read_bytes() for p in second.store_version.rglob("*.parquet")} == files
    assert current_version(tmp_path / "store") == first.store_version


def test_failed_run_leaves_the_previous_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_world(clean_tables(), tmp_path / "src")
    first = run_ingest(source, tmp_path / "store")
    tables = clean_tables()
    tables["purchases"].loc[0, "amount"] = "5000"
    write_world(tables, source)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("features.ingest.run.validate_rows", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        run_ingest(source, tmp_path / "store")
    assert current_version(tmp_path / "store") == first.store_version
    assert read_table(current_version(tmp_path / "store"), "purchases")["amount"].tolist() == [
        10.5,
        0.0,
        99.0,
    ]
    assert [p.name for p in (tmp_path / "store" / "versions").iterdir()] == [
        first.store_version.name
    ]


def test_no_store_yet_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run `advocacy ingest` first"):
        read_table(current_version(tmp_path / "nowhere"), "purchases")


def test_messy_generated_world_loses_no_row(tmp_path: Path) -> None:
    share = 0.02
    messy = Messiness(**dict.fromkeys(Messiness.model_fields, share))
    generate_world(
        GeneratorSettings(customers=800, seed=9, format="csv", messiness=messy), tmp_path / "w"
    )
    generate_world(GeneratorSettings(customers=800, seed=9), tmp_path / "clean")
    report = run_ingest(tmp_path / "w", tmp_path / "store", as_of="2026-11-01T00:00:00Z")
    rules = set()
    for table in report.tables:
        kept_and_bad = table.rows_kept + table.rows_quarantined + table.exact_duplicates_dropped
        assert kept_and_bad == table.rows_read, table.table
        rules |= set(table.quarantined_by_rule)
    assert {
        "duplicate_id",
        "unparseable_timestamp",
        "negative_amount",
        "unknown_customer",
        "score_out_of_range",
    } <= rules
    # Mixed time zones are normalised, not quarantined: kept purchases equal the clean ones.
    kept = read_table(current_version(tmp_path / "store"), "purchases").set_index("order_id")
    clean = pd.read_parquet(tmp_path / "clean" / "purchases.parquet").set_index("order_id")
    common = kept.index.intersection(clean.index)
    assert len(common) > 0.9 * len(clean)
    assert (kept.loc[common, "ordered_at"] == clean.loc[common, "ordered_at"]).all()
