"""Schemas of the scored partitions and the ranked list: real output passes, defects stop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

import models.scoring.run
from features.build import build_features
from features.definitions import FEATURE_NAMES, current_definitions
from features.schemas import TableSchemaError, validate_table
from features.views import open_frames
from models.bundle import AdvocacyModel, Calibrator
from models.scoring.ranked_list import rank_customers, score_partition
from models.scoring.run import ScoringPlan, score_slice
from models.scoring.schemas import ranked_list_schema, scored_partition_schema
from models.scoring.segments import SegmentSettings
from pipelines.config import load_config
from tests.worlds import clean_tables, typed

CUTOFF = pd.Timestamp("2024-03-15T00:00:00Z")


@pytest.fixture(scope="module")
def segments() -> SegmentSettings:
    return load_config().scoring.segments


@pytest.fixture(scope="module")
def model() -> AdvocacyModel:
    """A small booster on random rows: real contributions and probabilities, quickly."""
    rng = np.random.default_rng(3)
    rows = rng.random((300, len(FEATURE_NAMES))) * 10
    label = (rows[:, FEATURE_NAMES.index("orders_90d")] + rng.normal(0, 2, 300) > 5).astype(int)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 10, "verbose": -1},
        lgb.Dataset(rows, label),
        num_boost_round=10,
    )
    raw = booster.predict(rows, raw_score=True)
    calibrator = Calibrator("platt").fit(raw, label)
    return AdvocacyModel(booster, calibrator, list(FEATURE_NAMES), current_definitions())


@pytest.fixture
def features_file(tmp_path: Path) -> Path:
    """The hand-made world's feature table (customers C1 and C2) as scoring reads it."""
    path = tmp_path / "work" / "features.parquet"
    path.parent.mkdir()
    build_features(open_frames(typed(clean_tables())), [CUTOFF]).to_parquet(path, index=False)
    return path


@pytest.fixture
def scored(features_file: Path, model: AdvocacyModel) -> pd.DataFrame:
    return score_partition(features_file, 0, 2, model)


@pytest.fixture
def ranked(scored: pd.DataFrame, features_file: Path, segments: SegmentSettings) -> pd.DataFrame:
    contactable = pd.Series({"C1": True, "C2": False})
    features = pd.read_parquet(features_file)
    return rank_customers(scored, features, contactable, segments, "7", CUTOFF)


def _with(column: str, values: list[object]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda t: t.assign(**{column: values})


def _stopped(table: pd.DataFrame, schema: pa.DataFrameSchema, check: str) -> None:
    with pytest.raises(TableSchemaError) as caught:
        validate_table(table, schema)
    message = str(caught.value)
    assert message.startswith(f"The {schema.name} breaks 1 check(s)"), message
    assert check in message


def test_real_scored_partition_passes(scored: pd.DataFrame) -> None:
    assert scored["reason_1"].str.len().gt(0).any()  # the model moved some scores
    validate_table(scored, scored_partition_schema())


SCORED_BROKEN: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "probability 1.5": (_with("probability", [0.2, 1.5]), "probability: in_range(0, 1)"),
    "missing probability": (_with("probability", [0.2, np.nan]), "probability: not_nullable"),
    "duplicate customer": (_with("customer_id", ["C1", "C1"]), "customer_id: field_uniqueness"),
    "missing reason column": (lambda t: t.drop(columns="reason_3"), "column_in_dataframe"),
    "reasons as numbers": (_with("reason_2", [1.0, 2.0]), "reason_2: dtype("),
}


@pytest.mark.parametrize("case", SCORED_BROKEN)
def test_broken_scored_partition_is_stopped(scored: pd.DataFrame, case: str) -> None:
    breaks, check = SCORED_BROKEN[case]
    _stopped(breaks(scored), scored_partition_schema(), check)


def test_real_ranked_list_passes(ranked: pd.DataFrame, segments: SegmentSettings) -> None:
    assert ranked["percentile"].tolist() == [1.0, 0.5]  # percentile_of's convention
    validate_table(ranked, ranked_list_schema(segments))


RANKED_BROKEN: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "probability 1.5": (_with("probability", [1.5, 0.2]), "probability: in_range(0, 1)"),
    "ranks with a gap": (_with("rank", [1, 3]), "rank: ranks_from_one_in_order"),
    "tied ranks": (_with("rank", [1, 1]), "rank: ranks_from_one_in_order"),
    "ranks starting at 0": (_with("rank", [0, 1]), "rank: ranks_from_one_in_order"),
    "probability rising down the list": (
        _with("probability", [0.2, 0.3]),
        "probability: probability_non_increasing",
    ),
    "duplicate customer": (_with("customer_id", ["C1", "C1"]), "customer_id: field_uniqueness"),
    "percentile 0": (_with("percentile", [1.0, 0.0]), "percentile: in_range(0, 1)"),
    "percentile in percent": (_with("percentile", [100.0, 50.0]), "percentile: in_range(0, 1)"),
    "unknown segment": (_with("segment", ["Champion", "VIP"]), "segment: isin"),
    "unknown program": (_with("suggested_program", ["none", "gift"]), "suggested_program: isin"),
    "contactable as text": (_with("contactable", ["yes", "no"]), "contactable: dtype('bool')"),
    "as_of without a zone": (
        lambda t: t.assign(as_of=t["as_of"].dt.tz_localize(None)),
        "as_of: utc_timestamp",
    ),
    "columns out of order": (lambda t: t[[*reversed(t.columns)]], "column_ordered"),
}


@pytest.mark.parametrize("case", RANKED_BROKEN)
def test_broken_ranked_list_is_stopped(
    ranked: pd.DataFrame, segments: SegmentSettings, case: str
) -> None:
    breaks, check = RANKED_BROKEN[case]
    _stopped(breaks(ranked), ranked_list_schema(segments), check)


def _plan(features_file: Path, model: AdvocacyModel) -> ScoringPlan:
    return ScoringPlan(
        store_version=features_file.parent,
        as_of=CUTOFF,
        model=model,
        model_version="7",
        features=features_file,
        partitions=[(0, 2)],
        currency="EUR",
        seconds=0.0,
    )


def test_score_slice_writes_a_valid_partition(features_file: Path, model: AdvocacyModel) -> None:
    path = score_slice(_plan(features_file, model), 0)
    validate_table(pd.read_parquet(path), scored_partition_schema())


def test_score_slice_does_not_write_a_broken_partition(
    features_file: Path, model: AdvocacyModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def overconfident(*args: object) -> pd.DataFrame:
        return score_partition(*args).assign(probability=1.5)

    monkeypatch.setattr(models.scoring.run, "score_partition", overconfident)
    with pytest.raises(TableSchemaError, match="scored partition"):
        score_slice(_plan(features_file, model), 0)
    assert list(features_file.parent.iterdir()) == [features_file]
