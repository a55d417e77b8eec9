"""Loading and validating the YAML configuration (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from features.build import FeatureSettings
from features.errors import UserError
from features.generator import GeneratorSettings
from features.ingest import IngestSettings
from features.labels import LabelSettings
from features.store import current_version
from models.scoring.ranked_list import ScoringSettings
from models.tracking import TrackingSettings
from models.training.dataset import TrainingSetSettings
from models.training.fit import TrainSettings
from models.training.record import TrainingRun
from models.training.run import train_and_register

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "advocacy.yaml"

Settings = TypeVar("Settings", bound=BaseModel)


class GenerateSection(GeneratorSettings):
    """Generator settings plus where the generated world is written."""

    out: Path = Path("data/sample")


class FeaturesSection(FeatureSettings):
    """Feature settings plus where `advocacy features` writes its tables."""

    out: Path = Path("data/features")


class TrainSection(TrainSettings):
    """Training settings plus where `advocacy train` writes model cards."""

    out: Path = Path("data/training")


class AppConfig(BaseModel):
    """The whole configuration, one section per command."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    generate: GenerateSection = GenerateSection()
    ingest: IngestSettings = IngestSettings()
    features: FeaturesSection = FeaturesSection()
    label: LabelSettings = LabelSettings()
    training_set: TrainingSetSettings = TrainingSetSettings()
    train: TrainSection = TrainSection()
    tracking: TrackingSettings = TrackingSettings()
    scoring: ScoringSettings


def describe_errors(error: ValidationError) -> str:
    """One line per invalid key, with its dotted path."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'top level'}: {item['msg']}"
        for item in error.errors()
    )


def load_config(path: Path | None = None) -> AppConfig:
    """Read and validate a config file (default: configs/advocacy.yaml)."""
    path = path or DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise UserError(f"{path}: cannot read config: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML: {error}") from error
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as error:
        raise UserError(f"{path}: {describe_errors(error)}") from error


def train_with_config(config: AppConfig) -> TrainingRun:
    """`train_and_register` on the store's current version, settings from the configuration."""
    return train_and_register(
        current_version(config.ingest.store),
        config.train.out,
        config.features,
        config.label,
        config.training_set,
        config.train,
        config.tracking,
        config.model_dump(mode="json"),
    )


def with_overrides(settings: Settings, **values: Any) -> Settings:
    """A copy of `settings` with the given values (None means: keep), validated again."""
    given = {key: value for key, value in values.items() if value is not None}
    try:
        return type(settings).model_validate({**settings.model_dump(), **given})
    except ValidationError as error:
        raise UserError(describe_errors(error)) from error
