"""Run folders: spreadsheet files that equal the list, and atomic publication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from features.atomic import discard_folder, publish_folder, stage_folder
from features.errors import UserError
from models.scoring.files import (
    ABOUT_SHEET,
    LATEST,
    LIST_SHEET,
    latest_run,
    neutralise_formulas,
    write_csv,
    write_xlsx,
)
from models.scoring.segments import SegmentSettings

HEADERS = [
    "Rank",
    "Customer ID",
    "Chance of advocating in the next 30 days",
    "Percentile (100 % = top)",
    "Segment",
    "Suggested program",
    "Reason 1 (strongest)",
    "Reason 2",
    "Reason 3",
    "May be contacted",
    "Model",
    "Model version",
    "Scored as of",
]
SEGMENTS = SegmentSettings.model_validate(
    {
        "rules": [
            {
                "name": "Recover first",
                "when_any": [["last_nps <= 6", "days_since_last_nps <= 180"]],
                "programs": [{"program": "customer success follow-up"}],
            },
            {
                "name": "Champion",
                "top_share": 0.4,
                "programs": [
                    {"program": "review invitation", "when_any": [["past_reviews >= 1"]]},
                    {"program": "ambassador"},
                ],
            },
            {"name": "Not now", "programs": [{"program": "none"}]},
        ]
    }
)


@pytest.fixture
def ranked() -> pd.DataFrame:
    """A ranked list with the values spreadsheets get wrong."""
    return pd.DataFrame(
        {
            "rank": [1, 2, 3, 4, 5],
            "customer_id": ["00042", "C-7", "Zoë_ü", "-12", "00100"],
            "probability": [0.4123456789012345, 0.25, 0.1, 0.05, 0.0012],
            "percentile": [1.0, 0.8, 0.6, 0.4, 0.2],
            "segment": ["Champion", "Champion", "Recover first", "Not now", "Not now"],
            "suggested_program": [
                "ambassador",
                "review invitation",
                "customer success follow-up",
                "none",
                "none",
            ],
            "reason_1": ["Raises: gave NPS 10", "=SUM(A1)", "Lowers: urgent ticket ☹", None, ""],
            "reason_2": ["+1 review", "@mention", "", None, "Raises: 3 orders"],
            "reason_3": [None, "x", "y", None, "z"],
            "contactable": [True, False, True, True, False],
            "model_name": "advocacy-propensity",
            "model_version": "3",
            "as_of": pd.Timestamp("2026-10-01", tz="UTC"),
        }
    )


def expected_cells(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """What a spreadsheet holds for each row: empty text is an empty cell."""
    shown = frame.assign(as_of=frame["as_of"].dt.strftime("%Y-%m-%d %H:%M %Z"))
    shown = shown.astype(object).where(shown.notna(), None).replace({"": None})
    return [tuple(row) for row in shown.itertuples(index=False)]


def test_every_xlsx_cell_equals_the_list(tmp_path: Path, ranked: pd.DataFrame) -> None:
    write_xlsx(ranked, tmp_path / "list.xlsx", SEGMENTS, horizon_days=30)
    sheet = openpyxl.load_workbook(tmp_path / "list.xlsx")[LIST_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert rows[1:] == expected_cells(ranked)
    ids = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in ids] == ["00042", "C-7", "Zoë_ü", "-12", "00100"]
    assert all(cell.data_type == "s" for cell in ids)  # text: leading zeros kept, no '
    assert sheet["G3"].value == "=SUM(A1)" and sheet["G3"].data_type == "s"  # inert text
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_list_is_ready_to_browse(tmp_path: Path, ranked: pd.DataFrame) -> None:
    write_xlsx(ranked, tmp_path / "list.xlsx", SEGMENTS)
    book = openpyxl.load_workbook(tmp_path / "list.xlsx")
    assert book.sheetnames == [LIST_SHEET, ABOUT_SHEET]
    sheet = book[LIST_SHEET]
    assert sheet["C1"].value == "Chance of advocating in the next 90 days"  # default horizon
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M6"
    assert {sheet.cell(row, 3).number_format for row in range(2, 7)} == {"0.0%"}
    assert {sheet.cell(row, 4).number_format for row in range(2, 7)} == {"0.0%"}
    assert sheet["C2"].value == pytest.approx(0.4123456789012345)  # shown as 41.2 %
    assert sheet["B2"].number_format == "@"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "AGK"}
    assert widths["G"] > widths["A"] >= 10  # reasons get room, nothing is too narrow


def test_about_sheet_explains_columns_segments_and_programs(
    tmp_path: Path, ranked: pd.DataFrame
) -> None:
    write_xlsx(ranked, tmp_path / "list.xlsx", SEGMENTS, horizon_days=30)
    about = openpyxl.load_workbook(tmp_path / "list.xlsx")[ABOUT_SHEET]
    rows = list(about.iter_rows(values_only=True))
    assert rows[0] == ("Kind", "Name", "What it means")
    named = {(kind, name): meaning for kind, name, meaning in rows[1:]}
    assert [name for kind, name in named if kind == "Column"] == HEADERS
    assert "within 30 days" in named[("Column", HEADERS[2])]
    assert "customer_id" in named[("Column", "Customer ID")]
    assert named[("Segment", "Recover first")] == (
        "Tried 1 of 3: customers where last_nps ≤ 6 and days_since_last_nps ≤ 180. "
        "Programs: customer success follow-up."
    )
    assert "top 40 % of the list and not in an earlier segment" in named[("Segment", "Champion")]
    assert named[("Program", "review invitation")] == (
        "Suggested in segment Champion when past_reviews ≥ 1."
    )
    assert named[("Program", "ambassador")] == (
        "Suggested in segment Champion to everyone else there."
    )
    assert ("Program", "none") in named


def test_a_list_longer_than_a_worksheet_keeps_the_top_rows_under_a_note(
    tmp_path: Path, ranked: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("models.scoring.files.EXCEL_MAX_ROWS", 4)  # note, header, 2 rows
    write_xlsx(ranked, tmp_path / "list.xlsx", SEGMENTS, horizon_days=30)
    sheet = openpyxl.load_workbook(tmp_path / "list.xlsx")[LIST_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("This sheet holds the top 2 of 5 customers")
    assert "ranked_list.csv" in rows[0][0]
    assert list(rows[1]) == HEADERS
    assert rows[2:] == expected_cells(ranked.head(2))
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:M4"

    write_xlsx(ranked.head(3), tmp_path / "fits.xlsx", SEGMENTS, horizon_days=30)
    rows = list(openpyxl.load_workbook(tmp_path / "fits.xlsx")[LIST_SHEET].values)
    assert list(rows[0]) == HEADERS and len(rows) == 4  # exactly full: no note


def test_csv_keeps_ids_and_neutralises_formulas(tmp_path: Path, ranked: pd.DataFrame) -> None:
    write_csv(ranked, tmp_path / "list.csv")
    raw = (tmp_path / "list.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].split(",")[:3] == ['"rank"', '"customer_id"', '"probability"']
    assert '"00042"' in text and '"00100"' in text and '"-12"' in text  # ids as they are
    assert "'0" not in text and "'-12" not in text

    read = pd.read_csv(tmp_path / "list.csv")  # as a spreadsheet would: types guessed
    assert read.columns.tolist() == ranked.columns.tolist()
    assert read["rank"].tolist() == [1, 2, 3, 4, 5]
    assert read["probability"].tolist() == ranked["probability"].tolist()
    assert read["contactable"].tolist() == ranked["contactable"].tolist()
    assert read["customer_id"].tolist() == ["00042", "C-7", "Zoë_ü", "-12", "00100"]
    assert read["reason_1"].tolist()[:3] == [
        "Raises: gave NPS 10",
        "'=SUM(A1)",
        "Lowers: urgent ticket ☹",
    ]
    assert read["reason_2"].tolist()[:2] == ["'+1 review", "'@mention"]
    assert read["as_of"].unique().tolist() == ["2026-10-01 00:00 UTC"]


def test_a_csv_written_in_chunks_is_the_one_written_at_once(
    tmp_path: Path, ranked: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(ranked, tmp_path / "once.csv")
    monkeypatch.setattr("models.scoring.files.CSV_CHUNK_ROWS", 2)  # chunks of 2, 2 and 1 rows
    write_csv(ranked, tmp_path / "chunks.csv")
    assert (tmp_path / "chunks.csv").read_bytes() == (tmp_path / "once.csv").read_bytes()
    write_csv(ranked.head(0), tmp_path / "empty.csv")
    assert pd.read_csv(tmp_path / "empty.csv").columns.tolist() == ranked.columns.tolist()


def test_numeric_ids_read_as_numbers_by_guessing_readers_stay_exact_in_the_file(
    tmp_path: Path, ranked: pd.DataFrame
) -> None:
    numeric = ranked.assign(customer_id=["00042", "00043", "7", "00100", "12"])
    write_csv(numeric, tmp_path / "list.csv")
    assert pd.read_csv(tmp_path / "list.csv")["customer_id"].tolist() == [42, 43, 7, 100, 12]
    ids = pd.read_csv(tmp_path / "list.csv", dtype={"customer_id": "str"})["customer_id"]
    assert ids.tolist() == numeric["customer_id"].tolist()


def test_formula_like_text_gets_an_apostrophe_but_plain_ids_do_not() -> None:
    risky = pd.DataFrame(
        {
            "customer_id": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "C5", "\tx", None],
            "reason_1": ["-2", "=1+1", "ok", None, "@a", "\rx", "+"],
            "probability": [0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -1.0],
        }
    )
    safe = neutralise_formulas(risky)
    assert safe["customer_id"].tolist()[:6] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "-2",  # a plain identifier: no formula can hide in letters, digits and - _ .
        "'@SUM(A1)",
        "C5",
        "'\tx",
    ]
    assert pd.isna(safe["customer_id"].iloc[6])
    assert safe["reason_1"].tolist()[:3] == ["'-2", "'=1+1", "ok"]
    assert pd.isna(safe["reason_1"].iloc[3])
    assert safe["reason_1"].tolist()[4:] == ["'@a", "'\rx", "'+"]
    assert safe["probability"].tolist() == risky["probability"].tolist()  # numbers untouched


def test_latest_moves_only_after_a_complete_run(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run `advocacy score` first"):
        latest_run(tmp_path)
    first = stage_folder(tmp_path)
    (first / "ranked_list.csv").write_text("rank\n1\n")
    done = publish_folder(first, "run-1", tmp_path / LATEST)
    assert latest_run(tmp_path) == done.resolve()

    second = stage_folder(tmp_path)
    (second / "ranked_list.csv").write_text("half")
    discard_folder(second)  # what a failed run does
    assert latest_run(tmp_path) == done.resolve()
    assert (latest_run(tmp_path) / "ranked_list.csv").read_text() == "rank\n1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "run-1"]
