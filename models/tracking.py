"""Where MLflow records runs and models, for training and scoring alike.

Embedded by default: a SQLite database and an artifact folder under `data/mlflow/`.
`MLFLOW_TRACKING_URI` (or `tracking.uri` in the config) points at a tracking server
instead; then the server decides where artifacts go.

The store is checked before MLflow first opens it: MLflow retries an unreachable server
or an unopenable database for minutes before it fails with a long traceback.
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import urllib.error
import urllib.request
from contextlib import closing
from http import HTTPStatus
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from pydantic import BaseModel, ConfigDict, Field

from features.errors import UserError

SQLITE = "sqlite:///"
SERVER_TIMEOUT_SECONDS = 10


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
    local_database = uri.startswith(SQLITE)
    if local_database:
        check_sqlite_store(Path(uri.removeprefix(SQLITE)))
    elif uri.startswith(("http://", "https://")):
        check_server_reachable(uri)
    mlflow.set_tracking_uri(uri)
    try:
        if mlflow.get_experiment_by_name(settings.experiment) is None:
            location = settings.artifacts.resolve().as_uri() if local_database else None
            mlflow.create_experiment(settings.experiment, artifact_location=location)
        mlflow.set_experiment(settings.experiment)
    except MlflowException as error:  # e.g. not an MLflow server, or a refused login
        first_line = str(error).strip().splitlines()[0]
        raise UserError(f"The MLflow store at {uri} cannot be used: {first_line}") from error
    return uri


def check_sqlite_store(database: Path) -> None:
    """Refuse a store file that SQLite cannot open or finds damaged; create its folder."""
    fix = "restore it from a backup, or set tracking.uri or MLFLOW_TRACKING_URI to another file"
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        if not database.exists():
            return  # MLflow creates it
        with closing(sqlite3.connect(database)) as connection:
            answer = connection.execute("PRAGMA quick_check").fetchone()[0]
    except (OSError, sqlite3.Error) as error:
        raise UserError(f"The MLflow store {database} cannot be read ({error}): {fix}.") from error
    if answer != "ok":
        raise UserError(f"The MLflow store {database} is damaged ({answer}): {fix}.")


def check_server_reachable(uri: str) -> None:
    """Refuse a tracking server that does not answer, or answers with a server error.

    MLflow would retry either for minutes. Any other answer counts as reachable (MLflow
    reports what it refuses), and so does a TLS failure: MLflow applies its own
    certificate settings and reports those problems itself.
    """
    health = f"{uri.rstrip('/')}/health"
    try:
        # The scheme is http or https (see `configure_tracking`).
        with urllib.request.urlopen(health, timeout=SERVER_TIMEOUT_SECONDS):  # noqa: S310
            return
    except urllib.error.HTTPError as answer:
        answer.close()
        if answer.code < HTTPStatus.INTERNAL_SERVER_ERROR:
            return
        reason: object = f"{health} answers HTTP {answer.code}"
    except urllib.error.URLError as error:
        if isinstance(error.reason, ssl.SSLError):
            return
        reason = error.reason
    except OSError as error:  # e.g. a timeout while reading the answer
        reason = error
    raise UserError(
        f"The MLflow tracking server at {uri} cannot be reached ({reason}): start it, "
        "or set MLFLOW_TRACKING_URI or tracking.uri to one that runs."
    )
