"""Monitoring between scoring runs: whether the customers, the scores or the segments moved.

A run compares itself with the previous complete run of the same model version (the one
with the latest as-of date not after its own, the newest of those): how far each of the
model's features drifted and how far the probabilities shifted, both as a population
stability index (PSI), and who entered the watched segments since (new Champions, new
"Recover first": the lists marketing and customer success act on first).

The feature table of a run is deleted when the run ends, so each run keeps only what the
next run needs: per-feature bin edges (quantiles) and the share of customers in each bin,
in `monitoring.json`. No customer's own values are kept there.

PSI = sum over bins of (now - before) x ln(now / before), with the bins of the earlier
run and missing values as a bin of their own. Under 0.1 is usually read as stable,
above 0.2 as a shift worth a look.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from models.explain import feature_words
from models.scoring.files import MANIFEST
from models.scoring.lookup import value_by_id

MONITORING = "monitoring.json"
RANKED_LIST = "ranked_list.parquet"
CHANGES = "changes"
NOT_SCORED = "not scored"
"""Previous segment of a customer the previous run did not score (new or newly active)."""
SMALLEST_SHARE = 1e-4
"""Floor of a bin's share, so an empty bin gives a large but finite PSI."""


class MonitoringSettings(BaseModel):
    """When a run is flagged, and whose newcomers are listed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature_psi: float = Field(0.2, gt=0)
    """Flag a feature whose PSI against the previous run is above this."""
    score_psi: float = Field(0.1, gt=0)
    """Flag a run whose probabilities' PSI against the previous run is above this."""
    bins: int = Field(10, ge=2)
    """Quantile bins per feature and for the probabilities."""
    newcomers_in: list[str] = []
    """Segments whose newcomers since the previous run get a file in changes/."""


@dataclass(frozen=True)
class Profile:
    """The distribution of one column: inner bin edges and the share of rows per bin.

    Bins are (-inf, e0], (e0, e1], ..., (ek, inf), then missing values: one more share
    than edges, plus one.
    """

    edges: list[float]
    shares: list[float]

    def to_json(self) -> dict[str, list[float]]:
        """The profile as JSON-ready lists."""
        return {"edges": self.edges, "shares": self.shares}


@dataclass(frozen=True)
class Monitoring:
    """What a run found against the previous one, for the manifest, the report and files."""

    summary: dict[str, Any]
    """The manifest's `monitoring` section."""
    flags: list[str]
    """One line per threshold crossed."""
    newcomers: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Per watched segment: its customers who were not in it in the previous run."""


def bin_edges(values: pd.Series, bins: int) -> list[float]:
    """Distinct inner quantile edges of the non-missing values (few for discrete columns)."""
    present = values.dropna().to_numpy("float64")
    if len(present) == 0:
        return []
    quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(edge) for edge in np.unique(quantiles)]


def bin_shares(values: pd.Series, edges: list[float]) -> npt.NDArray[np.float64]:
    """Share of `values` in each bin of `edges`, missing values last (see `Profile`)."""
    numbers = values.to_numpy("float64", na_value=np.nan)
    missing = np.isnan(numbers)
    index = np.searchsorted(np.asarray(edges, dtype="float64"), numbers[~missing], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1).astype("float64")
    counts = np.append(counts, missing.sum())
    return counts / max(len(numbers), 1)


def profile(values: pd.Series, bins: int) -> Profile:
    """The profile of a column on its own quantile bins."""
    edges = bin_edges(values, bins)
    return Profile(edges, [float(share) for share in bin_shares(values, edges)])


def psi(before: npt.ArrayLike, now: npt.ArrayLike) -> float:
    """Population stability index of two share vectors over the same bins."""
    expected = np.maximum(np.asarray(before, dtype="float64"), SMALLEST_SHARE)
    actual = np.maximum(np.asarray(now, dtype="float64"), SMALLEST_SHARE)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def drift(before: Profile, values: pd.Series) -> float:
    """PSI of `values` against an earlier profile, on the earlier profile's bins."""
    return psi(before.shares, bin_shares(values, before.edges))


class Columns(Protocol):
    """Feature columns by name: a data frame, or a table read one column at a time."""

    def __getitem__(self, name: str, /) -> pd.Series: ...


def feature_profiles(features: Columns, names: list[str], bins: int) -> dict[str, Profile]:
    """The profile of each named feature column, for the next run to compare with."""
    return {name: profile(features[name], bins) for name in names}


