"""Behaviour of the generated world: reproducible, contract-shaped, and true to its design."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from features.contracts import CONTRACTS, SURVEY_SCORE_RANGES, TABLE_NAMES
from features.generator import GeneratorSettings, Messiness, generate_world
from features.generator import world as world_module
from features.generator.simulation import LABEL_TYPES

CUSTOMERS = 8_000
SEED = 11
HORIZON = pd.Timedelta(days=90)
END = pd.Timestamp("2026-10-01", tz="UTC")
FILLED = tuple(name for name in TABLE_NAMES if name != "outreach")  # empty without a plan

POSITIVE_WORDS = {
    "love", "loves", "great", "happy", "excellent", "fantastic", "recommend", "pleasure",
    "satisfied", "best", "wonderful", "impressed", "thank", "thanks", "friendly", "helpful",
    "joy", "lovely", "perfect", "perfectly", "kind", "appreciated", "easy", "quick", "fast",
    "impressive",
}  # fmt: skip
NEGATIVE_WORDS = {
    "disappointed", "disappointing", "terrible", "awful", "regret", "frustrating", "worst",
    "poor", "annoyed", "annoying", "bad", "damaged", "rude", "unhelpful", "broke", "useless",
    "waste", "unacceptable", "angry", "ignored", "not", "late", "crashing", "slow", "sad",
}  # fmt: skip


def _tone(comment: str) -> int:
    words = re.findall(r"[a-z]+", comment.lower())
    return sum(w in POSITIVE_WORDS for w in words) - sum(w in NEGATIVE_WORDS for w in words)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{name}.parquet")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(GeneratorSettings(customers=CUSTOMERS, seed=SEED), out)
    return out


@pytest.fixture(scope="module")
def tables(world: Path) -> dict[str, pd.DataFrame]:
    return {name: _read(world, name) for name in TABLE_NAMES}


@pytest.fixture(scope="module")
def truth(world: Path) -> pd.DataFrame:
    return pd.read_parquet(world / "truth" / "propensity.parquet")


def _labels(advocacy: pd.DataFrame, cutoff: pd.Timestamp) -> set[str]:
    """Customers with a label event in [cutoff, cutoff + horizon)."""
    window = advocacy[
        advocacy["event_type"].isin(LABEL_TYPES)
        & (advocacy["occurred_at"] >= cutoff)
        & (advocacy["occurred_at"] < cutoff + HORIZON)
    ]
    return set(window["customer_id"])


# Reproducibility and shape


def test_same_seed_gives_identical_bytes_for_every_file(tmp_path: Path) -> None:
    messy = Messiness(duplicates=0.02, bad_dates=0.02, mixed_timezones=0.02)
    for settings in (
        GeneratorSettings(customers=1_500, seed=3),
        GeneratorSettings(customers=1_500, seed=3, format="csv", messiness=messy),
    ):
        first, second = tmp_path / f"a-{settings.format}", tmp_path / f"b-{settings.format}"
        generate_world(settings, first)
        generate_world(settings, second)
        assert _files(first) == _files(second)
        assert len(_files(first)) == 9


def test_different_seed_gives_a_different_world(tmp_path: Path) -> None:
    generate_world(GeneratorSettings(customers=1_000, seed=1), tmp_path / "one")
    generate_world(GeneratorSettings(customers=1_000, seed=2), tmp_path / "two")
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    for name in FILLED:
        assert one[f"{name}.parquet"] != two[f"{name}.parquet"]


def test_parquet_tables_match_the_contracts(world: Path) -> None:
    for name in TABLE_NAMES:
        schema = pq.read_schema(world / f"{name}.parquet")
        assert tuple(schema.names) == CONTRACTS[name].column_names
        for column in CONTRACTS[name].columns:
            if column.kind == "timestamp":
                assert str(schema.field(column.name).type) == "timestamp[us, tz=UTC]"


def test_csv_tables_match_the_contracts_and_parse(tmp_path: Path) -> None:
    generate_world(GeneratorSettings(customers=500, format="csv"), tmp_path)
    for name in TABLE_NAMES:
        frame = pd.read_csv(tmp_path / f"{name}.csv", dtype=str, encoding="utf-8")
        assert tuple(frame.columns) == CONTRACTS[name].column_names
        time_column = CONTRACTS[name].time_column
        assert frame[time_column].str.endswith("Z").all()
        parsed = pd.to_datetime(frame[time_column], utc=True, format="ISO8601")
        assert parsed.notna().all()


def test_exactly_n_customers_with_unique_ids_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world_module, "CHUNK_SIZE", 700)
    finished: list[int] = []
    summary = generate_world(GeneratorSettings(customers=2_345), tmp_path, finished.append)
    customers = _read(tmp_path, "customers")
    assert len(customers) == 2_345 == summary.rows["customers"] == sum(finished)
    assert finished == [700, 700, 700, 245]
    assert customers["customer_id"].is_unique
    for name in TABLE_NAMES:
        frame = _read(tmp_path, name)
        assert frame[CONTRACTS[name].id_column].is_unique
        assert frame["customer_id"].isin(customers["customer_id"]).all()


def test_world_json_describes_the_world_without_run_details(
    world: Path, tables: dict[str, pd.DataFrame]
) -> None:
    described = json.loads((world / "world.json").read_text(encoding="utf-8"))
    assert described["settings"]["customers"] == CUSTOMERS
    assert described["rows"] == {name: len(frame) for name, frame in tables.items()}
    assert len(described["truth"]["cutoffs"]) == 18
    assert described["truth"]["cutoffs"][-1] == "2026-07-01T00:00:00Z"


def test_settings_reject_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValidationError):
        GeneratorSettings(customers=0)
    with pytest.raises(ValidationError):
        GeneratorSettings.model_validate({"customers": 10, "colour": "blue"})
    with pytest.raises(ValidationError):
        Messiness(duplicates=1.5)
    assert GeneratorSettings().end == date(2026, 10, 1)


def test_no_event_after_end_and_none_before_signup(tables: dict[str, pd.DataFrame]) -> None:
    signup = tables["customers"].set_index("customer_id")["signup_at"]
    assert (signup < END).all()
    for name in TABLE_NAMES[1:]:
        frame = tables[name]
        when = frame[CONTRACTS[name].time_column]
        assert (when < END).all()
        assert (when > frame["customer_id"].map(signup)).all()
    resolved = tables["support_tickets"]["resolved_at"].dropna()
    assert (resolved < END).all()


def test_the_world_has_the_intended_size_and_mix(tables: dict[str, pd.DataFrame]) -> None:
    per_customer = {name: len(frame) / CUSTOMERS for name, frame in tables.items()}
    assert 25 <= per_customer["purchases"] <= 35
    assert 2.5 <= per_customer["support_tickets"] <= 3.5
    assert 1.2 <= per_customer["survey_responses"] <= 1.8
    customers = tables["customers"]
    assert 0.65 <= customers["marketing_opt_in"].mean() <= 0.75
    assert customers[["country", "plan", "acquisition_channel"]].notna().all().all()
    purchases = tables["purchases"]
    # Heavy-tailed spend: the mean well above the median, a long right tail.
    assert purchases["amount"].mean() > 1.2 * purchases["amount"].median()
    assert purchases["amount"].quantile(0.99) > 5 * purchases["amount"].median()
    monthly = purchases.groupby(purchases["ordered_at"].dt.month).size()
    assert monthly[12] > 1.3 * monthly[[2, 3, 4, 5]].mean()


# Referrals


def test_referred_customers_exist_and_signed_up_after_the_referral(
    world: Path, tables: dict[str, pd.DataFrame]
) -> None:
    customers = tables["customers"].set_index("customer_id")
    referrals = tables["advocacy_events"].dropna(subset=["referred_customer_id"])
    assert len(referrals) > 50
    assert (referrals["event_type"] == "referral").all()
    assert referrals["referred_customer_id"].is_unique
    referred = customers.loc[referrals["referred_customer_id"]]
    assert (referred["acquisition_channel"] == "referral").all()
    assert (referred["signup_at"].to_numpy() > referrals["occurred_at"].to_numpy()).all()
    # Every customer acquired by referral was brought by exactly one referral event.
    assert (customers["acquisition_channel"] == "referral").sum() == len(referrals)
    traits = pd.read_parquet(world / "truth" / "traits.parquet").set_index("customer_id")
    by_truth = traits.loc[referrals["referred_customer_id"], "referred_by"].to_numpy()
    assert (by_truth == referrals["customer_id"].to_numpy()).all()


# Documented relationships


def test_promoters_advocate_more_often_than_detractors(
    tables: dict[str, pd.DataFrame], truth: pd.DataFrame
) -> None:
    nps = tables["survey_responses"].query("survey_type == 'nps'")
    rates: dict[str, list[bool]] = {"promoter": [], "detractor": []}
    for cutoff in truth["cutoff"].unique():
        last = (
            nps[nps["responded_at"] < cutoff]
            .sort_values("responded_at")
            .groupby("customer_id")
            .last()
        )
        labelled = _labels(tables["advocacy_events"], cutoff)
        for group, members in (
            ("promoter", last.index[last["score"] >= 9]),
            ("detractor", last.index[last["score"] <= 6]),
        ):
            rates[group].extend(customer in labelled for customer in members)
    promoter, detractor = np.mean(rates["promoter"]), np.mean(rates["detractor"])
    assert promoter > 2 * detractor


def test_slowly_resolved_tickets_lower_later_nps(tables: dict[str, pd.DataFrame]) -> None:
    tickets = tables["support_tickets"]
    hours = (tickets["resolved_at"] - tickets["opened_at"]).dt.total_seconds() / 3600
    tickets = tickets.assign(
        speed=np.where(hours.isna() | (hours > 72), "slow", np.where(hours < 24, "fast", "medium"))
    )
    nps = tables["survey_responses"].query("survey_type == 'nps'")
    after = tickets.merge(nps, on="customer_id")
    days = (after["responded_at"] - after["opened_at"]).dt.total_seconds() / 86_400
    after = after[(days > 7) & (days <= 42)]
    means = after.groupby("speed")["score"].mean()
    assert means["slow"] < means["fast"] - 0.3


def test_true_probability_matches_realised_advocacy(
    tables: dict[str, pd.DataFrame], truth: pd.DataFrame
) -> None:
    # Windows four months apart do not overlap, so given the simulated path the labels
    # are independent Bernoulli(p) draws: their sum minus the sum of p is within four
    # standard deviations (sqrt of the summed p(1 - p)) unless the truth is wrong.
    cutoffs = sorted(truth["cutoff"].unique())[::4]
    surplus, variance, advocates, others = 0.0, 0.0, [], []
    for cutoff in cutoffs:
        at = truth[truth["cutoff"] == cutoff]
        label = at["customer_id"].isin(_labels(tables["advocacy_events"], cutoff)).to_numpy()
        p = at["true_probability"].to_numpy()
        surplus += float((label - p).sum())
        variance += float((p * (1 - p)).sum())
        advocates.append(p[label])
        others.append(p[~label])
    assert abs(surplus) <= 4 * np.sqrt(variance)
    assert np.concatenate(advocates).mean() > 2 * np.concatenate(others).mean()


def test_truth_covers_every_recently_active_customer(
    tables: dict[str, pd.DataFrame], truth: pd.DataFrame
) -> None:
    purchases = tables["purchases"]
    signup = tables["customers"].set_index("customer_id")["signup_at"]
    for cutoff in truth["cutoff"].unique()[::6]:
        listed = set(truth.loc[truth["cutoff"] == cutoff, "customer_id"])
        recent = purchases[
            (purchases["ordered_at"] < cutoff)
            & (purchases["ordered_at"] >= cutoff - pd.Timedelta(days=365))
        ]
        assert set(recent["customer_id"]) <= listed
        assert (signup.loc[list(listed)] < cutoff).all()


def test_label_base_rate_among_active_customers_is_realistic(
    tables: dict[str, pd.DataFrame], truth: pd.DataFrame
) -> None:
    purchases = tables["purchases"]
    rates = []
    for cutoff in truth["cutoff"].unique():
        recent = purchases[
            (purchases["ordered_at"] < cutoff)
            & (purchases["ordered_at"] >= cutoff - pd.Timedelta(days=365))
        ]
        active = pd.Index(recent["customer_id"].unique())
        rates.append(active.isin(list(_labels(tables["advocacy_events"], cutoff))).mean())
    assert 0.04 <= np.mean(rates) <= 0.11


def test_comment_tone_follows_the_score(tables: dict[str, pd.DataFrame]) -> None:
    surveys = tables["survey_responses"].dropna(subset=["comment"])
    assert 0.2 <= len(surveys) / len(tables["survey_responses"]) <= 0.4
    tone = surveys["comment"].map(_tone)
    nps = surveys["survey_type"] == "nps"
    assert (tone[nps & (surveys["score"] >= 9)] > 0).mean() > 0.95
    assert (tone[nps & (surveys["score"] <= 6)] < 0).mean() > 0.95
    tickets = tables["support_tickets"].dropna(subset=["comment", "csat"])
    ticket_tone = tickets["comment"].map(_tone)
    assert (ticket_tone[tickets["csat"] >= 4] > 0).mean() > 0.95
    assert (ticket_tone[tickets["csat"] <= 2] < 0).mean() > 0.95
    assert surveys["comment"].nunique() > 200


# Messiness


def _clean_and_messy(tmp_path: Path, **switch: float) -> tuple[Path, Path]:
    clean, messy = tmp_path / "clean", tmp_path / "messy"
    generate_world(GeneratorSettings(customers=1_000, seed=5), clean)
    generate_world(GeneratorSettings(customers=1_000, seed=5, messiness=Messiness(**switch)), messy)
    return clean, messy


def test_the_clean_world_has_none_of_the_defects(tables: dict[str, pd.DataFrame]) -> None:
    known = set(tables["customers"]["customer_id"])
    for name, frame in tables.items():
        assert frame[CONTRACTS[name].id_column].is_unique
        assert not frame.duplicated().any()
        assert frame["customer_id"].isin(known).all()
    assert (tables["purchases"]["amount"] >= 0).all()
    surveys = tables["survey_responses"]
    for kind, (low, high) in SURVEY_SCORE_RANGES.items():
        assert surveys.loc[surveys["survey_type"] == kind, "score"].between(low, high).all()
    assert tables["support_tickets"]["csat"].dropna().between(1, 5).all()
    assert tables["advocacy_events"]["rating"].dropna().between(1, 5).all()


def test_duplicates_switch_adds_exact_copies_and_reused_ids(tmp_path: Path) -> None:
    clean, messy = _clean_and_messy(tmp_path, duplicates=0.05)
    for name in FILLED:
        frame = _read(messy, name)
        id_column = CONTRACTS[name].id_column
        assert frame.duplicated().sum() > 0
        reused = frame[frame[id_column].duplicated(keep=False)].drop_duplicates()
        assert reused[id_column].duplicated().sum() > 0
        deduplicated = frame.drop_duplicates(subset=[id_column], keep="first")
        assert len(deduplicated) == len(_read(clean, name))


def test_bad_dates_switch_writes_unparseable_timestamps(tmp_path: Path) -> None:
    _, messy = _clean_and_messy(tmp_path, bad_dates=0.05)
    for name in FILLED:
        when = _read(messy, name)[CONTRACTS[name].time_column]
        parsed = pd.to_datetime(when, utc=True, errors="coerce", format="ISO8601")
        assert (parsed.isna() & when.notna()).sum() > 0


def test_negative_amounts_switch(tmp_path: Path) -> None:
    clean, messy = _clean_and_messy(tmp_path, negative_amounts=0.05)
    assert (_read(messy, "purchases")["amount"] < 0).mean() > 0.02
    assert (_read(clean, "purchases")["amount"] >= 0).all()


def test_unknown_customers_switch(tmp_path: Path) -> None:
    _, messy = _clean_and_messy(tmp_path, unknown_customers=0.05)
    known = set(_read(messy, "customers")["customer_id"])
    for name in FILLED[1:]:
        unknown = ~_read(messy, name)["customer_id"].isin(known)
        assert 0.01 < unknown.mean() < 0.1


def test_out_of_range_scores_switch(tmp_path: Path) -> None:
    _, messy = _clean_and_messy(tmp_path, out_of_range_scores=0.1)
    surveys = _read(messy, "survey_responses")
    for kind, (low, high) in SURVEY_SCORE_RANGES.items():
        scores = surveys.loc[surveys["survey_type"] == kind, "score"]
        assert (~scores.between(low, high)).sum() > 0
    assert (~_read(messy, "support_tickets")["csat"].dropna().between(1, 5)).sum() > 0
    assert (~_read(messy, "advocacy_events")["rating"].dropna().between(1, 5)).sum() > 0


def test_mixed_timezones_switch_keeps_the_same_instants(tmp_path: Path) -> None:
    clean, messy = _clean_and_messy(tmp_path, mixed_timezones=0.1)
    for name in FILLED:
        column = CONTRACTS[name].time_column
        text = _read(messy, name)[column]
        assert (~text.str.endswith("Z")).mean() > 0.05
        assert text.str.contains(r"[+-]\d\d:\d\d$").any()
        naive = ~text.str.contains(r"(?:Z|[+-]\d\d:\d\d)$")
        assert naive.any()
        parsed = [
            pd.Timestamp(value).tz_localize(UTC)
            if is_naive
            else pd.Timestamp(value).tz_convert(UTC)
            for value, is_naive in zip(text, naive, strict=True)
        ]
        assert pd.Series(parsed).equals(pd.Series(list(_read(clean, name)[column])))
    assert datetime(2026, 10, 1, tzinfo=UTC) == END.to_pydatetime()


def test_world_json_does_not_depend_on_where_the_world_is_written(tmp_path: Path) -> None:
    for name in ("one", "two"):
        generate_world(GeneratorSettings(customers=50, out=tmp_path / name), tmp_path / name)
    assert (tmp_path / "one" / "world.json").read_bytes() == (
        tmp_path / "two" / "world.json"
    ).read_bytes()
