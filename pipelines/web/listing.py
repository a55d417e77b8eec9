"""Filtering a run's ranked list: the filter a person sets, and the queries that answer it.

A run's list is loaded once into an in-memory DuckDB table (a million customers take a
few seconds), with the topic of each reason beside it (`models.explain
.reason_topics`: "Raises: gave NPS #"), so every filter, count and page afterwards is
one SQL query over that table. Values from a request only ever travel as query
parameters, never inside the SQL text.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from models.explain import reason_topics
from models.scoring.ranked_list import list_columns_of
from models.scoring.report import TOP_COLUMNS
from models.scoring.schemas import REASON_COLUMNS

PAGE_SIZE = 50
MAX_SEARCH = 100
TOPIC_COLUMNS = tuple(f"topic_{i}" for i in range(1, len(REASON_COLUMNS) + 1))
ENUM_TYPES = {"segment": "segment_name", "suggested_program": "program_name"}
"""Columns of the list stored as DuckDB ENUMs, and the names of their types."""
TOPIC_TYPE = "topic_name"
PAGE_COLUMNS = TOP_COLUMNS  # the page shows the columns the report shows


def as_text(columns: tuple[str, ...]) -> str:
    """The columns to select, those stored as ENUMs turned back into text."""
    return ", ".join(f"{c}::VARCHAR AS {c}" if c in ENUM_TYPES else c for c in columns)


@dataclass(frozen=True)
class ListFilter:
    """Which customers of a run a person wants to see or download (all by default)."""

    segment: str | None = None
    program: str | None = None
    contactable: bool | None = None
    min_probability: float = 0.0
    topic: str | None = None
    search: str = ""
    include_not_contactable: bool = False
    """Downloads leave out customers who may not be contacted, unless this is ticked."""

    def where(self, for_download: bool = False) -> tuple[str, list[Any]]:
        """The SQL condition of the filter and its parameters."""
        conditions = ["TRUE"]
        parameters: list[Any] = []
        for condition, value in (
            (f"segment = ?::{ENUM_TYPES['segment']}", self.segment),
            (f"suggested_program = ?::{ENUM_TYPES['suggested_program']}", self.program),
            ("contactable = ?", self.contactable),
            ("probability >= ?", self.min_probability or None),
            (f"?::{TOPIC_TYPE} IN ({', '.join(TOPIC_COLUMNS)})", self.topic),
            ("contains(customer_key, ?)", self.search.lower() or None),
        ):
            if value is not None:
                conditions.append(condition)
                parameters.append(value)
        if for_download:
            conditions.append("NOT control")  # held out to measure the outreach
        if for_download and not self.include_not_contactable:
            conditions.append("contactable")
        return " AND ".join(conditions), parameters

    def described(self) -> dict[str, Any]:
        """The filter's settings that differ from showing everyone (for the audit log)."""
        return {
            name: value
            for name, value in vars(self).items()
            if value != getattr(ListFilter(), name)
        }


@dataclass(frozen=True)
class Choices:
    """The values a run's filters can take, in the order they are offered."""

    segments: list[str]
    programs: list[str]
    topics: list[str]


@dataclass(frozen=True)
class FilterForm:
    """A filter read from a request's query string, and what was wrong with it."""

    filter: ListFilter
    errors: list[str]


