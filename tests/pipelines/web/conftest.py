"""Two small scoring runs written with the project's writers, and the store they came from.

The runs are hand-made (no model): probabilities, reasons and contactability are drawn
with a fixed seed, then ranked and segmented by the real `rank_customers` with the
default segment rules, so every answer of the web page can be computed with pandas.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from argon2 import PasswordHasher

from features.atomic import point_link
from features.definitions import FEATURE_NAMES, describe
from features.schemas import validate_table
from models.scoring.files import LATEST, write_csv, write_manifest, write_xlsx
from models.scoring.ranked_list import rank_customers
from models.scoring.schemas import REASON_COLUMNS, ranked_list_schema
from models.scoring.segments import SegmentSettings
from pipelines.config import DEFAULT_CONFIG, read_yaml
from tests.worlds import clean_tables, typed

WORLD_FEATURES = tuple(name for name in FEATURE_NAMES if name != "last_review_rating")
"""The registry's features when this world's expected values were written: features added
since are 0 for everyone, so the drawn world, its reasons and its topics stay the same."""

SEGMENTS = SegmentSettings.model_validate(read_yaml(DEFAULT_CONFIG)["scoring"]["segments"])
LATEST_RUN = "2026-10-01_v2_20261002T060000000000"
OLDER_RUN = "2024-03-01_v1_20240302T060000000000"
STORE_IDS = {"C1": "C001", "C2": "C002", "C3": "C003"}
"""The tiny world's customers, renamed to customers of the lists."""


@dataclass(frozen=True)
class Runs:
    """The runs folder, its two runs' lists, and the store version they were scored on."""

    scores: Path
    latest: pd.DataFrame
    older: pd.DataFrame
    store_version: Path


