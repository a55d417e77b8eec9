"""The steps of a scoring run, each a plain function that a Prefect task calls.

`check_request` resolves the model, the feature table is written into the run folder
(`FEATURES_FILE`, by `features.build` or per customer partition by `features.partitions`),
`plan_scoring` settles the run's partitions, `score_slice` scores one partition of the
table into a file, and `finish_scoring` ranks the partitions and writes the list, the
per-segment files, the manifest and the report. Every input of the run (the store
version, the as-of moment, the model) is resolved once, at its start, and travels in
the `ScoringPlan`: an ingest that publishes during the run cannot mix versions. Steps
exchange paths and the plan, never data frames, so partitions can run in other
processes or on other machines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.availability import left_out, tables_read
from features.build import store_features
from features.definitions import current_definitions
from features.errors import UserError
from features.schemas import validate_table
from features.store import present_sources, read_table
from features.views import open_version
from models.bundle import AdvocacyModel
from models.explain import SUMMARY_ROWS, explained_sample, probability_impact
from models.model_registry import MODEL_NAME, load_model
from models.scoring.control import ControlSettings, control_split, hold_out_controls
from models.scoring.feature_file import FeatureColumns, read_columns, row_count, sample_rows
from models.scoring.files import slug, write_csv, write_manifest, write_xlsx
from models.scoring.monitoring import (
    CHANGES,
    compare_runs,
    feature_profiles,
    previous_run,
    write_profiles,
)
from models.scoring.ranked_list import (
    OrderBy,
    ScoringSettings,
    check_as_of,
    partition_bounds,
    rank_customers,
    score_partition,
)
from models.scoring.report import report_html
from models.scoring.schemas import ranked_list_schema, scored_partition_schema
from models.scoring.segments import unapplied_groups
from models.uplift import UpliftModel, load_uplift

WORK = "work"
FEATURES_FILE = "features.parquet"


@dataclass(frozen=True)
class ScoringPlan:
    """Everything a run settled once at its start, for every later step to share."""

    store_version: Path
    as_of: pd.Timestamp
    model: AdvocacyModel
    model_version: str
    features: Path
    partitions: list[tuple[int, int]]
    currency: str | None
    seconds: float
    uplift: UpliftModel | None = None
    uplift_version: str | None = None
    order_by: OrderBy = "propensity"
    """The order used: `scoring.order_by`, or propensity when it needs a missing uplift model."""
    order_note: str | None = None
    """Why the order used is not the one asked for, or why there are no uplift columns."""


def check_request(
    store_version: Path, as_of: pd.Timestamp, model: str, settings: ScoringSettings
) -> tuple[AdvocacyModel, str]:
    """The model to score with and its version, after refusing requests that cannot work.

    Refused with a message a person can act on: no such model (or no champion yet), an
    as-of date after the data, a store without the features the model needs (computed
    as the model learned them, from sources the store has).
    """
    loaded, version = load_model(model)
    changed = loaded.changed_features(current_definitions())
    if changed:
        raise UserError(
            f"Model version {version} uses {len(changed)} feature(s) that are computed "
            f"differently now or no longer exist: {_some(changed)}. Train a new model with "
            "`advocacy train`, or score with a model trained on today's features "
            "(--model-version)."
        )
    lacking = left_out(present_sources(store_version), loaded.features)
    if lacking:
        needed = "; ".join(f"{what} for {_some(names)}" for what, names in lacking.items())
        raise UserError(
            f"Model version {version} needs data this store's source does not have: {needed}. "
            "Ingest a source that has it, or train a model on this one with `advocacy train`."
        )
    check_as_of(open_version(store_version), as_of, settings.max_data_age_days)
    return loaded, version


def _some(names: list[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def choose_uplift(
    order_by: OrderBy, names: tuple[str, ...]
) -> tuple[UpliftModel | None, str | None, OrderBy, str | None]:
    """The uplift champion and its version if usable, the order to use, and a note on why not.

    Without a usable uplift model the list has no uplift columns and an order that needs
    them falls back to propensity, in one line: a weekly scoring run should not fail for
    it. Ordered by propensity without any uplift model, there is nothing to say.
    """
    found = load_uplift()
    if found is None and order_by == "propensity":
        return None, None, order_by, None
    if found is None:
        why = "there is no uplift model (train one with `advocacy train-uplift`)"
    else:
        model, version = found
        changed = model.changed_features(current_definitions())
        lacking = [name for name in model.features if name not in names]
        if changed or lacking:
            why = (
                f"uplift model version {version} needs features this store or today's "
                f"definitions do not give ({_some(changed + lacking)}): retrain it with "
                "`advocacy train-uplift`"
            )
        else:
            return model, version, order_by, None
    if order_by == "propensity":
        return None, None, order_by, f"No uplift columns: {why}."
    return (
        None,
        None,
        "propensity",
        f"scoring.order_by is {order_by}, but {why}: the list is ordered by propensity.",
    )


def plan_scoring(
    store_version: Path,
    as_of: pd.Timestamp,
    model: tuple[AdvocacyModel, str],
    features: Path,
    settings: ScoringSettings,
    seconds: float,
) -> ScoringPlan:
    """The run's plan, once `check_request` resolved the model and the features are written."""
    rows = row_count(features)
    loaded, version = model
    uplift, uplift_version, order_by, order_note = choose_uplift(
        settings.order_by, store_features(store_version)
    )
    return ScoringPlan(
        store_version=store_version,
        as_of=as_of,
        model=loaded,
        model_version=version,
        features=features,
        partitions=partition_bounds(rows, settings.partitions),
        currency=settings.currency,
        seconds=seconds,
        uplift=uplift,
        uplift_version=uplift_version,
        order_by=order_by,
        order_note=order_note,
    )


