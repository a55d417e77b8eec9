"""The HTML report: escaped customer data, every section and plot, templates from the package."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shap

from models.scoring.ranked_list import LIST_COLUMNS
from models.scoring.report import TOP_ROWS, report_html, segment_rows, templates

SCRIPT = "<script>alert(1)</script>"
CUSTOMERS = 25
PLOT_TITLES = [
    "Score distribution",
    "Segment sizes",
    "Most common first reason, top 20 % of the list",
    "What drives the score (test cutoff sample)",
]


class Page(HTMLParser):
    """What a browser would show: headings, table cells, images and meta tags."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.rows: list[list[str]] = []
        self.images: list[dict[str, str | None]] = []
        self.metas: list[dict[str, str | None]] = []
        self.tags: set[str] = set()
        self._open: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._open = tag
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
        elif tag in ("h1", "h2"):
            self.headings.append((tag, ""))
        elif tag == "img":
            self.images.append(dict(attrs))
        elif tag == "meta":
            self.metas.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open in ("td", "th"):
            self.rows[-1][-1] += data
        elif self._open in ("h1", "h2"):
            tag, text = self.headings[-1]
            self.headings[-1] = (tag, text + data)


@pytest.fixture
def ranked() -> pd.DataFrame:
    """A ranked list of 25 customers in two segments; the best one has a hostile id."""
    rank = np.arange(1, CUSTOMERS + 1)
    segment = np.where(rank <= 10, "champion", "grow & nurture")
    return pd.DataFrame(
        {
            "rank": rank,
            "customer_id": [f"{SCRIPT} & co", *(f"C{r:03d}" for r in rank[1:])],
            "probability": np.linspace(0.9, 0.1, CUSTOMERS),
            "percentile": 1 - (rank - 1) / CUSTOMERS,
            "segment": segment,
            "suggested_program": np.where(rank <= 10, "referral", "newsletter"),
            "reason_1": [f"Raises: {SCRIPT} & more", *(["Raises: gave NPS 10"] * 24)],
            "reason_2": "Lowers: urgent ticket still open",
            "reason_3": "",
            "contactable": rank % 3 != 0,
            "model_name": "advocacy-propensity",
            "model_version": "7",
            "as_of": pd.Timestamp("2026-11-01", tz="UTC"),
        }
    )[list(LIST_COLUMNS)]


@pytest.fixture
def manifest(ranked: pd.DataFrame) -> dict[str, Any]:
    """The parts of a run's manifest the report shows, consistent with `ranked`."""
    groups = ranked.groupby("segment", sort=False)["contactable"]
    return {
        "model_name": "advocacy-propensity",
        "model_version": "7",
        "as_of": "2026-11-01T00:00:00+00:00",
        "customers": len(ranked),
        "segments": {
            str(name): {"customers": len(rows), "contactable": int(rows.sum())}
            for name, rows in groups
        },
    }


@pytest.fixture
def explanation() -> shap.Explanation:
    """SHAP values of 40 customers on three features."""
    data = np.random.default_rng(0).normal(size=(40, 3))
    return shap.Explanation(
        values=data * [0.8, -0.5, 0.2],
        base_values=np.full(40, -2.0),
        data=data,
        feature_names=["last_nps", "open_urgent_tickets", "orders_90d"],
    )


@pytest.fixture
def page(ranked: pd.DataFrame, manifest: dict[str, Any], explanation: shap.Explanation) -> str:
    return report_html(ranked, manifest, explanation)


def test_customer_data_is_escaped(page: str) -> None:
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    parsed = Page(page)
    assert "script" not in parsed.tags
    cells = [cell for row in parsed.rows for cell in row]
    # Escaped exactly once: a browser shows the original text.
    assert f"{SCRIPT} & co" in cells
    assert f"Raises: {SCRIPT} & more" in cells
    assert "grow & nurture" in cells


def test_page_has_viewport_and_every_section(page: str) -> None:
    parsed = Page(page)
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in parsed.metas
    assert {"charset": "utf-8"} in parsed.metas
    assert parsed.headings == [
        ("h1", "Advocate list as of 2026-11-01T00:00:00+00:00"),
        ("h2", "Segments"),
        ("h2", f"Top {TOP_ROWS} of the list"),
        ("h2", "Plots"),
    ]
    assert "Model advocacy-propensity version 7;\n25 customers scored." in page


def test_tables_hold_the_segment_counts_and_the_top_of_the_list(page: str) -> None:
    rows = Page(page).rows
    assert rows[:3] == [
        ["segment", "customers", "contactable"],
        ["champion", "10", "7"],
        ["grow & nurture", "15", "10"],
    ]
    header, *top = rows[3:]
    assert header[:3] == ["rank", "customer_id", "probability"]
    assert [row[0] for row in top] == [str(r) for r in range(1, TOP_ROWS + 1)]
    assert [row[2] for row in top[:3]] == ["0.900", "0.867", "0.833"]
    assert top[1] == [
        "2",
        "C002",
        "0.867",
        "champion",
        "referral",
        "Raises: gave NPS 10",
        "Lowers: urgent ticket still open",
        "",
    ]


def test_every_plot_is_embedded_as_a_png(page: str) -> None:
    images = Page(page).images
    assert [image["alt"] for image in images] == PLOT_TITLES
    for image in images:
        source = str(image["src"])
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")


def test_segment_counts_get_thousands_separators() -> None:
    rows = segment_rows({"segments": {"champion": {"customers": 12345, "contactable": 9876}}})
    assert rows == [{"segment": "champion", "customers": "12,345", "contactable": "9,876"}]


def test_templates_come_from_the_package_not_the_working_directory(
    ranked: pd.DataFrame,
    manifest: dict[str, Any],
    explanation: shap.Explanation,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoy = tmp_path / "templates"
    decoy.mkdir()
    (decoy / "report.html").write_text("decoy")
    (decoy / "base.html").write_text("decoy")
    monkeypatch.chdir(tmp_path)
    templates.cache_clear()  # build the environment afresh, from this working directory
    page = report_html(ranked, manifest, explanation)
    assert "decoy" not in page
    assert Page(page).headings[0] == ("h1", "Advocate list as of 2026-11-01T00:00:00+00:00")
