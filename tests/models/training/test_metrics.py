"""Ranking and probability metrics on cases small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from models.training.metrics import (
    expected_calibration_error,
    probability_metrics,
    ranking_metrics,
    top_mask,
)


def test_top_share_keeps_the_highest_scores_and_at_least_one_row() -> None:
    score = np.array([0.1, 0.9, 0.5, 0.7])
    assert top_mask(score, 0.5).tolist() == [False, True, False, True]
    assert top_mask(score, 0.01).tolist() == [False, True, False, False]


def test_precision_lift_and_recall_in_the_top_ten_percent() -> None:
    # 100 customers, 10 advocates; the top 10 by score hold 4 of them.
    label = np.zeros(100, dtype=int)
    label[[0, 1, 2, 3, 50, 60, 70, 80, 90, 95]] = 1
    score = np.linspace(1, 0, 100)  # row 0 ranks first
    metrics = ranking_metrics(label, score)
    assert metrics["precision_top_10pct"] == pytest.approx(0.4)
    assert metrics["lift_top_10pct"] == pytest.approx(4.0)  # 0.4 / base rate 0.1
    assert metrics["recall_top_10pct"] == pytest.approx(0.4)
    assert metrics["precision_top_1pct"] == 1.0
    assert metrics["lift_top_1pct"] == pytest.approx(10.0)


def test_a_perfect_ranking_scores_one() -> None:
    label = np.array([0, 0, 1, 1, 0])
    metrics = ranking_metrics(label, label * 2.0 + 0.5)
    assert metrics["roc_auc"] == 1.0
    assert metrics["pr_auc"] == 1.0


def test_calibration_error_is_the_weighted_gap_per_bin() -> None:
    # Bin 0.1-0.2: predicted 0.15, observed 0.5 (gap 0.35, half the rows);
    # bin 0.9-1.0: predicted 0.95, observed 1.0 (gap 0.05, half the rows).
    probability = np.array([0.15, 0.15, 0.95, 0.95])
    label = np.array([0, 1, 1, 1])
    assert expected_calibration_error(label, probability) == pytest.approx(0.2)
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0


def test_brier_score() -> None:
    metrics = probability_metrics(np.array([0, 1]), np.array([0.2, 0.6]))
    assert metrics["brier"] == pytest.approx((0.04 + 0.16) / 2)
