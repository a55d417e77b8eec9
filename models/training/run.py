"""`advocacy train` as one function: training set, model, evaluation, MLflow, registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features.atomic import write_text_atomically
from features.availability import available_features
from features.build import FeatureSettings
from features.errors import UserError
from features.labels import LabelSettings
from features.store import present_sources, table_rows
from features.views import open_version
from models.tracking import TrackingSettings, configure_tracking
from models.training.card import CardContext
from models.training.dataset import TrainingSetSettings, build_training_set
from models.training.fit import TrainSettings, train_model
from models.training.record import TrainingRun, clear_interrupted_trainings, log_training_run

MIN_PER_CLASS = 5  # calibration is chosen by 5-fold cross-validation on the validation part


def train_and_register(
    store_version: Path,
    out: Path,
    features: FeatureSettings,
    labels: LabelSettings,
    training_set: TrainingSetSettings,
    train: TrainSettings,
    tracking: TrackingSettings,
    config: dict[str, Any],
) -> TrainingRun:
    """Train on one store version, log the run, register the model; write its card to `out`."""
    if train.truth is not None and not train.truth.exists():
        raise UserError(f"{train.truth}: no such ground-truth file.")
    if table_rows(store_version, "advocacy_events") == 0:
        raise UserError(
            "The store has no advocacy events (advocacy_events is absent or has no rows): a "
            "model learns who advocates from them, so none can be trained on it."
        )
    configure_tracking(tracking)
    clear_interrupted_trainings(tracking)
    present = present_sources(store_version)
    parts = build_training_set(
        open_version(store_version, engine=features.duckdb),
        features,
        labels,
        training_set,
        available_features(present),
    )
    named = {"train": parts.train, "validation": parts.validation, "test": parts.test}
    for part, rows in named.items():
        advocates = int(rows["label"].sum())
        if min(advocates, len(rows) - advocates) < MIN_PER_CLASS:
            raise UserError(
                f"The {part} part has {advocates:,} advocates among {len(rows):,} customers: "
                f"too few to train and judge a model (at least {MIN_PER_CLASS} of each are "
                "needed). Use more customers or a longer history."
            )
    result = train_model(parts, train)
    context = CardContext(
        plan=parts.plan,
        rows={name: len(rows) for name, rows in named.items()},
        positives={name: int(rows["label"].sum()) for name, rows in named.items()},
        labels=labels,
        features=features,
        data_fingerprint=store_version.name,
        present=present,
    )
    run = log_training_run(result, parts.test, context, config, tracking)
    folder = out / f"version-{run.version}"
    write_text_atomically(run.card, folder / "model_card.md")
    write_text_atomically(result.evaluation.to_csv(), folder / "evaluation.csv")
    return run
