"""The command line: its contract of commands, flags, messages and exit statuses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.contracts import TABLE_NAMES
from features.store import current_version, read_table
from pipelines.cli import main
from pipelines.config import DEFAULT_CONFIG


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    assert main(["generate", "--customers", "300", "--seed", "3", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("command", [[], ["generate"], ["ingest"], ["demo"]])
def test_help_everywhere(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_generate_writes_the_five_tables(world: Path) -> None:
    assert sorted(p.stem for p in world.glob("*.parquet")) == sorted(TABLE_NAMES)
    assert len(pd.read_parquet(world / "customers.parquet")) == 300


def test_ingest_publishes_a_store_and_reports(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert main(["ingest", "--source", str(world), "--store", str(store)]) == 0
    printed = capsys.readouterr().out
    assert "purchases" in printed
    assert str(current_version(store)) in printed.replace("\n", "")
    assert len(read_table(current_version(store), "customers")) == 300


def test_user_errors_exit_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["ingest", "--source", str(tmp_path / "missing"), "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert status == 2
    assert "customers.parquet or customers.csv" in err
    assert "Traceback" not in err


def test_invalid_flag_value_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--customers", "0"]) == 2
    assert "customers" in capsys.readouterr().err


def test_unknown_config_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("ingest:\n  sorce: data/x\n")
    assert main(["ingest", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "ingest.sorce" in err
    assert str(config) in err.replace("\n", "")


def test_unknown_command_exits_2() -> None:
    assert main(["fly"]) == 2


def test_internal_failure_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr("pipelines.cli.ingest", broken)
    assert main(["ingest", "--source", str(tmp_path), "--store", str(tmp_path / "s")]) == 1


def test_features_command_writes_one_cutoff(world: Path, tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "features.parquet"
    assert main(["ingest", "--source", str(world), "--store", str(store)]) == 0
    assert (
        main(["features", "--store", str(store), "--as-of", "2026-05-01", "--out", str(out)]) == 0
    )
    table = pd.read_parquet(out)
    assert table["cutoff"].eq(pd.Timestamp("2026-05-01T00:00:00Z")).all()
    assert table["customer_id"].is_unique and len(table) > 50


@pytest.mark.parametrize("command", [["train"], ["score"], ["promote"]])
def test_help_of_the_model_commands(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_scoring_without_a_champion_says_how_to_get_one(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert main(["ingest", "--source", str(world), "--store", str(store)]) == 0
    status = main(["score", "--store", str(store), "--as-of", "2026-10-01"])
    err = capsys.readouterr().err
    assert status == 2
    assert "no 'champion'" in err and "advocacy train" in err
    assert "Traceback" not in err


def test_promoting_a_missing_version_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["promote", "5"]) == 2
    assert "has no version 5" in capsys.readouterr().err


def test_schedule_without_a_prefect_server_says_what_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):  # a test harness may set it
        assert main(["schedule", "--cron", "0 6 * * 1"]) == 2
    assert "prefect server start" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--score-cron", "61 * * * *"], "schedule.score_cron (--score-cron): '61 * * * *'"),
        (["--train-cron", "every month"], "schedule.train_cron (--train-cron): 'every month'"),
    ],
)
def test_a_bad_cron_exits_2_with_one_line(
    flags: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule", *flags]) == 2
    err = capsys.readouterr().err
    assert named in err and "not a cron schedule" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_schedule_time_zone_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "schedule.yaml"
    config.write_text("schedule: {timezone: Europe/Atlantis}\n")
    assert main(["schedule", "--config", str(config)]) == 2
    assert "schedule.timezone: Value error, unknown time zone 'Europe/Atlantis'" in (
        capsys.readouterr().err.replace("\n", "")
    )


def test_train_registers_a_champion_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world, store = tmp_path / "world", tmp_path / "store"
    assert main(["generate", "--customers", "20000", "--seed", "7", "--out", str(world)]) == 0
    assert (
        main(["ingest", "--source", str(world), "--store", str(store), "--as-of", "2026-11-01"])
        == 0
    )
    capsys.readouterr()
    config = tmp_path / "config.yaml"
    config.write_text(
        DEFAULT_CONFIG.read_text()
        .replace("out: data/training", f"out: {tmp_path / 'training'}")
        .replace("artifacts: data/mlflow/artifacts", f"artifacts: {tmp_path / 'artifacts'}")
    )
    truth = world / "truth" / "propensity.parquet"
    status = main(["train", "--store", str(store), "--truth", str(truth), "--config", str(config)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "model version 1 -> champion" in printed
    assert (tmp_path / "training" / "version-1" / "model_card.md").exists()
