"""Commands that start Prefect's temporary local API leave no server behind, however they end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from subprocess import Popen

import pytest

from tests.conftest import DaskCluster
from tests.pipelines.processes import BIN, group_members, start_group, wait_until

SERVER = "prefect.server.api.server"  # in the temporary API's command line
WATCHDOG = "watchdog of the temporary Prefect API"  # in its watchdog's: the API is up


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""  # ended while we looked


def _demo(folder: Path, config: str) -> Popen[bytes]:
    """Start `advocacy demo` in its own process group, without a Prefect server configured."""
    (folder / "config.yaml").write_text(config)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(folder / "prefect")
    command = [str(BIN / "advocacy"), "demo", "--config", "config.yaml"]
    return start_group(command, folder / "demo.log", folder, env)


@pytest.mark.parametrize(
    ("moment", "stop"),
    [
        pytest.param(SERVER, signal.SIGTERM, id="SIGTERM while the API starts"),
        pytest.param(WATCHDOG, signal.SIGKILL, id="SIGKILL once the API is up"),
    ],
)
def test_a_killed_command_leaves_no_prefect_server(
    tmp_path: Path, moment: str, stop: signal.Signals
) -> None:
    demo = _demo(tmp_path, "generate: {customers: 3000}\n")
    group = demo.pid
    try:
        wait_until(
            lambda: any(moment in _command_line(pid) for pid in group_members(group)),
            600,
            f"a process running {moment!r}",
        )
        demo.send_signal(stop)  # the command only, as `kill` or a scheduler would
        demo.wait(timeout=60)
        wait_until(lambda: not group_members(group), 60, "every process of the command to end")
    finally:
        if group_members(group):
            os.killpg(group, signal.SIGKILL)
        demo.wait(timeout=60)


def test_a_slow_temporary_api_is_a_clear_error(tmp_path: Path) -> None:
    demo = _demo(tmp_path, "generate: {customers: 300}\nprefect: {startup_timeout_seconds: 1}\n")
    status = demo.wait(timeout=600)
    printed = (tmp_path / "demo.log").read_text()
    assert status == 2, printed
    assert "temporary local API did not start in 1 s" in printed
    assert "prefect.startup_timeout_seconds" in printed and "Traceback" not in printed
    assert group_members(demo.pid) == []


TASKS_ON_DASK = """
import sys
from prefect import flow, task
from prefect.settings import PREFECT_API_URL
from prefect_dask import DaskTaskRunner
from pipelines.config import PrefectSettings
from pipelines.flows import prefect_api

@task
def api_seen_by_the_task() -> str:
    return str(PREFECT_API_URL.value())

@flow(task_runner=DaskTaskRunner(address=sys.argv[1]))
def apis() -> list[str]:
    futures = [api_seen_by_the_task.submit() for _ in range(2)]
    return [str(PREFECT_API_URL.value()), *(future.result() for future in futures)]

with prefect_api(PrefectSettings()):
    print(*apis())
"""


def test_tasks_on_dask_workers_report_to_the_commands_temporary_api(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    """Without it, each worker started a temporary API of its own (and timed out under load)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    done = subprocess.run(
        [sys.executable, "-c", TASKS_ON_DASK, dask_cluster.address],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    flow_api, *task_apis = done.stdout.split()
    assert flow_api.startswith("http://127.0.0.1:") and task_apis == [flow_api, flow_api]
