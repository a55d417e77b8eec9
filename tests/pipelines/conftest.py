"""A real Prefect server for the served-deployment tests, one per session.

The temporary API the other flow tests use is in `tests/conftest.py`.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest

from tests.pipelines.processes import BIN, free_port, start_group, stop_group, wait_until


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start` with its own home folder; yields its API URL.

    Served deployments and schedules need one (the temporary API cannot hold them).
    Stopped with everything it started when the session ends.
    """
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env |= {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    command = ["server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    server = start_group([str(BIN / "prefect"), *command], home / "server.log", home, env)
    url = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        assert server.poll() is None, (home / "server.log").read_text()
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    try:
        wait_until(healthy, 600, "the Prefect server to answer")
        yield url
    finally:
        stop_group(server)
