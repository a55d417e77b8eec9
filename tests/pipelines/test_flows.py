"""The Prefect flows run the same functions as the command line, on a real Prefect API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from features.build import FeatureSettings
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings
from features.registry import FEATURE_NAMES
from features.store import current_version, read_table
from pipelines.config import load_config, with_overrides
from pipelines.flows import demo_flow, features_flow, ingest_flow


@pytest.mark.usefixtures("prefect_api")
def test_demo_flow_generates_and_ingests(tmp_path: Path) -> None:
    config = load_config()
    config = config.model_copy(
        update={
            "generate": with_overrides(config.generate, customers=400, out=tmp_path / "world"),
            "ingest": with_overrides(config.ingest, store=tmp_path / "store"),
        }
    )
    report = demo_flow(config)
    assert report.store_version == current_version(tmp_path / "store")
    assert len(read_table(tmp_path / "store", "customers")) == 400
    again = ingest_flow(with_overrides(config.ingest, source=tmp_path / "world"))
    assert again.store_version == report.store_version


@pytest.mark.usefixtures("prefect_api")
def test_features_flow_writes_the_table(tmp_path: Path) -> None:
    world, store = tmp_path / "world", tmp_path / "store"
    generate_world(GeneratorSettings(customers=300, seed=4), world)
    ingest_flow(IngestSettings(source=world, store=store, as_of="2026-11-01T00:00:00Z"))
    out = features_flow(
        store, datetime(2026, 6, 1, tzinfo=UTC), tmp_path / "f.parquet", FeatureSettings()
    )
    table = pd.read_parquet(out)
    assert list(table.columns) == ["customer_id", "cutoff", *FEATURE_NAMES]
    assert table["cutoff"].eq(pd.Timestamp("2026-06-01T00:00:00Z")).all() and len(table) > 50
