"""Training the uplift model on past runs' randomized outreach, and judging it on a later run.

Each scoring run whose horizon has passed and that held out a control group is an
experiment: in its measured segments, the contactable customers not held out were asked
(by assignment, as `advocacy evaluate-outreach` counts them) and the control group was
not. A customer's row holds the point-in-time features at the run's as-of moment, the
arm, and whether they advocated in the run's horizon (and what that advocacy was worth).
The newest such run is kept for evaluation and the model learns from the earlier ones,
so its Qini is measured on a later cutoff than any it learned from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.build import FeatureSettings, build_features, store_features
from features.definitions import current_definitions
from features.errors import UserError
from features.labels import LabelSettings, observed_period
from features.views import open_version
from models.outreach.evaluate import advocacy_outcomes, advocacy_values
from models.outreach.qini import (
    MODEL_CURVE,
    TRUE_CURVE,
    Curve,
    observed_qini,
    qini_coefficient,
    true_qini,
)
from models.outreach.settings import OutreachSettings
from models.scoring.files import MANIFEST
from models.uplift import UpliftModel

PROPENSITY_CURVE = "chance of advocating (propensity)"
MIN_ADVOCATES_PER_ARM = 20


class UpliftSettings(BaseModel):
    """How the uplift model's boosters grow (`models.uplift` describes the learner)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 42
    base_rounds: int = Field(200, gt=0)
    """Trees of the shared base model of advocacy."""
    arm_rounds: int = Field(30, gt=0)
    """Trees of each arm's booster on top of the base."""
    arm_leaves: int = Field(2, ge=2)
    """Leaves per tree of the arms' boosters: few, since the effect of asking is small."""
    learning_rate: float = Field(0.05, gt=0)
    min_child_samples: int = Field(500, gt=0)
    """Customers per leaf at least: an arm's leaf must hold enough advocates to differ."""


@dataclass(frozen=True)
class UpliftResult:
    """The model, the runs it learned from and was judged on, and how it did."""

    model: UpliftModel
    values: dict[str, float]
    """Worth of one event of each type, as the value model learned it."""
    training_runs: list[str]
    evaluation_run: str
    evaluation_as_of: pd.Timestamp
    metrics: dict[str, float]
    observed: dict[str, Curve]
    true: dict[str, Curve]
    example: pd.DataFrame


def _as_of(run: Path) -> pd.Timestamp:
    return pd.Timestamp(json.loads((run / MANIFEST).read_text())["as_of"]).tz_convert("UTC")


def experiment_runs(scores: Path, newest: pd.Timestamp, horizon_days: int) -> list[Path]:
    """Runs in `scores` with a control group and a horizon ended by `newest`, oldest first.

    One run per as-of moment: of runs scored again for the same moment, the last.
    """
    found: dict[pd.Timestamp, Path] = {}
    for folder in sorted(scores.iterdir()) if scores.is_dir() else []:
        if folder.is_symlink() or folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        manifest = json.loads((folder / MANIFEST).read_text())
        held = manifest.get("control", {}).get("segments", {})
        as_of = _as_of(folder)
        if any(split["control"] for split in held.values()) and (
            as_of + timedelta(days=horizon_days) <= newest
        ):
            found[as_of] = folder
    return [found[as_of] for as_of in sorted(found)]


def experiment_rows(
    run: Path,
    connection: duckdb.DuckDBPyConnection,
    names: tuple[str, ...],
    label: LabelSettings,
    values: dict[str, float],
    features: FeatureSettings,
) -> pd.DataFrame:
    """One row per customer of a run's experiment: features, arm, outcome, value, list score."""
    manifest = json.loads((run / MANIFEST).read_text())
    as_of = _as_of(run)
    ranked = pd.read_parquet(run / "ranked_list.parquet")
    members = ranked[ranked["segment"].isin(list(manifest["control"]["segments"]))]
    members = members.loc[members["contactable"], ["customer_id", "control", "probability"]]
    outcomes = advocacy_outcomes(
        connection,
        as_of,
        as_of + timedelta(days=label.horizon_days),
        label.event_types,
        list(values),
    )
    table = build_features(connection, [as_of], features, names)
    rows = members.merge(table, on="customer_id").merge(outcomes, on="customer_id", how="left")
    rows = rows.fillna({"advocated": False, **dict.fromkeys(values, 0)})
    rows["asked"] = ~rows["control"].astype(bool)
    rows["advocated"] = rows["advocated"].astype(bool)
    rows["value"] = sum((rows[kind] * worth for kind, worth in values.items()), 0.0)
    return rows.drop(columns=["control", *values])


def _params(settings: UpliftSettings, objective: str, leaves: int) -> dict[str, object]:
    return {
        "objective": objective,
        "num_leaves": leaves,
        "learning_rate": settings.learning_rate,
        "min_child_samples": settings.min_child_samples,
        "lambda_l2": 5.0,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "seed": settings.seed,
        "deterministic": True,
        "num_threads": 1,
        "verbose": -1,
    }


