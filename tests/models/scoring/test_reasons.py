"""Reasons: the strongest contributions, one per fact, in words a person would write."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.definitions import (
    FEATURE_NAMES,
    FEATURES,
    OTHERWISE_PHRASES,
    YES_NO_FEATURES,
    describe,
    feature,
)
from models.scoring.ranked_list import rank_customers
from models.scoring.reasons import reason_topic, top_reasons
from pipelines.config import load_config

AS_OF = pd.Timestamp("2026-10-01T00:00:00Z")


def _reasons(contributions: dict[str, float], values: dict[str, float]) -> list[str]:
    """The reasons of one customer, with the as-of date and currency of a scoring run."""
    names = list(contributions)
    return (
        top_reasons(
            np.array([list(contributions.values())]),
            np.array([[values.get(name, 0.0) for name in names]]),
            names,
            as_of=AS_OF,
            currency="EUR",
        )
        .iloc[0]
        .tolist()
    )


def test_reasons_are_the_largest_contributions_by_absolute_value() -> None:
    features = ["last_nps", "open_urgent_tickets", "orders_90d", "tenure_days"]
    contributions = np.array([[0.9, -1.5, 0.2, 0.0], [0.0, 0.0, 0.0, 0.3]])
    values = np.array([[10.0, 1.0, 3.0, 400.0], [math.nan, 0.0, 0.0, 50.0]])
    reasons = top_reasons(contributions, values, features)
    assert reasons.iloc[0].tolist() == [
        "Lowers: 1 urgent ticket still open",
        "Raises: gave NPS 10",
        "Raises: 3 orders in the last 90 days",
    ]
    # Features that did not move the score are no reason; without an as-of, no dates.
    assert reasons.iloc[1].tolist() == ["Raises: customer for 50 days", "", ""]


def test_every_feature_can_be_described_for_any_value() -> None:
    for entry in FEATURES:
        assert describe(entry.name, 1.0)
        if entry.missing == "missing" or entry.name in YES_NO_FEATURES:
            assert entry.name in OTHERWISE_PHRASES, entry.name
            assert describe(entry.name, math.nan) == OTHERWISE_PHRASES[entry.name]


def test_the_registry_dates_facts_with_days_since_features() -> None:
    for entry in FEATURES:
        if entry.dated_by is not None:
            assert "{dated:" in entry.phrase, entry.name
            dating = feature(entry.dated_by).phrase
            assert "{value:when}" in dating or "{value:since}" in dating, entry.name


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("orders_90d", 1.0, "1 order in the last 90 days"),
        ("orders_90d", 2.0, "2 orders in the last 90 days"),
        ("orders_90d", 0.0, "no orders in the last 90 days"),
        ("orders_all", 1234.0, "1,234 orders in total"),
        ("past_case_studies", 1.0, "1 past case study"),
        ("past_case_studies", 3.0, "3 past case studies"),
        ("slow_tickets_365d", 1.0, "1 ticket took more than 3 days"),
        ("mean_review_rating", 1.0, "past reviews average 1 star"),
        ("nps_change", -1.0, "NPS down 1 point from the previous answer"),
        ("order_trend_90d", 0.0, "orders unchanged from the 3 months before"),
    ],
)
def test_counts_agree_with_their_nouns(name: str, value: float, text: str) -> None:
    assert describe(name, value) == text


def test_days_without_an_as_of_agree_with_their_nouns() -> None:
    assert describe("days_since_last_order", 1.2) == "last order 1 day ago"
    assert describe("days_since_last_order", 2.0) == "last order 2 days ago"
    assert describe("days_since_last_order", 0.2) == "last order less than a day ago"
    assert describe("tenure_days", 1.0) == "customer for 1 day"
    assert describe("last_nps", 3.0, 40.0) == "gave NPS 3"  # dated only with an as-of


@pytest.mark.parametrize(
    ("currency", "amount", "text"),
    [
        ("EUR", 1234.4, "spent €1,234 in the last 90 days"),
        ("GBP", 80.0, "spent £80 in the last 90 days"),
        ("CHF", 1234.4, "spent 1,234 CHF in the last 90 days"),
        (None, 1234.4, "spent 1,234 in the last 90 days"),
        ("EUR", 0.0, "spent nothing in the last 90 days"),
        ("EUR", 0.3, "spent less than €1 in the last 90 days"),
    ],
)
def test_money_carries_its_currency(currency: str | None, amount: float, text: str) -> None:
    assert describe("revenue_90d", amount, currency=currency) == text


@pytest.mark.parametrize(
    ("name", "value", "dated", "text"),
    [
        ("days_since_last_order", 28.0, math.nan, "last order on 3 Sep 2026"),
        ("days_since_last_order", 3.5, math.nan, "last order on 27 Sep 2026"),
        ("tenure_days", 1126.0, math.nan, "customer since 1 Sep 2023"),
        ("last_nps", 3.0, 40.0, "gave NPS 3 on 22 Aug 2026"),
        ("last_nps", 3.0, math.nan, "gave NPS 3"),
        ("open_urgent_tickets", 1.0, 67.0, "1 urgent ticket still open since 26 Jul 2026"),
    ],
)
def test_days_since_read_as_dates(name: str, value: float, dated: float, text: str) -> None:
    assert describe(name, value, dated, as_of=AS_OF) == text


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("last_nps", 10.0, "gave NPS 10"),
        ("mean_nps", 9.5, "average NPS 9.5"),
        ("mean_nps", 10.0, "average NPS 10"),
        ("mean_nps", 9.96, "average NPS 10"),
        ("ticket_csat_365d", 4.0, "rated support 4 out of 5"),
        ("comment_sentiment_365d", 0.77, "comments this year were mostly positive"),
        ("comment_sentiment_365d", -0.4, "comments this year were mostly negative"),
        ("comment_sentiment_365d", 0.0, "comments this year were mostly neutral"),
    ],
)
def test_scores_read_as_people_write_them(name: str, value: float, text: str) -> None:
    assert describe(name, value) == text


def test_one_reason_per_fact_the_strongest() -> None:
    reasons = _reasons(
        {
            "mean_nps": 0.9,
            "last_nps": 0.5,
            "is_promoter": 0.4,
            "days_since_last_order": 0.3,
            "orders_90d": 0.25,
            "revenue_90d": -0.2,
            "past_referrals": 0.1,
        },
        {"mean_nps": 9.5, "last_nps": 10.0, "is_promoter": 1.0, "days_since_last_order": 28.0,
         "orders_90d": 0.0, "revenue_90d": 0.0, "past_referrals": 2.0},
    )  # fmt: skip
    assert reasons == [
        "Raises: average NPS 9.5",
        "Raises: last order on 3 Sep 2026",
        "Raises: 2 past referrals",
    ]


def test_no_lowers_on_a_fact_that_reads_as_good() -> None:
    contributions = {"tenure_days": -0.9, "mean_nps": -0.8, "last_nps": -0.2, "orders_90d": 0.1}
    # A long tenure and an average NPS of 10 lowering the score would need a why: no reason.
    good = _reasons(contributions, {"tenure_days": 1126.0, "mean_nps": 10.0, "last_nps": 6.0,
                                    "orders_90d": 3.0})  # fmt: skip
    assert good == ["Lowers: gave NPS 6", "Raises: 3 orders in the last 90 days", ""]
    # A short tenure and a low average lowering it read as they should.
    plain = _reasons(contributions, {"tenure_days": 100.0, "mean_nps": 5.0, "last_nps": 6.0,
                                     "orders_90d": 3.0})  # fmt: skip
    assert plain == [
        "Lowers: customer since 23 Jun 2026",
        "Lowers: average NPS 5",
        "Raises: 3 orders in the last 90 days",
    ]


def _customers(**overrides: list[float]) -> pd.DataFrame:
    """Three plain customers' features (no surveys, no tickets), as scoring builds them."""
    rows = pd.DataFrame({name: [0.0, 0.0, 0.0] for name in FEATURE_NAMES})
    for entry in FEATURES:
        if entry.missing == "missing":
            rows[entry.name] = math.nan
    for name, values in overrides.items():
        rows[name] = values
    rows.insert(0, "customer_id", pd.Series(["C1", "C2", "C3"], dtype="str"))
    return rows


