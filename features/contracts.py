"""The written data contracts of the six input tables.

Each table lists its columns (contract name, kind, required or optional, meaning).
`build_schema` turns a table's contract into a pandera schema that checks the typed
rows; every check carries the rule name that quarantined rows are reported under.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow

from features.known_ids import KnownIds

ColumnKind = Literal["id", "text", "timestamp", "number", "integer", "boolean"]

TABLE_NAMES = (
    "customers",
    "purchases",
    "support_tickets",
    "survey_responses",
    "advocacy_events",
    "outreach",
)
# Tables a source may lack: a store without them holds them empty (see `features.store`).
OPTIONAL_TABLES = ("support_tickets", "survey_responses", "advocacy_events", "outreach")

ORDER_STATUSES = ("completed", "returned", "cancelled")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
SURVEY_TYPES = ("nps", "csat", "ces")
SURVEY_SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
ADVOCACY_TYPES = (
    "referral",
    "review",
    "testimonial",
    "case_study",
    "reference_call",
    "social_mention",
    "community_post",
)

# Stored types of the curated store, one per column kind.
STORE_DTYPES: dict[ColumnKind, str] = {
    "id": "str",
    "text": "str",
    "timestamp": "datetime64[us, UTC]",
    "number": "float64",
    "integer": "Int64",
    "boolean": "boolean",
}
# Parquet types of the curated store, one per column kind; they match STORE_DTYPES.
ARROW_TYPES: dict[ColumnKind, arrow.DataType] = {
    "id": arrow.string(),
    "text": arrow.string(),
    "timestamp": arrow.timestamp("us", tz="UTC"),
    "number": arrow.float64(),
    "integer": arrow.int64(),
    "boolean": arrow.bool_(),
}


@dataclass(frozen=True)
class ColumnContract:
    """One column of an input table."""

    name: str
    kind: ColumnKind
    required: bool
    description: str


@dataclass(frozen=True)
class TableContract:
    """One input table: its columns, its unique id and the time its rows happened."""

    name: str
    id_column: str
    time_column: str
    columns: tuple[ColumnContract, ...]

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns without which the table cannot be used at all."""
        return tuple(column.name for column in self.columns if column.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        """All contract columns, in contract order."""
        return tuple(column.name for column in self.columns)

    def kind_of(self, column: str) -> ColumnKind:
        """The kind of a contract column."""
        return next(c.kind for c in self.columns if c.name == column)


def _col(name: str, kind: ColumnKind, required: bool, description: str) -> ColumnContract:
    return ColumnContract(name, kind, required, description)


CONTRACTS: dict[str, TableContract] = {
    "customers": TableContract(
        "customers",
        "customer_id",
        "signup_at",
        (
            _col("customer_id", "id", True, "Unique customer identifier."),
            _col("signup_at", "timestamp", True, "When the customer signed up."),
            _col("country", "text", False, "Country code of the customer."),
            _col("plan", "text", False, "Subscription or loyalty plan."),
            _col("acquisition_channel", "text", False, "How the customer was acquired."),
            _col("marketing_opt_in", "boolean", False, "Whether marketing may contact them."),
        ),
    ),
    "purchases": TableContract(
        "purchases",
        "order_id",
        "ordered_at",
        (
            _col("order_id", "id", True, "Unique order identifier."),
            _col("customer_id", "id", True, "The customer who ordered."),
            _col("ordered_at", "timestamp", True, "When the order was placed."),
            _col("amount", "number", True, "Order value, zero or more."),
            _col("currency", "text", False, "ISO currency code of the amount."),
            _col("category", "text", False, "Product category."),
            _col("channel", "text", False, "Sales channel (web, app, store)."),
            _col("discount", "number", False, "Discount share of the list price, 0 to 1."),
            _col("status", "text", False, "completed, returned or cancelled."),
        ),
    ),
    "support_tickets": TableContract(
        "support_tickets",
        "ticket_id",
        "opened_at",
        (
            _col("ticket_id", "id", True, "Unique ticket identifier."),
            _col("customer_id", "id", True, "The customer who opened the ticket."),
            _col("opened_at", "timestamp", True, "When the ticket was opened."),
            _col("resolved_at", "timestamp", False, "When it was resolved; empty while open."),
            _col("priority", "text", False, "low, normal, high or urgent."),
            _col("channel", "text", False, "Contact channel (email, chat, phone)."),
            _col("csat", "integer", False, "Satisfaction with the ticket, 1 to 5."),
            _col("reopened", "integer", False, "How often the ticket was reopened."),
            _col("comment", "text", False, "The customer's free-text comment on the ticket."),
        ),
    ),
    "survey_responses": TableContract(
        "survey_responses",
        "response_id",
        "responded_at",
        (
            _col("response_id", "id", True, "Unique response identifier."),
            _col("customer_id", "id", True, "The customer who answered."),
            _col("responded_at", "timestamp", True, "When the answer was given."),
            _col("survey_type", "text", True, "nps (0-10), csat (1-5) or ces (1-7)."),
            _col("score", "number", True, "A whole number within the range of its survey type."),
            _col("comment", "text", False, "Free-text comment."),
        ),
    ),
    "advocacy_events": TableContract(
        "advocacy_events",
        "event_id",
        "occurred_at",
        (
            _col("event_id", "id", True, "Unique event identifier."),
            _col("customer_id", "id", True, "The advocating customer."),
            _col("occurred_at", "timestamp", True, "When the advocacy happened."),
            _col("event_type", "text", True, ", ".join(ADVOCACY_TYPES) + "."),
            _col("referred_customer_id", "id", False, "For referrals: the new customer."),
            _col("rating", "number", False, "For reviews: the star rating, 1 to 5."),
            _col("channel", "text", False, "Where it happened (site, app store, social)."),
        ),
    ),
    "outreach": TableContract(
        "outreach",
        "outreach_id",
        "sent_at",
        (
            _col("outreach_id", "id", True, "Unique identifier of one contact."),
            _col("customer_id", "id", True, "The customer contacted."),
            _col("sent_at", "timestamp", True, "When the ask went out."),
            _col("program", "text", True, "The outreach program, as in the scoring run's list."),
            _col("channel", "text", True, "How they were asked (email, phone, in_app, ...)."),
            _col("cost", "number", False, "What this contact cost, zero or more."),
            _col("campaign", "text", False, "The campaign the contact belonged to."),
        ),
    ),
}


def _rule(name: str, test: Callable[[pd.Series], pd.Series]) -> pa.Check:
    """A element-wise check reported under `name`; missing values pass (nullability is apart)."""
    return pa.Check(test, name=name, ignore_na=True)


def _column_checks(table: TableContract, as_of: pd.Timestamp) -> dict[str, list[pa.Check]]:
    checks: dict[str, list[pa.Check]] = {
        table.time_column: [_rule("future_date", lambda s: s <= as_of)]
    }
    extra: dict[str, dict[str, list[pa.Check]]] = {
        "purchases": {
            "amount": [_rule("negative_amount", lambda s: s >= 0)],
            "discount": [_rule("discount_out_of_range", lambda s: s.between(0, 1))],
            "status": [_rule("unknown_status", lambda s: s.isin(ORDER_STATUSES))],
        },
        "support_tickets": {
            "priority": [_rule("unknown_priority", lambda s: s.isin(TICKET_PRIORITIES))],
            "csat": [_rule("csat_out_of_range", lambda s: s.between(1, 5))],
            "reopened": [_rule("negative_reopened", lambda s: s >= 0)],
            "resolved_at": [_rule("future_date", lambda s: s <= as_of)],
        },
        "survey_responses": {
            "survey_type": [_rule("unknown_survey_type", lambda s: s.isin(SURVEY_TYPES))],
        },
        "advocacy_events": {
            "event_type": [_rule("unknown_event_type", lambda s: s.isin(ADVOCACY_TYPES))],
            "rating": [_rule("rating_out_of_range", lambda s: s.between(1, 5))],
        },
        "outreach": {"cost": [_rule("negative_cost", lambda s: s >= 0)]},
    }
    for column, column_checks in extra.get(table.name, {}).items():
        checks.setdefault(column, []).extend(column_checks)
    return checks


def _score_in_range(frame: pd.DataFrame) -> pd.Series:
    low = frame["survey_type"].map({k: v[0] for k, v in SURVEY_SCORE_RANGES.items()})
    high = frame["survey_type"].map({k: v[1] for k, v in SURVEY_SCORE_RANGES.items()})
    unknown_type = low.isna()
    return unknown_type | frame["score"].isna() | frame["score"].between(low, high)


def _score_is_whole(frame: pd.DataFrame) -> pd.Series:
    score = frame["score"]
    return score.isna() | (score == score.round())


def _resolved_after_opened(frame: pd.DataFrame) -> pd.Series:
    return frame["resolved_at"].isna() | (frame["resolved_at"] >= frame["opened_at"])


# Table-wide checks: rule name, the column it is reported on, and the test.
TABLE_CHECKS: dict[str, list[tuple[str, str, Callable[[pd.DataFrame], pd.Series]]]] = {
    "survey_responses": [
        ("score_not_whole", "score", _score_is_whole),
        ("score_out_of_range", "score", _score_in_range),
    ],
    "support_tickets": [("resolved_before_opened", "resolved_at", _resolved_after_opened)],
}


def arrow_schema(table: TableContract) -> arrow.Schema:
    """The Parquet schema of a curated table."""
    return arrow.schema([(column.name, ARROW_TYPES[column.kind]) for column in table.columns])


def build_schema(
    table: TableContract,
    as_of: pd.Timestamp,
    known_customers: KnownIds | None = None,
    unique_ids: bool = True,
) -> pa.DataFrameSchema:
    """The pandera schema for the typed rows of one table (all contract columns present).

    `known_customers` are the customer ids that passed the customers contract; rows of
    other tables that name anyone else fail the `unknown_customer` rule. Without
    `unique_ids`, ids are not checked for uniqueness (rows sharing an id are judged
    apart, see `features.ingest.shared`).
    """
    per_column = _column_checks(table, as_of)
    if known_customers is not None and table.name != "customers":
        known = known_customers
        per_column.setdefault("customer_id", []).append(
            _rule(
                "unknown_customer",
                lambda s: pd.Series(
                    known.contains(arrow.array(s, type=arrow.string())), index=s.index
                ),
            )
        )
    columns = {
        column.name: pa.Column(
            STORE_DTYPES[column.kind],
            checks=per_column.get(column.name, []),
            nullable=not column.required,
            unique=unique_ids and column.name == table.id_column,
        )
        for column in table.columns
    }
    wide = [pa.Check(test, name=name) for name, _, test in TABLE_CHECKS.get(table.name, [])]
    return pa.DataFrameSchema(columns, checks=wide, strict=True, coerce=False, name=table.name)


def contracts_markdown() -> str:
    """The contracts as Markdown tables, for data/README.md (kept in sync by a test)."""
    lines: list[str] = []
    for table in CONTRACTS.values():
        lines += [
            f"### {table.name}",
            "",
            f"Unique id: `{table.id_column}`; time of the row: `{table.time_column}`."
            + (" Optional table: a source may lack it." if table.name in OPTIONAL_TABLES else ""),
            "",
            "| column | kind | required | meaning |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | {c.description} |"
            for c in table.columns
        ]
        lines.append("")
    return "\n".join(lines)


def with_all_columns(typed: pd.DataFrame, contract: TableContract) -> pd.DataFrame:
    """The table with every contract column, in contract order; absent optional ones empty.

    The curated store always has the full contract schema, so the SQL downstream never
    depends on which optional columns a source happened to provide.
    """
    return pd.DataFrame(
        {
            column.name: typed[column.name]
            if column.name in typed.columns
            else pd.Series(None, index=typed.index, dtype=STORE_DTYPES[column.kind])
            for column in contract.columns
        },
        index=typed.index,
    )
