"""Prefect flows: thin orchestration over the plain functions in `features` and `models`.

Run them by hand (`advocacy demo`, or call a flow from Python) or on a schedule
(`serve_deployments`, behind `advocacy schedule`). Without a Prefect server configured,
Prefect starts a temporary local one (see `prefect_api`); set PREFECT_API_URL to use a
real server.

No `from __future__ import annotations` here: a served flow runs in a fresh process from
a pickled function, where Prefect validates its parameters against the annotations, and
string annotations cannot be resolved there.
"""

import atexit
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, serve, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Schedule
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    PREFECT_SERVER_EPHEMERAL_ENABLED,
    temporary_settings,
)
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from features.atomic import discard_folder, prune_folders, publish_folder, stage_folder
from features.build import FeatureSettings, write_features
from features.clock import as_utc
from features.errors import UserError
from features.generator import GeneratorSettings, WorldSummary, generate_world
from features.ingest import IngestReport, IngestSettings, ingest
from features.partitions import combine_partition_features, write_partition_features
from features.store import PART, current_version, partition_count
from models.bundle import AdvocacyModel
from models.cluster import connect
from models.scoring.control import ControlSettings
from models.scoring.files import LATEST, run_name
from models.scoring.monitoring import flags_markdown
from models.scoring.ranked_list import ScoringSettings
from models.scoring.run import (
    FEATURES_FILE,
    WORK,
    ScoringPlan,
    check_request,
    finish_scoring,
    plan_scoring,
    score_slice,
)
from models.tracking import configure_tracking
from models.training.record import TrainingRun
from pipelines.config import (
    AppConfig,
    PrefectSettings,
    ScheduleSettings,
    config_under,
    train_with_config,
    with_overrides,
)

SCORING_DEPLOYMENT = "advocacy-scoring"
TRAINING_DEPLOYMENT = "advocacy-training"
# Run by a watchdog process: stops the temporary API (pid in argv) unless told "done" first,
# so a command that is killed, even with SIGKILL, leaves no server behind.
STOP_SERVER_UNLESS_DONE = """# watchdog of the temporary Prefect API
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the command stops the server itself
if not sys.stdin.read():
    try:
        os.kill(int(sys.argv[1]), signal.SIGTERM)
    except ProcessLookupError:
        pass
"""


@task(name="generate world", cache_policy=NO_CACHE)
def generate_task(settings: GeneratorSettings) -> WorldSummary:
    """Write a generated world into `settings.out`."""
    return generate_world(settings, settings.out)


@task(name="validate and publish tables", cache_policy=NO_CACHE)
def ingest_task(settings: IngestSettings) -> IngestReport:
    """Validate the source tables and publish a curated store version."""
    return ingest(settings)


@flow(name="ingest")
def ingest_flow(settings: IngestSettings) -> IngestReport:
    """Validate the five input tables and publish the curated store."""
    report = ingest_task(settings)
    logger = get_run_logger()
    for table in report.tables:
        logger.info(
            "%s: %d read, %d kept, %d quarantined %s",
            table.table,
            table.rows_read,
            table.rows_kept,
            table.rows_quarantined,
            table.quarantined_by_rule or "",
        )
    logger.info("curated store version %s", report.store_version)
    return report


@task(name="build feature table", cache_policy=NO_CACHE)
def features_task(
    store_version: Path, as_of: pd.Timestamp, out: Path, settings: FeatureSettings
) -> int:
    """Write the feature table for one cutoff; returns its number of rows."""
    return len(write_features(store_version, as_of, out, settings))


@task(name="build features of a customer partition", cache_policy=NO_CACHE)
def partition_features_task(
    store_version: Path, index: int, as_of: pd.Timestamp, out: Path, settings: FeatureSettings
) -> Path:
    """Write the feature table of one customer partition of the store."""
    return write_partition_features(store_version, index, as_of, out, settings)


@task(name="combine partitions' features", cache_policy=NO_CACHE)
def combine_features_task(
    parts: list[Path],
    as_of: pd.Timestamp,
    out: Path,
    settings: FeatureSettings,
) -> int:
    """Write the partitions' feature tables as one; returns its number of rows."""
    return combine_partition_features(parts, as_of, out, settings)


def feature_table(
    store_version: Path, as_of: pd.Timestamp, out: Path, settings: FeatureSettings
) -> int:
    """Write the feature table to `out` in the running flow; returns its number of rows.

    One task over the whole store, or, for a store written in customer partitions, one
    task per partition on the flow's task runner (side by side on Dask), then combined.
    """
    partitions = partition_count(store_version)
    if partitions == 1:
        return features_task(store_version, as_of, out, settings)
    futures = [
        partition_features_task.submit(
            store_version, index, as_of, out.with_name(f"{out.stem}-{PART.format(index)}"), settings
        )
        for index in range(partitions)
    ]
    parts = [future.result() for future in futures]
    return combine_features_task(parts, as_of, out, settings)


