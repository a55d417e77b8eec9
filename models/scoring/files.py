"""The files of a scoring run, written so that nobody ever opens a half-written list.

A run is staged and published through `features.atomic` (`latest` points at the newest
complete run): an interrupted run leaves the previous runs and `latest` as they were.

The XLSX file is for people. Its first sheet holds the list with headers in words,
chances and percentiles shown as percentages (the cells keep the numbers), a frozen
header row, filters and column widths; a second sheet explains every column, segment
and program. Text is stored as text cells, which a spreadsheet never runs as a formula
or reads as a number: customer IDs keep their leading zeros and no character is added
to any value. A list longer than a worksheet holds the top rows, under a note that says
so; the CSV and Parquet files hold everyone. The workbook is written by
rustpy-xlsxwriter (Rust): a million rows take about 10 s on 2 cores, against about 90 s
row by row with XlsxWriter.

The CSV files are for tools (a CRM import, a mail-merge, a script), so their headers
stay the snake_case column names of the Parquet file. Spreadsheet programs run a CSV
field that starts with = + - @ (or a tab or carriage return) as a formula: such text
gets a leading apostrophe, except customer IDs made only of letters, digits and `_ . -`,
which no formula can hide in and which must match the CRM as they are. Text fields
are quoted, and the file is UTF-8 with a byte-order mark so Excel shows accents. A
spreadsheet that opens a CSV with default settings may still read `00042` as the
number 42: the XLSX file is the one to open in a spreadsheet.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from rustpy_xlsxwriter import Format, write_worksheets

from features.atomic import pointed_folder
from models.scoring.reasons import REASONS

if TYPE_CHECKING:  # segments.py imports `slug` from here
    from models.scoring.segments import ProgramRule, SegmentRule, SegmentSettings

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_ID = re.compile(r"[A-Za-z0-9_.-]+")
CSV_CHUNK_ROWS = 250_000
EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet, the header row included
DEFAULT_HORIZON_DAYS = 90
LIST_SHEET = "Advocates"
ABOUT_SHEET = "About these columns"
LINE_HEIGHT = 15.0  # points per line of wrapped header text
MAX_WIDTH = 60  # characters; longer text is cut off on screen, never in the cell
LATEST = "latest"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Column:
    """How a column of the list is shown in the workbook and what it means."""

    header: str
    meaning: str
    number_format: str | None = None


ORDER_WORDS = {
    "propensity": "most likely to advocate",
    "uplift": "whom asking adds the most chance of advocating",
    "expected_value": "whom asking adds the most expected value",
}
"""Who rank 1 is, per `scoring.order_by`."""


def run_order(manifest: dict[str, Any]) -> str:
    """The order a run's list is in (runs from before the choice existed: propensity)."""
    return str(manifest.get("order", {}).get("used", "propensity"))


