"""Replaying a plan of contacts: the same past, an outreach table, and the true effect of asks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.contracts import CONTRACTS
from features.errors import UserError
from features.generator import GeneratorSettings, generate_world
from features.generator.simulation import LABEL_TYPES

CUSTOMERS = 3_000
SEED = 5
SENT = pd.Timestamp("2026-07-02", tz="UTC")
HORIZON = pd.Timedelta(days=90)
KEYS = {
    "purchases": ["customer_id", "ordered_at", "status"],
    "support_tickets": ["customer_id", "opened_at", "resolved_at", "priority"],
    "survey_responses": ["customer_id", "responded_at", "survey_type", "score"],
    "advocacy_events": ["customer_id", "occurred_at", "event_type", "referred_customer_id"],
}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """A world, and the same world replayed with half its active customers asked at SENT."""
    root = tmp_path_factory.mktemp("outreach")
    settings = GeneratorSettings(customers=CUSTOMERS, seed=SEED)
    generate_world(settings, root / "plain")
    truth = pd.read_parquet(root / "plain" / "truth" / "propensity.parquet")
    listed = truth.loc[truth["cutoff"] == truth["cutoff"].max(), "customer_id"]
    asked = listed[np.random.default_rng(0).random(len(listed)) < 0.5]
    plan = pd.DataFrame(
        {"customer_id": asked, "sent_at": SENT, "program": "ambassador", "channel": "email"}
    )
    plan["cost"] = 2.0
    plan.to_csv(root / "plan.csv", index=False)
    replayed = settings.model_copy(update={"outreach": root / "plan.csv"})
    generate_world(replayed, root / "asked")
    return root / "plain", root / "asked", plan


def _before(folder: Path, table: str) -> pd.DataFrame:
    frame = pd.read_parquet(folder / f"{table}.parquet")
    frame = frame[frame[CONTRACTS[table].time_column] < SENT][KEYS[table]]
    return frame.sort_values(KEYS[table]).reset_index(drop=True)


def test_history_before_the_ask_is_the_same(worlds: tuple[Path, Path, pd.DataFrame]) -> None:
    plain, asked, _ = worlds
    for table in KEYS:
        pd.testing.assert_frame_equal(_before(plain, table), _before(asked, table))
    assert pd.read_parquet(plain / "outreach.parquet").empty
    assert not (plain / "truth" / "outreach_effect.parquet").exists()


def test_outreach_table_lists_the_plan(worlds: tuple[Path, Path, pd.DataFrame]) -> None:
    _, asked, plan = worlds
    outreach = pd.read_parquet(asked / "outreach.parquet")
    assert tuple(outreach.columns) == CONTRACTS["outreach"].column_names
    assert sorted(outreach["customer_id"]) == sorted(plan["customer_id"])
    assert outreach["outreach_id"].is_unique
    assert (outreach["sent_at"] == SENT).all()
    assert (outreach["cost"] == 2.0).all()
    assert outreach["campaign"].isna().all()


def test_true_effect_is_known_for_asked_and_unasked_and_differs_by_customer(
    worlds: tuple[Path, Path, pd.DataFrame],
) -> None:
    _, asked, plan = worlds
    effect = pd.read_parquet(asked / "truth" / "outreach_effect.parquet")
    traits = pd.read_parquet(asked / "truth" / "traits.parquet").set_index("customer_id")
    # Everyone asked who was still a customer then; the churned have no effect to know.
    gone = set(traits.index[traits["churned_at"] <= SENT])
    assert set(effect.loc[effect["asked"], "customer_id"]) == set(plan["customer_id"]) - gone
    assert (~effect["asked"]).sum() > 1_000
    np.testing.assert_allclose(effect["effect"], effect["p_asked"] - effect["p_not_asked"])
    satisfaction = effect["customer_id"].map(traits["satisfaction_baseline"])
    happy, unhappy = effect[satisfaction > 1.0], effect[satisfaction < -1.0]
    assert happy["effect"].mean() > 0.03
    assert (unhappy["effect"] < 0).mean() > 0.5  # detractors advocate less when asked


def test_advocacy_after_the_ask_follows_the_true_probabilities(
    worlds: tuple[Path, Path, pd.DataFrame],
) -> None:
    _, asked, _ = worlds
    effect = pd.read_parquet(asked / "truth" / "outreach_effect.parquet")
    events = pd.read_parquet(asked / "advocacy_events.parquet")
    window = events[
        events["event_type"].isin(LABEL_TYPES)
        & (events["occurred_at"] >= SENT)
        & (events["occurred_at"] < SENT + HORIZON)
    ]
    effect["advocated"] = effect["customer_id"].isin(window["customer_id"])
    for was_asked, group in effect.groupby("asked"):
        expected = group["p_asked" if was_asked else "p_not_asked"]
        error = np.sqrt((expected * (1 - expected)).sum()) / len(group)
        assert abs(group["advocated"].mean() - expected.mean()) < 3 * error


def test_a_plan_naming_someone_outside_the_world_is_refused(tmp_path: Path) -> None:
    plan = pd.DataFrame(
        {"customer_id": ["C0000001", "C0099999"], "sent_at": [SENT, SENT], "program": "x"}
    )
    plan["channel"] = "email"
    plan.to_parquet(tmp_path / "plan.parquet")
    settings = GeneratorSettings(customers=100, outreach=tmp_path / "plan.parquet")
    with pytest.raises(UserError, match=r"row 2: customer_id 'C0099999' is not a customer"):
        generate_world(settings, tmp_path / "world")
    plan.drop(columns="channel").to_parquet(tmp_path / "plan.parquet")
    with pytest.raises(UserError, match=r"missing column\(s\) channel"):
        generate_world(settings, tmp_path / "world")
