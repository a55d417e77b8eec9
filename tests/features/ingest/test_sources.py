"""Sources as companies have them: tables or columns missing, their own layout and names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from features.contracts import CONTRACTS, OPTIONAL_TABLES
from features.errors import UserError
from features.ingest import IngestReport, IngestSettings, check_source, ingest
from features.ingest.files import TableSource
from features.store import MANIFEST, current_version, present_sources, read_table
from tests.worlds import clean_tables

AS_OF = "2025-01-01T00:00:00Z"


def write_world(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def run_ingest(source: Path, store: Path, **overrides: object) -> IngestReport:
    return ingest(
        IngestSettings.model_validate(
            {"source": source, "store": store, "as_of": AS_OF, **overrides}
        )
    )


def by_table(report: IngestReport) -> dict[str, object]:
    return {t.table: t for t in report.tables}


# -- survey scores are whole numbers in range


@pytest.mark.parametrize(
    ("survey_type", "score", "rule"),
    [
        ("nps", "9.5", "score_not_whole"),
        ("csat", "6", "score_out_of_range"),
        ("ces", "0", "score_out_of_range"),
        ("csat", "4.0", None),
        ("ces", "7", None),
    ],
)
def test_survey_scores_are_whole_numbers_in_range(
    tmp_path: Path, survey_type: str, score: str, rule: str | None
) -> None:
    tables = clean_tables()
    tables["survey_responses"].loc[1, ["survey_type", "score"]] = [survey_type, score]
    report = run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    surveys = next(t for t in report.tables if t.table == "survey_responses")
    assert surveys.quarantined_by_rule == ({rule: 1} if rule else {})
    if rule:
        quarantine = pd.read_parquet(
            current_version(tmp_path / "store") / "quarantine" / "survey_responses.parquet"
        )
        assert quarantine["rules"].tolist() == [f"score: {rule}"]
        assert quarantine["score"].tolist() == [score]


# -- tables and columns a source does not have


def test_optional_tables_may_be_missing_or_header_only(tmp_path: Path) -> None:
    source = write_world(clean_tables(), tmp_path / "src")
    (source / "support_tickets.csv").unlink()
    header = clean_tables()["survey_responses"].iloc[:0]
    header.to_csv(source / "survey_responses.csv", index=False)
    (source / "advocacy_events.csv").unlink()
    clean_tables()["advocacy_events"].iloc[:0].to_parquet(source / "advocacy_events.parquet")
    report = run_ingest(source, tmp_path / "store")
    version = current_version(tmp_path / "store")
    for name in OPTIONAL_TABLES:
        stored = read_table(version, name)
        assert stored.empty
        assert tuple(stored.columns) == CONTRACTS[name].column_names
    present = present_sources(version)
    assert "support_tickets" not in present
    assert present["survey_responses"] == list(header.columns)
    assert present["advocacy_events"] == list(clean_tables()["advocacy_events"].columns)
    assert "outreach" not in present
    assert [t.rows_read for t in report.tables] == [3, 3, 0, 0, 0, 0]


def test_outreach_rows_that_break_its_contract_are_quarantined(tmp_path: Path) -> None:
    outreach = pd.DataFrame(
        {
            "outreach_id": ["A1", "A2", "A3", "A4"],
            "customer_id": ["C1", "C2", "C9", "C3"],
            "sent_at": ["2024-06-01T09:00:00Z"] * 4,
            "program": ["ambassador", "review invitation", "ambassador", ""],
            "channel": ["email"] * 4,
            "cost": ["0.5", "-1", "0.5", "0.5"],
        }
    )
    source = write_world({**clean_tables(), "outreach": outreach}, tmp_path / "src")
    report = by_table(run_ingest(source, tmp_path / "store"))["outreach"]
    version = current_version(tmp_path / "store")
    assert read_table(version, "outreach")["outreach_id"].tolist() == ["A1"]
    assert report.quarantined_by_rule == {
        "negative_cost": 1,
        "unknown_customer": 1,
        "missing_value": 1,
    }
    assert present_sources(version)["outreach"] == [*outreach.columns]


def test_customers_and_purchases_stay_required(tmp_path: Path) -> None:
    source = write_world(clean_tables(), tmp_path / "src")
    (source / "customers.csv").unlink()
    with pytest.raises(UserError, match=r"no customers\.parquet or customers\.csv"):
        run_ingest(source, tmp_path / "store")


def test_absent_optional_columns_are_stored_empty_and_recorded(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["purchases"] = tables["purchases"].drop(columns="discount")
    tables["advocacy_events"] = tables["advocacy_events"].drop(columns="rating")
    run_ingest(write_world(tables, tmp_path / "src"), tmp_path / "store")
    version = current_version(tmp_path / "store")
    assert read_table(version, "purchases")["discount"].isna().all()
    assert read_table(version, "advocacy_events")["rating"].isna().all()
    assert "discount" not in present_sources(version)["purchases"]
    assert "rating" not in present_sources(version)["advocacy_events"]
    assert "amount" in present_sources(version)["purchases"]


def test_an_absent_column_and_an_empty_one_are_different_versions(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["purchases"]["discount"] = ""
    empty = run_ingest(write_world(tables, tmp_path / "empty"), tmp_path / "store")
    tables["purchases"] = tables["purchases"].drop(columns="discount")
    absent = run_ingest(write_world(tables, tmp_path / "absent"), tmp_path / "store")
    assert empty.store_version != absent.store_version
    assert "discount" in present_sources(empty.store_version)["purchases"]
    assert "discount" not in present_sources(absent.store_version)["purchases"]


def test_a_store_written_before_presence_was_recorded_counts_as_complete(tmp_path: Path) -> None:
    run_ingest(write_world(clean_tables(), tmp_path / "src"), tmp_path / "store")
    version = current_version(tmp_path / "store")
    manifest = json.loads((version / MANIFEST).read_text())
    for table in manifest["tables"]:
        del table["files"], table["columns"]
    (version / MANIFEST).write_text(json.dumps(manifest))
    assert present_sources(version) == {n: list(c.column_names) for n, c in CONTRACTS.items()}


# -- the user's own layout


def shop_export(folder: Path) -> dict[str, object]:
    """A shop's order export in two monthly files, German style, and its mapping."""
    folder.mkdir(parents=True, exist_ok=True)
    write_world({k: v for k, v in clean_tables().items() if k != "purchases"}, folder)
    january = "Bestellnr;Kunde;Datum;Betrag;Status;Kategorie\nO1;C1;01.01.2024 11:00;10,50;geliefert;Bücher\n"
    february = "Bestellnr;Kunde;Datum;Betrag;Status;Kategorie\nO2;C2;01.02.2024 11:00;0,00;retourniert;Spiele\nO3;C1;01.07.2024 14:30;1.234,5;storniert;Bücher\n"
    (folder / "bestellungen_2024-01.csv").write_bytes(january.encode("cp1252"))
    (folder / "bestellungen_2024-02.csv").write_bytes(february.encode("cp1252"))
    return {
        "purchases": {
            "file": "bestellungen_*.csv",
            "delimiter": ";",
            "encoding": "cp1252",
            "decimal": ",",
            "timestamp_format": "%d.%m.%Y %H:%M",
            "timezone": "Europe/Berlin",
            "columns": {
                "Bestellnr": "order_id",
                "Kunde": "customer_id",
                "Datum": "ordered_at",
                "Betrag": "amount",
                "Status": "status",
                "Kategorie": "category",
            },
            "values": {
                "Status": {
                    "geliefert": "completed",
                    "retourniert": "returned",
                    "storniert": "cancelled",
                }
            },
        }
    }


