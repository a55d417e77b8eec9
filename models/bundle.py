"""The registered model: everything scoring needs, loaded as one thing.

`AdvocacyModel` holds the estimator (a LightGBM booster or, where it ranked better on
the validation cutoff, the regularized logistic regression: its `family`), the
probability calibrator, the feature list and how each of those features was defined
when it was trained. As an MLflow pyfunc model its `predict` returns calibrated
probabilities; scoring also uses `raw_score` and `contributions` (exact per-feature
contributions in log-odds, which add up to `raw_score`: TreeSHAP values for the
booster, coefficient x standardized value for the linear model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from mlflow.pyfunc import PythonModel
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from features.errors import UserError
from models.linear import LinearModel

CalibrationMethod = Literal["isotonic", "platt"]
Family = Literal["lightgbm", "logistic_regression"]
Estimator = lgb.Booster | LinearModel


@dataclass
class Calibrator:
    """Maps the estimator's raw score (log-odds) to a calibrated probability.

    Both methods are monotone in the raw score (increasing for an estimator whose higher
    scores mean more advocates), so calibration does not reorder customers.
    """

    method: CalibrationMethod
    fitted: IsotonicRegression | LogisticRegression | None = None

    def fit(self, raw: npt.NDArray[np.float64], label: npt.NDArray[np.int64]) -> Calibrator:
        """Fit on held-out raw scores and their labels."""
        if self.method == "isotonic":
            self.fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            self.fitted.fit(raw, label)
        else:
            self.fitted = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), label)
        return self

    def probability(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities for raw scores."""
        if isinstance(self.fitted, IsotonicRegression):
            return np.asarray(self.fitted.predict(raw), dtype="float64")
        if isinstance(self.fitted, LogisticRegression):
            return np.asarray(self.fitted.predict_proba(raw.reshape(-1, 1))[:, 1])
        raise RuntimeError("calibrator used before it was fitted")


class AdvocacyModel(PythonModel):
    """Estimator, calibrator and feature list of one trained advocacy-propensity model."""

    def __init__(
        self,
        estimator: Estimator,
        calibrator: Calibrator,
        features: list[str],
        feature_definitions: dict[str, str],
    ) -> None:
        self.estimator = estimator
        self.calibrator = calibrator
        self.features = features
        self.feature_definitions = feature_definitions
        """Definition hash per feature (`features.definitions.definition_hash`) at training."""

    def changed_features(self, current: dict[str, str]) -> list[str]:
        """The model's features whose definition today (`current`) differs or is gone."""
        return [
            name for name in self.features if current.get(name) != self.feature_definitions[name]
        ]

    def matrix(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """The model's feature columns of `rows`, in training order."""
        missing = [name for name in self.features if name not in rows.columns]
        if missing:
            raise UserError(
                f"The input lacks {len(missing)} feature(s) the model needs: "
                f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}. "
                "Train a new model with `advocacy train`."
            )
        return rows[self.features].to_numpy("float64")

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, also a version registered before the linear family (its `booster`)."""
        if "booster" in state:
            state["estimator"] = state.pop("booster")
        self.__dict__.update(state)

    @property
    def family(self) -> Family:
        """Which kind of estimator the model is."""
        return "lightgbm" if isinstance(self.estimator, lgb.Booster) else "logistic_regression"

    def raw_score(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """The estimator's log-odds score."""
        return raw_score(self.estimator, self.matrix(rows))

    def probability(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Calibrated probability of advocating within the label horizon."""
        return self.calibrator.probability(self.raw_score(rows))

    def contributions(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Exact contributions per feature, plus the expected value as the last column."""
        matrix = self.matrix(rows)
        if isinstance(self.estimator, lgb.Booster):
            return np.asarray(self.estimator.predict(matrix, pred_contrib=True))
        return self.estimator.contributions(matrix)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> npt.NDArray[np.float64]:
        """MLflow's entry point: calibrated probabilities."""
        return self.probability(model_input)


def raw_score(estimator: Estimator, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Log-odds of either family's estimator for a feature matrix."""
    if isinstance(estimator, lgb.Booster):
        return np.asarray(estimator.predict(matrix, raw_score=True))
    return estimator.raw_score(matrix)