def score_slice(plan: ScoringPlan, index: int) -> Path:
    """Score partition `index` of the plan into its own Parquet file; returns its path."""
    start, stop = plan.partitions[index]
    scored = score_partition(plan.features, start, stop, plan.model, plan.currency, plan.uplift)
    path = plan.features.with_name(f"scored-{index:04d}.parquet")
    validate_table(scored, scored_partition_schema(with_uplift=plan.uplift is not None))
    scored.to_parquet(path, index=False)
    return path


def write_outreach(
    rows: pd.DataFrame, path: Path, contactable_only: bool, among: pd.Series | None = None
) -> None:
    """An outreach file: never the control group; only those who may be contacted, if so set.

    `among` (aligned with `rows`) selects the rows the file is about, e.g. a segment.
    """
    path.parent.mkdir(exist_ok=True)
    keep = ~rows["control"]
    if among is not None:
        keep &= among
    if contactable_only:
        keep &= rows["contactable"]
    write_csv(rows, path, keep)


def head_count(rows: pd.DataFrame) -> dict[str, int]:
    """How many customers, how many may be contacted and how many are held out, for the manifest."""
    return {
        "customers": len(rows),
        "contactable": int(rows["contactable"].sum()),
        "control": int(rows["control"].sum()),
    }


def segment_counts(ranked: pd.DataFrame, settings: ScoringSettings) -> dict[str, dict[str, int]]:
    """The head count of each segment."""
    counted = ranked[["segment", "contactable", "control"]]
    return {
        rule.name: head_count(counted[counted["segment"] == rule.name])
        for rule in settings.segments.rules
    }


def write_segment_files(
    ranked: pd.DataFrame, settings: ScoringSettings, folder: Path
) -> dict[str, str]:
    """One outreach file per segment; returns each segment's file, relative to `folder`."""
    files = {}
    for rule in settings.segments.rules:
        files[rule.name] = f"segments/{slug(rule.name)}.csv"
        members = ranked["segment"] == rule.name
        write_outreach(
            ranked, folder / files[rule.name], settings.outreach_contactable_only, members
        )
    return files


def write_newcomer_files(
    newcomers: dict[str, pd.DataFrame], settings: ScoringSettings, folder: Path
) -> dict[str, dict[str, Any]]:
    """One file per watched segment of who entered it since the previous run."""
    written: dict[str, dict[str, Any]] = {}
    for segment, rows in newcomers.items():
        file = f"{CHANGES}/new-{slug(segment)}.csv"
        write_outreach(rows, folder / file, settings.outreach_contactable_only)
        written[segment] = {**head_count(rows), "file": file}
    return written