def test_a_mapping_reads_the_users_files_names_and_formats(tmp_path: Path) -> None:
    tables = shop_export(tmp_path / "src")
    report = run_ingest(tmp_path / "src", tmp_path / "store", tables=tables)
    purchases = next(t for t in report.tables if t.table == "purchases")
    assert [Path(f).name for f in purchases.files] == [
        "bestellungen_2024-01.csv",
        "bestellungen_2024-02.csv",
    ]
    stored = read_table(current_version(tmp_path / "store"), "purchases")
    assert stored["order_id"].tolist() == ["O1", "O2"]
    assert stored["amount"].tolist() == [10.5, 0.0]
    assert stored["status"].tolist() == ["completed", "returned"]
    assert stored["category"].tolist() == ["Bücher", "Spiele"]
    assert stored["ordered_at"].tolist() == [  # CET is UTC+1 in winter
        pd.Timestamp("2024-01-01T10:00:00Z"),
        pd.Timestamp("2024-02-01T10:00:00Z"),
    ]
    # 1.234,5 (a thousands separator) is not a number: its row is quarantined.
    assert purchases.quarantined_by_rule == {"unparseable_number": 1}


def test_quarantine_keeps_the_users_names_file_and_row(tmp_path: Path) -> None:
    run_ingest(tmp_path / "src", tmp_path / "store", tables=shop_export(tmp_path / "src"))
    quarantine = pd.read_parquet(
        current_version(tmp_path / "store") / "quarantine" / "purchases.parquet"
    )
    row = quarantine.iloc[0].to_dict()
    assert Path(row["source_file"]).name == "bestellungen_2024-02.csv"
    assert row["source_row"] == 2  # the second data row of its own file
    assert row["rules"] == "Betrag: unparseable_number"
    assert (row["Betrag"], row["Status"], row["Kunde"]) == ("1.234,5", "storniert", "C1")


