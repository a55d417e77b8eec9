"""Qini curves: how many incremental advocates asking the top of a ranking brings.

A Qini curve follows a ranking down: at each point, the incremental advocates from
asking everyone above it. With the generator's true effects it is their running sum
(`true_qini`); with a randomized experiment it is estimated from the asked and the held
out above that point (`observed_qini`, Radcliffe's: advocates among the asked minus
advocates among the held out scaled to as many). The Qini coefficient is the area
between the curve and the straight line of asking at random, per customer: the
ranking by true effects has the largest one possible, so a model's coefficient over
that one says how much of the attainable ordering it finds.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from models.plot_style import MODEL_COLOR, apply_style

Curve = npt.NDArray[np.float64]
MODEL_CURVE = "uplift model"
TRUE_CURVE = "true effects"
OTHER_COLORS = ("#d95f02", "#1b9e77")  # apart from the model's blue


def _order(score: npt.ArrayLike) -> npt.NDArray[np.intp]:
    return np.argsort(-np.asarray(score, dtype="float64"), kind="stable")


def true_qini(score: npt.ArrayLike, effect: npt.ArrayLike) -> Curve:
    """Incremental advocates from asking the top k by `score`, k = 0..n, from true effects."""
    ordered = np.asarray(effect, dtype="float64")[_order(score)]
    return np.concatenate([[0.0], np.cumsum(ordered)])


def observed_qini(score: npt.ArrayLike, asked: npt.ArrayLike, advocated: npt.ArrayLike) -> Curve:
    """Incremental advocates from asking the top k by `score`, estimated from an experiment."""
    order = _order(score)
    treated = np.asarray(asked, dtype=bool)[order]
    outcome = np.asarray(advocated, dtype="float64")[order]
    n_asked = np.concatenate([[0.0], np.cumsum(treated)])
    n_held = np.concatenate([[0.0], np.cumsum(~treated)])
    yes_asked = np.concatenate([[0.0], np.cumsum(outcome * treated)])
    yes_held = np.concatenate([[0.0], np.cumsum(outcome * ~treated)])
    scale = np.divide(n_asked, n_held, out=np.zeros_like(n_asked), where=n_held > 0)
    return yes_asked - yes_held * scale


def qini_coefficient(curve: Curve) -> float:
    """Area between the curve and the line of asking at random, per customer."""
    n = len(curve) - 1
    if n == 0:
        return 0.0
    random = np.linspace(0.0, curve[-1], n + 1)
    gap = curve - random
    return float((gap[1:] + gap[:-1]).sum() / 2 / n)


def qini_figure(curves: dict[str, Curve], title: str) -> Figure:
    """The curves against the share of customers asked, with the line of asking at random."""
    apply_style()
    figure, axes = plt.subplots()
    others = iter(OTHER_COLORS)
    for name, curve in curves.items():
        share = np.linspace(0.0, 100.0, len(curve))
        fixed = {MODEL_CURVE: MODEL_COLOR, TRUE_CURVE: "black"}
        axes.plot(share, curve, label=name, color=fixed.get(name) or next(others))
    last = next(iter(curves.values()))
    axes.plot([0, 100], [0, last[-1]], color="grey", linestyle="--", label="asked at random")
    axes.set(
        title=title,
        xlabel="customers asked, top of each ranking first (%)",
        ylabel="incremental advocates",
    )
    axes.legend()
    return figure
