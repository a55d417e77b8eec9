"""Run folders: spreadsheet-safe files, and atomic publication with a `latest` pointer."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from features.atomic import discard_folder, publish_folder, stage_folder
from features.errors import UserError
from models.scoring.files import (
    LATEST,
    latest_run,
    neutralise_formulas,
    write_csv,
    write_xlsx,
)

RISKY = pd.DataFrame(
    {
        "customer_id": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "C5", "\tx"],
        "probability": [0.5, 0.4, 0.3, 0.2, 0.1, 0.0],
    }
)


def test_formula_looking_text_gets_an_apostrophe() -> None:
    safe = neutralise_formulas(RISKY)
    assert safe["customer_id"].tolist() == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "C5",
        "'\tx",
    ]
    assert safe["probability"].tolist() == RISKY["probability"].tolist()  # numbers untouched


def test_csv_and_xlsx_hold_no_formulas(tmp_path: Path) -> None:
    write_csv(RISKY, tmp_path / "list.csv")
    write_xlsx(RISKY, tmp_path / "list.xlsx")
    raw = (tmp_path / "list.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    assert pd.read_csv(tmp_path / "list.csv", encoding="utf-8-sig")["customer_id"][0].startswith(
        "'="
    )
    sheet = openpyxl.load_workbook(tmp_path / "list.xlsx").active
    cells = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert cells[0] == '\'=HYPERLINK("http://x")'
    assert all(not str(cell).startswith(("=", "+", "-", "@")) for cell in cells)
    assert not any(
        cell.data_type == "f" for row in sheet.iter_rows() for cell in row
    )  # no cell is stored as a formula


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
