"""Monitoring in the score flow: a second run on shifted customers is flagged everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from prefect.artifacts import Artifact

from features.build import FeatureSettings, build_features
from features.clock import as_utc
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.store import current_version
from features.views import open_version
from models.bundle import AdvocacyModel
from models.model_registry import CHAMPION, MODEL_NAME
from models.tracking import configure_tracking
from pipelines import cli
from pipelines.config import load_config
from pipelines.flows import run_score_flow
from tests.pipelines.quick_model import quick_model

FEATURES = ["tenure_days", "last_nps", "orders_365d"]


def small_model(rows: pd.DataFrame) -> AdvocacyModel:
    """A quick booster on three features, the label made up from them."""
    logit = -3 + 0.4 * (rows["last_nps"].fillna(5) - 5) + 0.002 * rows["tenure_days"]
    return quick_model(rows, FEATURES, logit)


@pytest.mark.usefixtures("prefect_api")
def test_a_second_run_on_shifted_customers_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    generate_world(GeneratorSettings(customers=800, seed=5), tmp_path / "world")
    ingest(IngestSettings(source=tmp_path / "world", store=store, as_of="2026-11-01T00:00:00Z"))
    overrides = {
        "ingest": {"store": str(store)},
        "tracking": {"artifacts": str(tmp_path / "artifacts")},
        "scoring": {
            "out": str(tmp_path / "scores"),
            "partitions": 1,
            "monitoring": {"feature_psi": 0.1},
        },
    }
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(overrides))
    config = load_config(config_file)
    configure_tracking(config.tracking)  # the test's own MLflow store (MLFLOW_TRACKING_URI)
    rows = build_features(
        open_version(current_version(store)), [as_utc("2026-01-01")], FeatureSettings()
    )
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model", python_model=small_model(rows), registered_model_name=MODEL_NAME
        )
    MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, "1")

    # Sixteen months apart: the same customers have been customers much longer.
    first = run_score_flow(config, as_utc("2025-06-01"))
    second = run_score_flow(config, as_utc("2026-10-01"))

    manifests = [json.loads((run / "manifest.json").read_text()) for run in (first, second)]
    assert manifests[0]["monitoring"]["previous_run"] is None and manifests[0]["flags"] == []
    monitoring, flags = manifests[1]["monitoring"], manifests[1]["flags"]
    assert monitoring["previous_run"] == first.name
    assert monitoring["feature_psi"]["tenure_days"] > 0.1
    assert any(flag.startswith("Feature drift: Days since signup (tenure_days)") for flag in flags)
    assert "Check before using this list" in (second / "report.html").read_text()
    assert (second / "monitoring.json").exists() and not (second / "work").exists()

    # Who entered the watched segments, in files marketing can open.
    newcomers = monitoring["newcomers"]
    assert set(newcomers) == {"Champion", "Recover first"}
    champions = pd.read_csv(second / newcomers["Champion"]["file"], dtype={"customer_id": str})
    counts = newcomers["Champion"]
    assert len(champions) == counts["contactable"] - counts["control"] > 0  # control left out
    before = pd.read_parquet(first / "ranked_list.parquet").set_index("customer_id")["segment"]
    assert not (champions["customer_id"].map(before) == "Champion").any()

    artifact = Artifact.get("scoring-flags")
    assert artifact is not None and "tenure_days" in str(artifact.data)

    # The operators' overview shows both runs and the flag.
    monkeypatch.setattr(cli.console, "width", 250)  # one line per table row
    assert cli.main(["status", "--config", str(config_file)]) == 0
    shown = capsys.readouterr().out
    assert first.name in shown and second.name in shown and "Days since signup" in shown
    assert "not compared" in shown and "champion" in shown
