"""Which features a source can support, one definition for training, scoring and check-source.

A feature reads its family's table and the optional columns in its registry entry's
`needs`; a derived feature reads what the features it is computed from read. A feature
whose source the store lacks is left out of the feature table and of the model, rather
than filled with zeros that pretend to be facts: a shop without a ticket table has not
"0 tickets", and a ticket without `resolved_at` is not "open". A table present but
without rows is a source of true zeros (a new advocacy program has no events yet).

A source is described as `features.store.present_sources` records it: table -> the
contract columns its files had; a table the source lacked is not a key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

from features.contracts import CONTRACTS
from features.definitions import FEATURE_NAMES, FEATURES, HELPERS, Family, feature

Present = Mapping[str, Sequence[str]]
"""Table -> the contract columns the source had (`features.store.present_sources`)."""

FAMILY_SOURCES: dict[Family, str] = {
    "profile": "customers.customer_id",
    "purchases": "purchases.order_id",
    "support": "support_tickets.ticket_id",
    "surveys": "survey_responses.response_id",
    "comments": "survey_responses.comment|support_tickets.comment",
    "advocacy": "advocacy_events.event_id",
}
"""The records a family's events come from (`a|b`: either will do)."""

FEATURE_TABLES: tuple[str, ...] = tuple(
    table
    for table in CONTRACTS
    if any(
        record.startswith(f"{table}.")
        for records in FAMILY_SOURCES.values()
        for record in records.split("|")
    )
)
"""The tables features are built from (`outreach`, for one, is read only to evaluate)."""

EVERYTHING: dict[str, list[str]] = {name: list(c.column_names) for name, c in CONTRACTS.items()}
"""A source with every table and column of the contracts (a generated world)."""


@cache
def needs(name: str) -> tuple[str, ...]:
    """What a feature (or helper aggregate) reads: `table.column`s (`a|b`: either), all needed."""
    family = _family_of()[name]
    if family != "derived":
        own = feature(name).needs if name in FEATURE_NAMES else ()
        return (FAMILY_SOURCES[family], *own)
    inputs = (set(re.findall(r"\w+", feature(name).sql)) & set(_family_of())) - {name}
    return tuple(dict.fromkeys(need for word in sorted(inputs) for need in needs(word)))


@cache
def _family_of() -> dict[str, Family]:
    helpers = {name: family for family, named in HELPERS.items() for name in named}
    return {f.name: f.family for f in FEATURES} | helpers


def _has(present: Present, record: str) -> bool:
    table, _, column = record.partition(".")
    return column in present.get(table, ())


def _has_one(present: Present, need: str) -> bool:
    return any(_has(present, record) for record in need.split("|"))


def lacking(name: str, present: Present) -> list[str]:
    """What the source lacks for a feature, as a person names it.

    E.g. "support_tickets", "support_tickets.resolved_at" or "survey_responses or
    support_tickets.comment".
    """
    missing = (
        " or ".join(_absent_part(present, record) for record in need.split("|"))
        for need in needs(name)
        if not _has_one(present, need)
    )
    return list(dict.fromkeys(missing))


def _absent_part(present: Present, record: str) -> str:
    table = record.partition(".")[0]
    return record if table in present else table


def available_features(present: Present) -> tuple[str, ...]:
    """The features the source supports, in registry order."""
    return tuple(name for name in FEATURE_NAMES if not lacking(name, present))


def available_families(present: Present) -> list[Family]:
    """The feature families whose events the source has."""
    return [family for family, need in FAMILY_SOURCES.items() if _has_one(present, need)]


def left_out(present: Present, names: Iterable[str] = FEATURE_NAMES) -> dict[str, list[str]]:
    """What the source lacks -> the features left out for it (a feature may lack several)."""
    result: dict[str, list[str]] = {}
    for name in names:
        for missing in lacking(name, present):
            result.setdefault(missing, []).append(name)
    return result


def tables_read(names: Iterable[str], present: Present) -> list[str]:
    """The source's tables the named features read, in contract order."""
    read = {
        record.partition(".")[0]
        for name in names
        for need in needs(name)
        for record in need.split("|")
        if _has(present, record)
    }
    return [table for table in CONTRACTS if table in read]


def sources_in_words(names: Sequence[str], present: Present) -> str:
    """One line on what features `names` learn from, and what the source lacked.

    E.g. "customers, purchases, advocacy_events; left out for lack of data:
    support_tickets (16 features), survey_responses (13 features)".
    """
    text = ", ".join(tables_read(names, present))
    missing = left_out(present)
    if missing:
        text += "; left out for lack of data: " + ", ".join(
            f"{what} ({_features_in_words(features)})" for what, features in missing.items()
        )
    return text


def _features_in_words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} features"
