"""SHAP plots and reason mixes for people, from the model's exact contributions."""

from __future__ import annotations

from collections.abc import Iterator

import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from features.definitions import current_definitions
from models.bundle import AdvocacyModel, Calibrator
from models.explain import (
    OTHER_TOPICS,
    dependence_figure,
    feature_words,
    impact_figure,
    mean_abs_shap,
    probability_impact,
    reason_mix,
    reason_topics,
    shap_explanation,
    waterfall_figure,
)

FEATURES = ["last_nps", "orders_90d", "tenure_days"]


@pytest.fixture(scope="module")
def model_and_rows() -> tuple[AdvocacyModel, pd.DataFrame]:
    """A small booster where NPS drives the label, orders a little, tenure not at all."""
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(2000)],
            "last_nps": rng.integers(0, 11, 2000).astype("float64"),
            "orders_90d": rng.poisson(2, 2000),
            "tenure_days": rng.uniform(0, 900, 2000),
        }
    )
    rows.loc[rows.index[:100], "last_nps"] = np.nan
    logit = -3 + 0.5 * (rows["last_nps"].fillna(5) - 5) + 0.2 * rows["orders_90d"]
    label = (rng.random(2000) < 1 / (1 + np.exp(-logit))).astype("int64")
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 4, "verbosity": -1, "num_threads": 1},
        lgb.Dataset(rows[FEATURES].to_numpy("float64"), label, feature_name=FEATURES),
        num_boost_round=30,
    )
    model = AdvocacyModel(booster, Calibrator("platt"), FEATURES, current_definitions(FEATURES))
    model.calibrator.fit(model.raw_score(rows), label.to_numpy())
    return model, rows


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_explanation_adds_up_to_the_raw_score(
    model_and_rows: tuple[AdvocacyModel, pd.DataFrame],
) -> None:
    model, rows = model_and_rows
    explanation = shap_explanation(model, rows)
    assert explanation.values.shape == (len(rows), len(FEATURES))
    np.testing.assert_allclose(
        explanation.values.sum(axis=1) + explanation.base_values, model.raw_score(rows), atol=1e-9
    )
    np.testing.assert_array_equal(explanation.data, model.matrix(rows))
    assert list(explanation.feature_names) == FEATURES


def test_global_importance_ranks_the_driver_first(
    model_and_rows: tuple[AdvocacyModel, pd.DataFrame],
) -> None:
    importance = mean_abs_shap(shap_explanation(*model_and_rows))
    assert importance.index[0] == "last_nps"
    assert importance.is_monotonic_decreasing and (importance >= 0).all()


def test_dependence_plot_is_labelled_with_the_registry_description(
    model_and_rows: tuple[AdvocacyModel, pd.DataFrame],
) -> None:
    figure = dependence_figure(shap_explanation(*model_and_rows), "orders_90d")
    axes = figure.axes[0]
    assert axes.get_xlabel() == "orders_90d: Number of orders in the 90 days before the cutoff"
    assert "log-odds" in axes.get_ylabel() and "orders_90d" in axes.get_title()


def test_waterfall_of_one_customer(model_and_rows: tuple[AdvocacyModel, pd.DataFrame]) -> None:
    explanation = shap_explanation(*model_and_rows)
    figure = waterfall_figure(explanation, 5, "Customer C5")
    title = figure.get_suptitle()
    assert title.startswith("Customer C5\n") and "log-odds" in title
    # The bars add up from the expected value to the customer's raw score.
    assert explanation[5].values.sum() + explanation[5].base_values == pytest.approx(
        model_and_rows[0].raw_score(model_and_rows[1].iloc[[5]])[0]
    )


