"""The evaluation plots of a training run, as matplotlib figures (style: `models.plot_style`)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve

from models.plot_style import MODEL_COLOR, apply_style
from models.training.fit import MODEL, ORACLE, TrainingResult


def _color(name: str) -> str | None:
    return MODEL_COLOR if name == MODEL else ("black" if name == ORACLE else None)


def calibration_figure(result: TrainingResult) -> Figure:
    """Observed advocacy rate against predicted probability, before and after calibration."""
    apply_style()
    figure, axes = plt.subplots()
    scores = result.test_scores
    for column, label in (("uncalibrated", "booster output"), ("model_probability", "calibrated")):
        observed, predicted = calibration_curve(
            scores["label"], scores[column], n_bins=10, strategy="quantile"
        )
        axes.plot(predicted, observed, marker="o", label=label)
    top = float(max(scores["uncalibrated"].max(), scores["model_probability"].max()))
    axes.plot([0, top], [0, top], color="grey", linestyle="--", label="perfect calibration")
    axes.set(
        title="Calibration on the test cutoff",
        xlabel="predicted probability of advocating in the horizon",
        ylabel="observed share who advocated",
    )
    axes.legend()
    return figure


def gains_figure(result: TrainingResult, rankings: Sequence[str]) -> Figure:
    """Share of all advocates reached against share of customers contacted, per ranking."""
    apply_style()
    figure, axes = plt.subplots()
    label = result.test_scores["label"].to_numpy()
    contacted = np.arange(1, len(label) + 1) / len(label)
    for name in rankings:
        order = np.argsort(-result.test_scores[name].to_numpy(), kind="stable")
        reached = np.cumsum(label[order]) / label.sum()
        axes.plot(contacted * 100, reached * 100, label=name, color=_color(name))
    axes.plot([0, 100], [0, 100], color="grey", linestyle="--", label="random")
    axes.set(
        title="Gains: advocates reached by contacting the top of each list",
        xlabel="customers contacted, top of the list (%)",
        ylabel="advocates reached (%)",
    )
    axes.legend()
    return figure


def precision_recall_figure(result: TrainingResult, rankings: Sequence[str]) -> Figure:
    """Precision-recall curve per ranking, with PR-AUC in the legend."""
    apply_style()
    figure, axes = plt.subplots()
    for name in rankings:
        precision, recall, _ = precision_recall_curve(
            result.test_scores["label"], result.test_scores[name]
        )
        pr_auc = result.evaluation.loc[name, "pr_auc"]
        axes.plot(recall, precision, label=f"{name} (PR-AUC {pr_auc:.3f})", color=_color(name))
    axes.set(
        title="Precision and recall on the test cutoff",
        xlabel="recall (share of advocates found)",
        ylabel="precision (share of list who advocate)",
    )
    axes.legend()
    return figure


def importance_figure(importance: pd.Series, top: int = 20) -> Figure:
    """The features that move scores most: mean absolute contribution (`mean_abs_shap`).

    Contributions exist for both model families, so one plot serves both.
    """
    apply_style()
    shown = importance.head(top).iloc[::-1]
    figure, axes = plt.subplots(figsize=(7.0, 0.3 * len(shown) + 1.2))
    axes.barh(shown.index, shown.to_numpy(), color=MODEL_COLOR)
    axes.set(
        title="Feature importance",
        xlabel="mean absolute contribution (log-odds of advocating)",
        ylabel="",
    )
    return figure
