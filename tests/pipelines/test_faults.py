"""Faults end in one clear line, and a killed run leaves nothing half-done in sight.

The kill tests run `advocacy score` and `advocacy train` as processes and kill them
(SIGKILL) at points seen from outside: files appearing in the staging folder or the
artifact store, rows appearing in the MLflow database. After each kill, `latest`, the
champion and the store are the last good ones; the next run succeeds and leaves no
debris. The good runs before and after run in this process (starting a process costs
seconds of imports); each killed one is a process of its own.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from features.atomic import STAGING_PREFIX
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.store import current_version
from models.model_registry import CHAMPION, COMPLETE, MODEL_NAME
from models.scoring.files import latest_run
from models.training.record import NOTE
from pipelines.cli import main

# The command line in a child process, without a developer's configs/local.yaml.
CLI = (
    "import pipelines.config as config; "
    "config.LOCAL_CONFIG = config.PROJECT_ROOT / 'configs' / 'no-local.yaml'; "
    "from pipelines.cli import run; run()"
)
STEP_TIMEOUT_SECONDS = 900  # only against a hang: a step takes seconds to a minute


def _closed_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["promote", "1"], ["score", "--as-of", "2026-10-01"]])
def test_an_unreachable_tracking_server_is_one_line_naming_it(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert f"tracking server at {uri} cannot be reached" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _answering(status: int) -> type[BaseHTTPRequestHandler]:
    """A web server's handler that answers `status` to everything: not an MLflow server."""

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    return Answer


