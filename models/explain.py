"""Explaining the model's scores for people: SHAP plots and the mix of reasons in a list.

Everything works from the model's exact TreeSHAP contributions (`AdvocacyModel
.contributions`, in log-odds), so the plots explain the very numbers scoring turns into
reasons. Plots use the project's style (`models.plot_style`) with labelled axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from matplotlib.figure import Figure

from features.definitions import feature
from models.bundle import AdvocacyModel
from models.plot_style import apply_style

LOG_ODDS = "log-odds of advocating"
NUMBER = r"\d{1,2} [A-Z][a-z]{2} \d{4}|[-+]?\d[\d,.]*%?"
"""A date or a number inside a reason text: "gave NPS 10" and "gave NPS 9" are the same
topic, and so are "last order on 3 Sep 2026" and "last order on 28 Aug 2026"."""
OTHER_TOPICS = "other reasons"
SUMMARY_ROWS = 2000
"""Customers in a SHAP summary plot: enough for its shape, quick to explain."""


def shap_explanation(model: AdvocacyModel, rows: pd.DataFrame) -> shap.Explanation:
    """SHAP values of `rows` (one per feature), the expected value, and the feature values."""
    contributions = model.contributions(rows)
    return shap.Explanation(
        values=contributions[:, :-1],
        base_values=contributions[:, -1],
        data=model.matrix(rows),
        feature_names=list(model.features),
    )


def explained_sample(model: AdvocacyModel, rows: pd.DataFrame, seed: int = 0) -> shap.Explanation:
    """The explanation of a random sample of `rows`, the size summary plots need."""
    return shap_explanation(model, rows.sample(min(SUMMARY_ROWS, len(rows)), random_state=seed))


def mean_abs_shap(explanation: shap.Explanation) -> pd.Series:
    """Mean absolute SHAP value per feature, largest first: the global importance."""
    strength = np.abs(np.asarray(explanation.values)).mean(axis=0)
    return (
        pd.Series(strength, index=list(explanation.feature_names), name="mean |SHAP|")
        .sort_values(ascending=False, kind="stable")
        .rename_axis("feature")
    )


def feature_label(name: str) -> str:
    """Axis label of a feature: its name and its registry description (with the unit)."""
    return f"{name}: {feature(name).description.rstrip('.')}"


def dependence_figure(explanation: shap.Explanation, name: str) -> Figure:
    """How one feature's value moves the score, customer by customer (with its histogram)."""
    apply_style()
    figure, axes = plt.subplots()
    column = list(explanation.feature_names).index(name)
    shap.plots.scatter(explanation[:, column], ax=axes, show=False, alpha=0.5, dot_size=10)
    # shap sets its own label sizes; back to the project's style.
    axes.set_xlabel(feature_label(name), fontsize=plt.rcParams["axes.labelsize"])
    axes.set_ylabel(f"SHAP value ({LOG_ODDS})", fontsize=plt.rcParams["axes.labelsize"])
    axes.set_title(f"Effect of {name} on the score")
    figure.tight_layout()
    return figure


def waterfall_figure(
    explanation: shap.Explanation, row: int, title: str, max_display: int = 10
) -> Figure:
    """One customer's score, from the average customer's, feature by feature."""
    apply_style()
    interactive = plt.isinteractive()
    figure = plt.figure()
    shap.plots.waterfall(explanation[row], max_display=max_display, show=False)
    if interactive:  # shap switches interactive mode off
        plt.ion()
    figure.axes[0].grid(False)
    figure.suptitle(
        f"{title}\nscore in {LOG_ODDS}, from the average customer's E[f(X)] to this one's f(x)",
        y=1.02,
        fontsize=plt.rcParams["axes.titlesize"],
    )
    return figure


def reason_topics(reasons: pd.Series) -> pd.Series:
    """Reason texts with their numbers replaced by #: what a reason is about.

    "Raises: gave NPS 10 on 3 Sep 2026" -> "Raises: gave NPS # on #". Empty reasons
    become missing.
    """
    return reasons.replace("", pd.NA).str.replace(NUMBER, "#", regex=True)


def reason_mix(
    ranked: pd.DataFrame,
    slots: Sequence[str] = ("reason_1",),
    by: str = "segment",
    top: int = 8,
) -> pd.DataFrame:
    """Share of each group's reasons by topic: one row per topic, one column per group.

    Reasons in the `slots` columns of the ranked list are counted; the `top` topics
    over the whole list are kept and the rest summed as "other reasons". Groups keep
    their order of first appearance (segments: best first); each column sums to 1.
    """
    long = ranked.melt(id_vars=[by], value_vars=list(slots), value_name="reason")
    long["topic"] = reason_topics(long["reason"])
    long = long.dropna(subset=["topic"])
    kept = long["topic"].value_counts().head(top).index
    long["topic"] = long["topic"].where(long["topic"].isin(kept), OTHER_TOPICS)
    counts = pd.crosstab(long["topic"], long[by])
    order = [*kept, *([OTHER_TOPICS] if OTHER_TOPICS in counts.index else [])]
    groups = [g for g in ranked[by].drop_duplicates() if g in counts.columns]
    counts = counts.loc[order, groups]
    return counts / counts.sum(axis=0)


def shap_summary_figure(explanation: shap.Explanation) -> Figure:
    """SHAP beeswarm: how each feature's value moved the score, customer by customer."""
    apply_style()
    figure, axes = plt.subplots(figsize=(8.0, 6.0))
    shap.plots.beeswarm(explanation, max_display=15, ax=axes, show=False, plot_size=None)
    axes.set_xlabel("SHAP value (effect on the log-odds of advocating)")
    axes.set_title("What drives the score (test cutoff sample)")
    return figure
