"""The outreach commands: simulate a run's send, then evaluate it into a report and MLflow."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from benchmarks.bench_outreach import closed_loop
from models.outreach.plan import plan_from_run
from pipelines.cli import main


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("loop")
    closed_loop(11, 3_000, folder, 0.15)
    return folder


def test_plan_outreach_writes_the_runs_asked_customers(
    loop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.csv"
    assert main(["plan-outreach", str(loop / "run"), "--out", str(out)]) == 0
    written = pd.read_csv(out, dtype={"customer_id": "str"})
    ranked = pd.read_parquet(loop / "run" / "ranked_list.parquet")
    expected = plan_from_run(ranked, ["Champion", "Likely advocate"], 1.0)
    assert written["customer_id"].tolist() == expected["customer_id"].tolist()
    assert not written["customer_id"].isin(ranked.loc[ranked["control"], "customer_id"]).any()
    assert f"{len(expected):,} contacts of Champion, Likely advocate" in capsys.readouterr().out


def test_evaluate_outreach_prints_writes_and_logs_without_customer_ids(
    loop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["evaluate-outreach", str(loop / "run"), "--store", str(loop / "store")])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "What the outreach of run run did" in printed and "ROI" in printed
    report = (loop / "run" / "evaluation" / "outreach.html").read_text()
    table = pd.read_csv(loop / "run" / "evaluation" / "outreach.csv")
    assert table["segment"].tolist() == ["Champion", "Likely advocate"]
    runs = mlflow.search_runs(filter_string="tags.kind = 'outreach-evaluation'")
    assert len(runs) == 1 and runs["params.as_of"].iloc[0].startswith("2026-07-02")
    assert runs["metrics.champion_ambassador.lift"].iloc[0] == table["lift"].iloc[0]
    artifacts = MlflowClient().list_artifacts(runs["run_id"].iloc[0], "evaluation")
    assert sorted(Path(a.path).name for a in artifacts) == [
        "outreach.csv",
        "outreach.html",
        "outreach.json",
    ]
    ids = pd.read_parquet(loop / "run" / "ranked_list.parquet")["customer_id"]
    for text in (report, (loop / "run" / "evaluation" / "outreach.json").read_text()):
        assert not any(customer in text for customer in ids.head(200))


def test_evaluating_a_run_that_is_not_there_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate-outreach", "no-such-run"]) == 2
    assert "No scoring run 'no-such-run'" in capsys.readouterr().err
