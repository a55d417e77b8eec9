"""Batch scoring: probabilities, exact SHAP reasons, ranks, segments and programs.

Scoring works in customer partitions so that the same steps run one after another on
a laptop or side by side on a Dask cluster (see `pipelines.flows.score_flow`):
`score_partition` turns a slice of the feature table into probabilities and reasons,
`rank_customers` puts the slices together into the ranked list, where the fact that
defines a customer's segment (an open urgent ticket for "Recover first") leads their
reasons.

With an uplift model (`models.uplift`), each customer also gets the incremental chance
of advocating if asked (`uplift`) and its expected value (`expected_value`), and the list
can be ordered by either instead of the chance of advocating (`scoring.order_by`).
Segments by place in the list then follow that order; segments by conditions ("Recover
first") take their customers first, whatever the order.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.errors import UserError
from features.labels import observed_period
from models.bundle import AdvocacyModel
from models.model_registry import MODEL_NAME
from models.scoring.feature_file import read_rows
from models.scoring.lookup import value_by_id
from models.scoring.monitoring import MonitoringSettings
from models.scoring.reasons import lead_with_facts, top_reasons
from models.scoring.schemas import REASON_COLUMNS
from models.scoring.segments import (
    SegmentSettings,
    assign_segments,
    defining_facts,
    percentile_of,
)
from models.uplift import UpliftModel

LIST_COLUMNS = (
    "rank",
    "customer_id",
    "probability",
    "percentile",
    "segment",
    "suggested_program",
    *REASON_COLUMNS,
    "contactable",
    "control",
    "model_name",
    "model_version",
    "as_of",
)
SLICE_ROWS = 500_000
"""Most customers scored at once: a slice's features, SHAP values and reasons stay the
same size whatever the number of customers."""
UPLIFT_COLUMNS = ("uplift", "expected_value")
"""Columns of a list scored with an uplift model, after `probability`."""
OrderBy = Literal["propensity", "uplift", "expected_value"]
SORT_KEYS: dict[str, list[str]] = {
    "propensity": ["probability", "raw_score", "customer_id"],
    "uplift": ["uplift", "probability", "customer_id"],
    "expected_value": ["expected_value", "uplift", "customer_id"],
}
"""Per order, the columns the list is sorted by, ties broken by the later ones."""


def list_columns_of(with_uplift: bool) -> tuple[str, ...]:
    """The ranked list's columns, with the uplift columns after `probability` if it has them."""
    if not with_uplift:
        return LIST_COLUMNS
    at = LIST_COLUMNS.index("probability") + 1
    return (*LIST_COLUMNS[:at], *UPLIFT_COLUMNS, *LIST_COLUMNS[at:])


