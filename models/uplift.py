"""The uplift model: how much asking a customer changes their chance of advocating.

Trained on past scoring runs' randomized outreach (`models.outreach.uplift`), registered
in MLflow as `advocacy-uplift` beside the propensity model, and used by scoring when it
has a `champion`. It is a two-model (T-)learner on a shared base: a LightGBM base model
of advocacy on every customer of the experiments, then one small booster per arm
(asked, held out) that starts from the base's score and learns only how that arm
differs from it. The uplift is the difference of the two arms' probabilities. Sharing
the base keeps the two arms' estimates from differing by their separate noise, which
with a few hundred advocates per arm swamps the effect of asking (README, "Ranking by
what outreach changes", has the measurements).

The expected value of asking is the uplift times the value of an advocate's advocacy,
predicted from the same features (events of each type times
`outreach.value_per_advocacy`, as `advocacy evaluate-outreach` counts them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

import lightgbm as lgb
import mlflow
import numpy as np
import numpy.typing as npt
import pandas as pd
from mlflow.pyfunc import PythonModel

from models.model_registry import CHAMPION, registered_version

UPLIFT_MODEL_NAME = "advocacy-uplift"


def _sigmoid(score: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-score)))


class UpliftModel(PythonModel):
    """Base, arm and value boosters of one trained uplift model, and its feature list."""

    def __init__(
        self,
        base: lgb.Booster,
        asked: lgb.Booster,
        held_out: lgb.Booster,
        value: lgb.Booster | None,
        features: list[str],
        feature_definitions: dict[str, str],
    ) -> None:
        self.base = base
        self.asked = asked
        self.held_out = held_out
        self.value = value
        """Value of an advocate's advocacy (None: no advocate had a valued event)."""
        self.features = features
        self.feature_definitions = feature_definitions

    def changed_features(self, current: dict[str, str]) -> list[str]:
        """The model's features whose definition today (`current`) differs or is gone."""
        return [
            name for name in self.features if current.get(name) != self.feature_definitions[name]
        ]

    def matrix(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """The model's feature columns of `rows`, in training order."""
        return rows[self.features].to_numpy("float64")

    def probabilities(
        self, rows: pd.DataFrame
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Each customer's chance of advocating if asked, and if not asked."""
        matrix = self.matrix(rows)
        base = np.asarray(self.base.predict(matrix, raw_score=True))
        asked = base + np.asarray(self.asked.predict(matrix, raw_score=True))
        held_out = base + np.asarray(self.held_out.predict(matrix, raw_score=True))
        return _sigmoid(asked), _sigmoid(held_out)

    def uplift(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Incremental chance of advocating if asked (negative: asking puts them off)."""
        asked, held_out = self.probabilities(rows)
        return asked - held_out

    def advocate_value(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Expected value of the advocacy of a customer who advocates."""
        if self.value is None:
            return np.zeros(len(rows))
        return np.clip(np.asarray(self.value.predict(self.matrix(rows))), 0.0, None)

    def expected_value(self, rows: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Expected incremental value of asking: uplift x value of an advocate's advocacy."""
        return self.uplift(rows) * self.advocate_value(rows)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> npt.NDArray[np.float64]:
        """MLflow's entry point: the uplift."""
        return self.uplift(model_input)


def load_uplift(reference: str = CHAMPION) -> tuple[UpliftModel, str] | None:
    """The uplift model of a registry alias or version and its version; None if there is none.

    A tracking store that cannot be read is still an error: only "no such model" is None.
    """
    version = registered_version(UPLIFT_MODEL_NAME, reference)
    if version is None:
        return None
    number = str(version.version)
    return _load_version(mlflow.get_tracking_uri(), number), number


@lru_cache(maxsize=4)
def _load_version(tracking_uri: str, version: str) -> UpliftModel:
    # Registered versions never change: one download per process, store and version.
    loaded = mlflow.pyfunc.load_model(f"models:/{UPLIFT_MODEL_NAME}/{version}")
    return cast(UpliftModel, loaded.unwrap_python_model())
