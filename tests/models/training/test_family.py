"""The model family is the one that ranks better on the validation rows."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models.training.baselines import fit_logistic_regression
from models.training.family import choose_family


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """A label that follows `a` linearly; `b` is noise."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    frame["label"] = (frame["a"] + rng.normal(scale=0.5, size=600) > 1.2).astype(int)
    return frame


def test_the_family_that_ranks_better_on_validation_is_chosen(rows: pd.DataFrame) -> None:
    train, validation = rows.iloc[:400], rows.iloc[400:]
    linear = fit_logistic_regression(train, train["label"], ["a", "b"], seed=0)
    # A booster that learned from `b` alone ranks no better than chance.
    blind = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_child_samples": 5, "seed": 0},
        lgb.Dataset(np.column_stack([np.zeros(len(train)), train["b"]]), train["label"]),
        num_boost_round=20,
    )
    choice = choose_family(
        validation, ["a", "b"], {"lightgbm": blind, "logistic_regression": linear}
    )
    assert choice.family == "logistic_regression" and choice.runner_up == "lightgbm"
    pr_auc = choice.validation_pr_auc
    assert pr_auc["logistic_regression"] > 2 * pr_auc["lightgbm"]
    assert choice.in_words() == (
        f"logistic regression (validation PR-AUC {pr_auc['logistic_regression']:.3f}, "
        f"LightGBM {pr_auc['lightgbm']:.3f})"
    )
    configured = choose_family(
        validation, ["a", "b"], {"lightgbm": blind, "logistic_regression": linear}, "lightgbm"
    )
    assert configured.family == "lightgbm" and configured.configured
    assert configured.in_words().startswith("LightGBM (set in train.family; validation PR-AUC")


def test_lightgbm_is_kept_on_a_tie(rows: pd.DataFrame) -> None:
    linear = fit_logistic_regression(rows, rows["label"], ["a", "b"], seed=0)
    same = {"lightgbm": linear, "logistic_regression": linear}  # the same ranking twice
    assert choose_family(rows, ["a", "b"], same).family == "lightgbm"
