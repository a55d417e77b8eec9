"""Explaining the model's scores for people: SHAP plots and the mix of reasons in a list.

Everything works from the model's exact contributions (`AdvocacyModel.contributions`,
in log-odds: TreeSHAP values for LightGBM, coefficient x standardized value for the
logistic regression), so the plots explain the very numbers scoring turns into
reasons. Plots use the project's style (`models.plot_style`) with labelled axes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from features.definitions import FEATURES, feature
from models.bundle import AdvocacyModel
from models.plot_style import MODEL_COLOR, apply_style

LOG_ODDS = "log-odds of advocating"
NUMBER = r"[-+]?\d[\d,.]*%?"
"""A number inside a reason text; "gave NPS 10" and "gave NPS 9" are the same topic."""
DATE = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}")
DATE_OR_AMOUNT = re.compile(rf"{DATE.pattern}|[-+]?\d[\d,.]*%?")
"""A date or an amount in a reason that no registry phrase matches, shown as "…" in its
topic: "last order on 3 Sep 2026" and "last order on 28 Aug 2026" share one topic."""
MISSING_NOTE = re.compile(r"\s*\(missing: [^)]*\)")
PLACEHOLDER = re.compile(r"\{value[^}]*\}")
"""Where a registry phrase puts the feature's value."""
DATED = re.compile(r"\{dated[^}]*\}")
"""Where a registry phrase puts the date of the fact ("on 3 Sep 2026")."""
BAR_LABEL_CHARS = 46
"""Characters per line of a bar's label in `bar_chart` (11 pt on a 4.6 inch figure)."""
BAR_GAP, BAR_THICKNESS, LABEL_LINE = 0.12, 0.2, 0.2
"""Inches in a bar chart: between a bar and the next label, of a bar, per label line."""
VALUE = "\0"
"""Marks the place of the value in a reason's topic."""
LOWERS_COLOR = "#d9822b"
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


def feature_words(name: str) -> str:
    """A feature for a reader who does not know its column name: its registry description.

    The description's note on missing values, for the feature table's users, is left out.
    """
    return MISSING_NOTE.sub("", feature(name).description).rstrip(".")


def feature_label(name: str) -> str:
    """Axis label of a feature: its name and its registry description (with the unit)."""
    return f"{name}: {feature_words(name)}"


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


@cache
def phrase_pattern() -> re.Pattern[str]:
    """Any registry phrase that shows a value, the value as the only group that matches.

    The value of "gave NPS {value:.0f}" or "{value:count order}" becomes a group and a
    date placeholder any text; the other numbers of a phrase, like the 90 of "in the
    last 90 days", stay literal.
    """
    alternatives = []
    for entry in FEATURES:
        if not PLACEHOLDER.search(entry.phrase):
            continue
        parts = []
        for part in PLACEHOLDER.split(entry.phrase):
            literal = [re.escape(text) for text in DATED.split(part)]
            parts.append(".+?".join(literal))
        if any(part.strip() for part in parts):  # a bare "{value}" would match any text
            alternatives.append("(.+?)".join(parts))
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives))


def value_range(values: pd.Series) -> str:
    """The values of one topic as a person reads them: ["9", "10"] -> "9–10".

    Values with a number ("5 orders", "12 orders") become the largest one with its
    number replaced by the range ("5–12 orders"); a range that starts below zero reads
    "-0.8 to -0.3". Values without a number, or with a date, are shown when they are all
    the same, else as "…".
    """
    numbers = {text: re.search(NUMBER, text) for text in values}
    if not all(numbers.values()) or values.str.contains(DATE).any():
        return values.iloc[0] if (values == values.iloc[0]).all() else "…"
    amount = {
        text: float(found.group().replace(",", "").rstrip("%"))
        for text, found in numbers.items()
        if found
    }
    low, high = min(amount, key=amount.__getitem__), max(amount, key=amount.__getitem__)
    if amount[low] == amount[high]:
        return high
    low_number, high_number = (re.findall(NUMBER, text)[0] for text in (low, high))
    span = f"{low_number} to {high_number}" if amount[low] < 0 else f"{low_number}–{high_number}"
    return high.replace(high_number, span, 1)


def topic_of(reason: str) -> tuple[str, str | None]:
    """A reason's topic, with `VALUE` where its value was, and that value (None: none).

    "Raises: gave NPS 10" -> ("Raises: gave NPS " + VALUE, "10").
    """
    direction, colon, body = reason.partition(": ")
    if not colon:
        direction, body = "", reason
    found = phrase_pattern().fullmatch(body)
    if found is None or found.lastindex is None:
        return DATE_OR_AMOUNT.sub("…", reason), None
    start, end = found.span(found.lastindex)
    topic = f"{direction}{colon}{body[:start]}{VALUE}{body[end:]}"
    return DATE.sub("…", topic), found.group(found.lastindex)