def ranked_list(plan: ScoringPlan, parts: list[Path], settings: ScoringSettings) -> pd.DataFrame:
    """The run's ranked list from its scored partitions.

    The scored rows, the features segments read and the customers' consent are held
    only while ranking: the files are written from the list alone.
    """
    customers = read_table(plan.store_version, "customers", ["customer_id", "marketing_opt_in"])
    return rank_customers(
        pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True),
        read_columns(plan.features, ["customer_id", *settings.segments.features_read()]),
        customers.set_index("customer_id")["marketing_opt_in"],
        settings.segments,
        plan.model_version,
        plan.as_of,
        settings.currency,
        plan.order_by,
    )


def finish_scoring(
    plan: ScoringPlan,
    parts: list[Path],
    settings: ScoringSettings,
    folder: Path,
    scoring_seconds: float,
    control: ControlSettings,
) -> dict[str, Any]:
    """Rank, segment and write every output file of the run into `folder`; returns the manifest.

    The run is compared with the previous run of the same model version in the same
    parent folder (`models.scoring.monitoring`); the feature profiles the next run needs
    are kept before the feature table is deleted. `control` holds out the control group.
    Of the feature table, only the columns segments need are held in memory; the
    monitoring reads one column at a time.
    """
    started = time.perf_counter()
    ranked = ranked_list(plan, parts, settings)
    ranked["control"] = hold_out_controls(ranked, control)
    validate_table(
        ranked, ranked_list_schema(settings.segments, plan.order_by, plan.uplift is not None)
    )
    ranked.to_parquet(folder / "ranked_list.parquet", index=False)
    write_csv(ranked, folder / "ranked_list.csv")
    write_xlsx(ranked, folder / "ranked_list.xlsx", settings.segments, order_by=plan.order_by)
    segment_files = write_segment_files(ranked, settings, folder)
    previous = previous_run(folder.parent, plan.model_version, plan.as_of)
    columns = FeatureColumns(plan.features)
    monitoring = compare_runs(ranked, columns, plan.model.features, previous, settings.monitoring)
    newcomers = write_newcomer_files(monitoring.newcomers, settings, folder)
    present = present_sources(plan.store_version)
    write_profiles(
        folder,
        plan.model_version,
        feature_profiles(columns, plan.model.features, settings.monitoring.bins),
    )
    manifest = {
        "model_name": MODEL_NAME,
        "model_version": plan.model_version,
        "as_of": plan.as_of.isoformat(),
        "order": {
            "asked": settings.order_by,
            "used": plan.order_by,
            "uplift_model_version": plan.uplift_version,
            "note": plan.order_note,
        },
        "customers": len(ranked),
        "segments": segment_counts(ranked, settings),
        "segment_files": segment_files,
        "model_sources": tables_read(plan.model.features, present),
        "segment_conditions_not_applied": unapplied_groups(settings.segments, present),
        "monitoring": monitoring.summary | ({"newcomers": newcomers} if previous else {}),
        "flags": monitoring.flags,
        "input_store": str(plan.store_version.parent.parent),
        "input_fingerprint": plan.store_version.name,
        "partitions": len(plan.partitions),
        "outreach_contactable_only": settings.outreach_contactable_only,
        "control": control_split(ranked, control),
        "seconds": {
            "features": round(plan.seconds, 2),
            "scoring_and_reasons": round(scoring_seconds, 2),
            "ranking_and_files": round(time.perf_counter() - started, 2),
        },
    }
    drivers = probability_impact(
        plan.model, explained_sample(plan.model, sample_rows(plan.features, SUMMARY_ROWS))
    )
    (folder / "report.html").write_text(
        report_html(ranked, manifest, drivers, settings.segments, monitoring.newcomers),
        encoding="utf-8",
    )
    write_manifest(folder, manifest)
    for path in (*parts, plan.features):
        path.unlink()
    plan.features.parent.rmdir()
    return manifest
