"""Plain-language reasons from exact SHAP contributions: why a customer scores as they do.

A customer's reasons are their strongest contributions, one per topic (the fact a
feature describes: every NPS feature is about NPS), each described through the feature
registry ("gave NPS 10") with the direction of its effect on the score ("Raises: gave
NPS 10", "Lowers: no orders in the last 90 days"). A lowering contribution on a value
a person reads as good ("Lowers: average NPS 10") is no reason: it would need a why
that a list cannot give. A segment defined by facts leads with the fact that put the
customer there: "Recover first: 1 urgent ticket still open since 26 Jul 2026".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.definitions import FEATURES, describe, feature, phrase_pattern, reads_good

REASONS = 3
NO_EFFECT = 1e-12


def usable_strength(
    contributions: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    features: Sequence[str],
) -> npt.NDArray[np.float64]:
    """|contribution| where it can be a reason, else 0.

    No reason: a contribution that did not move the score, or one that lowers it on a
    value a person reads as good.
    """
    strength = np.abs(contributions)
    for column, name in enumerate(features):
        lowers_good = (contributions[:, column] < 0) & reads_good(name, values[:, column])
        strength[lowers_good, column] = 0.0
    strength[strength <= NO_EFFECT] = 0.0
    return strength


def strongest_per_topic(
    strength: npt.NDArray[np.float64], features: Sequence[str]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Per customer and topic: the column of the topic's strongest feature, and its strength."""
    topics: dict[str, list[int]] = {}
    for column, name in enumerate(features):
        topics.setdefault(feature(name).topic, []).append(column)
    rows = np.arange(len(strength))
    columns = np.empty((len(strength), len(topics)), dtype=np.intp)
    strongest = np.empty((len(strength), len(topics)))
    for index, members in enumerate(topics.values()):
        local = strength[:, members]
        pick = local.argmax(axis=1)
        columns[:, index] = np.asarray(members)[pick]
        strongest[:, index] = local[rows, pick]
    return columns, strongest


def dating_values(
    chosen: npt.NDArray[np.intp], values: npt.NDArray[np.float64], features: Sequence[str]
) -> npt.NDArray[np.float64]:
    """For each chosen feature, the customer's value of the feature that dates it (or NaN)."""
    dating = np.array(
        [
            features.index(dated_by) if (dated_by := feature(name).dated_by) in features else -1
            for name in features
        ],
        dtype=np.intp,
    )[chosen]
    rows = np.arange(len(values))[:, None]
    return np.where(dating >= 0, values[rows, np.maximum(dating, 0)], np.nan)


def top_reasons(
    contributions: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    features: Sequence[str],
    count: int = REASONS,
    *,
    as_of: datetime | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """Columns reason_1..reason_<count>: the strongest contributions, one per topic.

    `contributions` has one column per feature (the expected-value column removed);
    `values` holds the same customers' feature values. Slots without a contribution
    that can be a reason stay empty. `as_of` (the features' cutoff) turns "days since"
    values into dates; `currency` is the ISO code of amounts.
    """
    strength = usable_strength(contributions, values, features)
    columns, strongest = strongest_per_topic(strength, features)
    order = np.argsort(-strongest, axis=1, kind="stable")[:, :count]
    chosen = np.take_along_axis(columns, order, axis=1)
    moved = np.take_along_axis(strongest, order, axis=1) > 0
    rows = np.arange(len(values))[:, None]
    raises = contributions[rows, chosen] > 0
    chosen_values = values[rows, chosen]
    dated = dating_values(chosen, values, features)
    cache: dict[tuple[int, float | None, float | None, bool], str] = {}
    texts = {}
    for slot in range(count):
        column = []
        for index, value, date, up, effect in zip(
            chosen[:, slot].tolist(),
            chosen_values[:, slot].tolist(),
            dated[:, slot].tolist(),
            raises[:, slot].tolist(),
            moved[:, slot].tolist(),
            strict=True,
        ):
            if not effect:
                column.append("")
                continue
            # NaN is never equal to itself: missing values share the key None.
            key = (index, value if value == value else None, date if date == date else None, up)
            if key not in cache:
                phrase = describe(features[index], value, date, as_of, currency)
                cache[key] = f"{'Raises' if up else 'Lowers'}: {phrase}"
            column.append(cache[key])
        texts[f"reason_{slot + 1}"] = column
    return pd.DataFrame(texts)


@cache
def _phrases() -> tuple[re.Pattern[str], tuple[str, ...]]:
    """One pattern for every registry phrase (a named group per feature), and the topics."""
    pattern = "|".join(f"(?P<f{i}>{phrase_pattern(f.name)})" for i, f in enumerate(FEATURES))
    return re.compile(pattern), tuple(f.topic for f in FEATURES)


def reason_topic(reason: str) -> str | None:
    """The topic of a reason text ("Raises: average NPS 9.5" -> "NPS"); None if unknown."""
    pattern, topics = _phrases()
    match = pattern.fullmatch(reason.partition(": ")[2])
    return None if match is None or match.lastgroup is None else topics[int(match.lastgroup[1:])]


def lead_with_facts(
    reasons: pd.DataFrame,
    facts: pd.Series,
    labels: pd.Series,
    rows: pd.DataFrame,
    as_of: datetime | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """The reasons of the customers a fact leads for: "<label>: <the fact>", then the others.

    All arguments hold the same customers in the same order. `facts` names the feature
    of the fact to lead with (missing: none), `labels` what the fact explains (the
    segment); `rows` holds the features facts name and those that date them. Reasons
    about the fact's topic give way to it. Returns only the rows of those customers
    (index of `reasons`): the others keep their reasons.
    """
    led = np.flatnonzero(facts.notna().to_numpy(dtype=bool))
    result = reasons.iloc[led].to_numpy(dtype=object)  # few customers: Python objects are fine
    led_facts = facts.to_numpy(dtype=object)[led]
    led_labels = labels.to_numpy(dtype=object)[led]
    width = reasons.shape[1]
    for name in dict.fromkeys(led_facts):
        entry = feature(name)
        leading = np.flatnonzero(led_facts == name)
        values = rows[name].to_numpy()[led[leading]]
        dates = (
            rows[entry.dated_by].to_numpy()[led[leading]]
            if entry.dated_by
            else np.full(len(leading), np.nan)
        )
        for position, label, value, date in zip(
            leading, led_labels[leading], values, dates, strict=True
        ):
            lead = f"{label}: {describe(name, value, date, as_of, currency)}"
            others = [t for t in result[position] if t and reason_topic(t) != entry.topic]
            result[position] = ([lead, *others] + [""] * width)[:width]
    return pd.DataFrame(
        list(result), index=reasons.index[led], columns=reasons.columns, dtype="str"
    )
