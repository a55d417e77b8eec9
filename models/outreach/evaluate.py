"""Evaluate a scoring run's outreach once its horizon has passed.

Who was asked, who was held out, who advocated, what it cost, and what that was worth
(the arithmetic is in `models.outreach.lift`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from features.errors import UserError
from features.labels import LabelSettings, observed_period
from features.views import open_version
from models.outreach.lift import measure_lift
from models.outreach.settings import MEASURED, OutreachSettings
from models.scoring.files import LATEST, MANIFEST, latest_run

EVALUATION = "evaluation"
FIRST_YEAR_DAYS = 365


@dataclass(frozen=True)
class Evaluation:
    """The measured lift per segment and program, and what it was measured on."""

    results: pd.DataFrame
    summary: dict[str, Any]


def resolve_run(scores: Path, run: str) -> Path:
    """A run folder from a path, a run name in `scores`, or `latest`."""
    if run == LATEST:
        return latest_run(scores)
    for folder in (Path(run), scores / run):
        if (folder / MANIFEST).is_file():
            return folder
    raise UserError(f"No scoring run {run!r}: give a run folder, a run name in {scores}, or latest")


def referral_value(connection: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """What one referral brings: converted referrals per referral x first-year revenue.

    First-year revenue: completed orders in the 365 days after signup, over the referred
    customers whose first year the data covers.
    """
    _, newest = observed_period(connection)
    [(referrals, converted, measured, revenue)] = connection.execute(
        f"""
        WITH referred AS (
            SELECT DISTINCT referred_customer_id AS customer_id FROM advocacy_events
            WHERE event_type = 'referral' AND referred_customer_id IS NOT NULL),
        covered AS (
            SELECT c.customer_id, c.signup_at FROM customers c JOIN referred USING (customer_id)
            WHERE c.signup_at + INTERVAL {FIRST_YEAR_DAYS} DAY <= ?),
        first_year AS (
            SELECT covered.customer_id, coalesce(sum(p.amount) FILTER (
                WHERE coalesce(p.status, 'completed') = 'completed'), 0) AS revenue
            FROM covered LEFT JOIN purchases p ON p.customer_id = covered.customer_id
                AND p.ordered_at >= covered.signup_at
                AND p.ordered_at < covered.signup_at + INTERVAL {FIRST_YEAR_DAYS} DAY
            GROUP BY covered.customer_id)
        SELECT (SELECT count(*) FROM advocacy_events WHERE event_type = 'referral'),
               (SELECT count(*) FROM referred), (SELECT count(*) FROM first_year),
               (SELECT avg(revenue) FROM first_year)
        """,
        [newest.to_pydatetime()],
    ).fetchall()
    conversion = converted / referrals if referrals else 0.0
    return {
        "referrals": referrals,
        "converted": converted,
        "customers_measured": measured,
        "first_year_revenue": float(revenue or 0.0),
        "value": conversion * float(revenue or 0.0),
    }


def advocacy_outcomes(
    connection: duckdb.DuckDBPyConnection,
    start: pd.Timestamp,
    end: pd.Timestamp,
    label_types: tuple[str, ...],
    value_types: list[str],
) -> pd.DataFrame:
    """Per customer with advocacy in [start, end): advocated (a label event) and counts."""
    counts = ", ".join(f"count_if(event_type = '{kind}') AS {kind}" for kind in value_types)
    labels = ", ".join(f"'{kind}'" for kind in label_types)
    return connection.execute(
        f"SELECT customer_id, count_if(event_type IN ({labels})) > 0 AS advocated"
        f"{', ' + counts if counts else ''} FROM advocacy_events "
        "WHERE occurred_at >= ? AND occurred_at < ? GROUP BY customer_id",
        [start.to_pydatetime(), end.to_pydatetime()],
    ).df()


def advocacy_values(
    connection: duckdb.DuckDBPyConnection, settings: OutreachSettings
) -> tuple[dict[str, float], dict[str, float]]:
    """The worth of one event of each valued type, and how a referral's was measured."""
    referral = referral_value(connection)
    values = {
        kind: referral["value"] if worth == MEASURED else float(worth)
        for kind, worth in settings.value_per_advocacy.items()
    }
    return values, referral


def _contacts(
    connection: duckdb.DuckDBPyConnection, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Per customer contacted in [start, end): their contacts and what they cost."""
    return connection.execute(
        "SELECT customer_id, count(*) AS contacts, coalesce(sum(cost), 0) AS cost "
        "FROM outreach WHERE sent_at >= ? AND sent_at < ? GROUP BY customer_id",
        [start.to_pydatetime(), end.to_pydatetime()],
    ).df()


def evaluate_outreach(
    run: Path, store_version: Path, label: LabelSettings, settings: OutreachSettings
) -> Evaluation:
    """The lift, incremental advocates, cost and ROI of a run's outreach, per segment and program.

    Refused before the run's horizon has passed in the store's data, and for a run that
    held out no control group.
    """
    manifest = json.loads((run / MANIFEST).read_text())
    as_of = pd.Timestamp(manifest["as_of"]).tz_convert("UTC")
    end = as_of + timedelta(days=label.horizon_days)
    ranked = pd.read_parquet(run / "ranked_list.parquet")
    if "control" not in ranked.columns or not ranked["control"].any():
        raise UserError(f"Run {run.name} held out no control group: there is nothing to compare.")
    connection = open_version(store_version)
    _, newest = observed_period(connection)
    if newest < end:
        raise UserError(
            f"Run {run.name}'s horizon ends on {end:%Y-%m-%d}, after the newest data "
            f"({newest:%Y-%m-%d}): ingest data up to then and evaluate again."
        )
    measured = list(manifest["control"]["segments"])
    members = ranked[ranked["segment"].isin(measured) & ranked["contactable"]]
    members = members[["customer_id", "segment", "suggested_program", "control"]].rename(
        columns={"suggested_program": "program"}
    )
    values, referral = advocacy_values(connection, settings)
    outcomes = advocacy_outcomes(connection, as_of, end, label.event_types, list(values))
    contacts = _contacts(connection, as_of, end)
    members = members.merge(outcomes, on="customer_id", how="left").merge(
        contacts, on="customer_id", how="left"
    )
    members = members.fillna(
        {"advocated": False, "contacts": 0, "cost": 0.0, **dict.fromkeys(values, 0)}
    )
    members["advocated"] = members["advocated"].astype(bool)
    members["contacted"] = members["contacts"] > 0
    results = measure_lift(members, values, members["cost"])
    summary = {
        "run": run.name,
        "model_version": manifest["model_version"],
        "as_of": as_of.isoformat(),
        "window_end": end.isoformat(),
        "horizon_days": label.horizon_days,
        "label_types": list(label.event_types),
        "control_share": manifest["control"]["share"],
        "value_per_advocacy": values,
        "referral_value": referral,
        "control_contacted": int((members["control"] & members["contacted"]).sum()),
        "totals": {
            "asked": int((~members["control"]).sum()),
            "control": int(members["control"].sum()),
            "incremental_advocates": float(results["incremental_advocates"].sum()),
            "cost": float(results["cost"].sum()),
            "incremental_value": float(results["incremental_value"].sum()),
        },
    }
    return Evaluation(results, summary)
