"""Prefect flows: thin orchestration over the plain functions in `features` and `models`.

Run them by hand (`advocacy demo`, or call a flow from Python) or on a schedule
(`pipelines.deploy`). Without a Prefect server configured, Prefect starts a temporary
local one; set PREFECT_API_URL to use a real server.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from features.build import FeatureSettings, write_features
from features.clock import as_utc
from features.generator import WorldSummary, generate_world
from features.ingest import IngestReport, IngestSettings, ingest
from pipelines.config import AppConfig, GenerateSection, with_overrides


@task(name="generate world", cache_policy=NO_CACHE)
def generate_task(settings: GenerateSection) -> WorldSummary:
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
def features_task(store: Path, as_of: datetime, out: Path, settings: FeatureSettings) -> int:
    """Write the feature table for one cutoff; returns its number of rows."""
    return len(write_features(store, as_utc(as_of), out, settings))


@flow(name="features")
def features_flow(store: Path, as_of: datetime, out: Path, settings: FeatureSettings) -> Path:
    """Write the point-in-time feature table of the eligible customers for one cutoff."""
    rows = features_task(store, as_of, out, settings)
    get_run_logger().info("%d customers as of %s -> %s", rows, as_of, out)
    return out


@flow(name="pipeline")
def pipeline_flow(config: AppConfig) -> IngestReport:
    """Run the pipeline's stages in order on the configured sources."""
    return ingest_flow(config.ingest)


@flow(name="demo")
def demo_flow(config: AppConfig) -> IngestReport:
    """Generate the sample world, then run the pipeline on it."""
    world = generate_task(config.generate)
    ingest_settings = with_overrides(config.ingest, source=world.out)
    return pipeline_flow(config.model_copy(update={"ingest": ingest_settings}))