def test_reason_topics_name_the_range_of_values_they_cover() -> None:
    reasons = pd.Series(
        [
            "Raises: gave NPS 10 on 3 Sep 2026",
            "Raises: gave NPS 9 on 28 Aug 2026",
            "Lowers: gave NPS 3 on 1 Jul 2026",
            "Raises: 5 orders in the last 90 days",
            "Raises: 12 orders in the last 90 days",
            "Raises: 2 orders in the last 30 days",  # another feature: not the same topic
            "Raises: last order on 3 Sep 2026",
            "Raises: last order on 28 Aug 2026",
            "Lowers: urgent ticket still open",
            "",
        ]
    )
    assert reason_topics(reasons).tolist()[:9] == [
        "Raises: gave NPS 9–10 on …",
        "Raises: gave NPS 9–10 on …",
        "Lowers: gave NPS 3 on …",
        "Raises: 5–12 orders in the last 90 days",
        "Raises: 5–12 orders in the last 90 days",
        "Raises: 2 orders in the last 30 days",
        "Raises: last order …",
        "Raises: last order …",
        "Lowers: urgent ticket still open",
    ]
    assert pd.isna(reason_topics(reasons).iloc[9])
    assert not reason_topics(reasons).str.contains("#").any()


def test_reason_topics_of_no_reasons() -> None:
    assert reason_topics(pd.Series(["", ""], dtype="str")).isna().all()


def test_reason_mix_per_segment() -> None:
    ranked = pd.DataFrame(
        {
            "segment": ["Champion", "Champion", "Champion", "Nurture", "Nurture"],
            "reason_1": [
                "Raises: gave NPS 10 on 3 Sep 2026",
                "Raises: gave NPS 9 on 1 Aug 2026",
                "Raises: 3 reviews",
                "",
                "x 1",
            ],
            "reason_2": ["a", "a", "b", "b", "c"],
        }
    )
    mix = reason_mix(ranked, top=1)
    assert list(mix.columns) == ["Champion", "Nurture"]
    assert list(mix.index) == ["Raises: gave NPS 9–10 on …", OTHER_TOPICS]
    assert mix["Champion"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert mix["Nurture"].tolist() == [0.0, 1.0]  # its empty reason is not counted
    both = reason_mix(ranked, slots=["reason_1", "reason_2"], top=10)
    np.testing.assert_allclose(both.sum(axis=0), 1.0)
    assert both.loc["a", "Champion"] == pytest.approx(2 / 6)


def test_probability_impact_in_percentage_points(
    model_and_rows: tuple[AdvocacyModel, pd.DataFrame],
) -> None:
    model, rows = model_and_rows
    explanation = shap_explanation(model, rows)
    impact = probability_impact(model, explanation)
    assert impact.index[0] == "last_nps"  # the driver moves the chance most
    assert (impact["raises"] >= 0).all() and (impact["lowers"] <= 0).all()
    # Taking the driver's contribution away from one customer gives their chance without it.
    values = np.asarray(explanation.values)
    raw = values.sum(axis=1) + explanation.base_values
    push = model.calibrator.probability(raw) - model.calibrator.probability(raw - values[:, 0])
    assert impact.loc["last_nps", "raises"] == pytest.approx(100 * np.clip(push, 0, None).mean())
    assert impact.loc["last_nps", "raises"] > 1  # points, not shares


def test_impact_figure_names_features_in_words(
    model_and_rows: tuple[AdvocacyModel, pd.DataFrame],
) -> None:
    model, rows = model_and_rows
    figure = impact_figure(probability_impact(model, shap_explanation(model, rows)))
    axes = figure.axes[0]
    texts = [text.get_text() for text in axes.texts]
    assert texts[-1] == "The latest NPS score (0-10)"  # the strongest, at the top
    assert "percentage points" in axes.get_xlabel() and "log-odds" not in axes.get_xlabel()
    assert axes.get_xscale() == "linear"
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        "raises the chance",
        "lowers it",
    ]


def test_feature_words_leave_out_the_note_on_missing_values() -> None:
    assert feature_words("days_since_last_order") == "Days since the last order"
    assert feature_words("orders_90d") == "Number of orders in the 90 days before the cutoff"
