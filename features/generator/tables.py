"""Turn a simulated chunk into the six input tables (Arrow, typed as the contracts say).

Fields that never feed back into the simulation (order amounts, categories, channels,
discounts, ticket channels, comment texts) are drawn here, all at once per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.contracts import (
    ADVOCACY_TYPES,
    CONTRACTS,
    ORDER_STATUSES,
    SURVEY_TYPES,
    TICKET_PRIORITIES,
    ColumnKind,
)
from features.generator.comments import compose_comments
from features.generator.formats import UTC_TIMESTAMP, format_ids, timestamps
from features.generator.simulation import ChunkHistory
from features.generator.timeline import WEEK, Timeline
from features.generator.traits import derive_traits, draw_profile

CURRENCY = "EUR"
CATEGORIES = np.array(
    ["fashion", "shoes", "beauty", "home", "electronics", "sports", "books", "toys"]
)
CATEGORY_POPULARITY = np.array([0.22, 0.12, 0.14, 0.14, 0.10, 0.12, 0.08, 0.08])
CATEGORY_PRICE = np.array([1.0, 1.3, 0.6, 1.2, 2.2, 1.1, 0.4, 0.7])
CATEGORY_CONCENTRATION = 2.0  # low: each customer sticks to a few categories
AMOUNT_SIGMA = 0.6
ORDER_CHANNELS = np.array(["web", "app", "store"])
ORDER_CHANNEL_SHARES = np.array([0.55, 0.3, 0.15])
ORDER_CHANNEL_LOYALTY = 0.75
DISCOUNT_LEVELS = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3])
DISCOUNT_SHARE = (0.25, 0.55)  # share of discounted orders: usual, November
TICKET_CHANNELS = np.array(["email", "chat", "phone"])
TICKET_CHANNEL_SHARES = np.array(  # by priority: low, normal, high, urgent
    [[0.6, 0.35, 0.05], [0.45, 0.4, 0.15], [0.3, 0.4, 0.3], [0.1, 0.3, 0.6]]
)
ADVOCACY_CHANNELS = {
    "referral": ["referral_link", "email", "app"],
    "review": ["website", "google", "trustpilot", "app_store"],
    "testimonial": ["website", "newsletter"],
    "case_study": ["website", "sales"],
    "reference_call": ["sales"],
    "social_mention": ["instagram", "tiktok", "x", "facebook", "linkedin"],
    "community_post": ["forum", "facebook_group", "discord"],
}
ARROW_TYPES: dict[ColumnKind, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "timestamp": UTC_TIMESTAMP,
    "number": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
}
CUSTOMER_WIDTH = 7
EVENT_WIDTH = 9
ID_PREFIXES = {
    "purchases": "O",
    "support_tickets": "T",
    "survey_responses": "R",
    "advocacy_events": "E",
    "outreach": "A",
}


def arrow_schema(table: str) -> pa.Schema:
    """Return the Arrow schema of a clean input table, in contract column order."""
    contract = CONTRACTS[table]
    return pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in contract.columns])


@dataclass(frozen=True)
class IdSpace:
    """Where a chunk's ids start: its first customer number and each table's next row number."""

    first_customer: int
    customer_width: int
    next_row: dict[str, int]

    def customers(self, index: np.ndarray) -> pa.Array:
        """Global customer ids of chunk-local indices."""
        return format_ids("C", self.first_customer + index, self.customer_width)

    def customers_or_null(self, index: np.ndarray) -> pa.Array:
        """Global customer ids of chunk-local indices, null where the index is -1."""
        missing = pa.array(index < 0)
        return pc.if_else(
            missing, pa.scalar(None, pa.string()), self.customers(np.maximum(index, 0))
        )

    def rows(self, table: str, n: int) -> pa.Array:
        """Ids for the next `n` rows of an event table."""
        first = self.next_row[table]
        return format_ids(ID_PREFIXES[table], np.arange(first, first + n), EVENT_WIDTH)


def _table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    schema = arrow_schema(name)
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def _labels(names: np.ndarray | tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """Look up the name of each code with Arrow (much faster than numpy strings)."""
    return pc.take(pa.array(list(names), pa.string()), pa.array(codes.astype(np.int64)))


def _by_time(events: dict[str, np.ndarray], time: str) -> dict[str, np.ndarray]:
    order = np.argsort(events[time], kind="stable")
    return {name: values[order] for name, values in events.items()}


def build_customers(history: ChunkHistory, ids: IdSpace, rng: np.random.Generator) -> pa.Table:
    """Build the customers table of a chunk."""
    n = len(history.signup)
    profile = draw_profile(rng, history.latent, history.referred_by)
    return _table(
        "customers",
        {
            "customer_id": ids.customers(np.arange(n)),
            "signup_at": timestamps(history.signup),
            "country": pa.array(profile.country, pa.string()),
            "plan": pa.array(profile.plan, pa.string()),
            "acquisition_channel": pa.array(profile.acquisition_channel, pa.string()),
            "marketing_opt_in": pa.array(profile.marketing_opt_in),
        },
    )


def build_purchases(
    history: ChunkHistory, timeline: Timeline, ids: IdSpace, rng: np.random.Generator
) -> pa.Table:
    """One row per order; status counts per customer-week come from the simulation."""
    cells = history.orders
    n_customers = len(history.signup)
    count = cells["count"].astype(np.int64)
    customer = np.repeat(cells["customer"], count)
    week = np.repeat(cells["week"], count)
    # Position of each order within its customer-week: the first ones are the returns,
    # then the cancellations (times are drawn independently, so this is not an order).
    position = np.arange(len(customer)) - np.repeat(np.cumsum(count) - count, count)
    returned = position < np.repeat(cells["returned"], count)
    cancelled = ~returned & (position < np.repeat(cells["returned"] + cells["cancelled"], count))
    status = np.where(returned, 1, np.where(cancelled, 2, 0))
    time = timeline.week_starts[week] + np.floor(rng.random(len(customer)) * WEEK).astype(np.int64)

    preference = rng.gamma(CATEGORY_CONCENTRATION * CATEGORY_POPULARITY, size=(n_customers, 8))
    preference = np.cumsum(preference, axis=1)
    draw = rng.random(len(customer)) * preference[customer, -1]
    category = np.minimum((preference[customer] < draw[:, None]).sum(axis=1), 7)

    november = time.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12 == 10
    discounted = rng.random(len(customer)) < np.where(
        november, DISCOUNT_SHARE[1], DISCOUNT_SHARE[0]
    )
    discount = np.where(discounted, rng.choice(DISCOUNT_LEVELS, len(customer)), 0.0)
    value = derive_traits(history.latent).value
    list_price = (
        value[customer]
        * CATEGORY_PRICE[category]
        * np.exp(AMOUNT_SIGMA * rng.standard_normal(len(customer)))
    )
    amount = np.round(list_price * (1.0 - discount), 2)

    favourite = rng.choice(len(ORDER_CHANNELS), n_customers, p=ORDER_CHANNEL_SHARES)
    loyal = rng.random(len(customer)) < ORDER_CHANNEL_LOYALTY
    channel = np.where(
        loyal,
        favourite[customer],
        rng.choice(len(ORDER_CHANNELS), len(customer), p=ORDER_CHANNEL_SHARES),
    )
    order = np.argsort(time, kind="stable")
    return _table(
        "purchases",
        {
            "order_id": ids.rows("purchases", len(order)),
            "customer_id": ids.customers(customer[order]),
            "ordered_at": timestamps(time[order]),
            "amount": pa.array(amount[order]),
            "currency": _labels([CURRENCY], np.zeros(len(order))),
            "category": _labels(CATEGORIES, category[order]),
            "channel": _labels(ORDER_CHANNELS, channel[order]),
            "discount": pa.array(discount[order]),
            "status": _labels(ORDER_STATUSES, status[order]),
        },
    )


def split_categories(purchases: pa.Table, categories: int, rng: np.random.Generator) -> pa.Table:
    """Purchases whose 8 departments are split into `categories` sub-categories in all.

    Sub-category `j` belongs to department `j % 8` and is drawn uniformly within it, from
    a stream of its own so that every other value of the world stays as it was.
    """
    departments = len(CATEGORIES)
    if categories == departments:
        return purchases
    department = pc.index_in(purchases["category"], value_set=pa.array(CATEGORIES)).to_numpy()
    subs_per_department = -(-(categories - np.arange(departments)) // departments)  # ceil
    sub = np.floor(rng.random(len(department)) * subs_per_department[department])
    names = [f"{CATEGORIES[j % departments]}-{j // departments + 1:03d}" for j in range(categories)]
    code = department + departments * sub.astype(np.int64)
    position = purchases.schema.get_field_index("category")
    return purchases.set_column(position, "category", _labels(names, code))


def build_tickets(history: ChunkHistory, ids: IdSpace, rng: np.random.Generator) -> pa.Table:
    """One row per support ticket."""
    t = _by_time(history.tickets, "opened")
    m = len(t["customer"])
    shares = np.cumsum(TICKET_CHANNEL_SHARES, axis=1)[t["priority"]]
    channel = np.minimum((shares < rng.random(m)[:, None]).sum(axis=1), 2)
    return _table(
        "support_tickets",
        {
            "ticket_id": ids.rows("support_tickets", m),
            "customer_id": ids.customers(t["customer"]),
            "opened_at": timestamps(t["opened"]),
            "resolved_at": timestamps(t["resolved"], missing=t["resolved"] < 0),
            "priority": _labels(TICKET_PRIORITIES, t["priority"]),
            "channel": _labels(TICKET_CHANNELS, channel),
            "csat": pa.array(t["csat"], pa.int64(), mask=t["csat"] < 0),
            "reopened": pa.array(t["reopened"], pa.int64()),
            "comment": compose_comments(rng, t["tone"], "ticket"),
        },
    )


def build_surveys(history: ChunkHistory, ids: IdSpace, rng: np.random.Generator) -> pa.Table:
    """One row per survey answer."""
    s = _by_time(history.surveys, "time")
    m = len(s["customer"])
    return _table(
        "survey_responses",
        {
            "response_id": ids.rows("survey_responses", m),
            "customer_id": ids.customers(s["customer"]),
            "responded_at": timestamps(s["time"]),
            "survey_type": _labels(SURVEY_TYPES, s["type"]),
            "score": pa.array(s["score"].astype(np.float64)),
            "comment": compose_comments(rng, s["tone"], "survey"),
        },
    )


def build_advocacy(history: ChunkHistory, ids: IdSpace, rng: np.random.Generator) -> pa.Table:
    """One row per advocacy event; converted referrals name the customer they brought."""
    a = _by_time(history.advocacy, "time")
    m = len(a["customer"])
    channel = np.empty(m, dtype=object)
    for kind, name in enumerate(ADVOCACY_TYPES):
        of_kind = a["type"] == kind
        channel[of_kind] = rng.choice(ADVOCACY_CHANNELS[name], int(of_kind.sum()))
    return _table(
        "advocacy_events",
        {
            "event_id": ids.rows("advocacy_events", m),
            "customer_id": ids.customers(a["customer"]),
            "occurred_at": timestamps(a["time"]),
            "event_type": _labels(ADVOCACY_TYPES, a["type"]),
            "referred_customer_id": ids.customers_or_null(a["referred"]),
            "rating": pa.array(a["rating"], pa.float64(), from_pandas=True),
            "channel": pa.array(channel, pa.string()),
        },
    )


def build_outreach(contacts: pd.DataFrame, ids: IdSpace) -> pa.Table:
    """One row per replayed contact of the chunk (see `features.generator.outreach`)."""
    return _table(
        "outreach",
        {
            "outreach_id": ids.rows("outreach", len(contacts)),
            "customer_id": ids.customers(contacts["number"].to_numpy() - ids.first_customer),
            "sent_at": timestamps(contacts["sent_at"].to_numpy()),
            "program": pa.array(contacts["program"], pa.string()),
            "channel": pa.array(contacts["channel"], pa.string()),
            "cost": pa.array(contacts["cost"], pa.float64(), from_pandas=True),
            "campaign": pa.array(contacts["campaign"], pa.string(), from_pandas=True),
        },
    )


def build_tables(
    history: ChunkHistory,
    timeline: Timeline,
    ids: IdSpace,
    rng: np.random.Generator,
    contacts: pd.DataFrame,
) -> dict[str, pa.Table]:
    """Build the six input tables of one chunk, keyed by table name."""
    return {
        "customers": build_customers(history, ids, rng),
        "purchases": build_purchases(history, timeline, ids, rng),
        "support_tickets": build_tickets(history, ids, rng),
        "survey_responses": build_surveys(history, ids, rng),
        "advocacy_events": build_advocacy(history, ids, rng),
        "outreach": build_outreach(contacts, ids),
    }
