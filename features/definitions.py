"""The feature registry: the one list of behavioral features.

Each entry names a feature, its type, what it means, the SQL that computes it, and how
it reads in a customer's reasons: a phrase for its value, the topic (the fact it
describes, so a customer never gets two reasons about one fact), the values a person
reads as good, and, for a dated fact, where its date comes from. The registry drives
the feature builder's columns, the generated documentation (`features/README.md`) and
the reason texts of scoring.

SQL expressions are aggregates over one family's events joined to the cutoffs, where
`age_days` is the event's age at the cutoff in days (always > 0: only events strictly
before the cutoff are joined). Derived features are computed from other features.

Phrases are `str.format` templates of `{value}` with the usual format specs (`.0f`,
`.0%`) and these, so that numbers read as a person would write them:

- `count order`: a whole count and its noun: "1 order", "2 orders", "no orders"
  (`count category|categories` for an irregular plural);
- `mean star`: an average to one decimal, whole when whole: "4.5 stars", "9";
- `money`: an amount in the scoring currency: "€1,234", "1,234 CHF", "nothing";
- `when`: a "days since" value as a date: "on 3 Sep 2026" ("21 days ago" with no as-of);
- `since`: the same for something still going on: "since 3 Sep 2026" ("for 21 days");
- `updown point`: a change: "up 2 points", "down 1 point", "unchanged";
- `tone`: a sentiment score (-1..1) in words: "positive", "negative", "neutral".
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

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
GOOD_WHEN = re.compile(r"^(missing|(<=|>=|==|<|>) (-?\d+(?:\.\d+)?))$")
COMPARISONS: dict[str, Callable[[Any, float], Any]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}


@dataclass(frozen=True)
class Feature:
    """One behavioral feature of a customer at a cutoff."""

    name: str
    family: Family
    dtype: Dtype
    description: str
    phrase: str
    """Reason text for a value, e.g. "{value:count order} in the last 90 days"."""
    sql: str
    missing: str = "0"
    """What a customer with no history in the family gets ("0" or "missing")."""
    topic: str = ""
    """The fact the feature describes ("NPS", "purchases"): one reason per topic and customer.
    Without one, the feature's family is its topic."""
    good_when: str | None = None
    """Values a person reads as good (">= 9", "== 0", "missing"). "Lowers: gave NPS 10"
    would need a why, so a lowering contribution on such a value is no reason."""
    dated_by: str | None = None
    """A "days since" feature that dates this fact: its value fills the phrase's
    `{dated:when}` or `{dated:since}` ("gave NPS 3 on 12 Aug 2026")."""
    needs: tuple[str, ...] = ()
    """Optional source columns it reads besides its family's table, as `table.column`
    (`a|b`: either will do). Without them it is left out, never zero: a ticket without
    `resolved_at` is not "open" (see `features.availability`)."""

    def __post_init__(self) -> None:
        if not self.topic:
            object.__setattr__(self, "topic", self.family)
        if self.good_when is not None and not GOOD_WHEN.match(self.good_when):
            raise ValueError(
                f"feature '{self.name}': good_when '{self.good_when}' is not 'missing' or "
                "`op number`"
            )


def _f(
    name: str,
    family: Family,
    dtype: Dtype,
    description: str,
    phrase: str,
    sql: str,
    missing: str = "0",
    *,
    topic: str,
    good_when: str | None = None,
    dated_by: str | None = None,
    needs: tuple[str, ...] = (),
) -> Feature:
    return Feature(
        name, family, dtype, description, phrase, sql, missing, topic, good_when, dated_by, needs
    )


