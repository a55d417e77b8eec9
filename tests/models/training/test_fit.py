"""Training on generated worlds: better than the baselines, close to the oracle, calibrated.

The booster's properties are checked with the family set to LightGBM: on these worlds
the logistic regression is within noise of it on the validation cutoff, and either may
win the automatic choice (`models.training.family`, checked in test_family.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.training.fit import MODEL, ORACLE, REFERENCE, TrainingResult, train_model
from tests.conftest import DaskCluster
from tests.models.conftest import World, booster_settings


def test_model_beats_every_baseline_on_pr_auc(medium_model: TrainingResult) -> None:
    evaluation = medium_model.evaluation
    baselines = evaluation.drop(index=[MODEL, ORACLE, REFERENCE])
    rules = {"last_nps_9_or_10", "rfm", "last_review_rating_5"}
    assert set(baselines.index) == {*rules, "logistic_regression"}  # and the other family
    assert (evaluation.loc[MODEL, "pr_auc"] > baselines["pr_auc"]).all()
    assert medium_model.best_baseline in rules
    assert medium_model.beats_baselines


@pytest.mark.parametrize(
    "baseline",
    [
        "last_nps_9_or_10",
        "rfm",
        "last_review_rating_5",
        pytest.param(
            "logistic_regression",
            marks=pytest.mark.xfail(
                reason="the generated hazard is log-linear in the traits but for one "
                "interaction, so logistic regression stays within noise of the booster in "
                "the top decile",
                strict=True,
            ),
        ),
    ],
)
def test_model_beats_the_baseline_on_lift_in_the_top_ten_percent(
    medium_model: TrainingResult, baseline: str
) -> None:
    lift = medium_model.evaluation["lift_top_10pct"]
    assert lift[MODEL] > lift[baseline]


def test_no_model_beats_the_oracle_by_much(medium_model: TrainingResult) -> None:
    # The oracle ranks by the true probabilities; a model can only match it by luck.
    assert (
        medium_model.evaluation.loc[MODEL, "pr_auc"]
        < 1.1 * medium_model.evaluation.loc[ORACLE, "pr_auc"]
    )


def test_calibration_brings_the_brier_score_down(medium_model: TrainingResult) -> None:
    model = medium_model.evaluation.loc[MODEL]
    assert model["brier"] < model["brier_uncalibrated"]
    assert model["ece"] < model["ece_uncalibrated"]
    # Calibrated probabilities average out close to the realised rate.
    scores = medium_model.test_scores
    assert abs(scores["model_probability"].mean() - scores["label"].mean()) < 0.02


def test_calibration_never_reorders_customers(medium_model: TrainingResult) -> None:
    scores = medium_model.test_scores.sort_values(MODEL)
    assert scores["model_probability"].is_monotonic_increasing


def test_same_data_and_seed_give_the_same_model(
    medium_world: World, medium_model: TrainingResult
) -> None:
    again = train_model(medium_world.parts, booster_settings(medium_world))
    np.testing.assert_array_equal(
        again.model.probability(medium_world.parts.test),
        medium_model.model.probability(medium_world.parts.test),
    )
    assert again.evaluation.equals(medium_model.evaluation)


def test_shap_contributions_add_up_to_the_raw_score(
    medium_world: World, medium_model: TrainingResult
) -> None:
    rows = medium_world.parts.test
    contributions = medium_model.model.contributions(rows)
    assert contributions.shape == (len(rows), len(medium_model.model.features) + 1)
    np.testing.assert_allclose(
        contributions.sum(axis=1), medium_model.model.raw_score(rows), atol=1e-9
    )


def test_model_reaches_80_percent_of_the_oracle_on_a_medium_world(
    medium_model: TrainingResult,
) -> None:
    """20,000 customers, 12 training cutoffs: PR-AUC at least 80 % of the oracle's."""
    ratio = (
        medium_model.evaluation.loc[MODEL, "pr_auc"] / medium_model.evaluation.loc[ORACLE, "pr_auc"]
    )
    assert ratio >= 0.8, f"model / oracle PR-AUC = {ratio:.3f}"


def test_training_on_a_dask_cluster_gives_a_model_close_to_the_local_one(
    medium_world: World, medium_model: TrainingResult, dask_cluster: DaskCluster
) -> None:
    """The trees grow on two workers, each binning and bagging half the rows: close, not equal.

    Tolerances: test PR-AUC within 0.01 and ROC-AUC within 0.005 of the local model's, and
    a Spearman correlation of the two rankings above 0.98 (measured: 0.002 PR-AUC apart,
    Spearman 0.989-0.993 over runs). Stopping and calibration ran as locally: the
    calibrated probabilities average out to the realised rate.
    """
    settings = booster_settings(medium_world).model_copy(
        update={"reference_num_leaves": None, "dask_address": dask_cluster.address}
    )
    on_cluster = train_model(medium_world.parts, settings)
    best_iteration = on_cluster.params["best_iteration"]
    for metric, tolerance in (("pr_auc", 0.01), ("roc_auc", 0.005)):
        local, cluster = (
            medium_model.evaluation.loc[MODEL, metric],
            on_cluster.evaluation.loc[MODEL, metric],
        )
        assert abs(cluster - local) < tolerance, (metric, local, cluster)
    rankings = pd.DataFrame(
        {"local": medium_model.test_scores[MODEL], "cluster": on_cluster.test_scores[MODEL]}
    )
    assert rankings.corr(method="spearman").loc["local", "cluster"] > 0.98
    assert 0 < best_iteration < settings.booster.max_rounds
    assert on_cluster.model.estimator.num_trees() == best_iteration  # type: ignore[union-attr]
    scores = on_cluster.test_scores
    assert abs(scores["model_probability"].mean() - scores["label"].mean()) < 0.02