class ScoringSettings(BaseModel):
    """How `advocacy score` runs and what it writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    out: Path = Path("data/scores")
    model: str = "champion"
    """Registry alias or version number of the model to score with."""
    partitions: int = Field(4, gt=0)
    task_runner: Literal["local", "dask"] = "local"
    dask_address: str | None = None
    """Scheduler of a running Dask cluster; null with task_runner dask: a local cluster."""
    max_data_age_days: int = Field(7, ge=0)
    """Refuse to score when the newest data is older than this at the as-of date."""
    outreach_contactable_only: bool = True
    """Per-segment outreach files list only customers who may be contacted."""
    currency: str | None = Field("EUR", pattern=r"^[A-Z]{3}$")
    """ISO code of the purchase amounts, shown with amounts in reasons (null: none)."""
    keep_runs: int = Field(16, ge=1)
    """Scoring runs kept in `out`, the one `latest` points at included; older ones are removed."""
    order_by: OrderBy = "propensity"
    """What ranks the list: the chance of advocating, the incremental chance if asked
    (`uplift`) or its value (`expected_value`); the latter two need an uplift model, and
    without one the list is ordered by propensity and the run says so."""
    segments: SegmentSettings
    monitoring: MonitoringSettings = MonitoringSettings()

    @model_validator(mode="after")
    def _newcomers_of_known_segments(self) -> ScoringSettings:
        self.segments.check_named(self.monitoring.newcomers_in, "monitoring.newcomers_in")
        return self


def check_as_of(connection: duckdb.DuckDBPyConnection, as_of: pd.Timestamp, max_age: int) -> None:
    """Refuse an as-of date after the data: scores would silently describe the past."""
    _, newest = observed_period(connection)
    if as_of > newest + timedelta(days=max_age):
        raise UserError(
            f"The as-of date {as_of:%Y-%m-%d %H:%M} is after the newest data "
            f"({newest:%Y-%m-%d %H:%M}, more than {max_age} days earlier). Ingest newer data, "
            f"or score as of the data's end with --as-of {newest + timedelta(seconds=1):%Y-%m-%d}."
        )


def partition_bounds(rows: int, partitions: int) -> list[tuple[int, int]]:
    """Contiguous row ranges [start, stop) of nearly equal size covering `rows` rows.

    At least `partitions` ranges, more where a range would exceed `SLICE_ROWS` rows.
    """
    partitions = max(partitions, -(-rows // SLICE_ROWS))
    edges = [round(i * rows / partitions) for i in range(partitions + 1)]
    return [(a, b) for a, b in pairwise(edges) if b > a]


def score_partition(
    features: Path,
    start: int,
    stop: int,
    model: AdvocacyModel,
    currency: str | None = None,
    uplift: UpliftModel | None = None,
) -> pd.DataFrame:
    """Probability, raw score, uplift columns (with `uplift`) and reasons for rows [start, stop).

    Reasons date "days since" facts from the table's cutoff (one per scoring run).
    """
    rows = read_rows(features, start, stop)
    contributions = model.contributions(rows)
    reasons = top_reasons(
        contributions[:, :-1],
        model.matrix(rows),
        model.features,
        as_of=rows["cutoff"].iloc[0],
        currency=currency,
    )
    raw = contributions.sum(axis=1)
    scored = pd.DataFrame(
        {
            "customer_id": rows["customer_id"],
            "raw_score": raw,
            "probability": model.calibrator.probability(raw),
        }
    )
    if uplift is not None:
        scored["uplift"] = uplift.uplift(rows)
        scored["expected_value"] = uplift.expected_value(rows)
    return pd.concat([scored, reasons], axis=1)


def rank_customers(
    scored: pd.DataFrame,
    features: pd.DataFrame,
    contactable: pd.Series,
    settings: SegmentSettings,
    model_version: str,
    as_of: pd.Timestamp,
    currency: str | None = None,
    order_by: OrderBy = "propensity",
) -> pd.DataFrame:
    """The ranked list: one row per customer, best first by `order_by` (see `SORT_KEYS`).

    Ties in probability (calibration is a step function) are broken by the raw score,
    then by customer id, so the order is the model's and is reproducible. Where a
    segment's conditions put a customer in it, the fact they name leads the reasons.
    `features` holds the customers of `scored` in the same order (as a run's partitions
    cover its feature table), with customer_id and the columns of
    `settings.features_read()`.
    `scored` has the uplift columns when ordered by uplift or expected value.
    """
    if (
        not scored["customer_id"]
        .reset_index(drop=True)
        .equals(features["customer_id"].reset_index(drop=True))
    ):
        raise ValueError("scored and features must hold the same customers in the same order")
    keys = SORT_KEYS[order_by]
    # Only the sort keys are sorted; every column is then taken once, in the list's order.
    order = scored[keys].reset_index(drop=True).sort_values(keys, ascending=[False, False, True])
    ranked = scored.take(order.index).reset_index(drop=True)
    rows = features.take(order.index).reset_index(drop=True)
    ranked["rank"] = range(1, len(ranked) + 1)
    ranked["percentile"] = percentile_of(ranked["rank"])
    ranked[["segment", "suggested_program"]] = assign_segments(rows, ranked["percentile"], settings)
    led = lead_with_facts(
        ranked[list(REASON_COLUMNS)],
        defining_facts(rows, ranked["segment"], settings),
        ranked["segment"],
        rows,
        as_of,
        currency,
    )
    for column in REASON_COLUMNS:  # one column at a time: each is rebuilt to change a few rows
        ranked.loc[led.index, column] = led[column]
    opted_in = value_by_id(ranked["customer_id"], contactable, missing=False)
    ranked["contactable"] = opted_in.fillna(False).astype(bool)
    ranked["control"] = False  # drawn once the whole list is ranked (`models.scoring.control`)
    ranked["model_name"] = MODEL_NAME
    ranked["model_version"] = model_version
    ranked["as_of"] = as_of
    return ranked[list(list_columns_of("uplift" in ranked.columns))]