def _window_counts(
    family: Family,
    noun: str,
    what: str,
    condition: str = "TRUE",
    windows: tuple[int, ...] = (30, 90, 365),
    *,
    topic: str,
    good_when: str | None = None,
) -> list[Feature]:
    return [
        _f(
            f"{noun}_{days}d",
            family,
            "int",
            f"Number of {what}s in the {days} days before the cutoff.",
            f"{{value:count {what}}} in the last {days} days",
            f"count(*) FILTER (WHERE age_days <= {days} AND {condition})",
            topic=topic,
            good_when=good_when,
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
_RESOLVED_AT = "support_tickets.resolved_at"
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
        "customer {value:since}",
        "date_diff('second', signup_at, cutoff) / 86400.0",
        topic="tenure",
        good_when=">= 365",
    ),
    _f(
        "acquired_by_referral",
        "profile",
        "int",
        "1 if the customer came through a referral.",
        "came to us through a referral",
        "acquired_by_referral",
        topic="referred",
        good_when="== 1",
        needs=("customers.acquisition_channel|advocacy_events.referred_customer_id",),
    ),
    # -- purchases (cancelled orders do not count as orders)
    *_window_counts("purchases", "orders", "order", _NOT_CANCELLED, topic="purchases"),
    _f(
        "orders_all",
        "purchases",
        "int",
        "Number of orders ever before the cutoff.",
        "{value:count order} in total",
        f"count(*) FILTER (WHERE {_NOT_CANCELLED})",
        topic="purchases",
    ),
    _f(
        "orders_prev_90d",
        "purchases",
        "int",
        "Orders 91-180 days before the cutoff.",
        "{value:count order} three to six months ago",
        f"count(*) FILTER (WHERE age_days > 90 AND age_days <= 180 AND {_NOT_CANCELLED})",
        topic="purchases",
    ),
    *[
        _f(
            f"revenue_{days}d",
            "purchases",
            "float",
            f"Revenue of kept orders, last {days} days.",
            f"spent {{value:money}} in the last {days} days",
            f"coalesce(sum(amount) FILTER (WHERE age_days <= {days} AND {_REVENUE}), 0)",
            topic="purchases",
        )
        for days in (30, 90, 365)
    ],
    _f(
        "revenue_all",
        "purchases",
        "float",
        "Revenue of kept orders ever.",
        "spent {value:money} in total",
        f"coalesce(sum(amount) FILTER (WHERE {_REVENUE}), 0)",
        topic="purchases",
    ),
    _f(
        "avg_order_value_365d",
        "purchases",
        "float",
        "Mean value of kept orders, last 365 days.",
        "orders worth {value:money} on average",
        f"avg(amount) FILTER (WHERE age_days <= 365 AND {_REVENUE})",
        "missing",
        topic="order value",
    ),
    _f(
        "categories_365d",
        "purchases",
        "int",
        "Distinct product categories bought, last 365 days.",
        "bought from {value:count product category|product categories} this year",
        f"count(DISTINCT category) FILTER (WHERE age_days <= 365 AND {_NOT_CANCELLED})",
        topic="categories",
        good_when=">= 3",
        needs=("purchases.category",),
    ),
    _f(
        "days_since_last_order",
        "purchases",
        "float",
        "Days since the last order (missing: none).",
        "last order {value:when}",
        f"min(age_days) FILTER (WHERE {_NOT_CANCELLED})",
        "missing",
        topic="purchases",
    ),
    _f(
        "returned_orders_365d",
        "purchases",
        "int",
        "Returned orders among those 31-365 days old (returns are known after 30 days).",
        "returned {value:count order} this year",
        f"count(*) FILTER (WHERE {_RETURN_KNOWN} AND status = 'returned')",
        topic="returns",
        good_when="== 0",
        needs=("purchases.status",),
    ),
    _f(
        "return_share_365d",
        "derived",
        "float",
        "Share of 31-365-day-old orders returned.",
        "returned {value:.0%} of orders this year",
        "returned_orders_365d / nullif(orders_31_365d, 0)",
        "missing",
        topic="returns",
        good_when="== 0",
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
        topic="discounts",
        needs=("purchases.discount",),
    ),
    _f(
        "order_trend_90d",
        "derived",
        "int",
        "Orders in the last 90 days minus the 90 before.",
        "orders {value:updown} from the 3 months before",
        "orders_90d - orders_prev_90d",
        topic="purchases",
        good_when="> 0",
    ),
    # -- support
    *_window_counts(
        "support",
        "tickets",
        "support ticket",
        windows=(90, 365),
        topic="support contact",
        good_when="== 0",
    ),
    _f(
        "urgent_tickets_365d",
        "support",
        "int",
        "Urgent tickets opened, last 365 days.",
        "{value:count urgent ticket} this year",
        "count(*) FILTER (WHERE age_days <= 365 AND priority = 'urgent')",
        topic="support contact",
        good_when="== 0",
        needs=("support_tickets.priority",),
    ),
    _f(
        "open_tickets",
        "support",
        "int",
        "Tickets still open at the cutoff.",
        "{value:count support ticket} still open",
        f"count(*) FILTER (WHERE {_OPEN})",
        topic="open tickets",
        good_when="== 0",
        needs=(_RESOLVED_AT,),
    ),
    _f(
        "open_urgent_tickets",
        "support",
        "int",
        "Urgent tickets still open at the cutoff.",
        "{value:count urgent ticket} still open {dated:since}",
        f"count(*) FILTER (WHERE {_OPEN} AND priority = 'urgent')",
        topic="open tickets",
        good_when="== 0",
        dated_by="open_urgent_ticket_days",
        needs=(_RESOLVED_AT, "support_tickets.priority"),
    ),
    _f(
        "open_urgent_ticket_days",
        "support",
        "float",
        "Days the oldest urgent ticket still open at the cutoff has been open (missing: none).",
        "urgent ticket still open {value:since}",
        f"max(age_days) FILTER (WHERE {_OPEN} AND priority = 'urgent')",
        "missing",
        topic="open tickets",
        good_when="missing",
        needs=(_RESOLVED_AT, "support_tickets.priority"),
    ),
    _f(
        "hours_to_resolve_365d",
        "support",
        "float",
        "Mean hours to resolve tickets resolved before the cutoff, last 365 days.",
        "tickets took {value:mean hour} to resolve on average",
        f"avg({_HOURS_OPEN}) FILTER (WHERE age_days <= 365 AND {_RESOLVED})",
        "missing",
        topic="ticket handling",
        good_when="<= 24",
        needs=(_RESOLVED_AT,),
    ),
    _f(
        "slow_tickets_365d",
        "support",
        "int",
        "Tickets of the last 365 days that took or have been open more than 72 hours.",
        "{value:count ticket} took more than 3 days",
        f"count(*) FILTER (WHERE age_days <= 365 AND {_HOURS_OPEN} > 72)",
        topic="ticket handling",
        good_when="== 0",
        needs=(_RESOLVED_AT,),
    ),
    _f(
        "ticket_csat_365d",
        "support",
        "float",
        "Mean CSAT of tickets resolved, last 365 days.",
        "rated support {value:mean} out of 5",
        f"avg(csat) FILTER (WHERE age_days <= 365 AND {_RESOLVED})",
        "missing",
        topic="support rating",
        good_when=">= 4",
        needs=(_RESOLVED_AT, "support_tickets.csat"),
    ),
    _f(
        "reopened_tickets_365d",
        "support",
        "int",
        "Resolved tickets that had to be reopened.",
        "{value:count ticket} had to be reopened",
        f"count(*) FILTER (WHERE age_days <= 365 AND {_RESOLVED} AND coalesce(reopened, 0) > 0)",
        topic="ticket handling",
        good_when="== 0",
        needs=(_RESOLVED_AT, "support_tickets.reopened"),
    ),
    _f(
        "days_since_last_ticket",
        "support",
        "float",
        "Days since the last ticket (missing: none).",
        "last support ticket {value:when}",
        "min(age_days)",
        "missing",
        topic="support contact",
        good_when=">= 90",
    ),
    # -- surveys
    _f(
        "last_nps",
        "surveys",
        "float",
        "The latest NPS score (0-10).",
        "gave NPS {value:.0f} {dated:when}",
        "arg_max(score, responded_at) FILTER (WHERE survey_type = 'nps')",
        "missing",
        topic="NPS",
        good_when=">= 9",
        dated_by="days_since_last_nps",
    ),
    _f(
        "days_since_last_nps",
        "surveys",
        "float",
        "Days since the latest NPS answer.",
        "last NPS answer {value:when}",
        "min(age_days) FILTER (WHERE survey_type = 'nps')",
        "missing",
        topic="NPS",
    ),
    _f(
        "mean_nps",
        "surveys",
        "float",
        "Mean of all NPS answers.",
        "average NPS {value:mean}",
        "avg(score) FILTER (WHERE survey_type = 'nps')",
        "missing",
        topic="NPS",
        good_when=">= 9",
    ),
    _f(
        "nps_change",
        "surveys",
        "float",
        "Latest NPS minus the one before it.",
        "NPS {value:updown point} from the previous answer",
        "list_extract(arg_max(score, responded_at, 2) FILTER (WHERE survey_type = 'nps'), 1)"
        " - list_extract(arg_max(score, responded_at, 2) FILTER (WHERE survey_type = 'nps'), 2)",
        "missing",
        topic="NPS",
        good_when="> 0",
    ),
    _f(
        "is_promoter",
        "derived",
        "int",
        "1 if the latest NPS is 9 or 10.",
        "latest NPS was a promoter score (9-10)",
        "coalesce(CAST(last_nps >= 9 AS INTEGER), 0)",
        topic="NPS",
        good_when="== 1",
    ),
    _f(
        "is_detractor",
        "derived",
        "int",
        "1 if the latest NPS is 6 or lower.",
        "latest NPS was a detractor score (0-6)",
        "coalesce(CAST(last_nps <= 6 AS INTEGER), 0)",
        topic="NPS",
        good_when="== 0",
    ),
    _f(
        "last_csat",
        "surveys",
        "float",
        "The latest CSAT survey score (1-5).",
        "rated us {value:.0f} out of 5",
        "arg_max(score, responded_at) FILTER (WHERE survey_type = 'csat')",
        "missing",
        topic="satisfaction",
        good_when=">= 4",
    ),
    _f(
        "last_ces",
        "surveys",
        "float",
        "The latest effort score (1-7, higher is easier).",
        "rated how easy we are to deal with {value:.0f} out of 7",
        "arg_max(score, responded_at) FILTER (WHERE survey_type = 'ces')",
        "missing",
        topic="effort",
        good_when=">= 5",
    ),
    _f(
        "surveys_365d",
        "surveys",
        "int",
        "Survey answers of any type, last 365 days.",
        "answered {value:count survey} this year",
        "count(*) FILTER (WHERE age_days <= 365)",
        topic="surveys",
    ),
    # -- comments (surveys and tickets), scored by a lexicon
    _f(
        "comment_sentiment_365d",
        "comments",
        "float",
        "Mean sentiment (-1..1) of survey and ticket comments, last 365 days.",
        "comments this year were mostly {value:tone}",
        "avg(sentiment) FILTER (WHERE age_days <= 365)",
        "missing",
        topic="comments",
        good_when=">= 0.05",
    ),
    _f(
        "negative_comments_365d",
        "comments",
        "int",
        "Comments with clearly negative tone.",
        "{value:count unhappy comment} this year",
        "count(*) FILTER (WHERE age_days <= 365 AND sentiment <= -0.05)",
        topic="comments",
        good_when="== 0",
    ),
    # -- past advocacy
    *[
        _f(
            f"past_{plural}",
            "advocacy",
            "int",
            f"Past {plural.replace('_', ' ')} (all time).",
            f"{{value:count past {kind.replace('_', ' ')}|past {plural.replace('_', ' ')}}}",
            f"count(*) FILTER (WHERE event_type = '{kind}')",
            topic="advocacy",
            good_when=">= 1",
        )
        for kind, plural in ADVOCACY_PLURALS.items()
    ],
    _f(
        "advocacy_365d",
        "advocacy",
        "int",
        "Advocacy events of any type, last 365 days.",
        "{value:count act of advocacy|acts of advocacy} this year",
        "count(*) FILTER (WHERE age_days <= 365)",
        topic="advocacy",
        good_when=">= 1",
    ),
    _f(
        "days_since_last_advocacy",
        "advocacy",
        "float",
        "Days since the last advocacy event.",
        "last advocated {value:when}",
        "min(age_days)",
        "missing",
        topic="advocacy",
        good_when="<= 180",
    ),
    _f(
        "mean_review_rating",
        "advocacy",
        "float",
        "Mean star rating of past reviews.",
        "past reviews average {value:mean star}",
        "avg(rating) FILTER (WHERE event_type = 'review')",
        "missing",
        topic="review ratings",
        good_when=">= 4",
        needs=("advocacy_events.rating",),
    ),
    _f(
        "last_review_rating",
        "advocacy",
        "float",
        "Star rating of the latest rated review.",
        "latest review gave {value:mean star}",
        "arg_max(rating, occurred_at) FILTER (WHERE event_type = 'review' AND rating IS NOT NULL)",
        "missing",
        topic="review ratings",
        good_when=">= 5",
        needs=("advocacy_events.rating",),
    ),
)

