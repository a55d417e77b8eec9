"""Advocacy labels: whether a customer advocated in the window after the cutoff."""

from __future__ import annotations

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from features.build import as_cutoffs
from features.contracts import ADVOCACY_TYPES, CONTRACTS, TABLE_NAMES
from features.errors import UserError

DEFAULT_LABEL_TYPES = ("referral", "review", "testimonial", "case_study", "reference_call")


class LabelSettings(BaseModel):
    """What counts as advocacy, and for how long after the cutoff we look."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon_days: int = Field(90, gt=0)
    event_types: tuple[str, ...] = DEFAULT_LABEL_TYPES

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, types: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(types) - set(ADVOCACY_TYPES))
        if unknown or not types:
            raise ValueError(
                f"unknown advocacy types {unknown}; known: {', '.join(ADVOCACY_TYPES)}"
            )
        return types


def observed_period(connection: duckdb.DuckDBPyConnection) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The oldest and newest event times in the data.

    A label window ending after the newest time is not fully observed; a cutoff before
    the oldest time has no history to build features from.
    """
    times = " UNION ALL ".join(
        f"SELECT min({column}) AS oldest, max({column}) AS newest FROM {name}"
        for name in TABLE_NAMES
        if (column := CONTRACTS[name].time_column)
    )
    [(oldest, newest)] = connection.execute(
        f"SELECT min(oldest), max(newest) FROM ({times})"
    ).fetchall()
    if newest is None:
        raise UserError("The store holds no events.")
    return pd.Timestamp(oldest).tz_convert("UTC"), pd.Timestamp(newest).tz_convert("UTC")


def build_labels(
    connection: duckdb.DuckDBPyConnection,
    population: pd.DataFrame,
    settings: LabelSettings | None = None,
) -> pd.Series:
    """1 where the customer has an advocacy event of the label types in [cutoff, cutoff + horizon).

    `population` has the columns customer_id and cutoff (e.g. a feature table). A cutoff
    whose window ends after the newest data is refused rather than labelled with zeros.
    """
    settings = settings or LabelSettings()
    horizon = pd.Timedelta(days=settings.horizon_days)
    _, newest = observed_period(connection)
    cutoffs = as_cutoffs(population["cutoff"].unique().tolist())
    unobserved = cutoffs["cutoff"][cutoffs["cutoff"] + horizon > newest]
    if not unobserved.empty:
        raise UserError(
            f"The {settings.horizon_days}-day label window after cutoff "
            f"{unobserved.iloc[0].date()} ends after the newest data ({newest.date()}): "
            "its labels are not observed yet."
        )
    connection.register("label_population", population[["customer_id", "cutoff"]])
    types = ", ".join(f"'{kind}'" for kind in settings.event_types)
    labelled = connection.execute(
        f"""
        SELECT p.customer_id, p.cutoff, count(a.event_id) > 0 AS label
        FROM label_population AS p
        LEFT JOIN advocacy_events AS a
          ON a.customer_id = p.customer_id
         AND a.occurred_at >= p.cutoff
         AND a.occurred_at < p.cutoff + INTERVAL {settings.horizon_days} DAY
         AND a.event_type IN ({types})
        GROUP BY p.customer_id, p.cutoff
        """
    ).df()
    labelled["cutoff"] = labelled["cutoff"].dt.tz_convert("UTC")
    merged = population[["customer_id", "cutoff"]].merge(
        labelled, how="left", validate="one_to_one"
    )
    return pd.Series(
        merged["label"].astype("int64").to_numpy(), index=population.index, name="label"
    )
