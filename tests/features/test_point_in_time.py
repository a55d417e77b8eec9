"""No leakage: nothing at or after the cutoff changes a feature (property-based)."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.build import build_features
from features.contracts import CONTRACTS, STORE_DTYPES
from features.labels import LabelSettings, build_labels
from features.views import open_frames

CUTOFF = pd.Timestamp("2024-06-01T00:00:00Z")
CUSTOMERS = ["C1", "C2", "C3", "C4"]


def _times() -> st.SearchStrategy[pd.Timestamp]:
    """Event times around the cutoff: exactly on it, close to it, or far from it."""
    return st.one_of(
        st.just(CUTOFF),
        *[
            st.builds(
                lambda days, minutes: CUTOFF + pd.Timedelta(days=days, minutes=minutes),
                st.integers(low, high),
                st.integers(-720, 720),
            )
            for low, high in [(-40, 40), (-420, 200)]
        ],
    )


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in frame.columns:
        if column.endswith("_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    return frame


comments = st.sampled_from([None, "great service, love it", "terrible, not happy", "ok"])
customer = st.sampled_from(CUSTOMERS)

purchase = st.fixed_dictionaries(
    {
        "customer_id": customer,
        "ordered_at": _times(),
        "amount": st.floats(0, 500, allow_nan=False),
        "category": st.sampled_from(["books", "garden", "toys", None]),
        "discount": st.sampled_from([0.0, 0.2, None]),
        "status": st.sampled_from(["completed", "returned", "cancelled"]),
    }
)
ticket = st.fixed_dictionaries(
    {
        "customer_id": customer,
        "opened_at": _times(),
        "hours": st.one_of(st.none(), st.floats(0.5, 24 * 60)),
        "priority": st.sampled_from(["low", "urgent"]),
        "csat": st.sampled_from([None, 1, 5]),
        "reopened": st.sampled_from([0, 2]),
        "comment": comments,
    }
)
survey = st.fixed_dictionaries(
    {
        "customer_id": customer,
        "responded_at": _times(),
        "survey_type": st.sampled_from(["nps", "csat", "ces"]),
        "score": st.integers(1, 5),
        "comment": comments,
    }
)
advocacy = st.fixed_dictionaries(
    {
        "customer_id": customer,
        "occurred_at": _times(),
        "event_type": st.sampled_from(["referral", "review", "social_mention"]),
        "referred_customer_id": st.sampled_from([None, "C4"]),
        "rating": st.sampled_from([None, 4.0]),
    }
)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    purchases = draw(st.lists(purchase, min_size=1, max_size=25))
    tickets = draw(st.lists(ticket, max_size=10))
    for row in tickets:
        hours = row.pop("hours")
        row["resolved_at"] = None if hours is None else row["opened_at"] + pd.Timedelta(hours=hours)
    return {
        "customers": _frame(
            [
                {"customer_id": c, "signup_at": CUTOFF - pd.Timedelta(days=500 - 50 * i),
                 "acquisition_channel": "referral" if c == "C3" else "web"}
                for i, c in enumerate(CUSTOMERS)
            ],
            ["customer_id", "signup_at", "acquisition_channel"],
        ),
        "purchases": _frame(
            [{"order_id": f"O{i}", **row} for i, row in enumerate(purchases)],
            ["order_id", "customer_id", "ordered_at", "amount", "category", "discount", "status"],
        ),
        "support_tickets": _frame(
            [{"ticket_id": f"T{i}", **row} for i, row in enumerate(tickets)],
            ["ticket_id", "customer_id", "opened_at", "resolved_at", "priority", "csat", "reopened", "comment"],
        ),
        "survey_responses": _frame(
            [{"response_id": f"S{i}", **row} for i, row in enumerate(draw(st.lists(survey, max_size=12)))],
            ["response_id", "customer_id", "responded_at", "survey_type", "score", "comment"],
        ),
        "advocacy_events": _frame(
            [{"event_id": f"A{i}", **row} for i, row in enumerate(draw(st.lists(advocacy, max_size=10)))],
            ["event_id", "customer_id", "occurred_at", "event_type", "referred_customer_id", "rating"],
        ),
    }  # fmt: skip


def _typed(world: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {
        name: frame.astype(
            {c.name: STORE_DTYPES[c.kind] for c in CONTRACTS[name].columns if c.name in frame}
        )
        for name, frame in world.items()
    }


def only_the_past(world: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The world as known at the cutoff: later events gone, later outcomes unknown."""
    past = {
        "customers": world["customers"],
        "purchases": world["purchases"][world["purchases"]["ordered_at"] < CUTOFF],
        "support_tickets": world["support_tickets"][world["support_tickets"]["opened_at"] < CUTOFF],
        "survey_responses": world["survey_responses"][world["survey_responses"]["responded_at"] < CUTOFF],
        "advocacy_events": world["advocacy_events"][world["advocacy_events"]["occurred_at"] < CUTOFF],
    }  # fmt: skip
    tickets = past["support_tickets"].copy()
    later = tickets["resolved_at"].isna() | (tickets["resolved_at"] >= CUTOFF)
    tickets.loc[later, ["resolved_at", "csat", "reopened"]] = None
    purchases = past["purchases"].copy()
    undecided = (CUTOFF - purchases["ordered_at"] <= pd.Timedelta(days=30)) & (
        purchases["status"] == "returned"
    )
    purchases.loc[undecided, "status"] = "completed"  # a return not yet known at the cutoff
    past["support_tickets"] = tickets
    past["purchases"] = purchases
    return past


def features(world: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return build_features(open_frames(_typed(world)), [CUTOFF])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_nothing_at_or_after_the_cutoff_changes_a_feature(world: dict[str, pd.DataFrame]) -> None:
    pd.testing.assert_frame_equal(features(world), features(only_the_past(world)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_label_uses_only_events_in_its_window(world: dict[str, pd.DataFrame]) -> None:
    label_settings = LabelSettings(horizon_days=60)
    end = CUTOFF + pd.Timedelta(days=60)
    events = world["advocacy_events"]
    window = events[(events["occurred_at"] >= CUTOFF) & (events["occurred_at"] < end)]
    counted = window[window["event_type"].isin(label_settings.event_types)]
    population = pd.DataFrame({"customer_id": CUSTOMERS, "cutoff": CUTOFF})
    # Make the data reach past the window, so every label is observed.
    tail = (
        world["purchases"]
        .iloc[:1]
        .assign(order_id="O-end", ordered_at=CUTOFF + pd.Timedelta(days=250))
    )
    world = {**world, "purchases": pd.concat([world["purchases"], tail], ignore_index=True)}
    labels = build_labels(open_frames(_typed(world)), population, label_settings)
    assert labels.tolist() == [int(c in set(counted["customer_id"])) for c in CUSTOMERS]
