"""The steps of a scoring run, each a plain function that a Prefect task calls.

`prepare_scoring` checks the request and writes the feature table into the run folder,
`score_slice` scores one partition of it into a file, and `finish_scoring` ranks the
partitions and writes the list, the per-segment files, the manifest and the report.
Every input of the run (the store version, the as-of moment, the model) is resolved
once, in `prepare_scoring`, and travels in the `ScoringPlan`: an ingest that publishes
during the run cannot mix versions. Steps exchange paths and the plan, never data
frames, so partitions can run in other processes or on other machines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.build import FeatureSettings, build_features
from features.definitions import current_definitions
from features.errors import UserError
from features.schemas import feature_table_schema, validate_table
from features.store import read_table
from features.views import open_version
from models.bundle import AdvocacyModel
from models.explain import explained_sample
from models.model_registry import MODEL_NAME, load_model
from models.scoring.files import slug, write_csv, write_manifest, write_xlsx
from models.scoring.ranked_list import (
    ScoringSettings,
    check_as_of,
    partition_bounds,
    rank_customers,
    score_partition,
)
from models.scoring.report import report_html
from models.scoring.schemas import ranked_list_schema, scored_partition_schema

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


def check_request(
    store_version: Path, as_of: pd.Timestamp, model: str, settings: ScoringSettings
) -> tuple[AdvocacyModel, str]:
    """The model to score with and its version, after refusing requests that cannot work.

    Refused with a message a person can act on: no such model (or no champion yet), an
    as-of date after the data, a store without the features the model needs.
    """
    loaded, version = load_model(model)
    changed = loaded.changed_features(current_definitions())
    if changed:
        raise UserError(
            f"Model version {version} uses {len(changed)} feature(s) that are computed "
            f"differently now or no longer exist: {', '.join(changed[:5])}"
            f"{' ...' if len(changed) > 5 else ''}. Train a new model with `advocacy train`, "
            "or score with a model trained on today's features (--model-version)."
        )
    check_as_of(open_version(store_version), as_of, settings.max_data_age_days)
    return loaded, version


def prepare_scoring(
    store_version: Path,
    as_of: pd.Timestamp,
    model: str,
    settings: ScoringSettings,
    features: FeatureSettings,
    folder: Path,
) -> ScoringPlan:
    """Resolve the model, check the as-of date, and write the feature table to `folder`."""
    started = time.perf_counter()
    loaded, version = check_request(store_version, as_of, model, settings)
    table = build_features(open_version(store_version), [as_of], features)
    if table.empty:
        raise UserError(
            f"No customer is eligible as of {as_of:%Y-%m-%d}: none signed up before it with "
            f"an order in the {features.activity_days} days before it."
        )
    validate_table(table, feature_table_schema())
    work = folder / "work"
    work.mkdir()
    table.to_parquet(work / FEATURES_FILE, index=False)
    return ScoringPlan(
        store_version=store_version,
        as_of=as_of,
        model=loaded,
        model_version=version,
        features=work / FEATURES_FILE,
        partitions=partition_bounds(len(table), settings.partitions),
        currency=settings.currency,
        seconds=time.perf_counter() - started,
    )


def score_slice(plan: ScoringPlan, index: int) -> Path:
    """Score partition `index` of the plan into its own Parquet file; returns its path."""
    start, stop = plan.partitions[index]
    scored = score_partition(plan.features, start, stop, plan.model, plan.currency)
    path = plan.features.with_name(f"scored-{index:04d}.parquet")
    validate_table(scored, scored_partition_schema())
    scored.to_parquet(path, index=False)
    return path


def finish_scoring(
    plan: ScoringPlan,
    parts: list[Path],
    settings: ScoringSettings,
    folder: Path,
    scoring_seconds: float,
) -> dict[str, Any]:
    """Rank, segment and write every output file of the run into `folder`; returns the manifest."""
    started = time.perf_counter()
    scored = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    features = pd.read_parquet(plan.features)
    customers = read_table(plan.store_version, "customers", ["customer_id", "marketing_opt_in"])
    contactable = customers.set_index("customer_id")["marketing_opt_in"]
    ranked = rank_customers(
        scored,
        features,
        contactable,
        settings.segments,
        plan.model_version,
        plan.as_of,
        settings.currency,
    )
    validate_table(ranked, ranked_list_schema(settings.segments))
    ranked.to_parquet(folder / "ranked_list.parquet", index=False)
    write_csv(ranked, folder / "ranked_list.csv")
    write_xlsx(ranked, folder / "ranked_list.xlsx", settings.segments)
    (folder / "segments").mkdir()
    segments: dict[str, dict[str, int]] = {}
    for rule in settings.segments.rules:
        members = ranked[ranked["segment"] == rule.name]
        outreach = (
            members[members["contactable"]] if settings.outreach_contactable_only else members
        )
        write_csv(outreach, folder / "segments" / f"{slug(rule.name)}.csv")
        segments[rule.name] = {
            "customers": len(members),
            "contactable": int(members["contactable"].sum()),
        }
    manifest = {
        "model_name": MODEL_NAME,
        "model_version": plan.model_version,
        "as_of": plan.as_of.isoformat(),
        "customers": len(ranked),
        "segments": segments,
        "input_store": str(plan.store_version.parent.parent),
        "input_fingerprint": plan.store_version.name,
        "partitions": len(plan.partitions),
        "outreach_contactable_only": settings.outreach_contactable_only,
        "seconds": {
            "features": round(plan.seconds, 2),
            "scoring_and_reasons": round(scoring_seconds, 2),
            "ranking_and_files": round(time.perf_counter() - started, 2),
        },
    }
    explanation = explained_sample(plan.model, features)
    (folder / "report.html").write_text(
        report_html(ranked, manifest, explanation), encoding="utf-8"
    )
    write_manifest(folder, manifest)
    for path in (*parts, plan.features):
        path.unlink()
    plan.features.parent.rmdir()
    return manifest