def write_profiles(folder: Path, model_version: str, profiles: dict[str, Profile]) -> None:
    """Keep the run's feature profiles (no customer data) in `monitoring.json`."""
    document = {
        "model_version": model_version,
        "features": {name: p.to_json() for name, p in profiles.items()},
    }
    (folder / MONITORING).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def read_profiles(folder: Path) -> dict[str, Profile]:
    """The feature profiles a run kept; none for a run made before runs kept them."""
    path = folder / MONITORING
    if not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return {name: Profile(**p) for name, p in document["features"].items()}


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a run folder."""
    document: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return document


def completed_runs(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every complete run folder under `root` with its manifest, oldest as-of first.

    Runs of the same as-of are in the order they ran (their folder names end with it);
    staging folders and the `latest` link are skipped.
    """
    if not root.is_dir():
        return []
    runs = [
        (folder, read_manifest(folder))
        for folder in root.iterdir()
        if folder.is_dir()
        and not folder.is_symlink()
        and not folder.name.startswith(".")
        and (folder / MANIFEST).exists()
    ]
    return sorted(runs, key=lambda run: (pd.Timestamp(run[1]["as_of"]), run[0].name))


def previous_run(root: Path, model_version: str, as_of: pd.Timestamp) -> Path | None:
    """The run to compare with: the same model version, the latest as-of not after `as_of`."""
    earlier = [
        folder
        for folder, manifest in completed_runs(root)
        if manifest["model_version"] == model_version and pd.Timestamp(manifest["as_of"]) <= as_of
    ]
    return earlier[-1] if earlier else None


def newcomers(ranked: pd.DataFrame, before: pd.DataFrame, segment: str) -> pd.DataFrame:
    """Customers of `segment` now who were not in it before, with their previous segment."""
    previous = before.set_index("customer_id")["segment"]
    members = ranked[ranked["segment"] == segment]
    was = value_by_id(members["customer_id"], previous, missing=NOT_SCORED).astype("str")
    entered = members.assign(previous_segment=was)
    return entered[entered["previous_segment"] != segment].reset_index(drop=True)


def feature_flags(scores: dict[str, float], threshold: float) -> list[str]:
    """One line per feature whose PSI is above `threshold`, largest first."""
    return [
        f"Feature drift: {feature_words(name)} ({name}) PSI {value:.2f} > {threshold:g}"
        for name, value in sorted(scores.items(), key=lambda item: -item[1])
        if value > threshold
    ]


def score_flag(score_psi: float, before: float, now: float, threshold: float) -> list[str]:
    """The line for a probability shift above `threshold` (none below it)."""
    if score_psi <= threshold:
        return []
    return [
        f"Score shift: PSI of the probabilities {score_psi:.2f} > {threshold:g} "
        f"(mean probability {before:.1%} -> {now:.1%})"
    ]


def compare_runs(
    ranked: pd.DataFrame,
    features: Columns,
    model_features: list[str],
    previous: Path | None,
    settings: MonitoringSettings,
) -> Monitoring:
    """A run's list and features against `previous` (None: the first run of its model version)."""
    mean_now = float(ranked["probability"].mean())
    if previous is None:
        return Monitoring({"previous_run": None, "mean_probability": round(mean_now, 5)}, [])
    before = pd.read_parquet(
        previous / RANKED_LIST, columns=["customer_id", "probability", "segment"]
    )
    mean_before = float(before["probability"].mean())
    score_psi = drift(profile(before["probability"], settings.bins), ranked["probability"])
    profiles = read_profiles(previous)
    feature_psi = {
        name: round(drift(profiles[name], features[name]), 4)
        for name in model_features
        if name in profiles
    }
    found = {segment: newcomers(ranked, before, segment) for segment in settings.newcomers_in}
    summary = {
        "previous_run": previous.name,
        "previous_as_of": read_manifest(previous)["as_of"],
        "mean_probability": round(mean_now, 5),
        "previous_mean_probability": round(mean_before, 5),
        "score_psi": round(score_psi, 4),
        "thresholds": {"score_psi": settings.score_psi, "feature_psi": settings.feature_psi},
        "feature_psi": dict(sorted(feature_psi.items(), key=lambda item: -item[1])),
    }
    flags = [
        *score_flag(score_psi, mean_before, mean_now, settings.score_psi),
        *feature_flags(feature_psi, settings.feature_psi),
    ]
    return Monitoring(summary, flags, found)


def flags_markdown(manifest: dict[str, Any]) -> str:
    """The flags of a run as Markdown, for the orchestrator's run page."""
    lines = [
        f"# Scoring run as of {manifest['as_of']} (model version {manifest['model_version']})",
        "",
        f"Compared with run {manifest['monitoring']['previous_run']}:",
        "",
        *(f"- {flag}" for flag in manifest["flags"]),
    ]
    return "\n".join(lines) + "\n"


def recent_runs(root: Path, count: int) -> list[tuple[Path, dict[str, Any]]]:
    """The newest `count` complete runs under `root`, newest first."""
    return completed_runs(root)[::-1][:count]
