"""Closed loops on generated worlds: the measured lift covers the known true effect."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.bench_outreach import closed_loop
from features.errors import UserError
from features.ingest import IngestSettings, ingest
from features.labels import LabelSettings
from features.store import current_version
from features.views import open_version
from models.outreach.evaluate import evaluate_outreach, referral_value
from models.outreach.settings import OutreachSettings

SEEDS = range(5)


@pytest.fixture(scope="module")
def loops(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    """Five seeded closed loops of 3,000 customers; the folder of the first."""
    root = tmp_path_factory.mktemp("loops")
    results = [closed_loop(seed, 3_000, root / str(seed), 0.15) for seed in SEEDS]
    return pd.concat(results, ignore_index=True), root / "0"


def test_the_interval_covers_the_true_effect_in_nine_of_ten(
    loops: tuple[pd.DataFrame, Path],
) -> None:
    results, _ = loops
    assert len(results) == 2 * len(SEEDS)
    assert results["covered"].sum() >= 9, results[
        ["seed", "segment", "lift_low", "true_effect", "lift_high"]
    ]
    champions = results[results["segment"] == "Champion"]
    assert (champions["true_effect"] > 0.03).all()  # satisfied customers answer an ask
    assert (results["incremental_advocates"] == results["lift"] * results["asked"]).all()
    assert (results["cost"] == results["contacted"] * 1.0).all()


def test_a_referral_is_worth_a_measured_first_year_revenue(
    loops: tuple[pd.DataFrame, Path],
) -> None:
    _, folder = loops
    value = referral_value(open_version(current_version(folder / "store")))
    assert value["converted"] < value["referrals"]
    assert value["customers_measured"] > 10 and value["first_year_revenue"] > 50
    assert value["value"] == pytest.approx(
        value["converted"] / value["referrals"] * value["first_year_revenue"]
    )


def test_before_the_horizon_and_without_control_it_is_refused(
    loops: tuple[pd.DataFrame, Path], tmp_path: Path
) -> None:
    _, folder = loops
    early = ingest(
        IngestSettings(
            source=folder / "asked",
            store=tmp_path / "store",
            as_of=pd.Timestamp("2026-08-01", tz="UTC"),
        )
    ).store_version
    with pytest.raises(UserError, match=r"horizon ends on 2026-09-30, after the newest data"):
        evaluate_outreach(folder / "run", early, LabelSettings(), OutreachSettings())
    run = tmp_path / "run"
    shutil.copytree(folder / "run", run)
    ranked = pd.read_parquet(run / "ranked_list.parquet")
    ranked.assign(control=False).to_parquet(run / "ranked_list.parquet")
    with pytest.raises(UserError, match="held out no control group"):
        evaluate_outreach(
            run, current_version(folder / "store"), LabelSettings(), OutreachSettings()
        )