@pytest.mark.parametrize(("status", "said"), [(404, "cannot be used"), (503, "cannot be reached")])
def test_a_server_that_is_not_a_working_mlflow_is_one_line_naming_it(
    status: int,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _answering(status)) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        uri = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        try:
            assert main(["promote", "1"]) == 2
        finally:
            server.shutdown()
    err = capsys.readouterr().err
    assert f"at {uri} {said}" in err and str(status) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "damage",
    [
        lambda db: db.write_bytes(os.urandom(4096)),  # not a database at all
        lambda db: db.mkdir(),  # a folder where the file should be
    ],
    ids=["garbage", "folder"],
)
def test_an_unreadable_sqlite_store_is_one_line_naming_the_file(
    damage: Callable[[Path], Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = tmp_path / "broken.db"
    damage(database)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    assert main(["promote", "1"]) == 2
    err = capsys.readouterr().err
    assert f"The MLflow store {database} cannot be read" in err.replace("\n", "")
    assert "Traceback" not in err and "internal error" not in err


def test_a_damaged_sqlite_store_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "mlflow.db"  # made by the autouse fixture's URI
    assert main(["promote", "1"]) == 2  # creates the store; there is no version 1
    capsys.readouterr()
    content = database.read_bytes()
    database.write_bytes(content[: len(content) // 3])  # e.g. a copy cut short
    assert main(["promote", "1"]) == 2
    err = capsys.readouterr().err
    assert f"The MLflow store {database}" in err.replace("\n", "")
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("ingest", "keep_versions", -1), ("ingest", "keep_versions", 0), ("scoring", "keep_runs", 0)],
)
def test_keeping_fewer_than_one_version_or_run_is_refused(
    section: str, key: str, value: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{section}:\n  {key}: {value}\n")
    assert main(["ingest", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{section}.{key}" in err and "greater than or equal to 1" in err


@dataclass(frozen=True)
class Site:
    """A trained world for the kill tests: its store, MLflow store and configuration."""

    folder: Path
    store: Path
    database: Path
    artifacts: Path
    config: Path

    @property
    def uri(self) -> str:
        """The tracking URI of the site's MLflow store."""
        return f"sqlite:///{self.database}"

    def client(self) -> MlflowClient:
        """A client of the site's MLflow store."""
        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def run(self, *args: str) -> None:
        """Run the command line in this process, on the site's stores."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLFLOW_TRACKING_URI", self.uri)
            patch.delenv("ADVOCACY_CONFIG", raising=False)
            patch.setattr("pipelines.config.LOCAL_CONFIG", self.folder / "no-local.yaml")
            assert main([*args, "--config", str(self.config)]) == 0

    def kill_when(self, seen: Callable[[], bool], *args: str) -> None:
        """Run the command line as a process and kill it (SIGKILL) once `seen()` holds."""
        log = self.folder / "killed.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-c", CLI, *args, "--config", str(self.config)],
                env=self._environment(),
                cwd=self.folder,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + STEP_TIMEOUT_SECONDS
            try:
                while not seen():
                    assert process.poll() is None, f"ended before the point:\n{log.read_text()}"
                    assert time.monotonic() < deadline, "the point never came"
                    time.sleep(0.005)
            finally:
                process.kill()
                process.wait()

    def _environment(self) -> dict[str, str]:
        from prefect.settings import PREFECT_API_URL

        env = {k: v for k, v in os.environ.items() if k != "ADVOCACY_CONFIG"}
        env["MLFLOW_TRACKING_URI"] = self.uri
        if PREFECT_API_URL.value():  # the test session's Prefect API, not one per process
            env["PREFECT_API_URL"] = PREFECT_API_URL.value()
        return env

    def aliases(self) -> dict[str, str]:
        """The registry's aliases and their versions."""
        model = self.client().get_registered_model(MODEL_NAME)
        return {alias: str(version) for alias, version in model.aliases.items()}

    def run_ids(self, status: str | None = None) -> set[str]:
        """The ids of the experiment's runs, of one status if given."""
        experiment = self.client().get_experiment_by_name("advocacy")
        assert experiment is not None
        where = f"attributes.status = '{status}'" if status else ""
        return {r.info.run_id for r in self.client().search_runs([experiment.experiment_id], where)}

    def count(self, query: str) -> int:
        """A count from the MLflow database, read without locking it; -1 while it is busy."""
        try:
            uri = f"file:{self.database}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True, timeout=0.05)) as database:
                return int(database.execute(query).fetchone()[0] or 0)
        except sqlite3.Error:
            return -1


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """3,000 customers, ingested and trained once.

    Seed 8: a world of this size whose model passes the quality gate by a clear margin
    (see test_served.py); the kill points are moments of the run, whatever its size.
    """
    folder = tmp_path_factory.mktemp("site")
    generate_world(GeneratorSettings(customers=3000, seed=8), folder / "world")
    ingest(IngestSettings(source=folder / "world", store=folder / "store", as_of="2026-11-01"))
    config = folder / "config.yaml"
    config.write_text(
        f"ingest: {{store: {folder / 'store'}}}\n"
        f"train: {{out: {folder / 'training'}, reference_num_leaves: null, "
        "booster: {threads: 1}}\n"  # one thread: many times faster on a busy machine
        f"tracking: {{artifacts: {folder / 'artifacts'}}}\n"
        f"scoring: {{out: {folder / 'scores'}, keep_runs: 2}}\n"
    )
    site = Site(folder, folder / "store", folder / "mlflow.db", folder / "artifacts", config)
    site.run("train")
    return site


def _staged(out: Path, pattern: str = "") -> Callable[[], bool]:
    return lambda: any(out.glob(f"{STAGING_PREFIX}*{pattern}"))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_killed_scoring_run_leaves_latest_and_the_next_run_cleans_up(site: Site) -> None:
    out, score = site.folder / "scores", ("score", "--as-of", "2026-10-01")
    site.run(*score)
    good, store, aliases = latest_run(out), current_version(site.store), site.aliases()
    points = {
        "staging folder made": _staged(out),
        "feature table written": _staged(out, "/work/features.parquet"),
        "first partition scored": _staged(out, "/work/scored-0000.parquet"),
        "ranked list written": _staged(out, "/ranked_list.parquet"),
        "manifest written, before the rename": _staged(out, "/manifest.json"),
    }
    for point, seen in points.items():
        site.kill_when(seen, *score)
        assert latest_run(out) == good, point
        visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        assert visible == sorted(["latest", good.name]), point
        assert any(out.glob(f"{STAGING_PREFIX}*")), point  # it was killed before the rename
    assert current_version(site.store) == store and site.aliases() == aliases

    site.run(*score)
    new = latest_run(out)
    assert new != good and (new / "manifest.json").exists() and not (new / "work").exists()
    # No staging folder is left, and keep_runs: 2 pruned nothing yet.
    assert sorted(p.name for p in out.iterdir()) == sorted(["latest", good.name, new.name])
    site.run(*score)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["latest", new.name, latest_run(out).name]
    )


def _grows(count: Callable[[], int]) -> Callable[[], bool]:
    """Holds once `count()` is above what it is now."""
    before = count()
    while before < 0:  # the database was busy
        before = count()
    return lambda: count() > before


def _files(folder: Path, pattern: str) -> Callable[[], int]:
    return lambda: len(list(folder.glob(pattern)))


@pytest.mark.slow
def test_a_killed_training_leaves_the_champion_and_the_next_one_cleans_up(site: Site) -> None:
    aliases, store = site.aliases(), current_version(site.store)
    points: dict[str, Callable[[], Callable[[], bool]]] = {
        "run started": lambda: _grows(lambda: site.count("SELECT count(*) FROM runs")),
        "plots logged": lambda: _grows(
            _files(site.artifacts, "*/artifacts/plots/shap_summary.png")
        ),
        "model files written": lambda: _grows(_files(site.artifacts, "models/*/artifacts/MLmodel")),
        "model registered": lambda: _grows(
            lambda: site.count("SELECT max(version) FROM model_versions")
        ),
        "card logged, before the alias": lambda: _grows(
            lambda: site.count(f"SELECT count(*) FROM model_version_tags WHERE key = '{COMPLETE}'")
        ),
    }
    killed: list[str] = []
    for point, watch in points.items():
        before = site.run_ids()
        site.kill_when(watch(), "train")
        (new_run,) = site.run_ids() - before
        killed.append(new_run)
        assert site.aliases() == aliases, point
        assert site.run_ids("RUNNING") == {new_run}, point  # earlier ones: marked FAILED

    site.run("train")
    client = site.client()
    assert site.run_ids("RUNNING") == set()
    for run_id in killed:
        run = client.get_run(run_id)
        assert run.info.status == "FAILED" and "ended before" in run.data.tags[NOTE]
    assert site.aliases()[CHAMPION] == aliases[CHAMPION]  # the same data: no better model
    aliased = set(site.aliases().values())
    for version in client.search_model_versions(f"name = '{MODEL_NAME}'"):
        assert str(version.version) in aliased or COMPLETE in version.tags, version.version
        cards = [artifact.path for artifact in client.list_artifacts(version.run_id)]
        assert "model_card.md" in cards, version.version
    assert current_version(site.store) == store
