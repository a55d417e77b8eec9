"""Training the advocacy-propensity model and evaluating it honestly.

The booster learns on the training cutoffs and stops early on the validation cutoff;
the regularized logistic regression learns on the training cutoffs too, and the one
that ranks better on the validation cutoff becomes the model (`models.training.family`).
Its probabilities are calibrated on the validation cutoff (isotonic or Platt, whichever
has the lower cross-validated Brier score there). Everything is then judged on the test
cutoff, which no step has seen, against the rule baselines, the other family, an
unconstrained reference booster and, on generated worlds, the oracle ranking by the
true probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold

from features.definitions import current_definitions
from features.errors import UserError
from models.bundle import AdvocacyModel, CalibrationMethod, Calibrator, Estimator, Family, raw_score
from models.training.baselines import RULES, fit_logistic_regression, rule_baselines
from models.training.cluster import fit_on_cluster
from models.training.dataset import TrainingSet
from models.training.family import FamilyChoice, choose_family
from models.training.metrics import probability_metrics, ranking_metrics
from models.training.stopping import StopWhenValidationStalls

MODEL = "model"
ORACLE = "oracle"
REFERENCE = "unconstrained"
NOT_RANKINGS = frozenset({"customer_id", "label", "model_probability", "uncalibrated"})


class BoosterSettings(BaseModel):
    """LightGBM's shape and learning parameters.

    Shallow trees (7 leaves, depth 3) keep exact TreeSHAP reasons fast at scoring time
    and, with customers repeated across monthly cutoffs, generalise better than deep
    ones; the unconstrained reference model measures what they cost in PR-AUC.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_leaves: int = Field(7, ge=2)
    max_depth: int = 3
    learning_rate: float = Field(0.06, gt=0)
    max_rounds: int = Field(400, gt=0)
    early_stopping_rounds: int = Field(60, gt=0)
    min_child_samples: int = Field(300, gt=0)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    lambda_l2: float = Field(5.0, ge=0)
    balance_classes: bool = True
    """Weight the rare advocates up while learning; calibration restores probabilities."""
    threads: int = Field(0, ge=0)
    """0: as many as OpenMP finds."""


class TrainSettings(BaseModel):
    """How `advocacy train` learns and calibrates, and where it writes model cards."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    out: Path = Path("data/training")
    """Folder of the model cards and evaluation tables, one subfolder per registered version."""
    seed: int = 42
    booster: BoosterSettings = BoosterSettings()
    reference_num_leaves: int | None = 31
    """Leaves of the unconstrained reference model (no depth limit); null: skip it."""
    calibration: Literal["auto", "isotonic", "platt"] = "auto"
    family: Literal["auto", "lightgbm", "logistic_regression"] = "auto"
    """auto: the one with the higher validation PR-AUC (`models.training.family`)."""
    truth: Path | None = None
    """Ground truth of a generated world (truth/propensity.parquet), for oracle metrics."""
    dask_address: str | None = None
    """Scheduler of a Dask cluster that grows the booster (`lightgbm.dask`); null: this machine."""


@dataclass(frozen=True)
class TrainingResult:
    """A trained model and its evaluation on the test cutoff."""

    model: AdvocacyModel
    evaluation: pd.DataFrame
    """One row per ranking (model, rule baselines, the other family, reference, oracle),
    one column per metric."""
    test_scores: pd.DataFrame
    """Per test row: customer_id, label, and each ranking's score."""
    family: FamilyChoice
    params: dict[str, Any]

    @property
    def best_baseline(self) -> str:
        """The rule baseline with the highest test PR-AUC."""
        rules = self.evaluation.loc[self.evaluation.index.intersection(list(RULES))]
        return str(rules["pr_auc"].idxmax())

    @property
    def beats_baselines(self) -> bool:
        """Whether the model's test PR-AUC is above every rule baseline's."""
        pr_auc = self.evaluation["pr_auc"]
        return bool(pr_auc[MODEL] > pr_auc[self.best_baseline])


def booster_params(settings: BoosterSettings, seed: int) -> dict[str, Any]:
    """LightGBM parameters, deterministic for a given seed."""
    return {
        "objective": "binary",
        "num_leaves": settings.num_leaves,
        "max_depth": settings.max_depth,
        "learning_rate": settings.learning_rate,
        "min_child_samples": settings.min_child_samples,
        "feature_fraction": settings.feature_fraction,
        "bagging_fraction": settings.bagging_fraction,
        "bagging_freq": 1,
        "lambda_l2": settings.lambda_l2,
        "is_unbalance": settings.balance_classes,
        "num_threads": settings.threads,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }


def fit_booster(
    parts: TrainingSet,
    features: list[str],
    settings: BoosterSettings,
    seed: int,
    dask_address: str | None = None,
) -> lgb.Booster:
    """Train on the training cutoffs, stopping when validation ROC-AUC stops improving.

    ROC-AUC is the steadier of the ranking metrics on a validation cutoff with few
    advocates; PR-AUC moves with a handful of them. With `dask_address`, the trees grow
    on that Dask cluster, with the same parameters and stopping rule.
    """
    matrix = parts.train[features].to_numpy("float64")
    label = parts.train["label"].to_numpy()
    params = booster_params(settings, seed)
    stopping = StopWhenValidationStalls(
        parts.validation[features].to_numpy("float64"),
        parts.validation["label"].to_numpy(),
        settings.early_stopping_rounds,
    )
    if dask_address:
        return fit_on_cluster(
            dask_address, params, settings.max_rounds, matrix, label, features, stopping
        )
    return lgb.train(
        params,
        lgb.Dataset(matrix, label, feature_name=features, free_raw_data=True),
        num_boost_round=settings.max_rounds,
        callbacks=[stopping],
    )