def test_recover_first_leads_with_the_ticket_or_the_detractor_score_and_its_date() -> None:
    features = _customers(
        open_urgent_tickets=[1.0, 0.0, 0.0],
        open_urgent_ticket_days=[67.0, math.nan, math.nan],
        last_nps=[10.0, 3.0, 10.0],
        days_since_last_nps=[10.0, 40.0, 10.0],
        mean_nps=[10.0, 4.0, 10.0],
    )
    scored = pd.DataFrame(
        {
            "customer_id": pd.Series(["C1", "C2", "C3"], dtype="str"),
            "raw_score": [2.0, 1.0, 3.0],
            "probability": [0.5, 0.2, 0.6],
            "reason_1": ["Raises: average NPS 10", "Raises: 3 past reviews", "Raises: average NPS 10"],
            "reason_2": ["Raises: 29 orders in the last 90 days", "Lowers: average NPS 4",
                         "Raises: 1 past referral"],
            "reason_3": ["Raises: comments this year were mostly positive",
                         "Lowers: no orders in the last 90 days", ""],
        }
    )  # fmt: skip
    ranked = rank_customers(
        scored, features, pd.Series(dtype=bool), load_config().scoring.segments, "1", AS_OF
    ).set_index("customer_id")
    assert ranked.loc["C1", "segment"] == "Recover first"
    assert ranked.loc["C1", ["reason_1", "reason_2", "reason_3"]].tolist() == [
        "Recover first: 1 urgent ticket still open since 26 Jul 2026",
        "Raises: average NPS 10",
        "Raises: 29 orders in the last 90 days",
    ]
    # The detractor score leads; the other NPS reason gives way to it.
    assert ranked.loc["C2", ["reason_1", "reason_2", "reason_3"]].tolist() == [
        "Recover first: gave NPS 3 on 22 Aug 2026",
        "Raises: 3 past reviews",
        "Lowers: no orders in the last 90 days",
    ]
    # A segment by place in the list has no defining fact: its reasons stay as they were.
    assert ranked.loc["C3", "segment"] == "Champion"
    assert ranked.loc["C3", "reason_1"] == "Raises: average NPS 10"


@pytest.mark.parametrize("value", [0.0, 1.0, 2.0, 9.5, 1234.4, math.nan])
def test_every_phrase_is_known_by_its_topic(value: float) -> None:
    for entry in FEATURES:
        if math.isnan(value) and entry.name not in OTHERWISE_PHRASES:
            continue  # never missing
        for dated in (math.nan, 12.0):
            for as_of, currency in ((None, None), (AS_OF, "EUR"), (AS_OF, "CHF")):
                text = describe(entry.name, value, dated, as_of, currency)
                assert reason_topic(f"Raises: {text}") == entry.topic, (entry.name, text)
    assert reason_topic("Raises: something no feature says") is None
