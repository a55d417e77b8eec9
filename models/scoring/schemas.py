"""Schemas of the scoring outputs: the scored partitions and the ranked list.

Both are checked just before they are written (see `models.scoring.run`); a failure is a
defect in scoring, reported by `features.schemas.validate_table`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from features.schemas import utc_timestamp_column
from models.scoring.reasons import REASONS
from models.scoring.segments import SegmentSettings

REASON_COLUMNS = tuple(f"reason_{i}" for i in range(1, REASONS + 1))


def _probability_column(*checks: pa.Check) -> pa.Column:
    return pa.Column("float64", [pa.Check.in_range(0, 1), *checks])


def _reason_columns() -> dict[str, pa.Column]:
    """Reason texts; an empty text where fewer features moved the score."""
    return {name: pa.Column("str") for name in REASON_COLUMNS}


def _uplift_columns(ordered_by: str | None = None) -> dict[str, pa.Column]:
    """Incremental chance if asked, in [-1, 1], and its value; `ordered_by` never rises."""
    checks = {
        name: [pa.Check(_non_increasing, name=f"{name}_non_increasing")]
        if name == ordered_by
        else []
        for name in ("uplift", "expected_value")
    }
    return {
        "uplift": pa.Column("float64", [pa.Check.in_range(-1, 1), *checks["uplift"]]),
        "expected_value": pa.Column("float64", checks["expected_value"]),
    }


def scored_partition_schema(with_uplift: bool = False) -> pa.DataFrameSchema:
    """One slice of scored customers: raw score, calibrated probability, uplift and reasons."""
    return pa.DataFrameSchema(
        {
            "customer_id": pa.Column("str", unique=True),
            "raw_score": pa.Column("float64"),
            "probability": _probability_column(),
            **(_uplift_columns() if with_uplift else {}),
            **_reason_columns(),
        },
        strict=True,
        ordered=True,
        name="scored partition",
    )


def _ranks_from_one(rank: pd.Series) -> pd.Series:
    """Rows are in rank order, ranked 1 to n without gaps or ties."""
    return rank == np.arange(1, len(rank) + 1)


def _non_increasing(values: pd.Series) -> pd.Series:
    """No row has a higher value than the row before it (the first row passes)."""
    return ~(values.diff() > 0)


def ranked_list_schema(
    segments: SegmentSettings, order_by: str = "propensity", with_uplift: bool = False
) -> pa.DataFrameSchema:
    """The ranked list (`list_columns_of`), best customer first by `order_by`, in segments.

    Percentiles follow `percentile_of`: 1.0 for rank 1 down to 1/n for the last.
    """
    probability_checks = (
        [pa.Check(_non_increasing, name="probability_non_increasing")]
        if order_by == "propensity"
        else []
    )
    programs = sorted({program.program for rule in segments.rules for program in rule.programs})
    columns = {
        "rank": pa.Column("int64", pa.Check(_ranks_from_one, name="ranks_from_one_in_order")),
        "customer_id": pa.Column("str", unique=True),
        "probability": _probability_column(*probability_checks),
        **(_uplift_columns(order_by) if with_uplift else {}),
        "percentile": pa.Column("float64", pa.Check.in_range(0, 1, include_min=False)),
        "segment": pa.Column("str", pa.Check.isin([rule.name for rule in segments.rules])),
        "suggested_program": pa.Column("str", pa.Check.isin(programs)),
        **_reason_columns(),
        "contactable": pa.Column("bool"),
        "control": pa.Column("bool"),
        "model_name": pa.Column("str"),
        "model_version": pa.Column("str"),
        "as_of": utc_timestamp_column(),
    }
    return pa.DataFrameSchema(columns, strict=True, ordered=True, name="ranked list")
