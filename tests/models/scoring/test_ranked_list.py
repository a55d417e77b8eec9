"""Scoring: exact SHAP reasons, a consistent ranking, and a list that finds advocates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap

from features.build import build_features
from features.definitions import feature
from features.store import current_version, read_table
from features.views import open_version
from models.scoring.ranked_list import partition_bounds, rank_customers, score_partition
from models.scoring.reasons import reason_topic, usable_strength
from models.training.fit import TrainingResult, TrainSettings, train_model
from models.training.metrics import ranking_metrics
from pipelines.config import load_config
from tests.models.conftest import World


@pytest.fixture(scope="module")
def trained(small_world: World) -> TrainingResult:
    # LightGBM, whose contributions are checked against SHAP's TreeExplainer below.
    return train_model(
        small_world.parts, TrainSettings(reference_num_leaves=None, family="lightgbm")
    )


def _ranked_list(world: World, trained: TrainingResult, folder: Path) -> pd.DataFrame:
    """The ranked list at the world's test cutoff, scored in three partitions."""
    cutoff = world.parts.plan.test
    features = build_features(open_version(current_version(world.store)), [cutoff])
    features.to_parquet(folder / "features.parquet")
    scored = pd.concat(
        [
            score_partition(folder / "features.parquet", start, stop, trained.model, "EUR")
            for start, stop in partition_bounds(len(features), 3)
        ],
        ignore_index=True,
    )
    customers = read_table(current_version(world.store), "customers")
    return rank_customers(
        scored,
        features,
        customers.set_index("customer_id")["marketing_opt_in"],
        load_config().scoring.segments,
        "7",
        cutoff,
        "EUR",
    )


def test_partitions_cover_every_row_once() -> None:
    assert partition_bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert partition_bounds(2, 4) == [(0, 1), (1, 2)]


def test_contributions_add_up_and_agree_with_shap_tree_explainer(
    small_world: World, trained: TrainingResult
) -> None:
    rows = small_world.parts.test
    model = trained.model
    contributions = model.contributions(rows)
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_score(rows), atol=1e-9)
    sample = rows.sample(300, random_state=1)
    explainer = shap.TreeExplainer(model.estimator)
    values = np.asarray(explainer.shap_values(model.matrix(sample)))
    values = values[-1] if values.ndim == 3 else values  # older shap: one array per class
    np.testing.assert_allclose(values, model.contributions(sample)[:, :-1], atol=1e-6)


def test_ranked_list_is_consistent(
    small_world: World, trained: TrainingResult, tmp_path: Path
) -> None:
    ranked = _ranked_list(small_world, trained, tmp_path)
    assert ranked["customer_id"].is_unique
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["probability"].is_monotonic_decreasing
    assert ranked["percentile"].iloc[0] == 1.0
    assert ranked["percentile"].is_monotonic_decreasing
    assert set(ranked["segment"]) <= {
        "Recover first", "Champion", "Likely advocate", "Nurture", "Not now"
    }  # fmt: skip
    opt_in = read_table(current_version(small_world.store), "customers").set_index("customer_id")[
        "marketing_opt_in"
    ]
    expected = ranked["customer_id"].map(opt_in).fillna(False).astype(bool)
    assert (ranked["contactable"] == expected).all()
    assert (ranked["model_version"] == "7").all()


def test_reasons_follow_the_largest_contributions_with_their_sign(
    small_world: World, trained: TrainingResult, tmp_path: Path
) -> None:
    ranked = _ranked_list(small_world, trained, tmp_path)
    ranked = ranked[ranked["segment"] != "Recover first"].head(50).reset_index(drop=True)
    features = build_features(
        open_version(current_version(small_world.store)), [small_world.parts.plan.test]
    )
    rows = features.set_index("customer_id").loc[ranked["customer_id"]].reset_index()
    model = trained.model
    contributions = model.contributions(rows)[:, :-1]
    strength = usable_strength(contributions, model.matrix(rows), model.features)
    for i, reason in enumerate(ranked["reason_1"]):
        strongest = int(np.argmax(strength[i]))
        direction = "Raises" if contributions[i, strongest] > 0 else "Lowers"
        assert reason.startswith(f"{direction}: "), reason
        assert reason_topic(reason) == feature(model.features[strongest]).topic, reason


def test_reasons_of_a_scored_list_read_right(
    small_world: World, trained: TrainingResult, tmp_path: Path
) -> None:
    ranked = _ranked_list(small_world, trained, tmp_path)
    slots = ranked[["reason_1", "reason_2", "reason_3"]]
    reasons = slots.stack()
    reasons = reasons[reasons != ""]
    for bad in (r"\b1 \w+s\b", r"on a -1 to 1 scale", r"\d+\.0\b", r"\bspent \d"):
        assert not reasons.str.contains(bad).any(), reasons[reasons.str.contains(bad)].iloc[0]
    topics = reasons.map(reason_topic)
    assert topics.notna().all(), reasons[topics.isna()].iloc[0]
    assert not topics.groupby(level=0).apply(lambda row: row.duplicated().any()).any()
    # Recover first leads with the fact that put the customer there, with its date.
    recover = ranked.loc[ranked["segment"] == "Recover first", "reason_1"]
    assert len(recover) > 0
    assert recover.str.fullmatch(
        r"Recover first: (gave NPS \d+ on|\d+ urgent tickets? still open since) "
        r"\d{1,2} [A-Z][a-z]{2} \d{4}"
    ).all(), recover.iloc[0]


def test_the_list_finds_advocates_after_the_training_data_ends(medium_world: World) -> None:
    """Scored at the test cutoff, whose labels no training step saw (20,000 customers)."""
    trained = train_model(
        medium_world.parts, TrainSettings(reference_num_leaves=None, truth=medium_world.truth)
    )
    folder = medium_world.store.parent
    ranked = _ranked_list(medium_world, trained, folder)
    test = medium_world.parts.test[["customer_id", "label"]]
    truth = pd.read_parquet(medium_world.truth)
    truth = truth[truth["cutoff"] == medium_world.parts.plan.test]
    judged = ranked.merge(test, on="customer_id").merge(truth, on="customer_id")
    assert len(judged) == len(ranked)
    model = ranking_metrics(judged["label"], -judged["rank"])  # the list's own order
    oracle = ranking_metrics(judged["label"], judged["true_probability"])
    assert model["lift_top_10pct"] >= 3.5
    assert model["pr_auc"] >= 0.8 * oracle["pr_auc"]


def test_features_in_another_order_than_the_scored_rows_are_refused() -> None:
    scored = pd.DataFrame(
        {
            "customer_id": pd.Series(["C1", "C2"], dtype="str"),
            "raw_score": [1.0, 2.0],
            "probability": [0.1, 0.2],
        }
    )
    features = pd.DataFrame({"customer_id": pd.Series(["C2", "C1"], dtype="str")})
    with pytest.raises(ValueError, match="same order"):
        rank_customers(
            scored,
            features,
            pd.Series(dtype=bool),
            load_config().scoring.segments,
            "1",
            pd.Timestamp("2026-07-01", tz="UTC"),
        )
