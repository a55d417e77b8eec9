"""How good a ranking and its probabilities are, in the terms marketing acts on.

Outreach goes to the top of the list, so besides ROC-AUC and PR-AUC the metrics say
how many advocates the top 1, 5 and 10 % hold (precision, lift over the base rate,
recall). Probability metrics (Brier score, expected calibration error) apply only to
scores that are probabilities.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

TOP_SHARES = (0.01, 0.05, 0.10)
CALIBRATION_BINS = 10

Scores = npt.ArrayLike


def top_mask(score: Scores, share: float) -> npt.NDArray[np.bool_]:
    """The rows in the top `share` of the ranking (ties broken by position, stably)."""
    values = np.asarray(score, dtype="float64")
    size = max(1, round(share * len(values)))
    order = np.argsort(-values, kind="stable")
    mask = np.zeros(len(values), dtype=bool)
    mask[order[:size]] = True
    return mask


def ranking_metrics(label: Scores, score: Scores) -> dict[str, float]:
    """ROC-AUC, PR-AUC, and precision and lift in the top shares; recall in the top 10 %."""
    y = np.asarray(label, dtype="int64")
    base_rate = float(y.mean())
    metrics = {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
    }
    for share in TOP_SHARES:
        top = top_mask(score, share)
        precision = float(y[top].mean())
        percent = round(share * 100)
        metrics[f"precision_top_{percent}pct"] = precision
        metrics[f"lift_top_{percent}pct"] = precision / base_rate
    metrics["recall_top_10pct"] = float(y[top_mask(score, 0.10)].sum() / y.sum())
    return metrics


def expected_calibration_error(label: Scores, probability: Scores) -> float:
    """Mean gap between predicted and observed rates over equal-width probability bins."""
    y = np.asarray(label, dtype="float64")
    p = np.asarray(probability, dtype="float64")
    bins = np.minimum((p * CALIBRATION_BINS).astype("int64"), CALIBRATION_BINS - 1)
    gap = 0.0
    for b in np.unique(bins):
        members = bins == b
        gap += members.mean() * abs(p[members].mean() - y[members].mean())
    return float(gap)


def probability_metrics(label: Scores, probability: Scores) -> dict[str, float]:
    """Brier score and expected calibration error."""
    return {
        "brier": float(brier_score_loss(label, probability)),
        "ece": expected_calibration_error(label, probability),
    }
