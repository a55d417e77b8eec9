"""A small booster for scoring-flow tests, its label drawn from a given logit (not a trained model)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.definitions import current_definitions
from models.bundle import AdvocacyModel, Calibrator


def quick_model(rows: pd.DataFrame, features: list[str], logit: pd.Series) -> AdvocacyModel:
    """A 20-tree booster on `features` of `rows`, labels drawn (seeded) from `logit`, Platt-calibrated."""
    rng = np.random.default_rng(0)
    label = (rng.random(len(rows)) < 1 / (1 + np.exp(-logit))).astype("int64").to_numpy()
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 4, "verbosity": -1, "num_threads": 1},
        lgb.Dataset(rows[features].to_numpy("float64"), label, feature_name=features),
        num_boost_round=20,
    )
    model = AdvocacyModel(booster, Calibrator("platt"), features, current_definitions(features))
    model.calibrator.fit(model.raw_score(rows), label)
    return model
