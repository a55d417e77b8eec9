"""Which features a source supports: families, optional columns, derived features."""

from __future__ import annotations

from features.availability import (
    EVERYTHING,
    available_families,
    available_features,
    left_out,
    sources_in_words,
    tables_read,
)
from features.contracts import CONTRACTS
from features.definitions import FEATURE_NAMES

ORDERS = {name: EVERYTHING[name] for name in ("customers", "purchases")}


def without(table: str, *columns: str) -> dict[str, list[str]]:
    """Every table and column, except the named columns of one table."""
    return {**EVERYTHING, table: [c for c in EVERYTHING[table] if c not in columns]}


def test_a_full_source_supports_every_feature() -> None:
    assert available_features(EVERYTHING) == FEATURE_NAMES
    assert left_out(EVERYTHING) == {}


def test_derived_features_follow_the_families_they_are_built_on() -> None:
    available = set(available_features(ORDERS))
    assert {"return_share_365d", "order_trend_90d", "tenure_days", "orders_90d"} <= available
    assert {"last_nps", "is_promoter", "is_detractor", "tickets_365d", "past_reviews"}.isdisjoint(
        available
    )
    assert set(left_out(ORDERS)) == {
        "support_tickets",
        "survey_responses",
        "survey_responses or support_tickets",
        "advocacy_events",
    }


def test_tickets_without_resolved_at_lose_what_needs_a_resolution_only() -> None:
    assert left_out(without("support_tickets", "resolved_at")) == {
        "support_tickets.resolved_at": [
            "open_tickets",
            "open_urgent_tickets",
            "open_urgent_ticket_days",
            "hours_to_resolve_365d",
            "slow_tickets_365d",
            "ticket_csat_365d",
            "reopened_tickets_365d",
        ]
    }


def test_orders_without_a_status_lose_returns_but_keep_counts() -> None:
    assert left_out(without("purchases", "status")) == {
        "purchases.status": ["returned_orders_365d", "return_share_365d"]
    }


def test_referral_acquisition_needs_either_of_its_sources() -> None:
    no_channel = {**ORDERS, "customers": ["customer_id", "signup_at"]}
    assert left_out(no_channel)["customers.acquisition_channel or advocacy_events"] == [
        "acquired_by_referral"
    ]
    referrals = {**no_channel, "advocacy_events": list(CONTRACTS["advocacy_events"].column_names)}
    assert "acquired_by_referral" in available_features(referrals)


def test_comments_come_from_surveys_or_tickets() -> None:
    surveys = [c for c in EVERYTHING["survey_responses"] if c != "comment"]
    assert available_families({**ORDERS, "survey_responses": surveys}) == [
        "profile",
        "purchases",
        "surveys",
    ]
    with_tickets = {**ORDERS, "support_tickets": EVERYTHING["support_tickets"]}
    assert "comments" in available_families(with_tickets)


def test_a_shop_with_reviews_in_words() -> None:
    shop = {**ORDERS, "advocacy_events": EVERYTHING["advocacy_events"]}
    names = available_features(shop)
    assert tables_read(names, shop) == ["customers", "purchases", "advocacy_events"]
    assert sources_in_words(names, shop) == (
        "customers, purchases, advocacy_events; left out for lack of data: support_tickets "
        "(11 features), survey_responses (9 features), survey_responses or support_tickets "
        "(2 features)"
    )
