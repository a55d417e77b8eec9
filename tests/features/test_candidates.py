"""Feature ideas computed as the builder would compute them, before they join the registry."""

from __future__ import annotations

import pandas as pd
import pytest
from duckdb import DuckDBPyConnection

from features.build import build_features
from features.candidates import candidate_values
from features.definitions import FEATURES, HELPERS, Feature
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.store import current_version
from features.views import open_frames, open_version
from tests.worlds import clean_tables, typed

CUTOFF = pd.Timestamp("2024-03-15T00:00:00Z")
HELPER_NAMES = {name for helpers in HELPERS.values() for name in helpers}
FAST_TICKETS = Feature(
    "fast_tickets_90d",
    "support",
    "int",
    "Tickets resolved within 24 hours, opened in the 90 days before the cutoff.",
    "{value:.0f} tickets solved within a day in the last 90 days",
    "count(*) FILTER (WHERE age_days <= 90 AND resolved_at < cutoff "
    "AND date_diff('second', opened_at, resolved_at) <= 86400)",
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[DuckDBPyConnection, pd.DataFrame]:
    """A generated store and its feature table at two cutoffs."""
    folder = tmp_path_factory.mktemp("candidates")
    generate_world(GeneratorSettings(customers=400, seed=5), folder / "world")
    ingest(
        IngestSettings(
            source=folder / "world", store=folder / "store", as_of="2026-11-01T00:00:00Z"
        )
    )
    connection = open_version(current_version(folder / "store"))
    return connection, build_features(connection, ["2025-06-01", "2026-03-01"])


@pytest.mark.parametrize(
    "entry",
    [f for f in FEATURES if not any(helper in f.sql for helper in HELPER_NAMES)],
    ids=lambda f: f.name,
)
def test_every_registry_feature_comes_out_as_the_builder_computes_it(
    generated: tuple[DuckDBPyConnection, pd.DataFrame], entry: Feature
) -> None:
    connection, table = generated
    values = candidate_values(connection, table, entry)
    pd.testing.assert_series_equal(values, table[entry.name], check_exact=False, rtol=1e-9)


def test_a_new_feature_by_hand_and_aligned_with_the_rows() -> None:
    connection = open_frames(typed(clean_tables()))
    table = build_features(connection, [CUTOFF])
    # Shuffled rows with their own index: values follow the rows.
    rows = table.iloc[::-1].set_axis(["x", "y"])
    values = candidate_values(connection, rows, FAST_TICKETS)
    # C1's ticket was resolved in 24 h; C2's urgent ticket is still open.
    assert values.to_dict() == {"x": 0, "y": 1}
    assert list(rows["customer_id"]) == ["C2", "C1"]
    assert values.name == "fast_tickets_90d" and values.dtype == "int64"


def test_only_events_before_the_cutoff_count() -> None:
    connection = open_frames(typed(clean_tables()))
    every_ticket = Feature("tickets_ever", "support", "int", "", "", "count(*)")
    # C1's ticket opened 2024-01-02: not counted at that very moment, counted a second later.
    opened = pd.Timestamp("2024-01-02T00:00:00Z")
    rows = pd.DataFrame(
        {"customer_id": ["C1", "C1"], "cutoff": [opened, opened + pd.Timedelta("1s")]}
    )
    assert candidate_values(connection, rows, every_ticket).tolist() == [0, 1]


def test_missing_history_follows_the_entry() -> None:
    connection = open_frames(typed(clean_tables()))
    rows = build_features(connection, [CUTOFF])
    mean_csat = Feature(
        "mean_ticket_csat", "support", "float", "", "", "avg(csat) FILTER (WHERE csat IS NOT NULL)"
    )
    as_zero = candidate_values(connection, rows, mean_csat)
    as_missing = candidate_values(
        connection, rows, Feature(**{**mean_csat.__dict__, "missing": "missing"})
    )
    # C2's only ticket has no csat.
    assert as_zero.tolist() == [5.0, 0.0]
    assert as_missing.iloc[0] == 5.0 and pd.isna(as_missing.iloc[1])


def test_derived_and_profile_ideas() -> None:
    connection = open_frames(typed(clean_tables()))
    rows = build_features(connection, [CUTOFF])
    per_order = Feature(
        "revenue_per_order_all", "derived", "float", "", "", "revenue_all / nullif(orders_all, 0)"
    )
    signup_month = Feature(
        "signup_month", "profile", "int", "", "", "CAST(month(signup_at) AS INTEGER)"
    )
    assert candidate_values(connection, rows, per_order).tolist()[0] == 10.5
    assert candidate_values(connection, rows, signup_month).tolist() == [1, 2]
