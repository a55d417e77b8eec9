"""Reasons: the strongest contributions, in plain language, with their direction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from features.definitions import FEATURES, OTHERWISE_PHRASES, YES_NO_FEATURES, describe
from models.scoring.reasons import top_reasons


def test_reasons_are_the_largest_contributions_by_absolute_value() -> None:
    features = ["last_nps", "open_urgent_tickets", "orders_90d", "tenure_days"]
    contributions = np.array([[0.9, -1.5, 0.2, 0.0], [0.0, 0.0, 0.0, 0.3]])
    values = np.array([[10.0, 1.0, 3.0, 400.0], [math.nan, 0.0, 0.0, 50.0]])
    reasons = top_reasons(contributions, values, features)
    assert reasons.iloc[0].tolist() == [
        "Lowers: urgent ticket still open",
        "Raises: gave NPS 10",
        "Raises: 3 orders in the last 90 days",
    ]
    # Features that did not move the score are no reason.
    assert reasons.iloc[1].tolist() == ["Raises: customer for 50 days", "", ""]


def test_every_feature_can_be_described_for_any_value() -> None:
    for feature in FEATURES:
        assert describe(feature.name, 1.0)
        if feature.missing == "missing" or feature.name in YES_NO_FEATURES:
            assert feature.name in OTHERWISE_PHRASES, feature.name
            assert describe(feature.name, math.nan) == OTHERWISE_PHRASES[feature.name]


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("is_promoter", 0.0, "latest NPS is not a promoter score"),
        ("is_promoter", 1.0, "latest NPS says promoter"),
        ("days_since_last_order", math.nan, "no orders yet"),
        ("revenue_90d", 1234.5, "spent 1,234 in the last 90 days"),
    ],
)
def test_phrases(name: str, value: float, text: str) -> None:
    assert describe(name, value) == text
