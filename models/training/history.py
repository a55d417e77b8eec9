"""The recent training runs, as recorded in MLflow: for operators checking on the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import mlflow
from mlflow import MlflowClient

from models.model_registry import MODEL_NAME
from models.training.fit import MODEL


@dataclass(frozen=True)
class TrainingSummary:
    """One training run: when, which registered version it made, its aliases and score."""

    run_id: str
    started: datetime
    version: str | None
    aliases: list[str]
    pr_auc: float | None
    flags: list[str]


def run_flags(tags: dict[str, str]) -> list[str]:
    """What an operator should look at in a run (a model that failed its quality gate)."""
    if tags.get("quality_gate") == "failed":
        return [f"did not beat the {tags.get('best_baseline', 'best')} baseline: not registered"]
    return []


def recent_training_runs(experiment: str, count: int) -> list[TrainingSummary]:
    """The newest `count` runs of the experiment, newest first (none if it does not exist).

    Aliases are the version's aliases now, not when it was trained: a later version may
    have taken `champion` since.
    """
    if mlflow.get_experiment_by_name(experiment) is None:
        return []
    client = MlflowClient()
    runs = mlflow.search_runs(
        experiment_names=[experiment],
        max_results=count,
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    summaries = []
    for run in runs:
        found = client.search_model_versions(
            f"name = '{MODEL_NAME}' and run_id = '{run.info.run_id}'"
        )
        # Search results leave aliases out: ask for the version itself.
        version = client.get_model_version(MODEL_NAME, found[0].version) if found else None
        summaries.append(
            TrainingSummary(
                run_id=run.info.run_id,
                started=datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC),
                version=str(version.version) if version else None,
                aliases=sorted(version.aliases) if version else [],
                pr_auc=run.data.metrics.get(f"{MODEL}_pr_auc"),
                flags=run_flags(run.data.tags),
            )
        )
    return summaries
