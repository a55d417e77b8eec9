"""Loading the YAML configuration: a file of changes merged over the defaults, validated.

The layers, each merged over the one before: configs/advocacy.yaml (every key, with its
default) <- the file given by --config or ADVOCACY_CONFIG <- configs/local.yaml (git-ignored,
machine-specific paths and URIs) when it exists. Mappings merge key by key; lists and
scalars replace. Unknown keys are errors, reported with the file that brought them in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from features.build import FeatureSettings
from features.errors import UserError
from features.generator import GeneratorSettings
from features.ingest import IngestSettings
from features.labels import LabelSettings
from features.store import current_version
from models.outreach.settings import OutreachSettings
from models.outreach.uplift import UpliftSettings
from models.scoring.ranked_list import ScoringSettings
from models.tracking import TrackingSettings
from models.training.dataset import TrainingSetSettings
from models.training.fit import TrainSettings
from models.training.record import TrainingRun
from models.training.run import train_and_register

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "advocacy.yaml"
LOCAL_CONFIG = PROJECT_ROOT / "configs" / "local.yaml"
SQLITE = "sqlite:///"

Settings = TypeVar("Settings", bound=BaseModel)


class ScheduleSettings(BaseModel):
    """When `advocacy schedule` scores and retrains (cron strings, checked when served)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    score_cron: str = Field("0 6 * * 1", min_length=1)
    """Scoring: Mondays at 06:00."""
    train_cron: str = Field("0 3 1 * *", min_length=1)
    """Training, quality gate and alias: the first of each month at 03:00."""
    timezone: str = "UTC"
    """IANA time zone the cron times are in, e.g. Europe/Berlin."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {zone!r} (use an IANA name)") from error
        return zone


class PrefectSettings(BaseModel):
    """How commands run their flows on Prefect."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    startup_timeout_seconds: int = Field(180, gt=0)
    """Wait for Prefect's temporary local API (a busy 2-core machine needs 30-40 s)."""


class AppConfig(BaseModel):
    """The whole configuration, one section per command."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    generate: GeneratorSettings = GeneratorSettings()
    ingest: IngestSettings = IngestSettings()
    features: FeatureSettings = FeatureSettings()
    label: LabelSettings = LabelSettings()
    training_set: TrainingSetSettings = TrainingSetSettings()
    train: TrainSettings = TrainSettings()
    tracking: TrackingSettings = TrackingSettings()
    scoring: ScoringSettings
    outreach: OutreachSettings = OutreachSettings()
    uplift: UpliftSettings = UpliftSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    prefect: PrefectSettings = PrefectSettings()

    @model_validator(mode="after")
    def _measured_segments_exist(self) -> AppConfig:
        self.scoring.segments.check_named(
            self.outreach.measured_segments, "outreach.measured_segments"
        )
        return self


def describe_errors(error: ValidationError) -> str:
    """One line per invalid key, with its dotted path."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'top level'}: "
        f"{'unknown key' if item['type'] == 'extra_forbidden' else item['msg']}"
        for item in error.errors()
    )


def chosen_config(path: Path | None = None) -> Path | None:
    """The file of changes: `path` (from --config), else the one ADVOCACY_CONFIG names."""
    named = os.environ.get("ADVOCACY_CONFIG")
    return path or (Path(named) if named else None)


def config_files(path: Path | None = None) -> list[Path]:
    """The files merged, in order: defaults, the chosen file, the local overlay if present."""
    chosen = chosen_config(path)
    local = [LOCAL_CONFIG] if LOCAL_CONFIG.exists() else []
    return [DEFAULT_CONFIG, *([chosen] if chosen else []), *local]


def load_config(path: Path | None = None) -> AppConfig:
    """The configuration of the CLI: the files of `config_files(path)`, merged in order.

    Each file is validated as it is merged in, so an error names the file that brought
    it. Relative paths stay relative, to the folder the command runs in.
    """
    defaults, *changes = config_files(path)
    merged = read_yaml(defaults)
    config = _validated(merged, defaults)
    for file in changes:
        merged = deep_merge(merged, read_yaml(file))
        config = _validated(merged, file)
    return config


def _validated(raw: dict[str, Any], path: Path) -> AppConfig:
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as error:
        raise UserError(f"{path}: {describe_errors(error)}") from error


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping of sections in one config file (an empty file changes nothing)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"{path}: cannot read config: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML: {error}") from error
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(
            f"{path}: expected sections (generate:, ingest:, ...), not a {type(raw).__name__}"
        )
    return raw


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `changes` applied: mappings merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def project_config() -> AppConfig:
    """The configuration for notebooks, with relative paths taken from the project folder.

    A notebook's kernel may start in any folder; a relative ADVOCACY_CONFIG and the relative
    paths inside the configuration are read from the project root instead.
    """
    named = os.environ.get("ADVOCACY_CONFIG")
    return config_under(PROJECT_ROOT, Path(named) if named else None)


def config_under(root: Path, path: Path | None = None) -> AppConfig:
    """`load_config(path)` with relative paths, `path` among them, taken from `root`.

    For readers that do not run in the folder the paths were written for: notebooks, and
    scheduled runs that read the configuration when they start.
    """
    config = load_config(root / path if path else None)
    resolved = config.model_copy(
        update={name: _paths_under(root, section) for name, section in config}
    )
    tracking = resolved.tracking.model_copy(
        update={"uri": _sqlite_under(root, resolved.tracking.uri)}
    )
    return resolved.model_copy(update={"tracking": tracking})


def _paths_under(root: Path, section: Settings) -> Settings:
    """`section` with its relative path settings joined to `root`."""
    relative = {
        name: root / value
        for name, value in section
        if isinstance(value, Path) and not value.is_absolute()
    }
    return section.model_copy(update=relative)


def _sqlite_under(root: Path, uri: str) -> str:
    """A SQLite URI with a relative database file joined to `root`; other URIs unchanged."""
    database = Path(uri.removeprefix(SQLITE))
    if not uri.startswith(SQLITE) or database.is_absolute():
        return uri
    return f"{SQLITE}{root / database}"


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
