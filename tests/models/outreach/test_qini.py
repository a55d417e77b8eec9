"""Qini curves and coefficients on rankings whose answer can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from models.outreach.qini import observed_qini, qini_coefficient, true_qini


def test_the_true_curve_sums_effects_best_first() -> None:
    effect = np.array([0.0, 0.3, -0.1, 0.2])
    assert true_qini([1, 4, 2, 3], effect).tolist() == pytest.approx([0, 0.3, 0.5, 0.4, 0.4])


def test_the_observed_curve_scales_the_held_out_to_the_asked() -> None:
    # Ranked: asked advocate, held-out non-advocate, asked non-advocate, held-out advocate.
    curve = observed_qini([4, 3, 2, 1], [True, False, True, False], [1, 0, 0, 1])
    # Top 2: 1 advocate of 1 asked, 0 of 1 held out; all 4: 1 of 2 asked, 1 of 2 held out.
    assert curve.tolist() == pytest.approx([0, 1, 1, 1, 1 - 1 * 2 / 2])


def test_the_best_ranking_has_the_largest_coefficient_and_random_none() -> None:
    effect = np.array([0.4, 0.1, -0.2, 0.0, 0.3])
    best = qini_coefficient(true_qini(effect, effect))
    worst = qini_coefficient(true_qini(-effect, effect))
    # Best order 0.4, 0.3, 0.1, 0, -0.2: gaps to the line to 0.6 are 0, .28, .46, .44, .32, 0.
    assert best == pytest.approx((0.28 + 0.46 + 0.44 + 0.32) / 5)
    assert worst == pytest.approx(-best)
    assert qini_coefficient(np.linspace(0, 3, 7)) == pytest.approx(0.0)