@flow(name="features")
def features_flow(store: Path, as_of: datetime, out: Path, settings: FeatureSettings) -> Path:
    """Write the point-in-time feature table of the eligible customers for one cutoff."""
    rows = feature_table(current_version(store), as_utc(as_of), out, settings)
    get_run_logger().info("%d customers as of %s -> %s", rows, as_of, out)
    return out


def run_features_flow(config: AppConfig, as_of: datetime, out: Path) -> Path:
    """Run the features flow on the configured task runner (`scoring.task_runner`)."""
    runner = task_runner(config.scoring)
    return features_flow.with_options(task_runner=runner)(
        config.ingest.store, as_of, out, config.features
    )


@task(name="train, evaluate and register", cache_policy=NO_CACHE)
def train_task(config: AppConfig) -> TrainingRun:
    """Train on the curated store, log the run to MLflow and register the model."""
    return train_with_config(config)


@flow(name="train")
def train_flow(config: AppConfig) -> TrainingRun:
    """Train the advocacy-propensity model, compare it with the baselines, register it."""
    run = train_task(config)
    get_run_logger().info(
        "MLflow run %s: version %s -> %s (%s); sources: %s",
        run.run_id,
        run.version,
        run.decision.alias,
        run.decision.reason,
        run.sources,
    )
    return run


@task(name="check request", cache_policy=NO_CACHE)
def check_request_task(
    store_version: Path, as_of: pd.Timestamp, model: str, settings: ScoringSettings
) -> tuple[AdvocacyModel, str]:
    """Resolve the model to score with, or refuse a request that cannot work."""
    return check_request(store_version, as_of, model, settings)


@task(name="score partition", cache_policy=NO_CACHE)
def score_partition_task(plan: ScoringPlan, index: int) -> Path:
    """Probabilities and SHAP reasons for one partition of customers."""
    return score_slice(plan, index)


@task(name="rank and write outputs", cache_policy=NO_CACHE)
def finish_scoring_task(
    plan: ScoringPlan,
    parts: list[Path],
    settings: ScoringSettings,
    folder: Path,
    seconds: float,
    control: ControlSettings,
) -> dict[str, Any]:
    """Rank, segment, hold out control groups, and write the list, files, manifest, report."""
    return finish_scoring(plan, parts, settings, folder, seconds, control)


@flow(name="score")
def score_flow(config: AppConfig, as_of: datetime | None = None, model: str | None = None) -> Path:
    """Score every eligible customer into a new run folder; `latest` moves when it is done.

    `as_of` defaults to the moment the run starts (scheduled runs). The store version,
    the as-of moment and the model are resolved once here, for every step of the run.
    The feature build of a partitioned store and the scoring partitions run as tasks on
    the flow's task runner (see `run_score_flow`): one after another locally, side by
    side on a Dask cluster. Only they leave this process; they get absolute paths (and
    the loaded model, in the plan), so workers need no MLflow.
    """
    cutoff = as_utc(as_of)
    store_version = current_version(config.ingest.store)
    configure_tracking(config.tracking)
    folder = stage_folder(config.scoring.out)
    try:
        started = time.perf_counter()
        resolved = check_request_task(
            store_version, cutoff, model or config.scoring.model, config.scoring
        )
        features = folder / WORK / FEATURES_FILE
        features.parent.mkdir()
        feature_table(store_version, cutoff, features, config.features)
        plan = plan_scoring(
            store_version,
            cutoff,
            resolved,
            features,
            config.scoring,
            time.perf_counter() - started,
        )
        started = time.perf_counter()
        futures = [score_partition_task.submit(plan, i) for i in range(len(plan.partitions))]
        parts = [future.result() for future in futures]
        seconds = time.perf_counter() - started
        manifest = finish_scoring_task(
            plan, parts, config.scoring, folder, seconds, config.outreach
        )
        name = run_name(cutoff, plan.model_version)
        final = publish_folder(folder, name, folder.parent / LATEST)
    except BaseException:
        discard_folder(folder)
        raise
    prune_folders(final, final.parent / LATEST, config.scoring.keep_runs)
    get_run_logger().info(
        "%d customers scored with version %s -> %s; segments %s",
        manifest["customers"],
        plan.model_version,
        final,
        {name: counts["customers"] for name, counts in manifest["segments"].items()},
    )
    if manifest["segment_conditions_not_applied"]:
        get_run_logger().warning(
            "Segment conditions not applied, for lack of data: %s",
            "; ".join(manifest["segment_conditions_not_applied"]),
        )
    if manifest["flags"]:
        get_run_logger().warning(
            "Flagged against the previous run: %s", "; ".join(manifest["flags"])
        )
        create_markdown_artifact(
            flags_markdown(manifest), key="scoring-flags", description="Scoring run flagged"
        )
    return final


def task_runner(settings: ScoringSettings) -> TaskRunner[Any]:
    """Threads on this machine by default; a Dask cluster when configured."""
    if settings.task_runner == "dask":
        if settings.dask_address:
            with connect(settings.dask_address, "scoring.dask_address"):
                return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1})
    return ThreadPoolTaskRunner(max_workers=1)


