"""Where MLflow records runs and models, for training and scoring alike.

Embedded by default: a SQLite database and an artifact folder under `data/mlflow/`.
`MLFLOW_TRACKING_URI` (or `tracking.uri` in the config) points at a tracking server
instead; then the server decides where artifacts go.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from pydantic import BaseModel, ConfigDict, Field


class TrackingSettings(BaseModel):
    """Where MLflow records runs and models, and when a new version becomes champion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    uri: str = "sqlite:///data/mlflow/mlflow.db"
    """Tracking and registry URI; the MLFLOW_TRACKING_URI environment variable wins."""
    artifacts: Path = Path("data/mlflow/artifacts")
    """Artifact folder of a new experiment on a local SQLite store."""
    experiment: str = "advocacy"
    promotion_margin: float = Field(0.005, ge=0)
    """PR-AUC points a new version must gain over the champion to replace it."""


def configure_tracking(settings: TrackingSettings) -> str:
    """Point MLflow at the configured store and experiment; returns the tracking URI."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or settings.uri
    local_database = uri.startswith("sqlite:///")
    if local_database:
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(settings.experiment) is None:
        location = settings.artifacts.resolve().as_uri() if local_database else None
        mlflow.create_experiment(settings.experiment, artifact_location=location)
    mlflow.set_experiment(settings.experiment)
    return uri
