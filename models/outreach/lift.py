"""Lift of outreach over its control group, with intervals, costs and return on investment.

The comparison is by assignment (intention to treat): everyone of a measured segment and
program who may be contacted and was not held out counts as asked, whether or not the
outreach table shows a contact. A partial send then dilutes the lift instead of biasing it
(those reached are not a random part of those assigned). The 95 % interval of the
difference in advocacy rates is Newcombe's hybrid score interval, built from the Wilson
intervals of the two rates: it stays inside [-1, 1] and keeps its coverage for small
control groups and rare advocacy, where the normal approximation does not.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
RESULT_COLUMNS = (
    "segment",
    "program",
    "asked",
    "control",
    "contacted",
    "asked_rate",
    "control_rate",
    "lift",
    "lift_low",
    "lift_high",
    "incremental_advocates",
    "incremental_low",
    "incremental_high",
    "cost",
    "cost_per_incremental_advocate",
    "incremental_value",
    "roi",
)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (the whole [0, 1] when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(
    yes_a: int, n_a: int, yes_b: int, n_b: int, z: float = Z95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of rate a minus rate b."""
    p_a, p_b = yes_a / max(n_a, 1), yes_b / max(n_b, 1)
    low_a, high_a = wilson_interval(yes_a, n_a, z)
    low_b, high_b = wilson_interval(yes_b, n_b, z)
    d = p_a - p_b
    return (
        d - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2),
        d + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2),
    )


def measure_lift(
    members: pd.DataFrame, values: dict[str, float], cost: pd.Series | None = None
) -> pd.DataFrame:
    """One row per (segment, program) of `members` (see `RESULT_COLUMNS`).

    `members`: one row per customer with segment, program, control (bool), contacted
    (bool), advocated (bool) and one count column per advocacy type of `values`
    (the value of one event of that type). `cost`: each member's outreach cost.
    ROI = (incremental value - cost) / cost, missing without a cost or a control group;
    the cost per incremental advocate is missing unless some advocates were incremental.
    """
    spent = cost if cost is not None else pd.Series(0.0, index=members.index)
    rows = []
    for (segment, program), group in members.groupby(["segment", "program"], sort=False):
        asked, held = group[~group["control"]], group[group["control"]]
        n_a, n_c = len(asked), len(held)
        yes_a, yes_c = int(asked["advocated"].sum()), int(held["advocated"].sum())
        rate_a, rate_c = yes_a / max(n_a, 1), yes_c / max(n_c, 1)
        low, high = difference_interval(yes_a, n_a, yes_c, n_c)
        lift = rate_a - rate_c if n_c else math.nan
        incremental = lift * n_a
        value = sum(
            (asked[kind].mean() - held[kind].mean()) * n_a * worth
            for kind, worth in values.items()
            if n_a and n_c
        )
        total_cost = float(spent[asked.index].sum())
        rows.append(
            {
                "segment": segment,
                "program": program,
                "asked": n_a,
                "control": n_c,
                "contacted": int(asked["contacted"].sum()),
                "asked_rate": rate_a,
                "control_rate": rate_c if n_c else math.nan,
                "lift": lift,
                "lift_low": low if n_c else math.nan,
                "lift_high": high if n_c else math.nan,
                "incremental_advocates": incremental,
                "incremental_low": low * n_a if n_c else math.nan,
                "incremental_high": high * n_a if n_c else math.nan,
                "cost": total_cost,
                "cost_per_incremental_advocate": total_cost / incremental
                if incremental > 0 and total_cost > 0
                else math.nan,
                "incremental_value": float(value) if n_c else math.nan,
                "roi": (value - total_cost) / total_cost if total_cost > 0 and n_c else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype(
        {"asked": np.int64, "control": np.int64, "contacted": np.int64}
    )
