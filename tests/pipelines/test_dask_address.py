"""A Dask scheduler named in the configuration answers with workers, or one clear line."""

from __future__ import annotations

import re

import pytest
from distributed import LocalCluster

from features.errors import UserError
from pipelines.config import load_config, with_overrides
from pipelines.flows import task_runner
from tests.pipelines.processes import free_port


def test_an_unreachable_scheduler_for_scoring_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("models.cluster.CONNECT_SECONDS", 2)
    address = f"tcp://127.0.0.1:{free_port()}"
    settings = with_overrides(load_config().scoring, task_runner="dask", dask_address=address)
    with pytest.raises(UserError) as raised:
        task_runner(settings)
    message = str(raised.value)
    assert message.startswith(f"scoring.dask_address: no Dask scheduler answers at {address}")
    assert "\n" not in message


def test_a_scheduler_without_workers_is_one_line_not_a_run_that_waits() -> None:
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        settings = with_overrides(
            load_config().scoring, task_runner="dask", dask_address=cluster.scheduler_address
        )
        with pytest.raises(
            UserError,
            match=re.escape(
                f"scoring.dask_address: the Dask scheduler at {cluster.scheduler_address} has no workers"
            ),
        ):
            task_runner(settings)
