"""The Prefect flows run the same functions as the command line, on a real Prefect API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from features.build import FeatureSettings
from features.clock import as_utc
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings
from features.registry import FEATURE_NAMES
from models.outputs import latest_run
from models.tracking import configure_tracking
from pipelines.config import load_config, with_overrides
from pipelines.flows import demo_flow, features_flow, ingest_flow, run_score_flow


@pytest.mark.usefixtures("prefect_api")
def test_demo_pipeline_dask_scoring_and_a_failed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config()  # the demo's own world: 20,000 customers
    config = config.model_copy(
        update={
            "generate": with_overrides(config.generate, out=tmp_path / "world"),
            "ingest": with_overrides(config.ingest, store=tmp_path / "store"),
            "train": with_overrides(config.train, out=tmp_path / "training"),
            "tracking": with_overrides(config.tracking, artifacts=tmp_path / "artifacts"),
            "scoring": with_overrides(config.scoring, out=tmp_path / "scores", partitions=3),
        }
    )
    configure_tracking(config.tracking)
    folder = demo_flow(config)
    assert folder == latest_run(tmp_path / "scores")
    assert (tmp_path / "training" / "version-1" / "model_card.md").exists()
    local = pd.read_parquet(folder / "ranked_list.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model_version"] == "1" and manifest["customers"] == len(local)
    assert sum(s["customers"] for s in manifest["segments"].values()) == len(local)
    for name in ("ranked_list.csv", "ranked_list.xlsx", "report.html", "segments/champion.csv"):
        assert (folder / name).stat().st_size > 0, name
    assert not (folder / "work").exists()

    # The same flow on a local Dask cluster gives the same list.
    as_of = as_utc(config.generate.end)
    on_dask = config.model_copy(
        update={"scoring": with_overrides(config.scoring, task_runner="dask")}
    )
    dask_folder = run_score_flow(on_dask, as_of)
    assert dask_folder != folder and latest_run(tmp_path / "scores") == dask_folder
    pd.testing.assert_frame_equal(pd.read_parquet(dask_folder / "ranked_list.parquet"), local)

    # A run that fails while writing leaves the previous outputs as they were.
    before = (dask_folder / "ranked_list.csv").read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("models.scoring_run.write_xlsx", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run_score_flow(config, as_of)
    assert latest_run(tmp_path / "scores") == dask_folder
    assert (dask_folder / "ranked_list.csv").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "scores").iterdir()) == sorted(
        ["latest", folder.name, dask_folder.name]
    )


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