# Helper aggregates the derived features need, never part of the output.
HELPERS: dict[Family, dict[str, str]] = {
    "purchases": {"orders_31_365d": f"count(*) FILTER (WHERE {_RETURN_KNOWN})"},
}

FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
_BY_NAME = {entry.name: entry for entry in FEATURES}

# Phrases for values the feature's own phrase cannot express: a missing value (no
# history in the family) or 0 for a yes/no feature. One phrase never serves two topics.
OTHERWISE_PHRASES: dict[str, str] = {
    "acquired_by_referral": "did not come to us through a referral",
    "open_urgent_tickets": "no urgent ticket open",
    "open_urgent_ticket_days": "no urgent ticket open",
    "is_promoter": "latest NPS was not a promoter score",
    "is_detractor": "latest NPS was not a detractor score",
    "avg_order_value_365d": "no kept orders this year",
    "days_since_last_order": "no orders yet",
    "return_share_365d": "no orders old enough to show returns",
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
    "last_review_rating": "no reviews so far",
}
YES_NO_FEATURES = frozenset(
    {"acquired_by_referral", "open_urgent_tickets", "is_promoter", "is_detractor"}
)
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
"""Currencies written as a symbol before the amount; others as a code after it."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Month names of dates in reasons, whatever the machine's locale."""
TONE = 0.05
"""Mean comment sentiment from which comments read as positive (or, below -TONE, negative)."""


