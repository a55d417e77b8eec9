"""Generated worlds, ingested once per test session, and a model of the medium one.

Shared by the model tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.store import current_version
from features.views import open_version
from models.training.dataset import TrainingSet, build_training_set
from models.training.fit import TrainingResult, TrainSettings, train_model


@dataclass(frozen=True)
class World:
    """A generated world: its source folder, curated store, ground truth and training set."""

    source: Path
    store: Path
    truth: Path
    parts: TrainingSet


def _world(folder: Path, customers: int, seed: int) -> World:
    generate_world(GeneratorSettings(customers=customers, seed=seed), folder / "world")
    ingest(
        IngestSettings(
            source=folder / "world", store=folder / "store", as_of="2026-11-01T00:00:00Z"
        )
    )
    return World(
        source=folder / "world",
        store=folder / "store",
        truth=folder / "world" / "truth" / "propensity.parquet",
        parts=build_training_set(open_version(current_version(folder / "store"))),
    )


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """3,000 customers: enough advocates per cutoff for stable comparisons."""
    return _world(tmp_path_factory.mktemp("small"), customers=3000, seed=11)


@pytest.fixture(scope="session")
def medium_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """20,000 customers: enough for the model to come close to the oracle."""
    return _world(tmp_path_factory.mktemp("medium"), customers=20000, seed=12)


def booster_settings(world: World) -> TrainSettings:
    """The project's settings with LightGBM as the family, and the world's oracle."""
    return TrainSettings(truth=world.truth, family="lightgbm")


@pytest.fixture(scope="session")
def medium_model(medium_world: World) -> TrainingResult:
    """The medium world's model with `booster_settings`: checked in test_fit.py, and the
    strong version in the registry tests."""
    return train_model(medium_world.parts, booster_settings(medium_world))
