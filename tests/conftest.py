"""Test-wide isolation, and what several test folders share once per session.

The Dask cluster (training and scoring tests), the temporary Prefect API (flow tests)
and one run of the demo pipeline (the notebooks and the flow tests).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
import yaml
from distributed import Client

from pipelines.config import DEFAULT_CONFIG, AppConfig, load_config, read_yaml
from tests.pipelines.processes import BIN, free_port, start_group, stop_group

DASK_WORKERS = 2
DEMO_AS_OF = "2026-11-01T00:00:00Z"
WORKER_GROUPS = {
    "demo_run": "demo-and-dask",
    "dask_cluster": "demo-and-dask",
    "prefect_server": "prefect-server",
    "runs": "web-runs",
    "medium_model": "model-worlds",
    "medium_world": "model-worlds",
    "small_world": "model-worlds",
}
"""The costly session fixtures: under `pytest -n` (make test), a group's tests run on one
worker, so each fixture is built once; the first one a test uses decides its group."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test that uses a costly session fixture with that fixture's group."""
    for item in items:
        used = [WORKER_GROUPS[name] for name in WORKER_GROUPS if name in item.fixturenames]
        if used:
            item.add_marker(pytest.mark.xdist_group(used[0]))


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


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """Run flows against a throw-away local Prefect server with its own home folder."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["PREFECT_HOME"] = home
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=180):
            yield


@dataclass(frozen=True)
class DemoRun:
    """The demo pipeline run once: its configuration, and the folder `demo_flow` returned."""

    config_file: Path
    tracking_uri: str
    scores: Path
    run: Path

    @property
    def config(self) -> AppConfig:
        """The configuration the demo ran with."""
        return load_config(self.config_file)


@pytest.fixture(scope="session")
def demo_run(prefect_api: None, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`advocacy demo` once per session: the configured demo world (20,000 customers),
    ingested, trained, registered and scored, into a temporary folder and MLflow store.

    Run in this process, on the session's Prefect API (test_temporary_api.py runs the
    command as a process, with its own temporary API). The tracking URI is in the
    configuration file only: the Dask workers of the flow tests cannot learn it from the
    environment. One booster thread: the same trees, and no thread contention on a busy
    machine. Tests that add runs do so in a copy.
    """
    from pipelines import flows
    from pipelines.cli import main

    flow, returned = flows.demo_flow, []  # the flow's answer, which the command only prints

    def demo_flow(config: AppConfig) -> Path:
        returned.append(flow(config))
        return returned[0]

    folder = tmp_path_factory.mktemp("demo")
    tracking_uri = f"sqlite:///{folder / 'mlflow' / 'mlflow.db'}"
    raw = read_yaml(DEFAULT_CONFIG)
    raw["generate"]["out"] = str(folder / "sample")
    raw["ingest"].update(store=str(folder / "store"), as_of=DEMO_AS_OF)
    raw["features"]["out"] = str(folder / "features")
    raw["train"]["out"] = str(folder / "training")
    raw["train"]["booster"]["threads"] = 1
    raw["tracking"].update(uri=tracking_uri, artifacts=str(folder / "mlflow" / "artifacts"))
    raw["scoring"].update(out=str(folder / "scores"), partitions=3)
    config_file = folder / "advocacy.yaml"
    config_file.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.delenv("ADVOCACY_CONFIG", raising=False)
        patch.setattr("pipelines.config.LOCAL_CONFIG", folder / "no-local.yaml")
        patch.setattr(flows, "demo_flow", demo_flow)
        assert main(["demo", "--config", str(config_file)]) == 0
    mlflow.set_tracking_uri(None)
    return DemoRun(config_file, tracking_uri, folder / "scores", returned[0])
