"""What a training run records in MLflow: parameters, metrics, plots, card and model.

Only a model that beats the best rule baseline is registered; its alias is decided by
`models.model_registry.assign_alias`, after the model card and every artifact are logged.

A run records the process that trains (`OWNER`): the next training marks the runs of a
process that was killed FAILED and deletes the versions they left unfinished, without
touching a training that is still running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.models import infer_signature

from features.atomic import owner_has_ended, process_owner
from features.availability import left_out, tables_read
from models.explain import explained_sample, mean_abs_shap, shap_summary_figure
from models.model_registry import (
    MODEL_NAME,
    AliasDecision,
    assign_alias,
    delete_unfinished_versions,
    mark_complete,
)
from models.tracking import TrackingSettings
from models.training.card import CardContext, model_card
from models.training.family import FAMILY_WORDS
from models.training.fit import MODEL, ORACLE, REFERENCE, TrainingResult
from models.training.plots import (
    calibration_figure,
    gains_figure,
    importance_figure,
    precision_recall_figure,
)

EXAMPLE_ROWS = 5
REQUIREMENTS = ("lightgbm", "mlflow", "numpy", "pandas", "scikit-learn")
OWNER = "advocacy.owner"
"""Run tag: the training process as pid@host (see `features.atomic.process_owner`)."""
NOTE = "mlflow.note.content"  # the run's description in the MLflow UI


class ModelQualityError(Exception):
    """The model does not beat the best baseline: the data or the code needs a human."""


@dataclass(frozen=True)
class TrainingRun:
    """What a logged training run produced."""

    run_id: str
    version: str
    decision: AliasDecision
    card: str
    sources: str
    """The tables the model learned from, and what the source lacked (one line)."""
    family: str
    """The model family chosen and why, in words (`FamilyChoice.in_words`)."""


def flat_metrics(evaluation: pd.DataFrame) -> dict[str, float]:
    """`<ranking>_<metric>` for every evaluated ranking, plus model / oracle ratios."""
    metrics = {
        f"{ranking}_{metric}": float(value)
        for ranking, row in evaluation.iterrows()
        for metric, value in row.items()
        if pd.notna(value)
    }
    for other in (ORACLE, REFERENCE):
        if other in evaluation.index:
            metrics[f"model_vs_{other}_pr_auc"] = (
                evaluation.loc[MODEL, "pr_auc"] / evaluation.loc[other, "pr_auc"]
            )
    return metrics


def run_figures(result: TrainingResult, test_rows: pd.DataFrame, seed: int) -> dict[str, Figure]:
    """Every plot of the run, by artifact file name."""
    rankings = [n for n in result.evaluation.index if n != REFERENCE]
    explanation = explained_sample(result.model, test_rows, seed)
    return {
        "plots/calibration.png": calibration_figure(result),
        "plots/gains.png": gains_figure(result, rankings),
        "plots/precision_recall.png": precision_recall_figure(result, rankings),
        "plots/feature_importance.png": importance_figure(mean_abs_shap(explanation)),
        "plots/shap_summary.png": shap_summary_figure(explanation),
    }


def log_training_run(
    result: TrainingResult,
    test_rows: pd.DataFrame,
    context: CardContext,
    config: dict[str, Any],
    settings: TrackingSettings,
) -> TrainingRun:
    """Log everything about a training run, register the model and assign its alias.

    A model that does not beat the best rule baseline is logged (so a person can look) but
    neither registered nor aliased: `ModelQualityError` is raised instead.
    """
    plan = context.plan
    features = result.model.features
    with mlflow.start_run(tags={OWNER: process_owner()}) as run:
        mlflow.set_tags(
            {
                "data_fingerprint": context.data_fingerprint,
                "features": str(len(features)),
                "sources": ", ".join(tables_read(features, context.present)),
                "best_baseline": result.best_baseline,
                "model_family": result.family.family,
            }
        )
        mlflow.log_params(
            result.params
            | {
                "train_cutoffs": ",".join(c.strftime("%Y-%m-%d") for c in plan.train),
                "validation_cutoff": plan.validation.strftime("%Y-%m-%d"),
                "test_cutoff": plan.test.strftime("%Y-%m-%d"),
                "label_horizon_days": context.labels.horizon_days,
                "features": len(features),
            }
            | {f"{part}_rows": rows for part, rows in context.rows.items()}
        )
        mlflow.log_dict(json.loads(json.dumps(config, default=str)), "config.json")
        mlflow.log_dict(result.model.feature_definitions, "feature_definitions.json")
        mlflow.log_dict(
            {
                "tables_read": tables_read(features, context.present),
                "source_had": context.present,
                "left_out_for_lack_of_data": left_out(context.present),
            },
            "sources.json",
        )
        mlflow.log_metrics(flat_metrics(result.evaluation))
        for path, figure in run_figures(result, test_rows, int(result.params["seed"])).items():
            mlflow.log_figure(figure, path)
            plt.close(figure)
        mlflow.log_text(result.evaluation.to_csv(), "evaluation.csv")
        if not result.beats_baselines:
            mlflow.set_tag("quality_gate", "failed")
            mlflow.log_text(model_card(result, context, None), "model_card.md")
            raise ModelQualityError(
                f"The model's ({FAMILY_WORDS[result.family.family]}) test PR-AUC "
                f"{result.evaluation.loc[MODEL, 'pr_auc']:.4f} does not beat the "
                f"{result.best_baseline} baseline's "
                f"{result.evaluation.loc[result.best_baseline, 'pr_auc']:.4f}; not registered. "
                f"Inspect MLflow run {run.info.run_id}."
            )
        mlflow.set_tag("quality_gate", "passed")
        example = test_rows[features].head(EXAMPLE_ROWS)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=result.model,
            signature=infer_signature(example, result.model.predict(None, example)),
            input_example=example,
            registered_model_name=MODEL_NAME,
            pip_requirements=[f"{name}=={installed_version(name)}" for name in REQUIREMENTS],
        )
        version = str(info.registered_model_version)
        card = model_card(result, context, version)
        mlflow.log_text(card, "model_card.md")
        mark_complete(version)
        decision = assign_alias(
            version, test_rows, result.evaluation.loc[MODEL, "pr_auc"], settings.promotion_margin
        )
        mlflow.set_tags({"registry_alias": decision.alias, "registry_decision": decision.reason})
        if decision.champion_pr_auc is not None:
            mlflow.log_metric("champion_pr_auc_same_rows", decision.champion_pr_auc)
    sources = context.sources(features)
    return TrainingRun(run.info.run_id, version, decision, card, sources, result.family.in_words())


def clear_interrupted_trainings(settings: TrackingSettings) -> None:
    """Close what killed trainings left behind: RUNNING runs and unfinished versions.

    Runs first: a version is deleted only once its run has ended.
    """
    experiment = mlflow.get_experiment_by_name(settings.experiment)
    if experiment is not None:
        fail_abandoned_runs(experiment.experiment_id)
    delete_unfinished_versions()


def fail_abandoned_runs(experiment_id: str) -> list[str]:
    """Mark FAILED, with a note, the RUNNING runs whose training process has ended.

    Only processes of this host can be checked: a run of another host, or one without an
    `OWNER` tag, is left RUNNING. Returns the ids of the runs marked.
    """
    client = MlflowClient()
    marked = []
    for run in client.search_runs([experiment_id], "attributes.status = 'RUNNING'"):
        owner = run.data.tags.get(OWNER, "")
        if owner_has_ended(owner):
            client.set_tag(
                run.info.run_id,
                NOTE,
                f"Marked FAILED by a later training: its process ({owner}) ended before "
                "the run finished (killed or crashed).",
            )
            client.set_terminated(run.info.run_id, "FAILED")
            marked.append(run.info.run_id)
    return marked
