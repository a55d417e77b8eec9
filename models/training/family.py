"""Choosing the model family on the validation cutoff: LightGBM or logistic regression.

With few advocates or few customers the booster can rank worse than the regularized
logistic regression on the same features, and a user with thin data still needs a
list. Both are fitted on the training cutoffs; the one with the higher PR-AUC on the
validation cutoff becomes the model (LightGBM on a tie; the booster's early stopping
also watched that cutoff, which can only favour it), unless the configuration sets the
family (`train.family`). The test cutoff, which judges the model, plays no part in the
choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import average_precision_score

from models.bundle import Estimator, Family, raw_score

FAMILY_WORDS: dict[Family, str] = {
    "lightgbm": "LightGBM",
    "logistic_regression": "logistic regression",
}


@dataclass(frozen=True)
class FamilyChoice:
    """The chosen family, and each candidate's PR-AUC on the validation cutoff."""

    family: Family
    validation_pr_auc: dict[Family, float]
    configured: bool = False
    """Whether the configuration set the family rather than the validation cutoff."""

    @property
    def runner_up(self) -> Family:
        """The family that was not chosen."""
        return next(family for family in self.validation_pr_auc if family != self.family)

    def in_words(self) -> str:
        """The choice in words: LightGBM (validation PR-AUC 0.150, logistic regression 0.120)."""
        return (
            f"{FAMILY_WORDS[self.family]} ({'set in train.family; ' if self.configured else ''}"
            "validation PR-AUC "
            f"{self.validation_pr_auc[self.family]:.3f}, {FAMILY_WORDS[self.runner_up]} "
            f"{self.validation_pr_auc[self.runner_up]:.3f})"
        )


def choose_family(
    validation: pd.DataFrame,
    features: list[str],
    candidates: Mapping[Family, Estimator],
    configured: Family | None = None,
) -> FamilyChoice:
    """The candidate with the highest PR-AUC on the validation rows; the first on a tie.

    `configured`: the family to take whatever the validation cutoff says.
    """
    matrix = validation[features].to_numpy("float64")
    pr_auc: dict[Family, float] = {
        family: float(average_precision_score(validation["label"], raw_score(estimator, matrix)))
        for family, estimator in candidates.items()
    }
    if configured is not None:
        return FamilyChoice(configured, pr_auc, configured=True)
    return FamilyChoice(max(pr_auc, key=pr_auc.__getitem__), pr_auc)
