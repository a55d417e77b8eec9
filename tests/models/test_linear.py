"""The logistic regression's contributions: exact, in log-odds, one per feature; and the
bundle that scores and explains either model family the same way."""

from __future__ import annotations

import pickle

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models.bundle import AdvocacyModel, Calibrator
from models.linear import LinearModel
from models.training.baselines import fit_logistic_regression


@pytest.fixture(scope="module")
def fitted() -> tuple[LinearModel, pd.DataFrame]:
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    rows.loc[::5, "b"] = np.nan  # b has a missing flag, a has none
    label = pd.Series((rows["a"] + rng.normal(scale=0.5, size=300) > 0.8).astype(int))
    return fit_logistic_regression(rows, label, ["a", "b"], seed=0), rows


def test_contributions_add_up_to_the_log_odds(fitted: tuple[LinearModel, pd.DataFrame]) -> None:
    model, rows = fitted
    matrix = rows.to_numpy("float64")
    contributions = model.contributions(matrix)
    assert contributions.shape == (len(rows), 3)  # a, b (with its flag), expected value
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_score(matrix), atol=1e-12)
    regression = model.pipeline[-1]
    assert (contributions[:, -1] == regression.intercept_[0]).all()


def test_a_contribution_is_coefficient_times_distance_from_the_mean(
    fitted: tuple[LinearModel, pd.DataFrame],
) -> None:
    model, rows = fitted
    scaler, regression = model.pipeline[1], model.pipeline[-1]
    mean_a, scale_a = rows["a"].mean(), rows["a"].std(ddof=0)
    probe = np.array([[mean_a, 0.0], [mean_a + scale_a, 0.0]])
    contributions = model.contributions(probe)
    assert contributions[0, 0] == pytest.approx(0.0, abs=1e-12)  # average: no push
    assert contributions[1, 0] == pytest.approx(regression.coef_[0][0], rel=1e-9)
    assert scaler.mean_[0] == pytest.approx(mean_a)


def test_a_missing_value_is_explained_by_its_feature(
    fitted: tuple[LinearModel, pd.DataFrame],
) -> None:
    model, rows = fitted
    regression = model.pipeline[-1]
    flag_scale = model.pipeline[1].scale_[2]  # the flag is the third input
    median_b = rows["b"].median()
    known, unknown = model.contributions(np.array([[0.0, median_b], [0.0, np.nan]]))
    # Imputed with the median, b's value term is the same; its flag adds one step.
    step = regression.coef_[0][2] / flag_scale
    assert unknown[1] - known[1] == pytest.approx(step, rel=1e-9)
    assert known[0] == unknown[0]


def test_both_families_score_and_explain_through_the_bundle(
    fitted: tuple[LinearModel, pd.DataFrame],
) -> None:
    linear, rows = fitted
    label = (rows["a"] > 0.8).astype(int).to_numpy()
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_child_samples": 5, "seed": 0},
        lgb.Dataset(rows.to_numpy("float64"), label),
        num_boost_round=5,
    )
    for estimator, family in ((linear, "logistic_regression"), (booster, "lightgbm")):
        model = AdvocacyModel(estimator, Calibrator("platt"), ["a", "b"], {})
        model.calibrator.fit(model.raw_score(rows), label)
        assert model.family == family
        np.testing.assert_allclose(model.contributions(rows).sum(axis=1), model.raw_score(rows))


def test_a_model_pickled_before_the_linear_family_still_loads(
    fitted: tuple[LinearModel, pd.DataFrame],
) -> None:
    _, rows = fitted
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_child_samples": 5, "seed": 0},
        lgb.Dataset(rows.to_numpy("float64"), (rows["a"] > 0.8).astype(int).to_numpy()),
        num_boost_round=5,
    )
    model = AdvocacyModel(booster, Calibrator("platt"), ["a", "b"], {})
    model.__dict__["booster"] = model.__dict__.pop("estimator")  # as versions before it were
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.family == "lightgbm"
    np.testing.assert_array_equal(loaded.raw_score(rows), booster.predict(rows, raw_score=True))
