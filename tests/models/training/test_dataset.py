"""Training sets: cutoffs split by time with no label window crossing into a later part."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.errors import UserError
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.labels import LabelSettings
from features.store import current_version
from features.views import open_version
from models.training.dataset import TrainingSetSettings, build_training_set, plan_cutoffs

OLDEST = pd.Timestamp("2023-10-01T08:00:00Z")
NEWEST = pd.Timestamp("2026-09-30T23:59:00Z")


def test_plan_on_a_monthly_grid() -> None:
    plan = plan_cutoffs(OLDEST, NEWEST, 90, TrainingSetSettings())
    assert plan.test == pd.Timestamp("2026-07-01T00:00:00Z")  # Jul 1 + 90 d = Sep 29
    assert plan.validation == pd.Timestamp("2026-04-01T00:00:00Z")  # + 90 d = Jun 30
    assert plan.train[-1] == pd.Timestamp("2026-01-01T00:00:00Z")  # + 90 d = Apr 1
    assert plan.train[0] == pd.Timestamp("2025-02-01T00:00:00Z") and len(plan.train) == 12


@pytest.mark.parametrize("horizon", [7, 30, 60, 90, 180])
def test_no_label_window_overlaps_a_later_part(horizon: int) -> None:
    plan = plan_cutoffs(OLDEST, NEWEST, horizon, TrainingSetSettings(training_cutoffs=6))
    window = pd.Timedelta(days=horizon)
    assert all(c + window <= plan.validation for c in plan.train)
    assert plan.validation + window <= plan.test
    assert plan.test + window <= NEWEST


def test_too_little_history_is_a_clear_error() -> None:
    oldest, newest = pd.Timestamp("2026-01-01T00:00:00Z"), pd.Timestamp("2026-06-15T00:00:00Z")
    with pytest.raises(UserError, match="too short"):
        plan_cutoffs(oldest, newest, 90, TrainingSetSettings())
    with pytest.raises(UserError, match="No cutoff"):
        plan_cutoffs(oldest, newest, 90, TrainingSetSettings(frequency="YS"))


def test_short_data_gives_fewer_training_cutoffs_all_after_the_oldest_event() -> None:
    oldest = pd.Timestamp("2025-08-10T00:00:00Z")
    plan = plan_cutoffs(oldest, NEWEST, 90, TrainingSetSettings(training_cutoffs=12))
    assert plan.train == list(pd.date_range("2025-09-01", "2026-01-01", freq="MS", tz="UTC"))


def test_training_set_on_a_generated_world(tmp_path: Path) -> None:
    generate_world(GeneratorSettings(customers=800, seed=5), tmp_path / "world")
    ingest(IngestSettings(source=tmp_path / "world", store=tmp_path / "store", as_of="2026-11-01"))
    parts = build_training_set(
        open_version(current_version(tmp_path / "store")),
        labels=LabelSettings(),
        settings=TrainingSetSettings(),
    )
    assert sorted(parts.train["cutoff"].unique()) == parts.plan.train
    assert (parts.validation["cutoff"] == parts.plan.validation).all()
    assert (parts.test["cutoff"] == parts.plan.test).all()
    for part in (parts.train, parts.validation, parts.test):
        assert set(part["label"].unique()) == {0, 1}
        assert not part.duplicated(["customer_id", "cutoff"]).any()
    truth = pd.read_parquet(tmp_path / "world" / "truth" / "propensity.parquet")
    test = parts.test.merge(truth, on=["customer_id", "cutoff"])
    assert len(test) == len(parts.test)  # the truth covers the whole test population
    # Realised label rate agrees with the generator's true probabilities.
    assert abs(test["label"].mean() - test["true_probability"].mean()) < 0.03