def _noun(count: float, noun: str) -> str:
    """`noun` ("order", or "category|categories") in singular for 1, else in plural."""
    singular, _, plural = noun.partition("|")
    return singular if count == 1 else plural or f"{singular}s"


def _counted(count: int, noun: str) -> str:
    """A count and its noun: "no orders", "1 order", "1,234 orders"."""
    return f"no {_noun(0, noun)}" if count == 0 else f"{count:,} {_noun(count, noun)}"


class PhraseFormatter(string.Formatter):
    """Renders registry phrases, with the format specs of the module docstring.

    `as_of` turns "days since" values into dates; `currency` is the ISO code of amounts.
    """

    def __init__(self, as_of: datetime | None = None, currency: str | None = None) -> None:
        super().__init__()
        # A plain datetime: date arithmetic on a pandas Timestamp is ten times slower.
        self.as_of = (
            None if as_of is None else datetime.combine(as_of.date(), as_of.time(), as_of.tzinfo)
        )
        self.currency = currency

    def format_field(self, value: Any, format_spec: str) -> str:
        """One `{value:spec}` field: the registry's specs, else Python's."""
        kind, _, noun = format_spec.partition(" ")
        match kind:
            case "count":
                return _counted(round(value), noun)
            case "mean":
                mean = round(value, 1)
                text = f"{mean:,.1f}".removesuffix(".0")
                return f"{text} {_noun(mean, noun)}" if noun else text
            case "money":
                return self.money(value)
            case "when" | "since":
                return self.dated(value, kind)
            case "updown":
                change = round(value)
                if change == 0:
                    return "unchanged"
                amount = _counted(abs(change), noun) if noun else f"{abs(change)}"
                return f"{'up' if change > 0 else 'down'} {amount}"
            case "tone":
                return "positive" if value >= TONE else "negative" if value <= -TONE else "neutral"
        return format(value, format_spec)

    def money(self, amount: float) -> str:
        """An amount: "€1,234", "1,234 CHF", plain "1,234" without a currency, "nothing"."""
        if amount == 0:
            return "nothing"
        if amount < 0.5:
            return f"less than {self.money(1)}"
        if self.currency is None:
            return f"{amount:,.0f}"
        symbol = CURRENCY_SYMBOLS.get(self.currency)
        return f"{symbol}{amount:,.0f}" if symbol else f"{amount:,.0f} {self.currency}"

    def dated(self, days: float, kind: str) -> str:
        """A "days since" value as "on 3 Sep 2026" or "since 3 Sep 2026".

        Without an as-of: "21 days ago" or "for 21 days"; nothing for a missing value.
        """
        if math.isnan(days):
            return ""
        if self.as_of is None:
            span = "less than a day" if round(days) == 0 else _counted(round(days), "day")
            return f"{span} ago" if kind == "when" else f"for {span}"
        moment = self.as_of - timedelta(days=days)
        date = f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
        return f"{'on' if kind == 'when' else 'since'} {date}"


