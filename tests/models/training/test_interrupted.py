"""A training start closes what killed trainings left, and nothing a live one still needs."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from features.atomic import process_owner
from models.model_registry import CHAMPION, COMPLETE, MODEL_NAME, delete_unfinished_versions
from models.tracking import TrackingSettings, configure_tracking
from models.training.record import NOTE, OWNER, clear_interrupted_trainings, fail_abandoned_runs


def _ended_owner() -> str:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return f"{int(child.stdout)}@{socket.gethostname()}"


def _run(client: MlflowClient, experiment: str, status: str, owner: str | None) -> str:
    tags = {OWNER: owner} if owner else {}
    run_id = client.create_run(experiment, tags=tags).info.run_id
    if status != "RUNNING":
        client.set_terminated(run_id, status)
    return run_id


def test_runs_of_ended_processes_are_marked_failed_with_a_note(tmp_path: Path) -> None:
    configure_tracking(TrackingSettings(artifacts=tmp_path / "artifacts"))
    client = MlflowClient()
    experiment = client.get_experiment_by_name("advocacy").experiment_id
    killed = _run(client, experiment, "RUNNING", _ended_owner())
    live = _run(client, experiment, "RUNNING", process_owner())
    other_host = _run(client, experiment, "RUNNING", "1@another-host")
    unowned = _run(client, experiment, "RUNNING", None)
    finished = _run(client, experiment, "FINISHED", _ended_owner())

    assert fail_abandoned_runs(experiment) == [killed]

    status = {run: client.get_run(run).info.status for run in (killed, live, other_host, unowned)}
    assert status == {killed: "FAILED", live: "RUNNING", other_host: "RUNNING", unowned: "RUNNING"}
    assert "ended before the run finished" in client.get_run(killed).data.tags[NOTE]
    assert client.get_run(finished).info.status == "FINISHED"


def test_only_versions_never_completed_by_an_ended_run_are_deleted(tmp_path: Path) -> None:
    configure_tracking(TrackingSettings(artifacts=tmp_path / "artifacts"))
    client = MlflowClient()
    experiment = client.get_experiment_by_name("advocacy").experiment_id
    client.create_registered_model(MODEL_NAME)

    def version(run_status: str, owner: str | None = None) -> str:
        run_id = _run(client, experiment, run_status, owner)
        registered = client.create_model_version(MODEL_NAME, f"runs:/{run_id}/model", run_id)
        return str(registered.version)

    killed_before_card = version("RUNNING", _ended_owner())  # marked FAILED first
    failed = version("FAILED")
    completed = version("FAILED")  # killed after its card, before its alias
    client.set_model_version_tag(MODEL_NAME, completed, COMPLETE, "true")
    aliased = version("FAILED")  # killed after its alias, before the run ended
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, aliased)
    in_progress = version("RUNNING", process_owner())
    finished = version("FINISHED")  # registered before versions were tagged complete

    clear_interrupted_trainings(TrackingSettings())

    left = {str(v.version) for v in client.search_model_versions(f"name = '{MODEL_NAME}'")}
    assert left == {completed, aliased, in_progress, finished}
    assert killed_before_card not in left and failed not in left
    assert delete_unfinished_versions() == []  # nothing more to do the next time
    assert mlflow.get_experiment_by_name("advocacy") is not None
