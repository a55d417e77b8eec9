"""Training sets: features and labels stacked over cutoffs, split by time.

The test cutoff is the latest whose label window is fully observed; the validation
cutoff the latest whose window ends on or before the test cutoff; training cutoffs
those whose windows end on or before the validation cutoff. So no label window of one
part overlaps the period of a later part, and the evaluation sees the future only as
a deployed model would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.build import FeatureSettings, build_features
from features.definitions import FEATURE_NAMES
from features.errors import UserError
from features.labels import LabelSettings, build_labels, observed_period


class TrainingSetSettings(BaseModel):
    """How many cutoffs to stack, and how far apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    training_cutoffs: int = Field(12, gt=0)
    frequency: str = "MS"
    """pandas offset alias of the cutoff grid (MS: the first of every month)."""


@dataclass(frozen=True)
class CutoffPlan:
    """The cutoffs of each part of a time split."""

    train: list[pd.Timestamp]
    validation: pd.Timestamp
    test: pd.Timestamp


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows with a `label` column, per part."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    plan: CutoffPlan

    @property
    def features(self) -> list[str]:
        """The feature columns, in registry order: those the source supports."""
        return [name for name in FEATURE_NAMES if name in self.train.columns]


def plan_cutoffs(
    oldest: pd.Timestamp, newest: pd.Timestamp, horizon_days: int, settings: TrainingSetSettings
) -> CutoffPlan:
    """Choose test, validation and training cutoffs on the grid (see the module doc).

    Cutoffs lie after the oldest event, so every one has some history behind it; fewer
    training cutoffs than asked for are used when the data is shorter.
    """
    horizon = pd.Timedelta(days=horizon_days)
    grid = pd.date_range(
        start=oldest, end=newest - horizon, freq=settings.frequency, tz="UTC", normalize=True
    )
    grid = grid[(grid > oldest) & (grid + horizon <= newest)]
    if grid.empty:
        raise UserError(f"No cutoff has a fully observed {horizon_days}-day label window.")
    test = grid[-1]
    validation_choices = grid[grid + horizon <= test]
    if validation_choices.empty:
        raise UserError("The data is too short for a validation cutoff before the test cutoff.")
    validation = validation_choices[-1]
    train = grid[grid + horizon <= validation][-settings.training_cutoffs :]
    if train.empty:
        raise UserError("The data is too short for any training cutoff.")
    return CutoffPlan(train=list(train), validation=validation, test=test)


def build_training_set(
    connection: duckdb.DuckDBPyConnection,
    features: FeatureSettings | None = None,
    labels: LabelSettings | None = None,
    settings: TrainingSetSettings | None = None,
    names: Sequence[str] = FEATURE_NAMES,
) -> TrainingSet:
    """Build the time-split training set from the tables behind `connection`.

    `names`: the features the source supports (`features.build.store_features`).
    """
    labels = labels or LabelSettings()
    plan = plan_cutoffs(
        *observed_period(connection), labels.horizon_days, settings or TrainingSetSettings()
    )
    table = build_features(connection, [*plan.train, plan.validation, plan.test], features, names)
    table["label"] = build_labels(connection, table, labels)
    return TrainingSet(
        train=table[table["cutoff"].isin(plan.train)].reset_index(drop=True),
        validation=table[table["cutoff"] == plan.validation].reset_index(drop=True),
        test=table[table["cutoff"] == plan.test].reset_index(drop=True),
        plan=plan,
    )
