"""The HTML report: a brief in words, escaped customer data, templates from the package."""

from __future__ import annotations

import base64
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.scoring.monitoring import NOT_SCORED
from models.scoring.ranked_list import LIST_COLUMNS
from models.scoring.report import TOP_ROWS, date_in_words, report_html, templates
from models.scoring.segments import SegmentSettings

SCRIPT = "<script>alert(1)</script>"
CUSTOMERS = 25
PLOT_TITLES = [
    "How likely customers are to advocate",
    "Customers per segment",
    "Strongest reason, top 20% of the list",
    "What moves the chance of advocating",
]


class Page(HTMLParser):
    """What a browser would show: headings, table cells, links, images, meta tags, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.metas: list[dict[str, str | None]] = []
        self.tags: set[str] = set()
        self.text = ""
        self._open: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._open = tag
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")
        elif tag in ("h1", "h2", "h3"):
            self.headings.append((tag, ""))
        elif tag == "a":
            self.links.append(str(dict(attrs)["href"]))
        elif tag == "img":
            self.images.append(dict(attrs))
        elif tag == "meta":
            self.metas.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._open in ("td", "th"):
            self.tables[-1][-1][-1] += data
        elif self._open in ("h1", "h2", "h3"):
            tag, text = self.headings[-1]
            self.headings[-1] = (tag, text + data)

    @property
    def rows(self) -> list[list[str]]:
        """The rows of every table, in order."""
        return [row for table in self.tables for row in table]


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
            "control": rank % 7 == 0,
            "model_name": "advocacy-propensity",
            "model_version": "7",
            "as_of": pd.Timestamp("2026-11-01", tz="UTC"),
        }
    )[list(LIST_COLUMNS)]


@pytest.fixture
def segments() -> SegmentSettings:
    """The fixture's two segments: the first described, the second left to its rules."""
    return SegmentSettings.model_validate(
        {
            "rules": [
                {
                    "name": "champion",
                    "description": "The best ten.",
                    "top_share": 0.4,
                    "programs": [{"program": "referral", "description": "Ask for a referral."}],
                },
                {"name": "grow & nurture", "programs": [{"program": "newsletter"}]},
            ]
        }
    )


