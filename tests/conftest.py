"""Test-wide isolation: no test touches a user's real MLflow runs or another test's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest


@pytest.fixture(autouse=True)
def isolated_tool_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point MLflow's tracking store at a temporary SQLite file for every test.

    A developer's configs/local.yaml and ADVOCACY_CONFIG are hidden from the tests.

    Both the environment (for child processes) and MLflow's process-wide URI, which an
    earlier test's `configure_tracking` may have set, are pointed there.
    """
    monkeypatch.delenv("ADVOCACY_CONFIG", raising=False)  # a developer's own settings
    monkeypatch.setattr("pipelines.config.LOCAL_CONFIG", tmp_path / "no-local.yaml")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield
    mlflow.set_tracking_uri(None)
