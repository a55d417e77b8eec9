"""MLflow tracking and registry on a real SQLite store: runs, versions, aliases, loading."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from features.build import FeatureSettings
from features.definitions import current_definitions
from features.errors import UserError
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.labels import LabelSettings
from features.store import current_version
from features.views import open_version
from models.bundle import AdvocacyModel
from models.model_registry import (
    CHALLENGER,
    CHAMPION,
    MODEL_NAME,
    assign_alias,
    decide_alias,
    load_model,
    promote,
)
from models.scoring.run import check_request
from models.tracking import TrackingSettings, configure_tracking
from models.training.dataset import TrainingSetSettings, build_training_set
from models.training.fit import MODEL, BoosterSettings, TrainingResult, TrainSettings, train_model
from models.training.record import TrainingRun
from models.training.run import train_and_register
from pipelines.config import load_config
from tests.models.conftest import World

WEAK = BoosterSettings(num_leaves=3, max_depth=2, max_rounds=8, early_stopping_rounds=8)


STRONG = BoosterSettings()


def _train(world: World, out: Path, booster: BoosterSettings = STRONG) -> TrainingRun:
    return train_and_register(
        current_version(world.store),
        out,
        FeatureSettings(),
        LabelSettings(),
        TrainingSetSettings(),
        TrainSettings(booster=booster, reference_num_leaves=None, truth=world.truth),
        TrackingSettings(artifacts=out / "artifacts"),
        {"note": "test"},
    )


def test_alias_decision_rule() -> None:
    assert decide_alias(0.30, None, 0.01)[0] == CHAMPION
    assert decide_alias(0.32, 0.30, 0.01)[0] == CHAMPION
    assert decide_alias(0.305, 0.30, 0.01)[0] == CHALLENGER
    assert decide_alias(0.20, 0.30, 0.01)[0] == CHALLENGER


def _register(model: AdvocacyModel, artifacts: Path) -> str:
    configure_tracking(TrackingSettings(artifacts=artifacts))
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model", python_model=model, registered_model_name=MODEL_NAME
        )
    return str(info.registered_model_version)


@pytest.fixture(scope="module")
def weak(medium_world: World) -> TrainingResult:
    """A booster of 8 rounds of 3-leaf trees on the medium world: clearly worse."""
    settings = TrainSettings(booster=WEAK, reference_num_leaves=None, family="lightgbm")
    return train_model(medium_world.parts, settings)


def test_better_version_takes_champion_and_worse_gets_challenger(
    medium_world: World, medium_model: TrainingResult, weak: TrainingResult, tmp_path: Path
) -> None:
    parts, strong = medium_world.parts, medium_model  # the project's booster settings
    strong_pr_auc = strong.evaluation.loc[MODEL, "pr_auc"]
    weak_pr_auc = weak.evaluation.loc[MODEL, "pr_auc"]
    assert strong_pr_auc > weak_pr_auc + 0.005

    first = _register(weak.model, tmp_path)
    assert assign_alias(first, parts.test, weak_pr_auc, 0.005).alias == CHAMPION
    better = _register(strong.model, tmp_path)
    decision = assign_alias(better, parts.test, strong_pr_auc, 0.005)
    assert (decision.alias, decision.champion_version) == (CHAMPION, first)
    assert decision.champion_pr_auc == pytest.approx(weak_pr_auc)  # re-scored on the same rows
    worse = _register(weak.model, tmp_path)
    assert assign_alias(worse, parts.test, weak_pr_auc, 0.005).alias == CHALLENGER
    client = MlflowClient()
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION).version) == better
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHALLENGER).version) == worse


def test_training_runs_register_and_a_person_can_override(
    small_world: World, tmp_path: Path
) -> None:
    # What is registered and logged, not how good it is: the small world will do.
    first = _train(small_world, tmp_path)
    assert (first.version, first.decision.alias) == ("1", CHAMPION)
    second = _train(small_world, tmp_path)  # same data and seed: no better
    assert (second.version, second.decision.alias) == ("2", CHALLENGER)
    assert second.decision.champion_pr_auc == pytest.approx(first.decision.new_pr_auc)
    run = MlflowClient().get_run(second.run_id)
    assert run.data.tags["registry_alias"] == CHALLENGER
    assert run.data.metrics["champion_pr_auc_same_rows"] == pytest.approx(first.decision.new_pr_auc)
    assert "is now the champion (was version 1)" in promote("2")
    aliases = MlflowClient().get_model_version(MODEL_NAME, "2").aliases
    assert aliases == [CHAMPION]
    assert "already is the champion" in promote("2")
    with pytest.raises(UserError, match="no version 9"):
        promote("9")

    # What a reviewer needs is on the run.
    client = MlflowClient()
    logged = client.get_run(first.run_id)
    assert logged.data.tags["data_fingerprint"] == (small_world.store / "current").resolve().name
    for name in ("model_pr_auc", "rfm_pr_auc", "oracle_pr_auc", "model_vs_oracle_pr_auc"):
        assert name in logged.data.metrics
    artifacts = {a.path for a in client.list_artifacts(first.run_id, "plots")}
    assert artifacts == {
        f"plots/{name}.png"
        for name in (
            "calibration",
            "gains",
            "precision_recall",
            "feature_importance",
            "shap_summary",
        )
    }
    card = (tmp_path / "version-1" / "model_card.md").read_text()
    assert "## Known limits" in card and "Oracle ranking" in card
    config = client.download_artifacts(first.run_id, "config.json", str(tmp_path))
    assert json.loads(Path(config).read_text()) == {"note": "test"}
    definitions = client.download_artifacts(first.run_id, "feature_definitions.json", str(tmp_path))
    assert json.loads(Path(definitions).read_text()) == current_definitions()

    # The signature names the features; the input example holds no ids.
    info = mlflow.models.get_model_info(f"models:/{MODEL_NAME}/1")
    model, _ = load_model("1")
    assert info.signature.inputs.input_names() == model.features
    local = mlflow.artifacts.download_artifacts(f"models:/{MODEL_NAME}/1", dst_path=str(tmp_path))
    example = mlflow.models.Model.load(local).load_input_example(local)
    assert not {"customer_id", "cutoff"} & set(example.columns)
    assert not any("id" in column.split("_") for column in example.columns)

    # Loading by alias in a fresh process gives the same predictions.
    rows = small_world.parts.test.head(200)
    rows.to_parquet(tmp_path / "rows.parquet")
    here = load_model(CHAMPION)[0].probability(rows)
    script = (
        "import pandas as pd, mlflow\n"
        f"model = mlflow.pyfunc.load_model('models:/{MODEL_NAME}@{CHAMPION}')\n"
        f"rows = pd.read_parquet(r'{tmp_path / 'rows.parquet'}')\n"
        "names = model.metadata.get_input_schema().input_names()\n"
        f"pd.DataFrame({{'p': model.predict(rows[names])}}).to_parquet(r'{tmp_path / 'p.parquet'}')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    there = pd.read_parquet(tmp_path / "p.parquet")["p"].to_numpy()
    np.testing.assert_array_equal(here, there)


def test_no_champion_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="Train one with `advocacy train`"):
        load_model(CHAMPION)


def test_too_few_advocates_to_train_is_a_clear_error(tmp_path: Path) -> None:
    generate_world(GeneratorSettings(customers=40, seed=2), tmp_path / "world")
    ingest(
        IngestSettings(
            source=tmp_path / "world", store=tmp_path / "store", as_of="2026-11-01T00:00:00Z"
        )
    )
    with pytest.raises(UserError, match="too few to train") as raised:
        train_and_register(
            current_version(tmp_path / "store"),
            tmp_path,
            FeatureSettings(),
            LabelSettings(),
            TrainingSetSettings(),
            TrainSettings(),
            TrackingSettings(artifacts=tmp_path / "artifacts"),
            {},
        )
    said = str(raised.value)
    assert said.startswith("The training cutoffs (")  # the first part short of advocates
    # The minimum, in advocates and in customers at the world's advocacy rate.
    assert "At least 100 advocates are needed in the training cutoffs" in said
    parts = build_training_set(open_version(current_version(tmp_path / "store")))
    rows = pd.concat([parts.train, parts.validation, parts.test])
    rate, cutoffs = rows["label"].mean(), len(parts.plan.train)
    needed = math.ceil(max(100 / (rate * cutoffs), 5 / rate))
    assert f"({rate:.1%}) that takes about {needed:,} active customers per cutoff" in said


def test_a_new_feature_never_blocks_the_champion_but_a_changed_one_does(
    medium_world: World, weak: TrainingResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = medium_world.parts
    pr_auc = weak.evaluation.loc[MODEL, "pr_auc"]
    first = _register(weak.model, tmp_path)
    assert assign_alias(first, parts.test, pr_auc, 0.005).alias == CHAMPION
    today = current_definitions()

    # A feature added to the registry since: the champion is still compared and scores.
    with_new = today | {"brand_new_feature": "0123456789ab"}
    monkeypatch.setattr("models.model_registry.current_definitions", lambda: with_new)
    second = _register(weak.model, tmp_path)
    compared = assign_alias(second, parts.test, pr_auc, 0.005)
    assert compared.champion_pr_auc == pytest.approx(pr_auc)
    monkeypatch.setattr("models.scoring.run.current_definitions", lambda: with_new)
    check_request(current_version(medium_world.store), parts.plan.test, "1", load_config().scoring)

    # One of the champion's features computed differently: no comparison, no scoring.
    changed_name = weak.model.features[0]
    changed = today | {changed_name: "changed12345"}
    monkeypatch.setattr("models.model_registry.current_definitions", lambda: changed)
    third = _register(weak.model, tmp_path)
    decision = assign_alias(third, parts.test, pr_auc, 0.005)
    assert decision.alias == CHALLENGER and decision.champion_pr_auc is None
    assert changed_name in decision.reason
    monkeypatch.setattr("models.scoring.run.current_definitions", lambda: changed)
    with pytest.raises(
        UserError, match=f"computed differently now or no longer exist: {changed_name}"
    ):
        check_request(
            current_version(medium_world.store), parts.plan.test, "1", load_config().scoring
        )
    assert weak.model.changed_features(today) == []
