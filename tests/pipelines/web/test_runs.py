"""Run folders are found by name in a listing: no request reaches any other file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.web.runs import UnknownRun, find_run, run_names
from tests.pipelines.web.conftest import LATEST_RUN, NOT_RUNS, OLDER_RUN, Runs


def test_runs_are_the_complete_folders_newest_first(cluttered: Path) -> None:
    assert run_names(cluttered) == [LATEST_RUN, OLDER_RUN]
    assert run_names(cluttered / "missing") == []


def test_the_latest_run_by_default_and_others_by_name(cluttered: Path) -> None:
    assert find_run(cluttered, None).name == LATEST_RUN
    assert find_run(cluttered, "").folder == cluttered / LATEST_RUN
    older = find_run(cluttered, OLDER_RUN)
    assert older.folder == cluttered / OLDER_RUN and older.manifest["model_version"] == "1"
    (cluttered / "latest").unlink()  # no link: the most recently finished run
    assert find_run(cluttered, None).name == LATEST_RUN


@pytest.mark.parametrize("name", NOT_RUNS)
def test_anything_but_a_run_name_is_unknown(cluttered: Path, name: str) -> None:
    with pytest.raises(UnknownRun):
        find_run(cluttered, name)


def test_store_version_of_a_run_comes_from_its_manifest(cluttered: Path, runs: Runs) -> None:
    assert find_run(cluttered, None).store_version == runs.store_version


def test_no_run_at_all_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(UnknownRun):
        find_run(tmp_path, None)
