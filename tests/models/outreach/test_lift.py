"""The lift arithmetic on counts whose answers are known."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from models.outreach.lift import difference_interval, measure_lift, wilson_interval


def test_newcombes_interval_matches_his_worked_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80.
    low, high = difference_interval(56, 70, 48, 80)
    assert low == pytest.approx(0.0524, abs=5e-4)
    assert high == pytest.approx(0.3339, abs=5e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert difference_interval(0, 50, 0, 5)[0] > -1


def test_lift_incremental_advocates_cost_and_roi_per_segment_and_program() -> None:
    asked = [True] * 30 + [False] * 70  # 30 % of 100 asked advocate
    held = [True] * 1 + [False] * 9  # 10 % of 10 held out
    members = pd.DataFrame(
        {
            "segment": "Champion",
            "program": "ambassador",
            "control": [False] * 100 + [True] * 10,
            "contacted": [True] * 90 + [False] * 10 + [False] * 10,
            "advocated": asked + held,
            "review": [2] * 30 + [0] * 70 + [1] + [0] * 9,  # 0.6 vs 0.1 reviews each
        }
    )
    cost = pd.Series([2.0] * 100 + [0.0] * 10)
    [row] = measure_lift(members, {"review": 20.0}, cost).itertuples()
    assert (row.asked, row.control, row.contacted) == (100, 10, 90)
    assert row.lift == pytest.approx(0.2)
    assert row.incremental_advocates == pytest.approx(20.0)
    assert row.lift_low < 0.2 < row.lift_high
    assert row.incremental_low == pytest.approx(row.lift_low * 100)
    assert row.cost == 200.0 and row.cost_per_incremental_advocate == pytest.approx(10.0)
    assert row.incremental_value == pytest.approx(0.5 * 100 * 20.0)
    assert row.roi == pytest.approx((1000.0 - 200.0) / 200.0)


def test_a_group_without_control_or_cost_has_no_lift_or_roi() -> None:
    members = pd.DataFrame(
        {"segment": "A", "program": "p", "control": False, "contacted": True, "advocated": [True]}
    )
    [row] = measure_lift(members, {}).itertuples()
    assert math.isnan(row.lift) and math.isnan(row.roi) and row.cost == 0.0
