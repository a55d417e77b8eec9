"""Point-in-time features on hand-checkable worlds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.build import as_cutoffs, build_features, family_sql, register_events
from features.contracts import ADVOCACY_TYPES
from features.definitions import ADVOCACY_PLURALS, FEATURE_NAMES
from features.ingest import IngestSettings, ingest
from features.store import current_version
from features.views import open_frames, open_version
from tests.worlds import clean_tables, typed

CUTOFF = pd.Timestamp("2024-03-15T00:00:00Z")


def features_of(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp = CUTOFF) -> pd.DataFrame:
    return build_features(open_frames(typed(tables)), [cutoff]).set_index("customer_id")


def test_columns_follow_the_registry() -> None:
    table = build_features(open_frames(typed(clean_tables())), [CUTOFF])
    assert list(table.columns) == ["customer_id", "cutoff", *FEATURE_NAMES]
    assert set(ADVOCACY_PLURALS) == set(ADVOCACY_TYPES)


def test_population_needs_signup_and_a_recent_order() -> None:
    tables = clean_tables()
    # C3 never ordered: not eligible. C2's only order is older than 365 days at a later cutoff.
    late = pd.Timestamp("2025-02-15T00:00:00Z")
    assert features_of(tables).index.tolist() == ["C1", "C2"]
    assert features_of(tables, late).index.tolist() == []


def test_hand_checked_values() -> None:
    f = features_of(clean_tables())
    c1, c2 = f.loc["C1"], f.loc["C2"]
    # C1: completed order 10.5 on Jan 1 and a cancelled one on Mar 1 (not an order).
    assert (c1["orders_90d"], c1["orders_all"], c1["revenue_90d"]) == (1, 1, 10.5)
    assert c1["days_since_last_order"] == pytest.approx(73.5833, abs=1e-3)
    assert c1["avg_order_value_365d"] == 10.5
    assert c1["discount_share_365d"] == 1.0
    # C2: one returned order (42 days old, so the return is known), revenue 0.
    assert (c2["returned_orders_365d"], c2["return_share_365d"], c2["revenue_all"]) == (1, 1.0, 0.0)
    assert pd.isna(c2["avg_order_value_365d"])
    # Tickets: C1's was resolved in 24 h with csat 5; C2's urgent one is still open.
    assert (c1["hours_to_resolve_365d"], c1["ticket_csat_365d"], c1["open_tickets"]) == (24, 5, 0)
    assert (c2["open_tickets"], c2["open_urgent_tickets"], c2["slow_tickets_365d"]) == (1, 1, 1)
    assert pd.isna(c2["hours_to_resolve_365d"])
    # Surveys: C1 answered NPS 10 with a happy comment; C2 never answered NPS.
    assert (c1["last_nps"], c1["is_promoter"], c1["is_detractor"]) == (10, 1, 0)
    assert pd.isna(c2["last_nps"]) and c2["is_promoter"] == 0 and c2["last_csat"] == 4
    assert c1["comment_sentiment_365d"] > 0.5
    # No advocacy yet before the cutoff; documented values for no history.
    assert c1["past_referrals"] == 0 and pd.isna(c1["days_since_last_advocacy"])


def test_customer_without_history_gets_documented_values() -> None:
    tables = clean_tables()
    for name in ("support_tickets", "survey_responses", "advocacy_events"):
        tables[name] = tables[name].iloc[0:0]
    f = features_of(tables).loc["C2"]
    assert f["tickets_365d"] == 0 and f["open_tickets"] == 0 and f["surveys_365d"] == 0
    assert pd.isna(f["days_since_last_ticket"]) and pd.isna(f["last_nps"])
    assert pd.isna(f["comment_sentiment_365d"]) and f["negative_comments_365d"] == 0


def test_events_exactly_at_the_cutoff_are_excluded() -> None:
    tables = clean_tables()
    at_cutoff = CUTOFF.isoformat()
    tables["purchases"].loc[len(tables["purchases"])] = [
        "O9",
        "C1",
        at_cutoff,
        "50",
        "",
        "completed",
    ]
    tables["survey_responses"].loc[3] = ["S9", "C1", at_cutoff, "nps", "0", "awful"]
    f = features_of(tables).loc["C1"]
    assert (f["orders_all"], f["revenue_all"], f["last_nps"]) == (1, 10.5, 10)


def test_ticket_resolved_after_the_cutoff_is_open_at_the_cutoff() -> None:
    tables = clean_tables()
    tables["support_tickets"].loc[0, "resolved_at"] = "2024-03-20T00:00:00Z"
    f = features_of(tables).loc["C1"]
    assert f["open_tickets"] == 1
    assert pd.isna(f["ticket_csat_365d"]) and pd.isna(f["hours_to_resolve_365d"])
    assert f["slow_tickets_365d"] == 1  # open for 73 days at the cutoff


def test_recent_return_is_not_yet_known() -> None:
    tables = clean_tables()
    tables["purchases"].loc[1, "ordered_at"] = "2024-03-01T00:00:00Z"  # 14 days old, returned
    f = features_of(tables).loc["C2"]
    assert f["returned_orders_365d"] == 0 and pd.isna(f["return_share_365d"])


def test_time_zones_are_resolved_before_the_cutoff_comparison(tmp_path: Path) -> None:
    tables = clean_tables()
    # 23:30 at UTC-2 on the 14th is 01:30 UTC on the 15th: after the cutoff.
    tables["purchases"].loc[0, "ordered_at"] = "2024-03-14T23:30:00-02:00"
    tables["purchases"].loc[2, "ordered_at"] = "2024-03-14T23:30:00+02:00"
    tables["purchases"].loc[2, "status"] = "completed"
    source = tmp_path / "src"
    source.mkdir()
    for name, frame in tables.items():
        frame.to_csv(source / f"{name}.csv", index=False)
    ingest(IngestSettings(source=source, store=tmp_path / "store", as_of="2025-01-01T00:00:00Z"))
    f = build_features(open_version(current_version(tmp_path / "store")), [CUTOFF]).set_index(
        "customer_id"
    )
    assert f.loc["C1", "orders_all"] == 1
    assert f.loc["C1", "days_since_last_order"] == pytest.approx(2.5 / 24)


def test_an_events_age_counts_whole_seconds_as_date_diff_does() -> None:
    # Ages come from epoch microseconds (fast), not date_diff (ICU's calendar): the same
    # seconds, also for fractions of a second on either side and before 1970.
    times = [
        "2024-03-15T00:00:00.2Z",
        "2024-03-14T23:59:59.999999Z",
        "2024-03-14T23:59:58.4Z",
        "2023-03-26T01:30:00.5+02:00",
        "1969-12-31T23:59:59.5Z",
        "1900-01-01T00:00:00.7Z",
    ]
    tables = clean_tables()
    tables["purchases"] = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(times))],
            "customer_id": [f"C{i}" for i in range(len(times))],
            "ordered_at": times,
            "amount": "1",
        }
    )
    connection = open_frames(typed(tables))
    cutoff = "2024-03-15T00:00:00.3Z"
    connection.register("cutoffs", as_cutoffs([cutoff]))
    register_events(connection)
    ages = connection.execute(
        f"SELECT customer_id, age_days * 86400 AS age, date_diff('second', ordered_at, "
        f"TIMESTAMPTZ '{cutoff}') AS expected "
        f"FROM ({family_sql('purchases', {'age_days': 'max(age_days)'})}) "
        "JOIN purchases USING (customer_id) ORDER BY customer_id"
    ).df()
    assert ages["age"].tolist() == ages["expected"].astype(float).tolist()
    assert ages["age"].iloc[:3].tolist() == [0, 1, 2]
