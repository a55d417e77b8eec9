"""Early stopping on the validation cutoff, the same on this machine and on a Dask cluster.

LightGBM's own early stopping reads the metrics of its validation sets. On a cluster
(`lightgbm.dask`) each worker only sees its share of those sets and computes the metric
on it alone, so workers can stop at different rounds and the training hangs or fails
(lightgbm issues 6197, 6351). This callback carries the whole validation cutoff and
computes its ROC-AUC itself from the trees so far: every worker holds the same trees,
gets the same number and stops at the same round. Locally it gives the rounds that
`lightgbm.early_stopping` on validation ROC-AUC gives.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd

METRIC = ("validation", "auc")


class StopWhenValidationStalls:
    """Stop when validation ROC-AUC has not risen for `rounds` rounds; keep the best round.

    The raw score is kept up to date one tree at a time, so each round costs one tree's
    prediction on the validation rows, not the whole model's.
    """

    order = 30  # where LightGBM places its own early stopping among the callbacks
    before_iteration = False

    def __init__(
        self, matrix: npt.NDArray[np.float64], label: npt.NDArray[np.int64], rounds: int
    ) -> None:
        self.matrix = matrix
        self.label = label
        self.rounds = rounds
        self.raw = np.zeros(len(label))
        self.best_score = -np.inf
        self.best_round = 0

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        """Add the round's tree to the validation scores; stop after `rounds` without gain."""
        if not isinstance(env.model, lgb.Booster):
            raise TypeError("StopWhenValidationStalls serves lgb.train, not lgb.cv")
        self.raw += env.model.predict(
            self.matrix, raw_score=True, start_iteration=env.iteration, num_iteration=1
        )
        score = roc_auc(self.label, self.raw)
        if score > self.best_score:
            self.best_score, self.best_round = score, env.iteration
        last_round = env.iteration == env.end_iteration - 1
        if last_round or env.iteration - self.best_round >= self.rounds:
            # lgb.train keeps the trees up to the best round (best_iteration = round + 1).
            raise lgb.callback.EarlyStopException(
                self.best_round, [(*METRIC, self.best_score, True)]
            )


def roc_auc(label: npt.NDArray[np.int64], score: npt.NDArray[np.float64]) -> float:
    """ROC-AUC from ranks (ties share their mean rank): sklearn's value, a few times faster."""
    positive = label == 1
    positives = int(positive.sum())
    negatives = len(label) - positives
    rank_sum = float(pd.Series(score).rank().to_numpy()[positive].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
