"""The model registry: which version is `champion`, and loading a version for scoring.

A new version takes `champion` only when it beats the current champion on the same
test rows by a margin; otherwise it is the `challenger`. A person can override with
`advocacy promote VERSION`.

A version gets an alias only after its training logged the model card and every
artifact and tagged it `complete`; a training killed before that leaves a version that
the next training deletes (`delete_unfinished_versions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from sklearn.metrics import average_precision_score

from features.definitions import current_definitions
from features.errors import UserError
from models.bundle import AdvocacyModel

MODEL_NAME = "advocacy-propensity"
# What the registry answers for a model, version or alias that does not exist.
NOT_FOUND = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})
CHAMPION = "champion"
CHALLENGER = "challenger"
COMPLETE = "complete"
"""Version tag: the model card and every artifact are logged; the version may get an alias."""
UNFINISHED_RUN = frozenset({"FAILED", "KILLED"})


@dataclass(frozen=True)
class AliasDecision:
    """Which alias a new version got, and why."""

    alias: str
    new_pr_auc: float
    champion_version: str | None
    champion_pr_auc: float | None
    reason: str


def decide_alias(
    new_pr_auc: float, champion_pr_auc: float | None, margin: float
) -> tuple[str, str]:
    """`champion` if there is none or the new score beats it by `margin`, else `challenger`."""
    if champion_pr_auc is None:
        return CHAMPION, "no champion yet"
    if new_pr_auc >= champion_pr_auc + margin:
        return CHAMPION, (
            f"PR-AUC {new_pr_auc:.4f} beats the champion's {champion_pr_auc:.4f} "
            f"by at least {margin:.4f}"
        )
    return CHALLENGER, (
        f"PR-AUC {new_pr_auc:.4f} does not beat the champion's {champion_pr_auc:.4f} "
        f"by {margin:.4f}"
    )


def registered_version(name: str, reference: str) -> ModelVersion | None:
    """The version of model `name` an alias (e.g. `champion`) or version number names.

    None if there is no such model, alias or version; a tracking store that cannot be
    read (e.g. a server that cannot be reached) is still an error.
    """
    client = MlflowClient()
    try:
        return (
            client.get_model_version(name, reference)
            if reference.isdigit()
            else client.get_model_version_by_alias(name, reference)
        )
    except MlflowException as error:
        if error.error_code not in NOT_FOUND:
            raise
        return None


def load_model(reference: str, name: str = MODEL_NAME) -> tuple[AdvocacyModel, str]:
    """The model of a registry alias (e.g. `champion`) or version number, and its version."""
    version = registered_version(name, reference)
    if version is None:
        hint = " Train one with `advocacy train`." if reference == CHAMPION else ""
        raise UserError(
            f"The registry at {mlflow.get_tracking_uri()} has no '{reference}' "
            f"for model {name}.{hint}"
        )
    number = str(version.version)
    return _load_version(mlflow.get_tracking_uri(), name, number), number


@lru_cache(maxsize=4)
def _load_version(tracking_uri: str, name: str, version: str) -> AdvocacyModel:
    # Registered versions never change: one download per process, store and version.
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return cast(AdvocacyModel, loaded.unwrap_python_model())


def assign_alias(
    version: str, test_rows: pd.DataFrame, new_pr_auc: float, margin: float, name: str = MODEL_NAME
) -> AliasDecision:
    """Score the current champion on the new version's test rows and set the new alias.

    A champion that uses a feature computed differently today cannot be scored on these
    rows: the new version is then the challenger, for a person to promote. A champion
    whose features are all current is compared, however many features were added since.
    """
    try:
        champion, champion_version = load_model(CHAMPION, name)
    except UserError:
        champion_version, champion_pr_auc = None, None
    else:
        changed = champion.changed_features(current_definitions())
        if changed:
            MlflowClient().set_registered_model_alias(name, CHALLENGER, version)
            reason = (
                f"the champion (version {champion_version}) uses features computed "
                f"differently now ({', '.join(changed[:3])}): compare and promote by hand"
            )
            return AliasDecision(CHALLENGER, new_pr_auc, champion_version, None, reason)
        label = test_rows["label"].to_numpy()
        champion_pr_auc = float(average_precision_score(label, champion.raw_score(test_rows)))
    alias, reason = decide_alias(new_pr_auc, champion_pr_auc, margin)
    MlflowClient().set_registered_model_alias(name, alias, version)
    return AliasDecision(alias, new_pr_auc, champion_version, champion_pr_auc, reason)


def promote(version: str, name: str = MODEL_NAME) -> str:
    """Make `version` the champion by hand; returns what changed, for the person."""
    client = MlflowClient()
    try:
        aliases = client.get_model_version(name, version).aliases
    except MlflowException as error:
        raise UserError(f"Model {name} has no version {version}.") from error
    try:
        previous: str | None = str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        previous = None
    if previous == version:
        return f"Version {version} of {name} already is the champion; nothing changed."
    client.set_registered_model_alias(name, CHAMPION, version)
    if CHALLENGER in aliases:
        client.delete_registered_model_alias(name, CHALLENGER)
    was = f"was version {previous}" if previous else "there was none"
    return f"Version {version} of {name} is now the champion ({was})."


def mark_complete(version: str, name: str = MODEL_NAME) -> None:
    """Record that `version` has its model card and every artifact logged."""
    MlflowClient().set_model_version_tag(name, version, COMPLETE, "true")


def delete_unfinished_versions(name: str = MODEL_NAME) -> list[str]:
    """Delete the versions that a training registered but never completed; returns them.

    Such a version has no alias and no `complete` tag, and its run has ended without
    finishing. A version whose run is still RUNNING may belong to a training in progress
    and is kept; one that had an alias once carries the tag (it is set before any alias).
    """
    client = MlflowClient()
    versions = client.search_model_versions(f"name = '{name}'")
    if not versions:
        return []
    # Searches leave `aliases` empty on some stores: read them from the model itself.
    aliased = {str(v) for v in client.get_registered_model(name).aliases.values()}
    deleted = []
    for version in versions:
        number = str(version.version)
        if number in aliased or COMPLETE in version.tags or not version.run_id:
            continue
        try:
            status = client.get_run(version.run_id).info.status
        except MlflowException:  # the run was deleted for good: nothing tells how it ended
            continue
        if status in UNFINISHED_RUN:
            client.delete_model_version(name, number)
            deleted.append(number)
    return deleted