def list_columns(horizon_days: int, order_by: str = "propensity") -> dict[str, Column]:
    """Header, meaning and number format of each column of the ranked list.

    `order_by`: what ranks the list (`scoring.order_by`), which the rank's meaning names.
    """
    reasons = {
        f"reason_{i}": Column(
            f"Reason {i}" + (" (strongest)" if i == 1 else ""),
            f"Factor {i} behind the chance, strongest first, and whether it raises or "
            "lowers the chance (from the model's SHAP values). Empty when fewer factors "
            "moved the chance.",
        )
        for i in range(1, REASONS + 1)
    }
    return {
        "rank": Column(
            "Rank",
            f"Place in the list; 1 is the customer {ORDER_WORDS[order_by]}. Ties are "
            "ordered by the next measure (the model's underlying score, or the chance), "
            "then by customer ID.",
            "#,##0",
        ),
        "customer_id": Column(
            "Customer ID",
            "The customer's ID, exactly as in the CRM (stored as text: leading zeros kept).",
            "@",
        ),
        "probability": Column(
            f"Chance of advocating in the next {horizon_days} days",
            f"The model's calibrated chance that the customer advocates (for example a "
            f"review, a referral or a case study) within {horizon_days} days of the "
            "as-of date: of 100 customers at 20 %, about 20 are expected to.",
            "0.0%",
        ),
        "uplift": Column(
            "Extra chance if asked",
            f"How much asking raises the customer's chance of advocating within "
            f"{horizon_days} days, from the uplift model learned from earlier runs' control "
            "groups: of 100 customers at +2 %, asking brings about 2 more advocates. "
            "Negative: asking is likely to put them off.",
            "+0.0%;-0.0%",
        ),
        "expected_value": Column(
            "Expected value of asking",
            "The extra chance if asked times the value of the advocacy this customer is "
            "expected to give (per type, as configured in outreach.value_per_advocacy), in "
            "the purchases' currency.",
            "#,##0.00",
        ),
        "percentile": Column(
            "Percentile (100 % = top)",
            "Share of scored customers ranked at or below this one: 100 % for the first, "
            "near 0 % for the last. The top 5 % of the list are those above 95 %.",
            "0.0%",
        ),
        "segment": Column("Segment", "The outreach group the customer is in (see below)."),
        "suggested_program": Column(
            "Suggested program", "The outreach program suggested for the customer (see below)."
        ),
        **reasons,
        "contactable": Column(
            "May be contacted",
            "TRUE when the customer agreed to marketing contact (opt-in); only these "
            "may be contacted.",
        ),
        "control": Column(
            "Control group",
            "TRUE when the customer is held out of this run's outreach at random, to measure "
            "what the outreach does: do not contact them. Segment files and downloads leave "
            "them out.",
        ),
        "model_name": Column("Model", "Name of the model that scored the list."),
        "model_version": Column("Model version", "Version of the model that scored the list."),
        "as_of": Column(
            "Scored as of", "The moment the chances describe: only data before it was used."
        ),
    }


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text that a spreadsheet would run as a formula starts with '.

    Customer IDs made only of letters, digits and `_ . -` are left as they are.
    """
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_string_dtype(safe[column]) or safe[column].dtype == object:
            text = safe[column].astype("str")
            risky = text.str.startswith(FORMULA_START).fillna(False)
            if column == "customer_id":
                risky &= ~text.str.fullmatch(PLAIN_ID).fillna(False)
            safe[column] = text.where(~risky, "'" + text).where(safe[column].notna())
    return safe


def moments_as_text(moments: pd.Series) -> pd.Series:
    """Time-zone-aware moments as text (Excel has no time zones), e.g. "2026-10-01 00:00 UTC".

    Each distinct moment is formatted once: the list repeats a single as-of moment.
    """
    codes, distinct = pd.factorize(moments)
    texts = pd.array([f"{moment:%Y-%m-%d %H:%M %Z}" for moment in distinct], dtype="str")
    return pd.Series(texts.take(codes, allow_fill=True), index=moments.index)


def spreadsheet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with time-zone-aware columns written out as text."""
    ready = frame.copy()
    for column in ready.columns:
        if isinstance(ready[column].dtype, pd.DatetimeTZDtype):
            ready[column] = moments_as_text(ready[column])
    return ready


def write_csv(frame: pd.DataFrame, path: Path, keep: pd.Series | None = None) -> None:
    """Snake_case headers, formula-like text neutralised, UTF-8 with a byte-order mark.

    Written `CSV_CHUNK_ROWS` rows at a time: the copies made for the spreadsheet stay
    small whatever the length of the list. `keep` (aligned with `frame`) writes only the
    rows where it is true, also without copying them first.
    """
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        for start in range(0, max(len(frame), 1), CSV_CHUNK_ROWS):
            chunk = frame.iloc[start : start + CSV_CHUNK_ROWS]
            if keep is not None:
                chunk = chunk[keep.iloc[start : start + CSV_CHUNK_ROWS]]
            neutralise_formulas(spreadsheet_ready(chunk)).to_csv(
                out, index=False, header=start == 0, quoting=csv.QUOTE_NONNUMERIC
            )


def condition_text(groups: list[list[str]]) -> str:
    """Condition groups in words: "(a ≤ 1 and b ≥ 2) or c ≥ 1"."""
    symbols = {"<=": "≤", ">=": "≥", "!=": "≠"}
    parts = []
    for group in groups:
        conditions = [" ".join(symbols.get(word, word) for word in c.split()) for c in group]
        joined = " and ".join(conditions)
        parts.append(f"({joined})" if len(groups) > 1 and len(group) > 1 else joined)
    return " or ".join(parts)


def segment_meaning(rule: SegmentRule, order: int, count: int) -> str:
    """Who lands in a segment (segments are tried in order), and its programs."""
    who = []
    if rule.top_share is not None:
        who.append(f"in the top {rule.top_share * 100:g} % of the list")
    if rule.when_any:
        who.append(f"where {condition_text(rule.when_any)}")
    if order > 1:
        who.append("not in an earlier segment" if who else "in no earlier segment")
    programs = ", ".join(program.program for program in rule.programs)
    return (
        f"Tried {order} of {count}: customers {' and '.join(who) or 'of every kind'}. "
        f"Programs: {programs}."
    )


