"""Segment and program rules: the defaults of configs/advocacy.yaml, one test per segment."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.availability import EVERYTHING
from features.contracts import CONTRACTS
from features.definitions import FEATURE_NAMES
from features.errors import UserError
from models.scoring.segments import (
    SegmentSettings,
    assign_segments,
    parse_condition,
    percentile_of,
    unapplied_groups,
)
from pipelines.config import DEFAULT_CONFIG, load_config


@pytest.fixture
def rules() -> SegmentSettings:
    return load_config().scoring.segments


def _customers(count: int, **overrides: list[float]) -> pd.DataFrame:
    """`count` plain customers (no surveys, no open tickets, no past advocacy)."""
    rows = pd.DataFrame({name: [0.0] * count for name in FEATURE_NAMES})
    for name in ("last_nps", "days_since_last_nps", "mean_review_rating"):
        rows[name] = math.nan
    for name, values in overrides.items():
        rows[name] = values
    return rows


def _segments(rows: pd.DataFrame, rules: SegmentSettings) -> pd.DataFrame:
    """Rows are in rank order: the first is rank 1."""
    rank = pd.Series(range(1, len(rows) + 1), index=rows.index)
    return assign_segments(rows, percentile_of(rank), rules)


def test_recent_detractors_and_open_urgent_tickets_are_recovered_first(
    rules: SegmentSettings,
) -> None:
    rows = _customers(
        4,
        last_nps=[3.0, 3.0, 10.0, math.nan],
        days_since_last_nps=[20.0, 400.0, 20.0, math.nan],
        open_urgent_tickets=[0.0, 0.0, 0.0, 1.0],
    )
    segments = _segments(rows, rules)["segment"].tolist()
    # Rank 1 is a recent detractor: recovered, never asked to advocate.
    assert segments[0] == "Recover first"
    assert segments[3] == "Recover first"  # open urgent ticket
    assert segments[1] != "Recover first"  # detractor, but long ago


def test_a_group_on_a_feature_the_source_lacks_holds_for_no_one(rules: SegmentSettings) -> None:
    # Tickets without resolved_at: the feature table has no open-ticket columns at all.
    rows = _customers(
        3, last_nps=[3.0, 10.0, math.nan], days_since_last_nps=[20.0, 20.0, math.nan]
    ).drop(columns=["open_tickets", "open_urgent_tickets", "open_urgent_ticket_days"])
    recovered = _segments(rows, rules)["segment"] == "Recover first"
    assert recovered.tolist() == [True, False, False]  # the recent detractor only
    tickets = [c for c in CONTRACTS["support_tickets"].column_names if c != "resolved_at"]
    assert unapplied_groups(rules, {**EVERYTHING, "support_tickets": tickets}) == [
        "Recover first: `open_urgent_tickets >= 1` (no support_tickets.resolved_at)"
    ]


def test_without_surveys_or_advocacy_every_group_on_them_is_reported_once(
    rules: SegmentSettings,
) -> None:
    shop = {name: EVERYTHING[name] for name in ("customers", "purchases", "support_tickets")}
    assert unapplied_groups(rules, shop) == [
        "Recover first: `last_nps <= 6 and days_since_last_nps <= 180` (no survey_responses)",
        "Champion / case study or reference: `past_case_studies >= 1` (no advocacy_events)",
        "Champion / case study or reference: `past_reference_calls >= 1` (no advocacy_events)",
        "Champion / case study or reference: `past_testimonials >= 1` (no advocacy_events)",
        "Likely advocate / review invitation: `past_reviews >= 1` (no advocacy_events)",
        "Likely advocate / review invitation: `mean_review_rating >= 4` (no advocacy_events)",
    ]
    assert unapplied_groups(rules, EVERYTHING) == []


def test_champions_are_the_top_five_percent(rules: SegmentSettings) -> None:
    rows = _customers(100, past_case_studies=[1.0] + [0.0] * 99)
    result = _segments(rows, rules)
    assert (result["segment"][:5] == "Champion").all()
    assert result["segment"][5] != "Champion"
    assert result["suggested_program"][0] == "case study or reference"
    assert result["suggested_program"][1] == "ambassador"


def test_likely_advocates_are_the_top_five_to_twenty_percent(rules: SegmentSettings) -> None:
    rows = _customers(100, past_reviews=[0.0] * 5 + [1.0] + [0.0] * 94)
    result = _segments(rows, rules)
    assert (result["segment"][5:20] == "Likely advocate").all()
    assert result["suggested_program"][5] == "review invitation"
    assert result["suggested_program"][6] == "referral invitation"


def test_nurture_is_the_top_twenty_to_fifty_percent(rules: SegmentSettings) -> None:
    result = _segments(_customers(100), rules)
    assert (result["segment"][20:50] == "Nurture").all()
    assert (result["suggested_program"][20:50] == "community and engagement content").all()


def test_the_rest_is_not_now(rules: SegmentSettings) -> None:
    result = _segments(_customers(100), rules)
    assert (result["segment"][50:] == "Not now").all()
    assert result["segment"].value_counts().to_dict() == {
        "Not now": 50,
        "Nurture": 30,
        "Likely advocate": 15,
        "Champion": 5,
    }


def test_condition_on_a_missing_value_is_false() -> None:
    settings = SegmentSettings.model_validate(
        {
            "rules": [
                {"name": "low", "when_any": [["last_nps <= 6"]], "programs": [{"program": "a"}]},
                {"name": "rest", "programs": [{"program": "b"}]},
            ]
        }
    )
    rows = _customers(2, last_nps=[math.nan, 5.0])
    assert _segments(rows, settings)["segment"].tolist() == ["rest", "low"]


def test_unknown_feature_is_an_error_when_the_config_loads(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    raw["scoring"]["segments"]["rules"][0]["when_any"] = [["last_nsp <= 6"]]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(UserError, match="unknown feature 'last_nsp'"):
        load_config(path)


@pytest.mark.parametrize("text", ["last_nps < = 6", "last_nps", "6 >= last_nps"])
def test_malformed_conditions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a condition"):
        parse_condition(text)


def test_not_equal_on_a_missing_value_is_false_too() -> None:
    settings = SegmentSettings.model_validate(
        {
            "rules": [
                {"name": "a", "when_any": [["last_nps != 10"]], "programs": [{"program": "x"}]},
                {"name": "rest", "programs": [{"program": "y"}]},
            ]
        }
    )
    rows = _customers(3, last_nps=[math.nan, 10.0, 8.0])
    assert _segments(rows, settings)["segment"].tolist() == ["rest", "rest", "a"]


def test_segment_names_must_give_distinct_files() -> None:
    with pytest.raises(ValueError, match="segment names must differ"):
        SegmentSettings.model_validate(
            {
                "rules": [
                    {"name": "VIP", "top_share": 0.1, "programs": [{"program": "x"}]},
                    {"name": "vip", "programs": [{"program": "y"}]},
                ]
            }
        )


def test_every_default_segment_and_program_is_described(rules: SegmentSettings) -> None:
    for rule in rules.rules:
        assert rule.description, rule.name
        assert all(choice.description for choice in rule.programs), rule.name


def test_a_description_is_optional() -> None:
    rules = SegmentSettings.model_validate(
        {"rules": [{"name": "All", "programs": [{"program": "x"}]}]}
    )
    assert rules.rules[0].description is None and rules.rules[0].programs[0].description is None


def test_the_features_segments_read_are_their_conditions_and_the_dates_of_their_facts(
    rules: SegmentSettings,
) -> None:
    read = rules.features_read()
    assert read[:3] == ["last_nps", "days_since_last_nps", "open_urgent_tickets"]
    named = {"past_case_studies", "past_reference_calls", "past_testimonials", "past_reviews"}
    assert named | {"mean_review_rating", "open_urgent_ticket_days"} <= set(read)
    assert len(read) == len(set(read)) and "tenure_days" not in read
