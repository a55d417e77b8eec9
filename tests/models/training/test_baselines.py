"""The marketer's baselines, on frames small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.training.baselines import (
    fit_logistic_regression,
    last_nps_score,
    last_review_score,
    rfm_score,
    rule_baselines,
)


def test_last_nps_baseline_picks_promoters() -> None:
    rows = pd.DataFrame({"last_nps": [10.0, 9.0, 8.0, np.nan, 0.0]})
    assert last_nps_score(rows).tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_last_review_baseline_picks_five_star_reviewers() -> None:
    rows = pd.DataFrame({"last_review_rating": [5.0, 4.0, np.nan, 1.0]})
    assert last_review_score(rows).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_a_rule_whose_feature_the_source_lacks_is_left_out() -> None:
    shop = ["days_since_last_order", "orders_365d", "revenue_365d", "last_review_rating"]
    assert set(rule_baselines(shop)) == {"rfm", "last_review_rating_5"}
    assert set(rule_baselines([*shop[:3], "last_nps"])) == {"rfm", "last_nps_9_or_10"}


def test_rfm_quintiles_reward_recent_frequent_big_spenders() -> None:
    rows = pd.DataFrame(
        {
            "days_since_last_order": [1.0, 10.0, 50.0, 100.0, 300.0, np.nan],
            "orders_365d": [10, 8, 6, 4, 2, 0],
            "revenue_365d": [1000.0, 800.0, 600.0, 400.0, 200.0, 0.0],
        }
    )
    score = rfm_score(rows)
    assert score.is_monotonic_decreasing
    assert score.iloc[0] == 15.0  # top quintile on all three
    assert score.iloc[-1] == 3.0  # no order: lowest on all three


def test_logistic_regression_learns_a_linear_signal_with_missing_values() -> None:
    rng = np.random.default_rng(0)
    signal = rng.normal(size=400)
    rows = pd.DataFrame({"a": signal, "b": rng.normal(size=400)})
    rows.loc[::7, "b"] = np.nan
    label = pd.Series((signal + rng.normal(scale=0.3, size=400) > 1).astype(int))
    model = fit_logistic_regression(rows, label, ["a", "b"], seed=0)
    scores = pd.Series(model.raw_score(rows.to_numpy("float64")))
    assert scores.rank().corr(pd.Series(signal).rank()) > 0.95  # ranks by the signal