def fit_uplift(rows: pd.DataFrame, names: list[str], settings: UpliftSettings) -> UpliftModel:
    """Base model on everyone, one booster per arm on top of it, and the advocates' value."""
    for arm, members in (("asked", rows["asked"]), ("held out", ~rows["asked"])):
        advocates = int(rows.loc[members, "advocated"].sum())
        if advocates < MIN_ADVOCATES_PER_ARM:
            raise UserError(
                f"The earlier runs' {arm} customers hold {advocates} advocates; the uplift "
                f"model needs at least {MIN_ADVOCATES_PER_ARM} in each arm. Hold out more "
                "(outreach.control_share, outreach.measured_segments) or wait for more runs."
            )
    matrix = rows[names].to_numpy("float64")
    label = rows["advocated"].to_numpy("float64")
    base = lgb.train(
        _params(settings, "binary", 7), lgb.Dataset(matrix, label), settings.base_rounds
    )
    start = np.asarray(base.predict(matrix, raw_score=True))
    arms = []
    for members in (rows["asked"].to_numpy(), ~rows["asked"].to_numpy()):
        data = lgb.Dataset(matrix[members], label[members], init_score=start[members])
        arms.append(
            lgb.train(_params(settings, "binary", settings.arm_leaves), data, settings.arm_rounds)
        )
    advocates = rows["advocated"].to_numpy() & (rows["value"].to_numpy() > 0)
    value = (
        lgb.train(
            _params(settings, "regression", 7) | {"min_child_samples": 20},
            lgb.Dataset(matrix[advocates], rows["value"].to_numpy("float64")[advocates]),
            settings.base_rounds,
        )
        if advocates.sum() >= MIN_ADVOCATES_PER_ARM
        else None
    )
    definitions = current_definitions()
    return UpliftModel(
        base, arms[0], arms[1], value, names, {name: definitions[name] for name in names}
    )


def evaluate_uplift(
    model: UpliftModel, rows: pd.DataFrame, effect: pd.Series | None
) -> tuple[dict[str, float], dict[str, Curve], dict[str, Curve]]:
    """Qini curves and coefficients of the model and of the list's order on a later run.

    Observed from the run's experiment; against `effect` (the generator's true effect
    per row) when given, with the ranking by true effects as the best attainable.
    """
    scores = {MODEL_CURVE: model.uplift(rows), PROPENSITY_CURVE: rows["probability"].to_numpy()}
    observed = {
        name: observed_qini(score, rows["asked"], rows["advocated"])
        for name, score in scores.items()
    }
    metrics = {
        "qini_observed": qini_coefficient(observed[MODEL_CURVE]),
        "qini_observed_propensity": qini_coefficient(observed[PROPENSITY_CURVE]),
        "incremental_advocates_observed": float(observed[MODEL_CURVE][-1]),
        "customers": float(len(rows)),
    }
    true: dict[str, Curve] = {}
    if effect is not None:
        values = effect.to_numpy("float64")
        true = {name: true_qini(score, values) for name, score in scores.items()}
        true[TRUE_CURVE] = true_qini(values, values)
        best = qini_coefficient(true[TRUE_CURVE])
        metrics |= {
            "qini_true": qini_coefficient(true[MODEL_CURVE]),
            "qini_true_propensity": qini_coefficient(true[PROPENSITY_CURVE]),
            "qini_true_best": best,
            "qini_true_share": qini_coefficient(true[MODEL_CURVE]) / best,
            "qini_true_share_propensity": qini_coefficient(true[PROPENSITY_CURVE]) / best,
        }
    return metrics, observed, true


def true_effects(truth: Path, as_of: pd.Timestamp, customers: pd.Series) -> pd.Series:
    """The generator's true effect of an ask sent at `as_of` on each customer (0: inactive)."""
    effect = pd.read_parquet(truth, columns=["customer_id", "sent_at", "effect"])
    sent = effect[effect["sent_at"] == as_of]
    if sent.empty:
        raise UserError(
            f"{truth} has no campaign sent at {as_of:%Y-%m-%d %H:%M}, the as-of moment of the "
            "run the uplift model is judged on: generate the world with that run's outreach."
        )
    return customers.map(sent.set_index("customer_id")["effect"]).fillna(0.0)


def train_uplift(
    scores: Path,
    store_version: Path,
    label: LabelSettings,
    outreach: OutreachSettings,
    features: FeatureSettings,
    settings: UpliftSettings,
    truth: Path | None = None,
) -> UpliftResult:
    """Learn from the experiment runs in `scores` but the newest, judge on the newest.

    `truth`: truth/outreach_effect.parquet of a generated world, for Qini against the
    true effects of the judged run's campaign.
    """
    connection = open_version(store_version, engine=features.duckdb)
    _, newest = observed_period(connection)
    runs = experiment_runs(scores, newest, label.horizon_days)
    if len(runs) < 2:
        raise UserError(
            f"The uplift model needs runs in {scores} of at least two as-of dates with a "
            f"control group whose {label.horizon_days}-day horizon the data covers (found "
            f"{len(runs)}): one to learn from and a later one to judge it on."
        )
    values, _ = advocacy_values(connection, outreach)
    names = store_features(store_version)
    *learn, judge = runs
    training = pd.concat(
        [experiment_rows(run, connection, names, label, values, features) for run in learn],
        ignore_index=True,
    )
    model = fit_uplift(training, list(names), settings)
    later = experiment_rows(judge, connection, names, label, values, features)
    as_of = _as_of(judge)
    effect = true_effects(truth, as_of, later["customer_id"]) if truth else None
    metrics, observed, true = evaluate_uplift(model, later, effect)
    return UpliftResult(
        model=model,
        values=values,
        training_runs=[run.name for run in learn],
        evaluation_run=judge.name,
        evaluation_as_of=as_of,
        metrics=metrics | {"training_customers": float(len(training))},
        observed=observed,
        true=true,
        example=later[list(names)].head(5),
    )