def ranked_list(customers: int, seed: int, model_version: str, as_of: str) -> pd.DataFrame:
    """A ranked list of `customers` made by the real ranking and segment rules."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:03d}" for i in range(1, customers + 1)]
    ids[-1] = "00042"  # leading zeros, kept as text in every file
    features = pd.DataFrame(
        {name: rng.integers(0, 4, customers).astype("float64") for name in WORLD_FEATURES}
    )
    for name in FEATURE_NAMES:
        if name not in WORLD_FEATURES:
            features[name] = 0.0
    features["last_nps"] = rng.integers(0, 11, customers).astype("float64")
    features["days_since_last_nps"] = rng.integers(0, 900, customers).astype("float64")
    features["open_urgent_tickets"] = (rng.random(customers) < 0.05).astype("float64")
    features.insert(0, "customer_id", pd.array(ids, dtype="str"))
    names = rng.choice(WORLD_FEATURES, size=(customers, len(REASON_COLUMNS)))
    values = rng.integers(1, 6, size=names.shape)
    signs = rng.choice([-1.0, 1.0], size=names.shape)
    reasons = {
        column: pd.array(
            [
                f"{'Raises' if sign > 0 else 'Lowers'}: {describe(name, float(value))}"
                if i % 17
                else ""
                for i, (name, value, sign) in enumerate(
                    zip(names[:, slot], values[:, slot], signs[:, slot], strict=True)
                )
            ],
            dtype="str",
        )
        for slot, column in enumerate(REASON_COLUMNS)
    }
    probability = rng.uniform(0.001, 0.6, customers)
    scored = pd.DataFrame(
        {
            "customer_id": features["customer_id"],
            "raw_score": np.log(probability / (1 - probability)),
            "probability": probability,
            **reasons,
        }
    )
    contactable = pd.Series([i % 3 != 0 for i in range(customers)], index=ids)
    ranked = rank_customers(
        scored, features, contactable, SEGMENTS, model_version, pd.Timestamp(as_of, tz="UTC")
    )
    validate_table(ranked, ranked_list_schema(SEGMENTS))
    return ranked


def write_run(scores: Path, name: str, ranked: pd.DataFrame, store_version: Path) -> Path:
    """A run folder as `advocacy score` leaves it (the report is a stand-in)."""
    folder = scores / name
    folder.mkdir(parents=True)
    ranked.to_parquet(folder / "ranked_list.parquet", index=False)
    write_csv(ranked, folder / "ranked_list.csv")
    write_xlsx(ranked, folder / "ranked_list.xlsx", SEGMENTS)
    (folder / "report.html").write_text(f"<!DOCTYPE html><h1>Report of run {name}</h1>")
    (folder / "segments").mkdir()
    champions = ranked[(ranked["segment"] == "Champion") & ranked["contactable"]]
    write_csv(champions, folder / "segments" / "champion.csv")
    segments = {
        rule.name: {
            "customers": int((ranked["segment"] == rule.name).sum()),
            "contactable": int(ranked.loc[ranked["segment"] == rule.name, "contactable"].sum()),
        }
        for rule in SEGMENTS.rules
    }
    write_manifest(
        folder,
        {
            "model_name": ranked["model_name"].iloc[0],
            "model_version": ranked["model_version"].iloc[0],
            "as_of": ranked["as_of"].iloc[0].isoformat(),
            "customers": len(ranked),
            "segments": segments,
            "segment_files": {"Champion": "segments/champion.csv"},
            "input_store": str(store_version.parent.parent),
            "input_fingerprint": store_version.name,
        },
    )
    return folder


def write_store_version(version: Path) -> None:
    """The tiny world of `tests.worlds` as a curated store version."""
    version.mkdir(parents=True)
    for name, table in typed(clean_tables()).items():
        renamed = table.replace(STORE_IDS)
        renamed.to_parquet(version / f"{name}.parquet", index=False)


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """A runs folder with an older and a latest run (`latest` points at it)."""
    root = tmp_path_factory.mktemp("web")
    store_version = root / "store" / "versions" / "0123456789abcdef"
    write_store_version(store_version)
    scores = root / "scores"
    older = ranked_list(40, seed=1, model_version="1", as_of="2024-03-01")
    write_run(scores, OLDER_RUN, older, store_version)
    os.utime(scores / OLDER_RUN / "manifest.json", (1_700_000_000, 1_700_000_000))
    latest = ranked_list(130, seed=2, model_version="2", as_of="2026-10-01")
    point_link(scores / LATEST, write_run(scores, LATEST_RUN, latest, store_version))
    return Runs(scores, latest, older, store_version)


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with small costs: a login takes milliseconds instead of a second in tests."""
    monkeypatch.setattr(
        "pipelines.web.access.hasher",
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )


@pytest.fixture
def scores(runs: Runs, tmp_path: Path) -> Path:
    """A private copy of the runs folder, for tests that add users or download files."""
    copy = tmp_path / "scores"
    shutil.copytree(runs.scores, copy, symlinks=True)
    return copy


@pytest.fixture
def cluttered(scores: Path, tmp_path: Path) -> Path:
    """The runs folder with things beside the runs that look like runs but are not."""
    outside = tmp_path / "outside"
    shutil.copytree(scores / OLDER_RUN, outside)
    (scores / "linked").symlink_to(outside, target_is_directory=True)  # a run elsewhere
    shutil.copytree(scores / OLDER_RUN, scores / ".staging-0a1b")  # an unfinished run
    (scores / "no-manifest").mkdir()
    (scores / "downloads.jsonl").write_text("{}\n")
    return scores


NOT_RUNS = [
    "..",
    "%2e%2e",
    "../scores/" + LATEST_RUN,
    f"{LATEST_RUN}/../{OLDER_RUN}",
    "/etc",
    "/",
    "latest",
    "linked",
    ".staging-0a1b",
    "no-manifest",
    "downloads.jsonl",
    f"{LATEST_RUN}/",
]
"""Names no request may open a run by: traversal, absolute paths, links, other files."""
