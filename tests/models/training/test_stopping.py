"""Early stopping that every Dask worker agrees on, and that matches LightGBM's locally."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

from models.training.stopping import StopWhenValidationStalls, roc_auc

PARAMS = {"objective": "binary", "learning_rate": 0.3, "num_leaves": 15, "verbosity": -1}


def test_roc_auc_from_ranks_is_sklearns_with_ties() -> None:
    label = np.array([0, 0, 1, 1, 0, 1, 0, 1])
    score = np.array([0.1, 0.4, 0.4, 0.8, 0.4, 0.2, 0.1, 0.9])  # ties across the classes
    assert roc_auc(label, score) == pytest.approx(roc_auc_score(label, score), abs=1e-15)


def test_stops_at_the_round_lightgbm_early_stopping_picks() -> None:
    features, label = make_classification(n_samples=3000, flip_y=0.2, random_state=3)
    train, valid = lgb.Dataset(features[:2000], label[:2000]), (features[2000:], label[2000:])
    theirs = lgb.train(
        PARAMS | {"metric": "auc"},
        train,
        num_boost_round=500,
        valid_sets=[lgb.Dataset(*valid, reference=train)],
        callbacks=[lgb.early_stopping(10, verbose=False)],
    )
    ours = lgb.train(
        PARAMS, train, num_boost_round=500, callbacks=[StopWhenValidationStalls(*valid, 10)]
    )
    assert 1 < ours.best_iteration < 100  # it did stop early
    assert ours.best_iteration == theirs.best_iteration
    assert ours.num_trees() == ours.best_iteration  # the trees after the best are dropped
    assert ours.best_score["validation"]["auc"] == pytest.approx(
        theirs.best_score["valid_0"]["auc"], abs=1e-12
    )
