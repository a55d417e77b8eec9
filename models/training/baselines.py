"""The rules a marketer would rank by without this model; the model must beat all of them.

- `last NPS >= 9`: ask the promoters.
- `RFM`: the classic recency, frequency and monetary quintile score.
- `last review rating 5`: ask those whose latest review gave five stars.

A rule whose inputs the source lacks is left out (no surveys: no NPS rule).

The regularized logistic regression on the model's features is here too: it is the
other model family (`models.training.family`), compared with the booster on the
validation cutoff and shown beside the model, not a rule the model must beat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models.linear import LinearModel

RFM_COLUMNS = {"days_since_last_order": False, "orders_365d": True, "revenue_365d": True}
"""RFM inputs -> whether a larger value is better."""
RULE_INPUTS = {
    "last_nps_9_or_10": ("last_nps",),
    "rfm": tuple(RFM_COLUMNS),
    "last_review_rating_5": ("last_review_rating",),
}
"""The features each rule baseline reads."""


def last_nps_score(rows: pd.DataFrame) -> pd.Series:
    """1 for customers whose latest NPS answer was 9 or 10, else 0."""
    return (rows["last_nps"] >= 9).astype("float64").fillna(0.0)


def last_review_score(rows: pd.DataFrame) -> pd.Series:
    """1 for customers whose latest rated review gave 5 stars, else 0."""
    return (rows["last_review_rating"] >= 5).astype("float64").fillna(0.0)


def rfm_score(rows: pd.DataFrame) -> pd.Series:
    """Sum of the recency, frequency and monetary quintiles (3 to 15) within `rows`.

    Customers without an order get the lowest recency quintile.
    """
    total = pd.Series(0.0, index=rows.index)
    for column, larger_is_better in RFM_COLUMNS.items():
        rank = rows[column].rank(pct=True, ascending=larger_is_better, na_option="keep")
        total += np.ceil(rank.fillna(0.0) * 5).clip(lower=1)
    return total


def fit_logistic_regression(
    rows: pd.DataFrame, label: pd.Series, features: Sequence[str], seed: int
) -> LinearModel:
    """L2-regularized logistic regression on the features; missing values imputed and flagged."""
    pipeline = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000, random_state=seed),
    )
    return LinearModel(pipeline.fit(rows[list(features)].to_numpy("float64"), label.to_numpy()))


RULES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "last_nps_9_or_10": last_nps_score,
    "rfm": rfm_score,
    "last_review_rating_5": last_review_score,
}


def rule_baselines(features: Sequence[str]) -> dict[str, Callable[[pd.DataFrame], pd.Series]]:
    """Each rule as a function from feature rows to scores (higher: more likely).

    `features` are the model's; a rule reading others is left out.
    """
    return {name: rule for name, rule in RULES.items() if set(RULE_INPUTS[name]) <= set(features)}