def test_errors_name_the_users_file_and_column(tmp_path: Path) -> None:
    tables = shop_export(tmp_path / "src")
    february = tmp_path / "src" / "bestellungen_2024-02.csv"
    february.write_bytes(february.read_bytes().replace(b";Betrag;", b";Summe;"))
    with pytest.raises(UserError) as error:
        run_ingest(tmp_path / "src", tmp_path / "store", tables=tables)
    message = str(error.value)
    assert "bestellungen_2024-02.csv" in message
    assert "'Betrag' (contract column 'amount')" in message


def test_a_glob_that_matches_nothing_is_a_clear_error(tmp_path: Path) -> None:
    source = write_world(clean_tables(), tmp_path / "src")
    with pytest.raises(UserError, match=r"orders_\*\.csv: no file found for table 'purchases'"):
        run_ingest(source, tmp_path / "store", tables={"purchases": {"file": "orders_*.csv"}})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"columns": {"Total": "amount_eur"}}, "tables.purchases.columns: unknown contract"),
        ({"columns": {"A": "amount", "B": "amount"}}, "several columns renamed to"),
        ({"values": {"amount": {"x": "y"}}}, "values.amount: value maps apply to text and yes/no"),
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"decimal": ";"}, "decimal"),
    ],
)
def test_mapping_settings_are_checked(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        IngestSettings.model_validate({"tables": {"purchases": spec}})


def test_value_maps_are_keyed_by_the_users_column_name() -> None:
    spec = TableSource(columns={"State": "status"}, values={"State": {"shipped": "completed"}})
    spelling = spec.value_format("UTC")
    assert spelling.replacements == {"status": {"shipped": "completed"}}


def test_check_source_validates_without_publishing(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["purchases"].loc[0, "amount"] = "-3"
    source = write_world(tables, tmp_path / "src")
    (source / "advocacy_events.csv").unlink()
    reports = check_source(
        IngestSettings.model_validate(
            {"source": source, "store": tmp_path / "store", "as_of": AS_OF}
        )
    )
    purchases = next(t for t in reports if t.table == "purchases")
    assert (purchases.rows_kept, purchases.quarantined_by_rule) == (2, {"negative_amount": 1})
    assert next(t for t in reports if t.table == "advocacy_events").files == []
    assert not (tmp_path / "store").exists()


def test_value_maps_also_read_yes_no_words(tmp_path: Path) -> None:
    tables = clean_tables()
    tables["customers"] = tables["customers"].assign(marketing_opt_in=["ja", "nein", "ja"])
    source = write_world(tables, tmp_path / "src")
    words = {"customers": {"values": {"marketing_opt_in": {"ja": "true", "nein": "false"}}}}
    run_ingest(source, tmp_path / "store", tables=words)
    customers = read_table(current_version(tmp_path / "store"), "customers")
    assert customers["marketing_opt_in"].tolist() == [True, False, True]
