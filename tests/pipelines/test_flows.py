"""The Prefect flows run the same functions as the command line, on a real Prefect API."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from features.atomic import point_link
from features.build import FeatureSettings
from features.clock import as_utc
from features.definitions import FEATURE_NAMES
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.store import current_version
from features.views import open_version
from models.model_registry import CHAMPION, MODEL_NAME
from models.scoring.files import latest_run
from models.scoring.ranked_list import score_partition
from models.tracking import configure_tracking
from models.training.dataset import build_training_set
from models.training.fit import TrainSettings, train_model
from pipelines.config import load_config, with_overrides
from pipelines.flows import features_flow, ingest_flow, run_score_flow
from tests.conftest import DaskCluster, DemoRun


@pytest.mark.usefixtures("prefect_api")
def test_demo_pipeline_dask_scoring_and_a_failed_run(
    demo_run: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dask_cluster: DaskCluster
) -> None:
    # The session's demo run (tests/conftest.py): the demo's own world, 20,000 customers,
    # with the tracking URI in the config file only. The Dask workers cannot learn it
    # from the environment, and need none (the scoring plan carries the loaded model).
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    config, folder = demo_run.config, demo_run.run
    assert folder == latest_run(demo_run.scores)
    assert (config.train.out / "version-1" / "model_card.md").exists()
    assert Path(demo_run.tracking_uri.removeprefix("sqlite:///")).exists()
    local = pd.read_parquet(folder / "ranked_list.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model_version"] == "1" and manifest["customers"] == len(local)
    assert sum(s["customers"] for s in manifest["segments"].values()) == len(local)
    for name in ("ranked_list.csv", "ranked_list.xlsx", "report.html", "segments/champion.csv"):
        assert (folder / name).stat().st_size > 0, name
    assert not (folder / "work").exists()
    champions = pd.read_csv(folder / "segments" / "champion.csv")
    held = local[local["control"]]
    assert (
        manifest["control"]["segments"]["Champion"]["control"]
        == (held["segment"] == "Champion").sum()
        > 0
    )
    assert not champions["customer_id"].isin(held["customer_id"]).any()

    # The runs below go into a copy of the runs folder: the notebooks read the demo's.
    scores = tmp_path / "scores"
    shutil.copytree(demo_run.scores, scores, symlinks=True)
    folder = scores / folder.name
    config = config.model_copy(
        update={"scoring": with_overrides(config.scoring, out=scores, partitions=3)}
    )

    # The same flow with its partitions on two `dask worker` processes gives the same list,
    # and nothing on the workers opened an MLflow store.
    as_of = as_utc(config.generate.end)
    on_dask = config.model_copy(
        update={
            "scoring": with_overrides(
                config.scoring, task_runner="dask", dask_address=dask_cluster.address
            )
        }
    )
    executed_before = dask_cluster.executed_tasks()
    dask_folder = run_score_flow(on_dask, as_of)
    assert dask_cluster.executed_tasks() - executed_before == 3  # the partitions ran there
    assert dask_folder != folder and latest_run(scores) == dask_folder
    pd.testing.assert_frame_equal(pd.read_parquet(dask_folder / "ranked_list.parquet"), local)
    for worker in dask_cluster.worker_folders:
        assert not [*worker.rglob("mlflow.db"), *worker.rglob("mlruns")], worker

    # A run that fails while writing leaves the previous outputs as they were.
    before = (dask_folder / "ranked_list.csv").read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("models.scoring.run.write_xlsx", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run_score_flow(config, as_of)
    assert latest_run(scores) == dask_folder
    assert (dask_folder / "ranked_list.csv").read_bytes() == before
    assert sorted(p.name for p in scores.iterdir()) == sorted(
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


@pytest.mark.usefixtures("prefect_api")
def test_a_store_published_mid_run_does_not_reach_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, as_of = tmp_path / "store", as_utc("2026-10-01")
    for name, seed in (("a", 21), ("b", 22)):  # two worlds with different customers
        generate_world(GeneratorSettings(customers=3000, seed=seed), tmp_path / name)
    ingest(IngestSettings(source=tmp_path / "a", store=store, as_of="2026-11-01T00:00:00Z"))
    version_a = current_version(store)
    config = load_config()
    config = config.model_copy(
        update={
            "ingest": with_overrides(config.ingest, store=store),
            "tracking": with_overrides(config.tracking, artifacts=tmp_path / "artifacts"),
            "scoring": with_overrides(config.scoring, out=tmp_path / "scores", partitions=3),
        }
    )
    configure_tracking(config.tracking)
    result = train_model(build_training_set(open_version(version_a)), TrainSettings())
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model", python_model=result.model, registered_model_name=MODEL_NAME
        )
    MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, "1")

    scored_partitions = []

    def publish_between_partitions(*args: object) -> pd.DataFrame:
        if not scored_partitions:  # after the features, before the first partition
            ingest(IngestSettings(source=tmp_path / "b", store=store, as_of="2026-11-01"))
        scored_partitions.append(args)
        return score_partition(*args)  # type: ignore[arg-type]

    monkeypatch.setattr("models.scoring.run.score_partition", publish_between_partitions)
    during = run_score_flow(config, as_of)
    assert len(scored_partitions) == 3 and current_version(store) != version_a

    monkeypatch.setattr("models.scoring.run.score_partition", score_partition)
    point_link(store / "current", version_a)  # the same run again, with nothing published
    alone = run_score_flow(config, as_of)
    listed = pd.read_parquet(during / "ranked_list.parquet")
    pd.testing.assert_frame_equal(listed, pd.read_parquet(alone / "ranked_list.parquet"))
    assert listed["contactable"].any()  # opt-ins of world b would match no customer of a
    manifests = [json.loads((run / "manifest.json").read_text()) for run in (during, alone)]
    assert manifests[0]["input_fingerprint"] == version_a.name
    for key in ("input_store", "input_fingerprint", "customers", "segments", "model_version"):
        assert manifests[0][key] == manifests[1][key], key
    for segment in ("champion", "likely-advocate"):
        outreach = pd.read_csv(during / "segments" / f"{segment}.csv", dtype={"customer_id": str})
        assert len(outreach) > 0 and outreach["contactable"].all()
