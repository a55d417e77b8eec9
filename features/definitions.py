"""The feature registry: the one list of behavioral features.

Each entry names a feature, its type, what it means, the phrase that turns its value
into a reason for a person, and the SQL that computes it. The registry drives the
feature builder's columns, the generated documentation (`features/README.md`) and
the reason texts of scoring.

SQL expressions are aggregates over one family's events joined to the cutoffs, where
`age_days` is the event's age at the cutoff in days (always > 0: only events strictly
before the cutoff are joined). Derived features are computed from other features.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Family = Literal["profile", "purchases", "support", "surveys", "comments", "advocacy", "derived"]
Dtype = Literal["int", "float"]

ADVOCACY_PLURALS = {
    "referral": "referrals",
    "review": "reviews",
    "testimonial": "testimonials",
    "case_study": "case_studies",
    "reference_call": "reference_calls",
    "social_mention": "social_mentions",
    "community_post": "community_posts",
}


@dataclass(frozen=True)
class Feature:
    """One behavioral feature of a customer at a cutoff."""

    name: str
    family: Family
    dtype: Dtype
    description: str
    phrase: str
    """Reason text with `{value}`, e.g. "{value:.0f} orders in the last 90 days"."""
    sql: str
    missing: str = "0"
    """What a customer with no history in the family gets ("0" or "missing")."""


def _f(
    name: str,
    family: Family,
    dtype: Dtype,
    description: str,
    phrase: str,
    sql: str,
    missing: str = "0",
) -> Feature:
    return Feature(name, family, dtype, description, phrase, sql, missing)


def _window_counts(
    family: Family,
    noun: str,
    what: str,
    condition: str = "TRUE",
    windows: tuple[int, ...] = (30, 90, 365),
) -> list[Feature]:
    return [
        _f(
            f"{noun}_{days}d",
            family,
            "int",
            f"Number of {what} in the {days} days before the cutoff.",
            f"{{value:.0f}} {what} in the last {days} days",
            f"count(*) FILTER (WHERE age_days <= {days} AND {condition})",
        )
        for days in windows
    ]


# A return is recorded on the order's status, not as a dated event; it is taken as known
# only for orders older than the 30-day return window, so no return after the cutoff leaks.
# Cancellations are taken as immediate. An order without a status counts as completed.
_STATUS = "coalesce(status, 'completed')"
_NOT_CANCELLED = f"{_STATUS} <> 'cancelled'"
_REVENUE = f"{_NOT_CANCELLED} AND NOT ({_STATUS} = 'returned' AND age_days > 30)"
_RETURN_KNOWN = f"age_days > 30 AND age_days <= 365 AND {_NOT_CANCELLED}"
# Ticket outcomes (resolution, csat, reopens) are known only once resolved before the cutoff.
_RESOLVED = "resolved_at IS NOT NULL AND resolved_at < cutoff"
_OPEN = "(resolved_at IS NULL OR resolved_at >= cutoff)"
_HOURS_OPEN = (
    "date_diff('second', opened_at, coalesce(least(resolved_at, cutoff), cutoff)) / 3600.0"
)

FEATURES: tuple[Feature, ...] = (
    # -- profile
    _f(
        "tenure_days",
        "profile",
        "float",
        "Days since signup.",
        "customer for {value:.0f} days",
        "date_diff('second', signup_at, cutoff) / 86400.0",
    ),
    _f(
        "acquired_by_referral",
        "profile",
        "int",
        "1 if the customer came through a referral.",
        "came to us through a referral",
        "acquired_by_referral",
    ),
    # -- purchases (cancelled orders do not count as orders)
    *_window_counts("purchases", "orders", "orders", _NOT_CANCELLED),
    _f(
        "orders_all",
        "purchases",
        "int",
        "Number of orders ever before the cutoff.",
        "{value:.0f} orders in total",
        f"count(*) FILTER (WHERE {_NOT_CANCELLED})",
    ),
    _f(
        "orders_prev_90d",
        "purchases",
        "int",
        "Orders 91-180 days before the cutoff.",
        "{value:.0f} orders three to six months ago",
        f"count(*) FILTER (WHERE age_days > 90 AND age_days <= 180 AND {_NOT_CANCELLED})",
    ),
    *[
        _f(
            f"revenue_{days}d",
            "purchases",
            "float",
            f"Revenue of kept orders, last {days} days.",
            f"spent {{value:,.0f}} in the last {days} days",
            f"coalesce(sum(amount) FILTER (WHERE age_days <= {days} AND {_REVENUE}), 0)",
        )
        for days in (30, 90, 365)
    ],
    _f(
        "revenue_all",
        "purchases",
        "float",
        "Revenue of kept orders ever.",
        "spent {value:,.0f} in total",
        f"coalesce(sum(amount) FILTER (WHERE {_REVENUE}), 0)",
    ),
    _f(
        "avg_order_value_365d",
        "purchases",
        "float",
        "Mean value of kept orders, last 365 days.",
        "orders worth {value:,.0f} on average",
        f"avg(amount) FILTER (WHERE age_days <= 365 AND {_REVENUE})",
        "missing",
    ),
    _f(
        "categories_365d",
        "purchases",
        "int",
        "Distinct product categories bought, last 365 days.",
        "bought from {value:.0f} product categories this year",
        f"count(DISTINCT category) FILTER (WHERE age_days <= 365 AND {_NOT_CANCELLED})",
    ),
    _f(
        "days_since_last_order",
        "purchases",
        "float",
        "Days since the last order (missing: none).",
        "last order {value:.0f} days ago",
        f"min(age_days) FILTER (WHERE {_NOT_CANCELLED})",
        "missing",
    ),
    _f(
        "returned_orders_365d",
        "purchases",
        "int",
        "Returned orders among those 31-365 days old (returns are known after 30 days).",
        "returned {value:.0f} orders this year",
        f"count(*) FILTER (WHERE {_RETURN_KNOWN} AND status = 'returned')",
    ),
    _f(
        "return_share_365d",
        "derived",
        "float",
        "Share of 31-365-day-old orders returned.",
        "returned {value:.0%} of orders this year",
        "returned_orders_365d / nullif(orders_31_365d, 0)",
        "missing",
    ),
    _f(
        "discount_share_365d",
        "purchases",
        "float",
        "Share of last-365-day orders with a discount.",
        "used a discount on {value:.0%} of orders",
        f"avg(CASE WHEN coalesce(discount, 0) > 0 THEN 1.0 ELSE 0.0 END) "
        f"FILTER (WHERE age_days <= 365 AND {_NOT_CANCELLED})",
        "missing",
    ),
    _f(
        "order_trend_90d",
        "derived",
        "int",
        "Orders in the last 90 days minus the 90 before.",
        "{value:+.0f} orders against the previous quarter",
        "orders_90d - orders_prev_90d",
    ),
    # -- support
    *_window_counts("support", "tickets", "support tickets", windows=(90, 365)),
    _f(
        "urgent_tickets_365d",
        "support",
        "int",
        "Urgent tickets opened, last 365 days.",
        "{value:.0f} urgent tickets this year",
        "count(*) FILTER (WHERE age_days <= 365 AND priority = 'urgent')",
    ),
    _f(
        "open_tickets",
        "support",
        "int",
        "Tickets still open at the cutoff.",
        "{value:.0f} support tickets still open",
        f"count(*) FILTER (WHERE {_OPEN})",
    ),
    _f(
        "open_urgent_tickets",
        "support",
        "int",
        "Urgent tickets still open at the cutoff.",
        "urgent ticket still open",
        f"count(*) FILTER (WHERE {_OPEN} AND priority = 'urgent')",
    ),
    _f(
        "hours_to_resolve_365d",
        "support",
        "float",
        "Mean hours to resolve tickets resolved before the cutoff, last 365 days.",
        "tickets took {value:.0f} hours to resolve on average",
        f"avg({_HOURS_OPEN}) FILTER (WHERE age_days <= 365 AND {_RESOLVED})",
        "missing",
    ),
    _f(
        "slow_tickets_365d",
        "support",
        "int",
        "Tickets of the last 365 days that took or have been open more than 72 hours.",
        "{value:.0f} tickets took more than 3 days",
        f"count(*) FILTER (WHERE age_days <= 365 AND {_HOURS_OPEN} > 72)",
    ),
    _f(
        "ticket_csat_365d",
        "support",
        "float",
        "Mean CSAT of tickets resolved, last 365 days.",
        "rated support {value:.1f} out of 5",
        f"avg(csat) FILTER (WHERE age_days <= 365 AND {_RESOLVED})",
        "missing",
    ),
    _f(
        "reopened_tickets_365d",
        "support",
        "int",
        "Resolved tickets that had to be reopened.",
        "{value:.0f} tickets had to be reopened",
        f"count(*) FILTER (WHERE age_days <= 365 AND {_RESOLVED} AND coalesce(reopened, 0) > 0)",
    ),
    _f(
        "days_since_last_ticket",
        "support",
        "float",
        "Days since the last ticket (missing: none).",
        "last support ticket {value:.0f} days ago",
        "min(age_days)",
        "missing",
    ),
    # -- surveys
    _f(
        "last_nps",
        "surveys",
        "float",
        "The latest NPS score (0-10).",
        "gave NPS {value:.0f}",
        "arg_max(score, responded_at) FILTER (WHERE survey_type = 'nps')",
        "missing",
    ),
    _f(
        "days_since_last_nps",
        "surveys",
        "float",
        "Days since the latest NPS answer.",
        "last NPS answer {value:.0f} days ago",
        "min(age_days) FILTER (WHERE survey_type = 'nps')",
        "missing",
    ),
    _f(
        "mean_nps",
        "surveys",
        "float",
        "Mean of all NPS answers.",
        "NPS {value:.1f} on average",
        "avg(score) FILTER (WHERE survey_type = 'nps')",
        "missing",
    ),
    _f(
        "nps_change",
        "surveys",
        "float",
        "Latest NPS minus the one before it.",
        "NPS moved {value:+.0f} points since the previous answer",
        "list_extract(arg_max(score, responded_at, 2) FILTER (WHERE survey_type = 'nps'), 1)"
        " - list_extract(arg_max(score, responded_at, 2) FILTER (WHERE survey_type = 'nps'), 2)",
        "missing",
    ),
    _f(
        "is_promoter",
        "derived",
        "int",
        "1 if the latest NPS is 9 or 10.",
        "latest NPS says promoter",
        "coalesce(CAST(last_nps >= 9 AS INTEGER), 0)",
    ),
    _f(
        "is_detractor",
        "derived",
        "int",
        "1 if the latest NPS is 6 or lower.",
        "latest NPS says detractor",
        "coalesce(CAST(last_nps <= 6 AS INTEGER), 0)",
    ),
    _f(
        "last_csat",
        "surveys",
        "float",
        "The latest CSAT survey score (1-5).",
        "rated us {value:.0f} out of 5",
        "arg_max(score, responded_at) FILTER (WHERE survey_type = 'csat')",
        "missing",
    ),
    _f(
        "last_ces",
        "surveys",
        "float",
        "The latest effort score (1-7, higher is easier).",
        "found us {value:.0f}/7 easy to deal with",
        "arg_max(score, responded_at) FILTER (WHERE survey_type = 'ces')",
        "missing",
    ),
    _f(
        "surveys_365d",
        "surveys",
        "int",
        "Survey answers of any type, last 365 days.",
        "answered {value:.0f} surveys this year",
        "count(*) FILTER (WHERE age_days <= 365)",
    ),
    # -- comments (surveys and tickets), scored by a lexicon
    _f(
        "comment_sentiment_365d",
        "comments",
        "float",
        "Mean sentiment (-1..1) of survey and ticket comments, last 365 days.",
        "comments sounded {value:+.2f} on a -1 to 1 scale",
        "avg(sentiment) FILTER (WHERE age_days <= 365)",
        "missing",
    ),
    _f(
        "negative_comments_365d",
        "comments",
        "int",
        "Comments with clearly negative tone.",
        "{value:.0f} unhappy comments this year",
        "count(*) FILTER (WHERE age_days <= 365 AND sentiment <= -0.05)",
    ),
    # -- past advocacy
    *[
        _f(
            f"past_{plural}",
            "advocacy",
            "int",
            f"Past {plural.replace('_', ' ')} (all time).",
            f"{{value:.0f}} past {plural.replace('_', ' ')}",
            f"count(*) FILTER (WHERE event_type = '{kind}')",
        )
        for kind, plural in ADVOCACY_PLURALS.items()
    ],
    _f(
        "advocacy_365d",
        "advocacy",
        "int",
        "Advocacy events of any type, last 365 days.",
        "{value:.0f} acts of advocacy this year",
        "count(*) FILTER (WHERE age_days <= 365)",
    ),
    _f(
        "days_since_last_advocacy",
        "advocacy",
        "float",
        "Days since the last advocacy event.",
        "last advocated {value:.0f} days ago",
        "min(age_days)",
        "missing",
    ),
    _f(
        "mean_review_rating",
        "advocacy",
        "float",
        "Mean star rating of past reviews.",
        "past reviews average {value:.1f} stars",
        "avg(rating) FILTER (WHERE event_type = 'review')",
        "missing",
    ),
)

# Helper aggregates the derived features need, never part of the output.
HELPERS: dict[Family, dict[str, str]] = {
    "purchases": {"orders_31_365d": f"count(*) FILTER (WHERE {_RETURN_KNOWN})"},
}

FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)

# Phrases for values the feature's own phrase cannot express: a missing value (no
# history in the family) or 0 for a yes/no feature.
OTHERWISE_PHRASES: dict[str, str] = {
    "acquired_by_referral": "did not come to us through a referral",
    "open_urgent_tickets": "no urgent ticket open",
    "is_promoter": "latest NPS is not a promoter score",
    "is_detractor": "latest NPS is not a detractor score",
    "avg_order_value_365d": "no orders this year",
    "days_since_last_order": "no orders yet",
    "return_share_365d": "no orders this year",
    "discount_share_365d": "no orders this year",
    "hours_to_resolve_365d": "no resolved tickets this year",
    "ticket_csat_365d": "no support rating this year",
    "days_since_last_ticket": "never contacted support",
    "last_nps": "never answered an NPS survey",
    "days_since_last_nps": "never answered an NPS survey",
    "mean_nps": "never answered an NPS survey",
    "nps_change": "fewer than two NPS answers",
    "last_csat": "never answered a CSAT survey",
    "last_ces": "never answered an effort survey",
    "comment_sentiment_365d": "no comments this year",
    "days_since_last_advocacy": "no advocacy so far",
    "mean_review_rating": "no reviews so far",
}
YES_NO_FEATURES = frozenset(
    {"acquired_by_referral", "open_urgent_tickets", "is_promoter", "is_detractor"}
)


def describe(name: str, value: float) -> str:
    """The plain-language phrase for a feature's value, e.g. "gave NPS 10"."""
    if math.isnan(value) or (name in YES_NO_FEATURES and value == 0):
        return OTHERWISE_PHRASES[name]
    return feature(name).phrase.format(value=value)


def definition_hash(entry: Feature) -> str:
    """A short hash of how a feature is computed: SQL (and helpers), dtype, missing rule.

    A model records one per feature it uses, so scoring can tell whether the features
    it computes today are the ones the model learned from.
    """
    helpers = sorted(HELPERS.get(entry.family, {}).items())
    text = f"{entry.name}:{entry.dtype}:{entry.sql}:{entry.missing}:{helpers}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def current_definitions(names: Sequence[str] = FEATURE_NAMES) -> dict[str, str]:
    """The definition hash of each named feature as the registry computes it today."""
    return {name: definition_hash(feature(name)) for name in names}


def feature(name: str) -> Feature:
    """The registry entry of one feature."""
    for entry in FEATURES:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown feature '{name}'")


def registry_markdown() -> str:
    """The feature documentation table, generated for features/README.md."""
    lines = [
        "| feature | family | type | meaning | when no history | reason phrase |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{f.name}` | {f.family} | {f.dtype} | {f.description} | "
        f"{'missing' if f.missing == 'missing' else '0'} | {f.phrase} |"
        for f in FEATURES
    ]
    return "\n".join(lines) + "\n"