def run_score_flow(config: AppConfig, as_of: datetime, model: str | None = None) -> Path:
    """Run the score flow on the configured task runner."""
    return score_flow.with_options(task_runner=task_runner(config.scoring))(config, as_of, model)


@flow(name="score")
def scheduled_score_flow(
    as_of: datetime | None = None,
    model: str | None = None,
    config_file: str | None = None,
    workdir: str = ".",
) -> Path:
    """Read the configuration now, then score: the flow of the `advocacy-scoring` deployment.

    `as_of` defaults to the moment the run starts; `model` to `scoring.model`. Relative
    paths in the configuration are taken from `workdir`.
    """
    config = config_under(Path(workdir), Path(config_file) if config_file else None)
    return run_score_flow(config, as_utc(as_of), model)


@flow(name="train")
def scheduled_train_flow(config_file: str | None = None, workdir: str = ".") -> str:
    """Read the configuration now, then train, gate and alias a new version; returns it."""
    config = config_under(Path(workdir), Path(config_file) if config_file else None)
    return train_flow(config).version


def serve_deployments(times: ScheduleSettings, config_file: Path | None, workdir: Path) -> None:
    """Serve scheduled scoring and retraining to the Prefect server until stopped.

    The deployments record only where the configuration is (`config_file`, `workdir`):
    each run reads it when it starts, so edits take effect without a restart.
    """
    schedules = {
        key: _cron(getattr(times, key), times.timezone, key) for key in ("score_cron", "train_cron")
    }
    if not PREFECT_API_URL.value():
        raise UserError(
            "Schedules need a Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)."
        )
    where = {"config_file": str(config_file) if config_file else None, "workdir": str(workdir)}
    serve(
        RunnerDeployment.from_flow(
            scheduled_score_flow,
            SCORING_DEPLOYMENT,
            schedule=schedules["score_cron"],
            parameters=where,
        ),
        RunnerDeployment.from_flow(
            scheduled_train_flow,
            TRAINING_DEPLOYMENT,
            schedule=schedules["train_cron"],
            parameters=where,
        ),
    )


def _cron(expression: str, timezone: str, key: str) -> Schedule:
    try:
        return Cron(expression, timezone=timezone)
    except ValueError as error:
        raise UserError(
            f"schedule.{key} (--{key.replace('_', '-')}): {expression!r} is not a cron "
            'schedule of five fields, e.g. "0 6 * * 1" (Mondays at 06:00).'
        ) from error


@contextmanager
def prefect_api(settings: PrefectSettings) -> Iterator[None]:
    """Flows inside run on the configured Prefect server, or on a temporary local API.

    Prefect would start the temporary API on first use with a 20 s limit, too short on a
    busy machine; it is started here with `settings.startup_timeout_seconds`. SIGTERM
    becomes SystemExit meanwhile, so the process ends through Prefect's exit hook, which
    stops the API after sending the last logs.
    """
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        url = _start_temporary_api(settings.startup_timeout_seconds)
        # Tasks on Dask workers learn the API from the settings sent with each task; without
        # its address there, every worker would start a temporary API of its own.
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start_temporary_api(timeout: int) -> str:
    """Start Prefect's temporary API, with a watchdog that stops it if this process is killed.

    Returns the API's URL.
    """
    server = SubprocessASGIServer()
    try:
        # Without telemetry: it needs the internet, and its writes under load made the
        # temporary API log "database is locked" tracebacks.
        with temporary_settings(updates={PREFECT_SERVER_ANALYTICS_ENABLED: False}):
            server.start(timeout=timeout)  # also registers its stop at exit
    except RuntimeError as error:
        raise UserError(
            f"Prefect's temporary local API did not start in {timeout} s: raise "
            "prefect.startup_timeout_seconds in the config, or run `prefect server start` "
            "and set PREFECT_API_URL."
        ) from error
    assert server.server_process is not None  # start() returned: the server answers
    watchdog = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", STOP_SERVER_UNLESS_DONE, str(server.server_process.pid)],
        stdin=subprocess.PIPE,
    )
    atexit.register(watchdog.communicate, b"done")  # runs just before the server's stop
    return str(server.api_url)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@flow(name="pipeline")
def pipeline_flow(config: AppConfig, as_of: datetime | None = None) -> Path:
    """Ingest, train and score in order; returns the scoring run's folder."""
    ingest_flow(config.ingest)
    train_flow(config)
    return run_score_flow(config, as_utc(as_of))


@flow(name="demo")
def demo_flow(config: AppConfig) -> Path:
    """Generate the sample world and run the whole pipeline on it, with oracle metrics.

    Scores as of the end of the generated history (the sample world does not reach today).
    """
    world = generate_task(config.generate)
    demo_config = config.model_copy(
        update={
            "ingest": with_overrides(config.ingest, source=world.out),
            "train": with_overrides(config.train, truth=world.out / "truth" / "propensity.parquet"),
        }
    )
    return pipeline_flow(demo_config, as_utc(config.generate.end))
