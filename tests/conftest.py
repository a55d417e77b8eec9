"""Test-wide isolation: no test touches a user's real MLflow runs or Prefect home."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_tool_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point MLflow's tracking store at a temporary SQLite file for every test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
