"""A store in customer partitions, built and scored part by part on Dask, gives the same results.

The store folder stands in for a shared file system: the two `dask worker` processes run
in folders of their own and reach the store and the run folder by absolute paths.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from features.build import FeatureSettings, build_features, write_features
from features.clock import as_utc
from features.views import open_version
from models.bundle import AdvocacyModel
from models.model_registry import CHAMPION, MODEL_NAME
from models.tracking import configure_tracking
from pipelines.config import load_config, with_overrides
from pipelines.flows import run_features_flow, run_score_flow
from tests.conftest import DaskCluster
from tests.features.partitioned import ingest_in, referred_without_channel
from tests.pipelines.quick_model import quick_model

AS_OF = as_utc("2026-09-01")
PARTS = 3
FEATURES = ["tenure_days", "orders_365d", "last_nps", "acquired_by_referral"]


def referral_model(rows: pd.DataFrame) -> AdvocacyModel:
    """A small booster whose score depends on acquired_by_referral."""
    logit = -2 + 1.5 * rows["acquired_by_referral"] + 0.3 * (rows["last_nps"].fillna(5) - 5)
    return quick_model(rows, FEATURES, logit)


@pytest.mark.usefixtures("prefect_api")
def test_partitions_on_dask_give_the_single_machine_features_and_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dask_cluster: DaskCluster
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI")  # the workers get only what the tasks carry
    world = referred_without_channel(tmp_path / "world", customers=800)
    whole = ingest_in(world, tmp_path / "whole", 1)
    ingest_in(world, tmp_path / "parts", PARTS)
    settings = {
        "ingest": {"store": str(tmp_path / "whole")},
        "tracking": {
            "uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
            "artifacts": str(tmp_path / "artifacts"),
        },
        "scoring": {"out": str(tmp_path / "scores-whole"), "partitions": 2},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(settings))
    local = load_config(tmp_path / "config.yaml")
    on_dask = local.model_copy(
        update={
            "ingest": with_overrides(local.ingest, store=tmp_path / "parts"),
            "scoring": with_overrides(
                local.scoring,
                out=tmp_path / "scores-parts",
                task_runner="dask",
                dask_address=dask_cluster.address,
            ),
        }
    )

    expected = write_features(whole, AS_OF, tmp_path / "whole.parquet")
    executed = dask_cluster.executed_tasks()
    built = run_features_flow(on_dask, AS_OF, tmp_path / "parts.parquet")
    assert dask_cluster.executed_tasks() - executed == PARTS  # one task per part, on the workers
    pd.testing.assert_frame_equal(pd.read_parquet(built), expected)
    assert expected["acquired_by_referral"].sum() > 0

    configure_tracking(local.tracking)
    rows = build_features(open_version(whole), [as_utc("2026-01-01")], FeatureSettings())
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model",
            python_model=referral_model(rows),
            registered_model_name=MODEL_NAME,
            pip_requirements=["lightgbm"],  # stated: inferring them takes tens of seconds
        )
    MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, "1")

    single = run_score_flow(local, AS_OF)
    executed = dask_cluster.executed_tasks()
    spread = run_score_flow(on_dask, AS_OF)
    assert dask_cluster.executed_tasks() - executed == PARTS + 2  # feature parts, score parts
    ranked = pd.read_parquet(single / "ranked_list.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(spread / "ranked_list.parquet"), ranked)
    manifests = [json.loads((run / "manifest.json").read_text()) for run in (single, spread)]
    assert manifests[0]["segments"] == manifests[1]["segments"]
    assert len(ranked) == len(expected) and not (spread / "work").exists()
