"""Test-wide isolation, and the Dask cluster that training and scoring tests share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from distributed import Client

from tests.pipelines.processes import BIN, free_port, start_group, stop_group

DASK_WORKERS = 2


@pytest.fixture(autouse=True)
def isolated_tool_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point MLflow's tracking store at a temporary SQLite file for every test.

    A developer's configs/local.yaml and ADVOCACY_CONFIG are hidden from the tests.

    Both the environment (for child processes) and MLflow's process-wide URI, which an
    earlier test's `configure_tracking` may have set, are pointed there.
    """
    monkeypatch.delenv("ADVOCACY_CONFIG", raising=False)  # a developer's own settings
    monkeypatch.setattr("pipelines.config.LOCAL_CONFIG", tmp_path / "no-local.yaml")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield
    mlflow.set_tracking_uri(None)


@dataclass(frozen=True)
class DaskCluster:
    """A scheduler's address and the folders its workers run in."""

    address: str
    worker_folders: list[Path]

    def executed_tasks(self) -> int:
        """How many tasks the workers have run so far, all together."""
        with Client(self.address, timeout="60s") as client:
            counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
        return sum(counts.values())


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, one per session.

    Each worker runs in a folder of its own and knows no MLflow or Prefect setting from
    the environment: whatever it needs has to reach it with the tasks.
    """
    folder = tmp_path_factory.mktemp("dask")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "PREFECT_", "ADVOCACY_"))
    }
    address = f"tcp://127.0.0.1:{free_port()}"
    quiet = ["--no-dashboard", "--host", "127.0.0.1"]
    processes = [
        start_group(
            [str(BIN / "dask"), "scheduler", "--port", address.rsplit(":", 1)[1], *quiet],
            folder / "scheduler.log",
            folder,
            env,
        )
    ]
    workers = [folder / f"worker-{index}" for index in range(DASK_WORKERS)]
    try:
        for worker in workers:
            worker.mkdir()
            command = [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny"]
            processes.append(
                start_group(
                    [*command, *quiet, "--local-directory", str(worker)],
                    folder / f"{worker.name}.log",
                    worker,
                    env,
                )
            )
        with Client(address, timeout="120s") as client:
            client.wait_for_workers(DASK_WORKERS, timeout=300)
        yield DaskCluster(address, workers)
    finally:
        for process in reversed(processes):
            stop_group(process)
