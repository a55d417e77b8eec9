"""Plain-language reasons from SHAP contributions: why a customer scores as they do.

A customer's reasons are the features with the largest contributions by absolute
value, each described through the feature registry ("gave NPS 10") with the direction
of its effect on the score ("Raises: gave NPS 10", "Lowers: urgent ticket still open").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.definitions import describe

REASONS = 3
NO_EFFECT = 1e-12


def reason_text(name: str, value: float, contribution: float) -> str:
    """One reason: direction and phrase."""
    return f"{'Raises' if contribution > 0 else 'Lowers'}: {describe(name, value)}"


def top_reasons(
    contributions: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    features: Sequence[str],
    count: int = REASONS,
) -> pd.DataFrame:
    """Columns reason_1..reason_<count>: the largest contributions by absolute value.

    `contributions` has one column per feature (the expected-value column removed);
    `values` holds the same customers' feature values. A feature that did not move the
    score is never a reason: such slots stay empty.
    """
    strength = np.abs(contributions)
    order = np.argsort(-strength, axis=1, kind="stable")[:, :count]
    rows = np.arange(len(contributions))[:, None]
    chosen_contributions = contributions[rows, order]
    chosen_values = values[rows, order]
    texts = {}
    for slot in range(count):
        column = []
        for index, value, contribution in zip(
            order[:, slot], chosen_values[:, slot], chosen_contributions[:, slot], strict=True
        ):
            effect = abs(contribution) > NO_EFFECT
            column.append(reason_text(features[index], value, contribution) if effect else "")
        texts[f"reason_{slot + 1}"] = column
    return pd.DataFrame(texts)