def reason_topics(reasons: pd.Series) -> pd.Series:
    """What each reason is about, labelled with the range of values it covers.

    Reasons from the same registry phrase and direction share a topic, named by the
    phrase with the smallest to the largest value among them: "Raises: gave NPS 9" and
    "Raises: gave NPS 10" are both "Raises: gave NPS 9–10". Texts that no phrase with a
    value matches ("Lowers: urgent ticket still open") are their own topic; empty
    reasons become missing.
    """
    texts = reasons.replace("", pd.NA)
    parsed = pd.DataFrame(
        [(text, *topic_of(str(text))) for text in texts.dropna().unique()],
        columns=["text", "topic", "value"],
    )
    ranges = parsed.dropna(subset=["value"]).groupby("topic")["value"].agg(value_range)
    labels = {
        text: topic.replace(VALUE, ranges.get(topic, ""))
        for text, topic in zip(parsed["text"], parsed["topic"], strict=True)
    }
    return texts.map(labels)


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


def probability_impact(model: AdvocacyModel, explanation: shap.Explanation) -> pd.DataFrame:
    """How far each feature moves customers' chances, in percentage points, on average.

    A feature's push on one customer is their calibrated chance minus the chance they
    would have without the feature's SHAP contribution (as if that feature were
    average). Column `raises` averages the upward pushes, `lowers` the downward ones
    (negative), both over all customers; features with the largest total push first.
    """
    values = np.asarray(explanation.values, dtype="float64")
    raw = values.sum(axis=1) + np.asarray(explanation.base_values, dtype="float64")
    chance = model.calibrator.probability(raw)
    without = np.column_stack([model.calibrator.probability(raw - column) for column in values.T])
    push = 100 * (chance[:, None] - without)
    impact = pd.DataFrame(
        {
            "raises": np.clip(push, 0, None).mean(axis=0),
            "lowers": np.clip(push, None, 0).mean(axis=0),
        },
        index=pd.Index(list(explanation.feature_names), name="feature"),
    )
    order = (impact["raises"] - impact["lowers"]).sort_values(ascending=False, kind="stable")
    return impact.loc[order.index]


def bar_chart(labels: Sequence[str], width: float = 4.6) -> tuple[Figure, Axes, float]:
    """An empty horizontal bar chart with each label written above its bar.

    Bar i goes at height i (draw them with the returned bar height, in data units);
    labels are wrapped to the plot's width. Long labels then take no room beside the
    bars, so the chart stays readable when a phone shrinks the image.
    """
    wrapped = [textwrap.fill(label, BAR_LABEL_CHARS) for label in labels]
    lines = max((label.count("\n") + 1 for label in wrapped), default=1)
    slot = BAR_GAP + BAR_THICKNESS + LABEL_LINE * lines  # inches per bar and its label
    figure, axes = plt.subplots(figsize=(width, slot * len(wrapped) + 1.4))
    bar = BAR_THICKNESS / slot
    axes.set_yticks([])
    axes.grid(visible=False, axis="y")
    for position, label in enumerate(wrapped):
        axes.text(
            0.005,
            position + bar / 2 + 0.02 / slot,
            label,
            transform=axes.get_yaxis_transform(),
            va="bottom",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.6},
        )
    axes.set_ylim(-bar / 2 - BAR_GAP / slot, len(wrapped) - 1 + bar / 2 + (slot - BAR_GAP) / slot)
    return figure, axes, bar


def legend_above(axes: Axes) -> None:
    """The legend in one row between the title and the plot."""
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, borderaxespad=0.3)
    axes.title.set_position((0.5, 1.0))
    axes.set_title(axes.get_title(), pad=26)


def impact_figure(impact: pd.DataFrame, top: int = 10) -> Figure:
    """Bars of `probability_impact`: what raises and what lowers the chance, in words."""
    apply_style()
    shown = impact.head(top).iloc[::-1]
    figure, axes, bar = bar_chart([feature_words(name) for name in shown.index])
    positions = np.arange(len(shown))
    axes.barh(positions, shown["raises"], height=bar, color=MODEL_COLOR, label="raises the chance")
    axes.barh(positions, shown["lowers"], height=bar, color=LOWERS_COLOR, label="lowers it")
    axes.axvline(0, color="#444", linewidth=0.8)
    axes.set(
        title="What moves the chance of advocating",
        xlabel="average change of a customer's chance\n(percentage points)",
    )
    legend_above(axes)
    return figure
