"""Filters, counts, pages and downloads of a run's list equal the same filter in pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.explain import reason_topics
from models.scoring.control import ControlSettings, hold_out_controls
from models.scoring.schemas import REASON_COLUMNS
from pipelines.web.listing import PAGE_SIZE, Choices, ListFilter, RunList, read_filter
from tests.pipelines.web.conftest import LATEST_RUN, SEGMENTS, Runs

CHOICES = Choices(segments=["Champion", "Not now"], programs=["none"], topics=["Raises: #"])


@pytest.fixture(scope="module")
def run_list(runs: Runs) -> RunList:
    return RunList(
        runs.scores / LATEST_RUN / "ranked_list.parquet", [r.name for r in SEGMENTS.rules]
    )


def expected(ranked: pd.DataFrame, chosen: ListFilter, for_download: bool = False) -> pd.DataFrame:
    """The filter applied with pandas, one condition at a time."""
    keep = pd.Series(True, index=ranked.index)
    if chosen.segment:
        keep &= ranked["segment"] == chosen.segment
    if chosen.program:
        keep &= ranked["suggested_program"] == chosen.program
    if chosen.contactable is not None:
        keep &= ranked["contactable"] == chosen.contactable
    keep &= ranked["probability"] >= chosen.min_probability
    if chosen.topic:
        # Topics are labelled over all reasons of the run together, as the app does.
        stacked = pd.concat([ranked[c] for c in REASON_COLUMNS], ignore_index=True)
        labels = reason_topics(stacked).to_numpy().reshape(len(REASON_COLUMNS), -1).T
        topics = pd.DataFrame(labels, index=ranked.index)
        keep &= (topics == chosen.topic).any(axis=1)
    keep &= ranked["customer_id"].str.lower().str.contains(chosen.search.lower(), regex=False)
    if for_download:
        keep &= ~ranked["control"]
    if for_download and not chosen.include_not_contactable:
        keep &= ranked["contactable"]
    return ranked[keep].reset_index(drop=True)


FILTERS = [
    ListFilter(),
    ListFilter(segment="Nurture"),
    ListFilter(program="review invitation", contactable=True),
    ListFilter(contactable=False, min_probability=0.3),
    ListFilter(contactable=False, include_not_contactable=True),
    ListFilter(topic="Raises: 2–5 orders in total"),
    ListFilter(topic="Lowers: … past reviews", segment="Not now"),
    ListFilter(search="c00"),
    ListFilter(search="00042", include_not_contactable=True),
    ListFilter(segment="Champion", min_probability=0.99),  # nobody
]


@pytest.mark.parametrize("chosen", FILTERS, ids=str)
def test_counts_pages_and_downloads_follow_the_filter(
    run_list: RunList, runs: Runs, chosen: ListFilter
) -> None:
    want = expected(runs.latest, chosen)
    counts = run_list.counts(chosen)
    assert {c.segment: c.customers for c in counts} == want["segment"].value_counts().to_dict()
    assert sum(c.contactable for c in counts) == want["contactable"].sum()
    first = run_list.page(chosen, 1)
    assert first["customer_id"].tolist() == want["customer_id"].head(PAGE_SIZE).tolist()
    second = run_list.page(chosen, 2)
    assert second["rank"].tolist() == want["rank"].iloc[PAGE_SIZE : 2 * PAGE_SIZE].tolist()
    rows = run_list.download(chosen)
    want = expected(runs.latest, chosen, for_download=True)
    if want.empty:
        assert rows.empty and rows.columns.tolist() == want.columns.tolist()
    else:
        pd.testing.assert_frame_equal(rows, want)


def test_choices_are_the_runs_values_in_the_rules_order(run_list: RunList, runs: Runs) -> None:
    assert run_list.choices.segments == [
        "Recover first",
        "Champion",
        "Likely advocate",
        "Nurture",
        "Not now",
    ]
    assert run_list.choices.programs == sorted(runs.latest["suggested_program"].unique())
    assert "Raises: 2–5 orders in total" in run_list.choices.topics
    assert not any("#" in topic for topic in run_list.choices.topics)
    assert "" not in run_list.choices.topics


def test_customer_row(run_list: RunList, runs: Runs) -> None:
    row = run_list.customer("00042")
    assert row is not None
    assert row == runs.latest.set_index("customer_id").loc["00042"].to_dict() | {
        "customer_id": "00042"
    }
    assert run_list.customer("00042' OR '1'='1") is None


def test_a_query_string_becomes_a_filter() -> None:
    query = {
        "segment": "Champion",
        "program": "",
        "contactable": "no",
        "min_chance": "12,5 %",
        "topic": "Raises: #",
        "q": "  C01 ",
        "include_not_contactable": "1",
    }
    form = read_filter(query, CHOICES)
    assert form.errors == []
    assert form.filter == ListFilter(
        segment="Champion",
        contactable=False,
        min_probability=0.125,
        topic="Raises: #",
        search="C01",
        include_not_contactable=True,
    )
    assert read_filter({}, CHOICES).filter == ListFilter()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"segment": "VIP"}, "There is no segment 'VIP' in this run."),
        ({"program": "x"}, "There is no program 'x' in this run."),
        ({"topic": "x"}, "There is no reason topic 'x' in this run."),
        ({"min_chance": "abc"}, "from 0 to 100, not 'abc'"),
        ({"min_chance": "150"}, "from 0 to 100, not '150'"),
        ({"min_chance": "-1"}, "from 0 to 100, not '-1'"),
        ({"min_chance": "nan"}, "from 0 to 100, not 'nan'"),
    ],
)
def test_a_bad_value_is_reported_and_left_out(query: dict[str, str], message: str) -> None:
    form = read_filter(query, CHOICES)
    assert form.filter == ListFilter()
    assert len(form.errors) == 1 and message in form.errors[0]


def test_the_filter_described_for_the_audit_log() -> None:
    chosen = ListFilter(segment="Champion", min_probability=0.2)
    assert chosen.described() == {"segment": "Champion", "min_probability": 0.2}


def test_control_groups_are_counted_and_never_downloaded(runs: Runs, tmp_path: Path) -> None:
    ranked = runs.latest.assign(
        control=hold_out_controls(runs.latest, ControlSettings(control_share=0.3))
    )
    assert ranked["control"].sum() > 3
    ranked.to_parquet(tmp_path / "with_control.parquet")
    lists = RunList(tmp_path / "with_control.parquet", [r.name for r in SEGMENTS.rules])
    counts = {c.segment: c.control for c in lists.counts(ListFilter())}
    assert counts == ranked.groupby("segment")["control"].sum().to_dict()
    for chosen in (ListFilter(), ListFilter(segment="Champion", include_not_contactable=True)):
        downloaded = lists.download(chosen)
        pd.testing.assert_frame_equal(downloaded, expected(ranked, chosen, for_download=True))
        assert not downloaded["control"].any()


def test_a_run_scored_before_control_groups_holds_nobody_out(runs: Runs, tmp_path: Path) -> None:
    runs.latest.drop(columns="control").to_parquet(tmp_path / "old.parquet")
    lists = RunList(tmp_path / "old.parquet", [r.name for r in SEGMENTS.rules])
    assert sum(c.control for c in lists.counts(ListFilter())) == 0
    assert len(lists.download(ListFilter(include_not_contactable=True))) == len(runs.latest)
