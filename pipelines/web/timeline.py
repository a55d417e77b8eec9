"""A customer's history, newest first: orders, tickets, surveys and advocacy.

Read from the curated store version the run was scored on (DuckDB views over its
Parquet files, filtered by customer id), so the page shows the data behind the scores,
including what happened after the as-of date, which the model did not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.views import open_version

MAX_EVENTS = 500
CODE_COLUMNS = {"category", "channel", "status", "priority", "survey_type", "event_type"}
"""Columns holding codes ("social_mention"), shown in words ("social mention")."""
EVENT_TABLES = {
    # table: (kind shown, time column, columns described, in order)
    "purchases": (
        "Order",
        "ordered_at",
        ("order_id", "amount", "currency", "category", "channel", "discount", "status"),
    ),
    "support_tickets": (
        "Ticket",
        "opened_at",
        ("ticket_id", "priority", "channel", "resolved_at", "csat", "reopened", "comment"),
    ),
    "survey_responses": (
        "Survey",
        "responded_at",
        ("response_id", "survey_type", "score", "comment"),
    ),
    "advocacy_events": (
        "Advocacy",
        "occurred_at",
        ("event_id", "event_type", "rating", "referred_customer_id", "channel"),
    ),
}


@dataclass(frozen=True)
class Event:
    """One line of the timeline."""

    at: pd.Timestamp
    kind: str
    details: str
    after_as_of: bool


def value_text(value: object) -> str:
    """A stored value as a person reads it: "10.5", "2026-03-01 14:00", "urgent"."""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def code_text(column: str, value: object) -> str:
    """A value as a person reads it, codes with spaces for underscores; ids stay as stored."""
    text = value_text(value)
    return text.replace("_", " ") if column in CODE_COLUMNS else text


def details_text(row: pd.Series, columns: tuple[str, ...]) -> str:
    """The known values of an event, each with its column name: "status completed · ..."."""
    return " · ".join(
        f"{column.replace('_', ' ')} {code_text(column, row[column])}"
        for column in columns
        if not pd.isna(row[column]) and row[column] != ""
    )


def customer_timeline(version: Path, customer_id: str, as_of: pd.Timestamp) -> list[Event]:
    """The customer's events in the store version, newest first (at most `MAX_EVENTS`)."""
    connection = open_version(version)
    events = []
    for table, (kind, time_column, columns) in EVENT_TABLES.items():
        rows = connection.execute(
            f"SELECT * FROM {table} WHERE customer_id = ? ORDER BY {time_column} DESC LIMIT ?",
            [customer_id, MAX_EVENTS],
        ).df()
        events += [
            Event(row[time_column], kind, details_text(row, columns), row[time_column] >= as_of)
            for _, row in rows.iterrows()
        ]
    connection.close()
    return sorted(events, key=lambda event: event.at, reverse=True)[:MAX_EVENTS]
