"""The Prefect flows run the same functions as the command line, on a real Prefect API."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.store import current_version, read_table
from pipelines.config import load_config, with_overrides
from pipelines.flows import demo_flow, ingest_flow


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