def choose_calibration(
    raw: npt.NDArray[np.float64], label: npt.NDArray[np.int64], seed: int
) -> CalibrationMethod:
    """The method with the lower 5-fold cross-validated Brier score on held-out data."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    losses: dict[CalibrationMethod, float] = {}
    for method in ("isotonic", "platt"):
        fold_losses = []
        for fit_rows, check_rows in folds.split(raw.reshape(-1, 1), label):
            calibrator = Calibrator(method).fit(raw[fit_rows], label[fit_rows])
            fold_losses.append(
                brier_score_loss(label[check_rows], calibrator.probability(raw[check_rows]))
            )
        losses[method] = float(np.mean(fold_losses))
    return min(losses, key=losses.__getitem__)


def _true_probabilities(test: pd.DataFrame, truth: Path) -> pd.Series:
    known = pd.read_parquet(truth, columns=["customer_id", "cutoff", "true_probability"])
    merged = test[["customer_id", "cutoff"]].merge(known, on=["customer_id", "cutoff"], how="left")
    if merged["true_probability"].isna().any():
        raise UserError(
            f"{truth} has no true probability for some test rows at {test['cutoff'].iloc[0]}: "
            "is it the ground truth of this world?"
        )
    return pd.Series(merged["true_probability"].to_numpy(), index=test.index)


def evaluate(test_scores: pd.DataFrame, rankings: list[str]) -> pd.DataFrame:
    """Ranking metrics per ranking; Brier and ECE where scores are probabilities.

    Those are the model (before and after calibration) and the oracle.
    """
    label = test_scores["label"]
    evaluation = pd.DataFrame(
        {name: ranking_metrics(label, test_scores[name]) for name in rankings}
    ).T
    calibrated = probability_metrics(label, test_scores["model_probability"])
    uncalibrated = probability_metrics(label, test_scores["uncalibrated"])
    for metric, value in calibrated.items():
        evaluation.loc[MODEL, metric] = value
        evaluation.loc[MODEL, f"{metric}_uncalibrated"] = uncalibrated[metric]
    if ORACLE in test_scores:
        for metric, value in probability_metrics(label, test_scores[ORACLE]).items():
            evaluation.loc[ORACLE, metric] = value
    return evaluation


def train_model(parts: TrainingSet, settings: TrainSettings) -> TrainingResult:
    """Train, calibrate and evaluate on the time-split training set, on its features."""
    features = parts.features
    booster = fit_booster(parts, features, settings.booster, settings.seed, settings.dask_address)
    logistic = fit_logistic_regression(parts.train, parts.train["label"], features, settings.seed)
    candidates: dict[Family, Estimator] = {"lightgbm": booster, "logistic_regression": logistic}
    choice = choose_family(
        parts.validation,
        features,
        candidates,
        None if settings.family == "auto" else settings.family,
    )
    estimator = candidates[choice.family]
    validation_raw = raw_score(estimator, parts.validation[features].to_numpy("float64"))
    validation_label = parts.validation["label"].to_numpy()
    method = (
        choose_calibration(validation_raw, validation_label, settings.seed)
        if settings.calibration == "auto"
        else settings.calibration
    )
    calibrator = Calibrator(method).fit(validation_raw, validation_label)
    model = AdvocacyModel(estimator, calibrator, features, current_definitions(features))

    test = parts.test
    raw = model.raw_score(test)
    scores = {
        "customer_id": test["customer_id"],
        "label": test["label"],
        MODEL: raw,
        "model_probability": model.calibrator.probability(raw),
        "uncalibrated": 1 / (1 + np.exp(-raw)),
    }
    scores[choice.runner_up] = raw_score(
        candidates[choice.runner_up], test[features].to_numpy("float64")
    )
    for name, rule in rule_baselines(features).items():
        scores[name] = rule(test)
    if settings.reference_num_leaves is not None:
        unconstrained = settings.booster.model_copy(
            update={"num_leaves": settings.reference_num_leaves, "max_depth": -1}
        )
        reference = fit_booster(
            parts, features, unconstrained, settings.seed, settings.dask_address
        )
        scores[REFERENCE] = reference.predict(test[features].to_numpy("float64"), raw_score=True)
    if settings.truth is not None:
        scores[ORACLE] = _true_probabilities(test, settings.truth)
    test_scores = pd.DataFrame(scores)
    rankings = [name for name in test_scores.columns if name not in NOT_RANKINGS]
    evaluation = evaluate(test_scores, rankings)
    shape = (
        booster_params(settings.booster, settings.seed) | {"best_iteration": booster.best_iteration}
        if choice.family == "lightgbm"
        else {"C": logistic.pipeline[-1].C, "seed": settings.seed}
    )
    return TrainingResult(
        model=model,
        evaluation=evaluation,
        test_scores=test_scores,
        family=choice,
        params=shape | {"model_family": choice.family, "calibration": method},
    )