def describe(
    name: str,
    value: float,
    dated: float = math.nan,
    as_of: datetime | None = None,
    currency: str | None = None,
) -> str:
    """The plain-language phrase for a feature's value, e.g. "gave NPS 10".

    `dated` is the customer's value of the feature's `dated_by` feature, which dates the
    fact ("gave NPS 3 on 12 Aug 2026") when the as-of date is known too.
    """
    if math.isnan(value) or (name in YES_NO_FEATURES and value == 0):
        return OTHERWISE_PHRASES[name]
    dated = math.nan if as_of is None else dated
    text = PhraseFormatter(as_of, currency).format(feature(name).phrase, value=value, dated=dated)
    return " ".join(text.split())  # an unknown date leaves no stray space


def phrase_pattern(name: str) -> str:
    """A regular expression matching every text `describe` can give for the feature."""
    parts = []
    for literal, field, spec, _ in string.Formatter().parse(feature(name).phrase):
        if field == "dated":  # a date when known, after a space
            parts.append(f"{re.escape(literal.rstrip())}(?: .+)?")
            continue
        parts.append(re.escape(literal))
        if field is not None:
            kind, _, noun = (spec or "").partition(" ")
            nouns = f"{_noun(1, noun)}|{_noun(2, noun)}"
            parts.append(f"(?:no|[\\d,]+) (?:{nouns})" if kind == "count" else ".+?")
    texts = [f"(?:{''.join(parts)})"]
    if name in OTHERWISE_PHRASES:
        texts.append(re.escape(OTHERWISE_PHRASES[name]))
    return "|".join(texts)


def reads_good(name: str, values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Where a person reads the feature's values as good (its `good_when`)."""
    rule = feature(name).good_when
    if rule is None:
        return np.zeros(values.shape, dtype=bool)
    if rule == "missing":
        return np.isnan(values)
    op, number = rule.split(" ")
    return np.asarray(COMPARISONS[op](values, float(number)), dtype=bool)


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
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown feature '{name}'") from None


def registry_markdown() -> str:
    """The feature documentation table, generated for features/README.md."""
    lines = [
        "| feature | family | type | meaning | when no history | needs | topic | reason phrase "
        "| reads as good when |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{f.name}` | {f.family} | {f.dtype} | {f.description} | "
        f"{'missing' if f.missing == 'missing' else '0'} | "
        f"{', '.join(f'`{n}`' for n in f.needs).replace('|', ' or ')} | {f.topic} | "
        f"{f.phrase.replace('|', chr(92) + '|')} | {f.good_when or ''} |"
        for f in FEATURES
    ]
    return "\n".join(lines) + "\n"
