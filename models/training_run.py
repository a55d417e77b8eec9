"""`advocacy train` as one function: training set, model, evaluation, MLflow, registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features.build import FeatureSettings
from features.labels import LabelSettings
from features.source import open_store
from features.store import current_version, write_text_atomically
from models.card import CardContext
from models.dataset import TrainingSetSettings, build_training_set
from models.tracking import TrackingSettings, TrainingRun, configure_tracking, log_training_run
from models.train import TrainSettings, train_model


def train_and_register(
    store: Path,
    out: Path,
    features: FeatureSettings,
    labels: LabelSettings,
    training_set: TrainingSetSettings,
    train: TrainSettings,
    tracking: TrackingSettings,
    config: dict[str, Any],
) -> TrainingRun:
    """Train on the curated store, log the run, register the model; write its card to `out`."""
    configure_tracking(tracking)
    parts = build_training_set(open_store(store), features, labels, training_set)
    result = train_model(parts, train)
    named = {"train": parts.train, "validation": parts.validation, "test": parts.test}
    context = CardContext(
        plan=parts.plan,
        rows={name: len(rows) for name, rows in named.items()},
        positives={name: int(rows["label"].sum()) for name, rows in named.items()},
        labels=labels,
        features=features,
        data_fingerprint=current_version(store).name,
    )
    run = log_training_run(result, parts.test, context, config, tracking)
    folder = out / f"version-{run.version}"
    write_text_atomically(run.card, folder / "model_card.md")
    write_text_atomically(result.evaluation.to_csv(), folder / "evaluation.csv")
    return run
