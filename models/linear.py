"""The regularized logistic regression as a scoring model, with exact contributions.

On thin data (few advocates, few customers) the linear model can rank better than the
booster; it then becomes the registered model and must explain its scores as the
booster does. For a linear model the SHAP value of an input is its coefficient times
its value minus the value's training mean; the inputs here are standardized on the
training rows, so that mean is zero, and the expected value is the intercept. The
contributions add up exactly to the log-odds, like the booster's TreeSHAP values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class LinearModel:
    """A fitted pipeline: median imputer with missing flags, standard scaler, logistic regression.

    A feature's missing flag is an input of its own in the regression; its term counts
    towards that feature's contribution, so a reason names the feature, not the flag.
    """

    pipeline: Pipeline

    def raw_score(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The log-odds of advocating."""
        return np.asarray(self.pipeline.decision_function(matrix), dtype="float64")

    def contributions(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per feature coefficient x standardized value, plus the intercept as the last column."""
        imputer: SimpleImputer = self.pipeline[0]
        scaler: StandardScaler = self.pipeline[1]
        regression: LogisticRegression = self.pipeline[2]
        standardized = np.asarray(scaler.transform(imputer.transform(matrix)), dtype="float64")
        terms = standardized * regression.coef_[0]
        features = matrix.shape[1]
        out = np.empty((len(matrix), features + 1))
        out[:, :features] = terms[:, :features]
        flagged = imputer.indicator_.features_ if imputer.indicator_ is not None else []
        out[:, flagged] += terms[:, features:]
        out[:, features] = regression.intercept_[0]
        return out
