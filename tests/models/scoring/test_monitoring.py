"""Monitoring between runs: PSI on hand-built columns, the previous run, newcomers, flags."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.errors import UserError
from models.scoring.monitoring import (
    NOT_SCORED,
    MonitoringSettings,
    Profile,
    bin_edges,
    bin_shares,
    compare_runs,
    drift,
    feature_profiles,
    flags_markdown,
    newcomers,
    previous_run,
    profile,
    psi,
    read_profiles,
    recent_runs,
    write_profiles,
)
from pipelines.config import load_config

FEATURES = ["tenure_days", "last_nps"]
SETTINGS = MonitoringSettings(feature_psi=0.2, score_psi=0.1, newcomers_in=["Champion"])


def test_psi_of_known_shares() -> None:
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)  # (.25-.5)ln(.5) + (.75-.5)ln(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    # An empty bin on either side is floored, not infinite.
    assert math.isfinite(psi([1.0, 0.0], [0.0, 1.0])) and psi([1.0, 0.0], [0.0, 1.0]) > 5


def test_an_identical_column_has_psi_zero() -> None:
    values = pd.Series(np.random.default_rng(0).normal(100, 20, 5000))
    assert drift(profile(values, 10), values.sample(frac=1, random_state=1)) == 0.0


def test_a_shifted_column_is_above_the_threshold_and_a_resample_is_not() -> None:
    rng = np.random.default_rng(1)
    before = profile(pd.Series(rng.normal(100, 20, 5000)), 10)
    assert drift(before, pd.Series(rng.normal(100, 20, 5000))) < 0.02  # noise only
    assert drift(before, pd.Series(rng.normal(120, 20, 5000))) > 0.2  # one sd higher


def test_bins_put_edge_values_left_and_missing_values_last() -> None:
    values = pd.Series([0.0, 0.0, 0.0, 1.0, 1.0, 2.0, None, None])
    assert bin_edges(values, 4) == [0.0, 0.5, 1.0]  # quantiles 0.25, 0.5, 0.75, made distinct
    np.testing.assert_allclose(bin_shares(values, [0.0, 1.0]), [3 / 8, 2 / 8, 1 / 8, 2 / 8])
    assert bin_edges(pd.Series([None, None], dtype="float64"), 4) == []
    np.testing.assert_allclose(bin_shares(pd.Series([None, 3.0]), []), [0.5, 0.5])


def test_a_column_that_fills_up_with_missing_values_drifts() -> None:
    before = profile(pd.Series(np.arange(100, dtype="float64")), 10)
    now = pd.Series(np.where(np.arange(100) < 50, np.nan, np.arange(100.0)))
    assert drift(before, now) > 0.2


def test_profiles_round_trip_and_keep_no_customer_values(tmp_path: Path) -> None:
    features = pd.DataFrame(
        {"customer_id": ["A", "B", "C", "D"], "tenure_days": [10.0, 20, 30, 40], "x": 1}
    )
    profiles = feature_profiles(features, ["tenure_days"], bins=2)
    write_profiles(tmp_path, "3", profiles)
    assert read_profiles(tmp_path) == profiles == {"tenure_days": Profile([25.0], [0.5, 0.5, 0])}
    saved = json.loads((tmp_path / "monitoring.json").read_text())
    assert saved["model_version"] == "3" and "A" not in json.dumps(saved)
    assert read_profiles(tmp_path / "missing") == {}  # a run from before monitoring


def _run(root: Path, name: str, version: str, as_of: str) -> Path:
    folder = root / name
    folder.mkdir()
    manifest = {"model_version": version, "as_of": f"{as_of}T00:00:00+00:00", "customers": 1}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_the_previous_run_has_the_same_model_and_the_latest_as_of_not_after(
    tmp_path: Path,
) -> None:
    _run(tmp_path, "2026-08-01_v1_a", "1", "2026-08-01")
    september = _run(tmp_path, "2026-09-01_v1_a", "1", "2026-09-01")
    rerun = _run(tmp_path, "2026-09-01_v1_b", "1", "2026-09-01")  # same as-of, ran later
    _run(tmp_path, "2026-09-15_v2_a", "2", "2026-09-15")  # another model version
    _run(tmp_path, "2026-11-01_v1_a", "1", "2026-11-01")  # later as-of
    (tmp_path / ".staging-x").mkdir()  # an unfinished run
    (tmp_path / "latest").symlink_to(september.name)
    (tmp_path / "no-manifest").mkdir()
    assert previous_run(tmp_path, "1", pd.Timestamp("2026-10-01", tz="UTC")) == rerun
    assert previous_run(tmp_path, "2", pd.Timestamp("2026-10-01", tz="UTC")).name.endswith("v2_a")
    assert previous_run(tmp_path, "1", pd.Timestamp("2026-07-01", tz="UTC")) is None
    assert previous_run(tmp_path / "nothing-yet", "1", pd.Timestamp("2026-07-01")) is None
    assert [f.name for f, _ in recent_runs(tmp_path, 2)] == ["2026-11-01_v1_a", "2026-09-15_v2_a"]


def test_newcomers_are_those_not_in_the_segment_before() -> None:
    before = pd.DataFrame({"customer_id": ["A", "B", "C"], "segment": ["Champion", "Nurture", "X"]})
    ranked = pd.DataFrame(
        {
            "rank": [1, 2, 3, 4],
            "customer_id": ["A", "B", "D", "C"],
            "segment": ["Champion", "Champion", "Champion", "Nurture"],
        }
    )
    entered = newcomers(ranked, before, "Champion")
    assert entered["customer_id"].tolist() == ["B", "D"]
    assert entered["previous_segment"].tolist() == ["Nurture", NOT_SCORED]


def _list(ids: list[str], probability: np.ndarray, segment: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ids,
            "probability": probability,
            "segment": segment,
            "contactable": [i % 2 == 0 for i in range(len(ids))],
        }
    )


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """A previous run of 400 customers: its list and its feature profiles."""
    rng = np.random.default_rng(2)
    ids = [f"C{i:03d}" for i in range(400)]
    features = pd.DataFrame(
        {
            "customer_id": ids,
            "tenure_days": rng.uniform(0, 1000, 400),
            "last_nps": rng.integers(0, 11, 400).astype("float64"),
        }
    )
    probability = rng.uniform(0, 0.3, 400)
    segment = np.where(probability > 0.27, "Champion", "Nurture").tolist()
    folder = _run(tmp_path, "2026-09-01_v1_a", "1", "2026-09-01")
    _list(ids, probability, segment).to_parquet(folder / "ranked_list.parquet")
    write_profiles(folder, "1", feature_profiles(features, FEATURES, bins=10))
    return folder, features


def test_a_run_like_the_previous_one_is_not_flagged(previous: tuple[Path, pd.DataFrame]) -> None:
    folder, features = previous
    ranked = pd.read_parquet(folder / "ranked_list.parquet")
    found = compare_runs(ranked, features, FEATURES, folder, SETTINGS)
    assert found.flags == []
    assert found.summary["score_psi"] == 0.0 and found.summary["feature_psi"] == {
        "tenure_days": 0.0,
        "last_nps": 0.0,
    }
    assert found.summary["previous_run"] == folder.name
    assert found.newcomers["Champion"].empty


def test_shifted_features_and_scores_are_flagged_one_line_each(
    previous: tuple[Path, pd.DataFrame],
) -> None:
    folder, features = previous
    ranked = pd.read_parquet(folder / "ranked_list.parquet")
    older = features.assign(tenure_days=features["tenure_days"] + 500)  # everyone 500 days older
    higher = ranked.assign(probability=ranked["probability"] + 0.1)
    found = compare_runs(higher, older, FEATURES, folder, SETTINGS)
    assert len(found.flags) == 2
    assert found.flags[0].startswith("Score shift: PSI of the probabilities")
    assert found.flags[1].startswith("Feature drift: Days since signup (tenure_days) PSI")
    assert found.summary["feature_psi"]["last_nps"] == 0.0
    assert found.summary["mean_probability"] == pytest.approx(
        found.summary["previous_mean_probability"] + 0.1, abs=1e-4
    )


def test_the_first_run_of_a_model_compares_with_nothing() -> None:
    ranked = _list(["A", "B"], np.array([0.1, 0.3]), ["Champion", "Nurture"])
    found = compare_runs(ranked, pd.DataFrame(), FEATURES, None, SETTINGS)
    assert found.summary == {"previous_run": None, "mean_probability": 0.2}
    assert found.flags == [] and found.newcomers == {}


def test_flags_as_markdown() -> None:
    manifest = {
        "as_of": "2026-10-01T00:00:00+00:00",
        "model_version": "4",
        "monitoring": {"previous_run": "2026-09-01_v4_x"},
        "flags": ["Score shift: a", "Feature drift: b"],
    }
    text = flags_markdown(manifest)
    assert "Compared with run 2026-09-01_v4_x" in text
    assert "- Score shift: a\n- Feature drift: b\n" in text


def test_newcomers_of_an_unknown_segment_are_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("scoring:\n  monitoring:\n    newcomers_in: [Champions]\n")
    with pytest.raises(UserError, match="newcomers_in names no segment: Champions"):
        load_config(config)
    assert load_config().scoring.monitoring.newcomers_in == ["Champion", "Recover first"]
