"""DuckDB's memory limit and spill folder come from the configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from features.build import FeatureSettings, write_features
from features.definitions import FEATURE_NAMES
from features.engine import EngineSettings, connect
from features.views import open_version
from pipelines.config import load_config


def _settings(connection: object) -> tuple[str, str]:
    query = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    return connection.execute(query).fetchone()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("6GB", 6 * 10**9), ("512MiB", 512 * 2**20), ("1.5 GiB", int(1.5 * 2**30))],
)
def test_a_size_is_read_in_bytes(limit: str, expected: int) -> None:
    assert EngineSettings(memory_limit=limit).memory_bytes() == expected


def test_a_share_is_taken_of_the_machines_memory() -> None:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert EngineSettings(memory_limit="25%").memory_bytes() == total // 4


@pytest.mark.parametrize("limit", ["lots", "0%", "150%", "6", "-1GB"])
def test_other_limits_are_refused(limit: str) -> None:
    with pytest.raises(ValidationError, match="neither a share of memory"):
        EngineSettings(memory_limit=limit)


def test_connections_keep_within_the_limit_and_spill_into_the_folder(tmp_path: Path) -> None:
    connection = connect(EngineSettings(memory_limit="1GiB", spill_folder=tmp_path / "spill"))
    assert _settings(connection) == ("1.0 GiB", str(tmp_path / "spill"))
    assert (tmp_path / "spill").is_dir()


def test_the_feature_build_uses_the_configured_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(
        f"features:\n  duckdb: {{memory_limit: 300MiB, spill_folder: {tmp_path}/spill}}\n"
    )
    settings = load_config(path).features
    assert settings.duckdb == EngineSettings(memory_limit="300MiB", spill_folder=tmp_path / "spill")
    seen = []

    def recording(version: Path, engine: EngineSettings | None = None) -> object:
        connection = open_version(version, engine=engine)
        seen.append(_settings(connection))
        raise RuntimeError("stop here")

    monkeypatch.setattr("features.build.open_version", recording)
    monkeypatch.setattr("features.build.store_features", lambda version: list(FEATURE_NAMES))
    with pytest.raises(RuntimeError, match="stop here"):
        write_features(tmp_path, pd.Timestamp("2026-01-01", tz="UTC"), tmp_path / "f", settings)
    assert seen == [("300.0 MiB", str(tmp_path / "spill"))]
    assert FeatureSettings().duckdb.memory_limit == "50%"