def _choice(value: str, allowed: list[str], label: str, errors: list[str]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        errors.append(f"There is no {label} '{value}' in this run.")
        return None
    return value


def _percent(value: str, errors: list[str]) -> float:
    """A probability from a percentage typed by a person ("12.5" -> 0.125)."""
    if not value.strip():
        return 0.0
    try:
        percent = float(value.replace(",", ".").rstrip("% "))
    except ValueError:
        percent = math.nan
    if not 0 <= percent <= 100:
        errors.append(f"The minimum chance must be a percentage from 0 to 100, not '{value}'.")
        return 0.0
    return percent / 100


def read_filter(query: Mapping[str, str], choices: Choices) -> FilterForm:
    """The filter of a query string; unknown or malformed values are left out and reported."""
    errors: list[str] = []
    contactable = {"yes": True, "no": False}.get(query.get("contactable", ""))
    read = ListFilter(
        segment=_choice(query.get("segment", ""), choices.segments, "segment", errors),
        program=_choice(query.get("program", ""), choices.programs, "program", errors),
        contactable=contactable,
        min_probability=_percent(query.get("min_chance", ""), errors),
        topic=_choice(query.get("topic", ""), choices.topics, "reason topic", errors),
        search=query.get("q", "").strip()[:MAX_SEARCH],
        include_not_contactable=bool(query.get("include_not_contactable")),
    )
    return FilterForm(read, errors)


@dataclass(frozen=True)
class SegmentCount:
    """Customers of one segment that pass a filter, and how many may be contacted."""

    segment: str
    customers: int
    contactable: int
    control: int


class RunList:
    """One run's ranked list in an in-memory DuckDB table, ready to filter.

    Segments, programs and reason topics are stored as DuckDB ENUMs (small integer
    codes), and customer ids also in lower case: counting and filtering a million
    customers takes tens of milliseconds. Queries turn the ENUMs back into text.
    """

    def __init__(self, ranked_list: Path, segment_order: list[str]) -> None:
        self._db = duckdb.connect()
        self._db.execute("SET TimeZone = 'UTC'")
        self._db.execute("CREATE TABLE loaded AS SELECT * FROM read_parquet(?)", [str(ranked_list)])
        # Runs scored before control groups existed held nobody out.
        self._db.execute("ALTER TABLE loaded ADD COLUMN IF NOT EXISTS control BOOL DEFAULT false")
        reasons = self._db.execute(
            f"SELECT DISTINCT reason FROM (SELECT unnest([{', '.join(REASON_COLUMNS)}]) AS reason "
            "FROM loaded) WHERE reason IS NOT NULL AND reason <> ''"
        ).df()["reason"]
        topics = pd.DataFrame({"reason": reasons, "topic": reason_topics(reasons)})
        self._db.register("reason_topic", topics)
        for column, type_name in ENUM_TYPES.items():
            self._db.execute(
                f"CREATE TYPE {type_name} AS ENUM (SELECT DISTINCT {column} FROM loaded "
                f"WHERE {column} IS NOT NULL)"
            )
        self._db.execute(
            f"CREATE TYPE {TOPIC_TYPE} AS ENUM (SELECT DISTINCT topic FROM reason_topic)"
        )
        as_enums = ", ".join(f"{c}::{t} AS {c}" for c, t in ENUM_TYPES.items())
        topic_columns = ", ".join(
            f"t{i}.topic::{TOPIC_TYPE} AS {t}" for i, t in enumerate(TOPIC_COLUMNS, start=1)
        )
        joins = " ".join(
            f"LEFT JOIN reason_topic t{i} ON loaded.{reason} = t{i}.reason"
            for i, reason in enumerate(REASON_COLUMNS, start=1)
        )
        self._db.execute(
            f"CREATE TABLE ranked AS SELECT loaded.* REPLACE ({as_enums}), "
            f"lower(customer_id) AS customer_key, {topic_columns} FROM loaded {joins} ORDER BY rank"
        )
        uplift = "uplift" in self._db.execute("SELECT * FROM loaded LIMIT 0").df().columns
        self.columns = list_columns_of(uplift)
        """The list's columns: those of a run scored with an uplift model have its columns."""
        self._db.execute("DROP TABLE loaded")
        self._db.unregister("reason_topic")
        present = set(self._column("segment"))
        self.choices = Choices(
            segments=[s for s in segment_order if s in present]
            + sorted(present - set(segment_order)),
            programs=sorted(self._column("suggested_program")),
            topics=sorted(topics["topic"].unique()),
        )

    def _query(self, sql: str, parameters: list[Any]) -> pd.DataFrame:
        """Run one query on a cursor of its own (requests run in several threads).

        Results travel through Arrow: a hundred thousand rows convert in a fraction of the
        time a direct conversion to pandas takes.
        """
        with self._db.cursor() as cursor:
            return cursor.sql(sql, params=parameters).to_arrow_table().to_pandas()

    def _column(self, name: str) -> list[str]:
        values = self._query(f"SELECT DISTINCT {name}::VARCHAR AS value FROM ranked", [])
        return values["value"].tolist()

    def counts(self, chosen: ListFilter) -> list[SegmentCount]:
        """Customers passing the filter per segment (segments in the run's order)."""
        where, parameters = chosen.where()
        found = self._query(
            "SELECT segment::VARCHAR AS segment, count(*) AS customers, "
            f"count_if(contactable) AS contactable, count_if(control) AS control "
            f"FROM ranked WHERE {where} GROUP BY segment",
            parameters,
        ).set_index("segment")
        return [
            SegmentCount(
                name,
                int(found.loc[name, "customers"]),
                int(found.loc[name, "contactable"]),
                int(found.loc[name, "control"]),
            )
            for name in self.choices.segments
            if name in found.index
        ]

    def page(self, chosen: ListFilter, number: int) -> pd.DataFrame:
        """Page `number` (from 1) of the customers passing the filter, best first.

        With whether each is in the control group, shown beside may be contacted.
        """
        where, parameters = chosen.where()
        return self._query(
            f"SELECT {as_text(PAGE_COLUMNS)}, control FROM ranked WHERE {where} "
            "ORDER BY rank LIMIT ? OFFSET ?",
            [*parameters, PAGE_SIZE, (number - 1) * PAGE_SIZE],
        )

    def download(self, chosen: ListFilter) -> pd.DataFrame:
        """The rows of a download: the list's own columns and types, best first."""
        where, parameters = chosen.where(for_download=True)
        rows = self._query(
            f"SELECT {as_text(self.columns)} FROM ranked WHERE {where} ORDER BY rank", parameters
        )
        return rows.assign(as_of=rows["as_of"].dt.tz_convert("UTC"))  # DuckDB says Etc/UTC

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        """One customer's row of the list, or None when the run did not score them."""
        rows = self._query(
            f"SELECT {as_text(self.columns)} FROM ranked WHERE customer_id = ?", [customer_id]
        )
        return rows.iloc[0].to_dict() if len(rows) else None


class RunLists:
    """The lists of the most recently used runs, loaded once each (runs never change)."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._loaded: OrderedDict[Path, RunList] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, folder: Path, segment_order: list[str]) -> RunList:
        """The list of the run in `folder`, loading it when it is not loaded yet."""
        with self._lock:
            if folder not in self._loaded:
                self._loaded[folder] = RunList(folder / "ranked_list.parquet", segment_order)
                while len(self._loaded) > self._keep:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(folder)
            return self._loaded[folder]