def program_meaning(rule: SegmentRule, choice: ProgramRule) -> str:
    """Where and when a program is suggested (the first program that applies wins)."""
    if choice.when_any:
        when = f"when {condition_text(choice.when_any)}"
    else:
        when = "to everyone else there" if len(rule.programs) > 1 else "to everyone there"
    return f"Suggested in segment {rule.name} {when}."


def about_sheet(columns: dict[str, Column], segments: SegmentSettings) -> pd.DataFrame:
    """What each column, segment and program of the list means, one row each."""
    rows = [
        ("Column", column.header, f"{column.meaning} In the CSV and Parquet files: {name}.")
        for name, column in columns.items()
    ]
    for order, rule in enumerate(segments.rules, start=1):
        rows.append(("Segment", rule.name, segment_meaning(rule, order, len(segments.rules))))
    for rule in segments.rules:
        for choice in rule.programs:
            rows.append(("Program", choice.program, program_meaning(rule, choice)))
    return pd.DataFrame(rows, columns=["Kind", "Name", "What it means"], dtype="str")


def column_width(values: pd.Series, header: str) -> float:
    """Characters wide enough for the longest value and the header's longest word."""
    longest = max((len(word) for word in header.split()), default=0)
    if pd.api.types.is_string_dtype(values) and values.notna().any():
        longest = max(longest, int(values.str.len().max()))
    return float(min(max(longest, 10) + 2, MAX_WIDTH))


def row_limit_note(kept: int, total: int) -> str:
    """The note above a list that is too long for one worksheet."""
    return (
        f"This sheet holds the top {kept:,} of {total:,} customers: a worksheet has at most "
        f"{EXCEL_MAX_ROWS:,} rows. ranked_list.csv and ranked_list.parquet, in the same "
        "folder, hold every customer."
    )


def write_xlsx(
    frame: pd.DataFrame,
    path: Path,
    segments: SegmentSettings,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    order_by: str = "propensity",
) -> None:
    """The list on a first sheet, formatted for people, and a sheet that explains it.

    `horizon_days` is the label horizon the model was trained for; `finish_scoring`
    cannot see the label settings, so it relies on the default of 90 days. `order_by`:
    what ranks the list.
    """
    columns = {name: list_columns(horizon_days, order_by)[name] for name in frame.columns}
    too_long = len(frame) + 1 > EXCEL_MAX_ROWS
    header_row = 1 if too_long else 0
    shown = spreadsheet_ready(frame.head(EXCEL_MAX_ROWS - 1 - header_row))
    widths = {c.header: column_width(shown[name], c.header) for name, c in columns.items()}
    header_lines = max(math.ceil(len(h) / (w - 1)) for h, w in widths.items())
    bold = Format().set_bold().set_text_wrap().set_align("top").set_background_color("#DDEBF7")
    note = (0, 0, 0, len(columns) - 1, row_limit_note(len(shown), len(frame)), Format().set_bold())
    write_worksheets(
        [
            (LIST_SHEET, shown.rename(columns={name: c.header for name, c in columns.items()})),
            (ABOUT_SHEET, about_sheet(columns, segments)),
        ],
        path,
        header_row={LIST_SHEET: header_row},
        merge_ranges={LIST_SHEET: [note]} if too_long else None,
        freeze_panes={
            LIST_SHEET: {"row": header_row + 1, "col": 0},
            ABOUT_SHEET: {"row": 1, "col": 0},
        },
        autofilter={LIST_SHEET: True},
        header_format={LIST_SHEET: bold, ABOUT_SHEET: bold},
        row_heights={LIST_SHEET: {header_row: LINE_HEIGHT * header_lines}},
        column_formats={
            LIST_SHEET: {
                c.header: Format().set_num_format(c.number_format)
                for c in columns.values()
                if c.number_format
            },
            ABOUT_SHEET: {"What it means": Format().set_text_wrap().set_align("top")},
        },
        column_widths={
            LIST_SHEET: widths,
            ABOUT_SHEET: {"Kind": 10.0, "Name": 40.0, "What it means": 100.0},
        },
        ignore_errors={LIST_SHEET: [columns["customer_id"].header]},  # digits as text
    )


def slug(name: str) -> str:
    """A file-name-safe version of a segment name: "Recover first" -> "recover-first"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def run_name(as_of: pd.Timestamp, model_version: str) -> str:
    """Folder name of a run: as-of date, model version, and when it ran (UTC)."""
    started = pd.Timestamp.now(tz="UTC")
    return f"{as_of:%Y-%m-%d}_v{model_version}_{started:%Y%m%dT%H%M%S%f}"


def latest_run(root: Path) -> Path:
    """The folder of the newest complete scoring run."""
    return pointed_folder(root / LATEST, f"No scoring run in {root}: run `advocacy score` first.")


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """The run's manifest as JSON."""
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