@pytest.fixture
def newcomers(ranked: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Seven customers new among the champions since the last run."""
    entered = ranked.head(7).assign(previous_segment=[NOT_SCORED, *["grow & nurture"] * 6])
    return {"champion": entered}


@pytest.fixture
def manifest(ranked: pd.DataFrame, newcomers: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The parts of a run's manifest the report shows, consistent with `ranked`."""
    groups = ranked.groupby("segment", sort=False)["contactable"]
    return {
        "model_name": "advocacy-propensity",
        "model_version": "7",
        "as_of": "2026-11-01T00:00:00+00:00",
        "customers": len(ranked),
        "outreach_contactable_only": True,
        "segments": {
            str(name): {"customers": len(rows), "contactable": int(rows.sum())}
            for name, rows in groups
        },
        "segment_files": {
            "champion": "segments/champion.csv",
            "grow & nurture": "segments/grow-nurture.csv",
        },
        "model_sources": ["customers", "purchases", "survey_responses", "advocacy_events"],
        "segment_conditions_not_applied": [
            "champion: `open_urgent_tickets >= 1` (no support_tickets.resolved_at)"
        ],
        "monitoring": {
            "previous_run": "2026-10-01_v7_x",
            "previous_as_of": "2026-10-01T00:00:00+00:00",
            "mean_probability": 0.5,
            "previous_mean_probability": 0.45,
            "score_psi": 0.03,
            "thresholds": {"score_psi": 0.1, "feature_psi": 0.2},
            "feature_psi": {"tenure_days": 0.35, "last_nps": 0.01},
            "newcomers": {
                "champion": {"customers": 7, "contactable": 5, "file": "changes/new-champion.csv"}
            },
        },
        "flags": ["Feature drift: Days since signup (tenure_days) PSI 0.35 > 0.2"],
    }


@pytest.fixture
def drivers() -> pd.DataFrame:
    """Mean pushes on the chance of three features, in percentage points."""
    return pd.DataFrame(
        {"raises": [3.0, 0.5, 0.2], "lowers": [-1.0, -2.0, 0.0]},
        index=pd.Index(["last_nps", "open_urgent_tickets", "orders_90d"], name="feature"),
    )


@pytest.fixture
def page(
    ranked: pd.DataFrame,
    manifest: dict[str, Any],
    drivers: pd.DataFrame,
    segments: SegmentSettings,
    newcomers: dict[str, pd.DataFrame],
) -> str:
    return report_html(ranked, manifest, drivers, segments, newcomers)


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


def test_title_in_words_and_every_section(page: str) -> None:
    parsed = Page(page)
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in parsed.metas
    assert [text for tag, text in parsed.headings if tag != "h3"] == [
        "Advocate list for 1 November 2026",
        "Files",
        "Segments",
        "What changed since the last run",
        f"Top {TOP_ROWS} of the list",
        "Plots",
        "What the words mean",
    ]
    assert "25 customers scored by model advocacy-propensity\nversion 7" in page
    assert "in the 90 days after\n1 November 2026" in page


def test_report_names_the_sources_and_the_conditions_not_applied(page: str) -> None:
    text = " ".join(Page(page).text.split())
    assert (
        "The model learned from customers, purchases, survey_responses, advocacy_events; it "
        "knows nothing of support_tickets, which its training data did not have."
    ) in text
    assert "Not applied, for lack of data:" in text
    assert "champion: `open_urgent_tickets >= 1` (no support_tickets.resolved_at)" in text


def test_dates_in_words() -> None:
    assert date_in_words(pd.Timestamp("2026-10-01T00:00:00+00:00")) == "1 October 2026"
    assert date_in_words(pd.Timestamp("2027-01-31")) == "31 January 2027"


def test_segments_with_contactable_and_expected_advocates(page: str) -> None:
    # Expected advocates: the sum of the segment's probabilities, rounded.
    probability = np.linspace(0.9, 0.1, CUSTOMERS)
    assert probability[:10].sum() == pytest.approx(7.5) and probability[10:].sum() == pytest.approx(
        5
    )
    assert Page(page).tables[0] == [
        ["Segment", "Customers", "May be contacted", "Expected advocates", "Suggested programs"],
        ["champion", "10", "7", "8", "referral"],
        ["grow & nurture", "15", "10", "5", "newsletter"],
    ]


def test_segments_and_programs_are_defined(page: str) -> None:
    text = Page(page).text
    assert "The best ten." in text and "Ask for a referral." in text
    # Without a description, the rules in words.
    assert "Tried 2 of 2: customers in no earlier segment." in text
    assert "Suggested in segment grow & nurture to everyone there." in text
    assert "The sum of the chances of a segment's customers" in text  # expected advocates
    assert "agreed to marketing contact (opt-in)" in text  # may be contacted
    assert "advocates within 90 days of 1 November 2026 (the horizon)" in text


def test_top_of_the_list_says_who_may_be_contacted(page: str) -> None:
    header, *top = Page(page).tables[-1]
    assert header == [
        "Rank",
        "Customer ID",
        "Chance of advocating in the next 90 days",
        "Segment",
        "Suggested program",
        "Reason 1 (strongest)",
        "Reason 2",
        "Reason 3",
        "May be contacted",
    ]
    assert [row[0] for row in top] == [str(r) for r in range(1, TOP_ROWS + 1)]
    assert [row[2] for row in top[:3]] == ["90.0%", "86.7%", "83.3%"]
    assert [row[-1] for row in top[:4]] == ["yes", "yes", "no", "yes"]  # rank 3: no opt-in
    assert top[1][3:8] == [
        "champion",
        "referral",
        "Raises: gave NPS 10",
        "Lowers: urgent ticket still open",
        "",
    ]


def test_links_to_the_run_files_are_relative(page: str) -> None:
    assert Page(page).links == [
        "ranked_list.xlsx",
        "ranked_list.csv",
        "segments/champion.csv",
        "segments/grow-nurture.csv",
        "changes/new-champion.csv",
        "changes/new-champion.csv",  # again below the newcomers
    ]


def test_what_changed_lists_the_newcomers_and_the_drift(page: str) -> None:
    parsed = Page(page)
    assert ("h3", "New in champion: 7 (5 may be contacted)") in parsed.headings
    header, *shown = parsed.tables[1]  # after the segments, before the top of the list
    assert header == [
        "Rank",
        "Customer ID",
        "Chance of advocating in the next 90 days",
        "Segment in the last run",
        "May be contacted",
    ]
    assert [row[3] for row in shown] == [NOT_SCORED, *["grow & nurture"] * 4]
    assert "The first 5; all in" in parsed.text
    assert f'"{NOT_SCORED}": the customer was not on the last list' in parsed.text
    assert "Compared with the list for 1 October 2026" in parsed.text
    assert "moved from\n45.0% to 50.0%" in page
    assert "Customers changed most in: Days since signup (PSI 0.35)." in parsed.text


def test_flags_are_shown_first(page: str) -> None:
    text = Page(page).text
    assert text.index("Check before using this list") < text.index("Files")
    assert "Feature drift: Days since signup (tenure_days) PSI 0.35 > 0.2" in text


def test_a_first_run_has_no_changes_and_no_flags(
    ranked: pd.DataFrame,
    manifest: dict[str, Any],
    drivers: pd.DataFrame,
    segments: SegmentSettings,
) -> None:
    first = manifest | {"monitoring": {"previous_run": None, "mean_probability": 0.5}, "flags": []}
    parsed = Page(report_html(ranked, first, drivers, segments, {}))
    assert ("h2", "What changed since the last run") not in parsed.headings
    assert "Check before using" not in parsed.text
    assert "changes/new-champion.csv" not in parsed.links


def test_every_plot_is_embedded_as_a_png_and_labelled_in_words(page: str) -> None:
    images = Page(page).images
    assert [image["alt"] for image in images] == PLOT_TITLES
    for image in images:
        source = str(image["src"])
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")


def test_tables_scroll_inside_their_wrapper(page: str) -> None:
    assert page.count('<div class="scroll">') == page.count("<table") == 3


def test_templates_come_from_the_package_not_the_working_directory(
    ranked: pd.DataFrame,
    manifest: dict[str, Any],
    drivers: pd.DataFrame,
    segments: SegmentSettings,
    newcomers: dict[str, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoy = tmp_path / "templates"
    decoy.mkdir()
    (decoy / "report.html").write_text("decoy")
    (decoy / "base.html").write_text("decoy")
    monkeypatch.chdir(tmp_path)
    templates.cache_clear()  # build the environment afresh, from this working directory
    page = report_html(ranked, manifest, drivers, segments, newcomers)
    assert "decoy" not in page
    assert Page(page).headings[0] == ("h1", "Advocate list for 1 November 2026")


CHROMIUM = Path("/usr/bin/chromium")
LAYOUT = """() => {
    const width = document.documentElement.clientWidth;
    const outside = [];
    for (const element of document.body.querySelectorAll("*")) {
        const wrapper = element.parentElement && element.parentElement.closest(".scroll");
        const box = element.getBoundingClientRect();
        if (!wrapper && (box.left < -1 || box.right > width + 1)) {
            outside.push(`${element.tagName}.${element.className} right=${box.right}`);
        }
    }
    const sizes = [...document.querySelectorAll("p, li, td, th, dt, dd")].map(
        (element) => parseFloat(getComputedStyle(element).fontSize));
    const wrappers = [...document.querySelectorAll(".scroll")].map(
        (element) => element.scrollWidth > element.clientWidth);
    return {
        innerWidth: window.innerWidth,
        pageWidth: document.documentElement.scrollWidth,
        outside: outside,
        smallestFont: Math.min(...sizes),
        scrolling: wrappers,
    };
}"""


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),  # CI installs it: there, a failure
    reason="needs Debian's chromium (apt-get install chromium)",
)
@pytest.mark.parametrize(("width", "phone"), [(1366, False), (390, True)])
def test_the_page_fits_the_screen_in_a_real_browser(
    page: str, tmp_path: Path, width: int, phone: bool
) -> None:
    from playwright.sync_api import sync_playwright

    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            # A phone honours the viewport tag, and zooms out of a page wider than itself.
            tab = browser.new_page(
                viewport={"width": width, "height": 800}, is_mobile=phone, has_touch=phone
            )
            tab.goto(report.as_uri())
            layout = tab.evaluate(LAYOUT)
        finally:
            browser.close()
    assert layout["innerWidth"] == width  # not zoomed out
    assert layout["pageWidth"] <= width
    assert layout["outside"] == []  # only tables may be wider, inside their wrappers
    assert layout["smallestFont"] >= 14
    # On a phone, the top of the list is wider than the screen: its wrapper scrolls.
    assert layout["scrolling"][-1] is phone
