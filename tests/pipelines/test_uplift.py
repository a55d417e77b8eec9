"""The uplift model: trained on runs' control groups, judged on true effects, ordering the list."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import openpyxl
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from benchmarks.bench_uplift import experiment_world
from features.build import store_features
from features.store import current_version
from models.model_registry import CHAMPION
from models.scoring.files import LIST_SHEET, latest_run
from models.scoring.run import choose_uplift
from models.uplift import UPLIFT_MODEL_NAME
from pipelines.cli import main
from pipelines.web.listing import ListFilter, RunList

AS_OF = "2026-10-01"
ORDER_COLUMN = {"propensity": "probability", "uplift": "uplift", "expected_value": "expected_value"}


@dataclass(frozen=True)
class Site:
    """An experiment world the uplift model learned from, and a shop scored with it."""

    folder: Path
    tracking_uri: str
    trained: str
    runs: dict[str, tuple[Path, str]]
    """Per `scoring.order_by`, the shop's scoring run and what `advocacy score` printed."""


def run(*argv: str) -> tuple[int, str, str]:
    """`advocacy <argv>`: exit status, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, prefect_api: None) -> Iterator[Site]:
    """Quarterly experiments on 20,000 customers; a 3,000-customer shop scored in each order."""
    folder = tmp_path_factory.mktemp("uplift")
    experiment_world(1, 20_000, folder / "experiment")
    settings = {
        "ingest": {"store": str(folder / "store"), "as_of": "2026-10-02T00:00:00Z"},
        "training_set": {"training_cutoffs": 6},
        "train": {"out": str(folder / "training"), "reference_num_leaves": None},
        "tracking": {"artifacts": str(folder / "artifacts")},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(settings))
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    config = ["--config", str(folder / "config.yaml")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.delenv("ADVOCACY_CONFIG", raising=False)
        patch.setattr("pipelines.config.LOCAL_CONFIG", folder / "no-local.yaml")
        shop = ["--customers", "3000", "--seed", "5", "--out", str(folder / "shop")]
        assert run("generate", *shop)[0] == 0
        assert run("ingest", "--source", str(folder / "shop"), *config)[0] == 0
        status, _, err = run("train", *config)
        assert status == 0, err
        experiment = folder / "experiment"
        status, trained, err = run(
            "train-uplift",
            "--store",
            str(experiment / "store"),
            "--scores",
            str(experiment / "scores"),
            "--truth",
            str(experiment / "asked" / "truth" / "outreach_effect.parquet"),
            *config,
        )
        assert status == 0, err
        runs = {}
        for order in ORDER_COLUMN:
            change = {"scoring": {"out": str(folder / order), "order_by": order}}
            (folder / f"{order}.yaml").write_text(yaml.safe_dump(change))
            status, printed, err = run(
                "score",
                "--as-of",
                AS_OF,
                "--store",
                str(folder / "store"),
                "--config",
                str(folder / f"{order}.yaml"),
            )
            assert status == 0, err
            runs[order] = (latest_run(folder / order), printed)
        yield Site(folder, uri, trained, runs)
    mlflow.set_tracking_uri(None)


@pytest.fixture
def tracked(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The site, with its tracking store in use by this test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", site.tracking_uri)
    mlflow.set_tracking_uri(site.tracking_uri)
    return site


def test_uplift_ranking_finds_most_of_the_true_effects_qini(tracked: Site) -> None:
    [training] = mlflow.search_runs(
        filter_string="tags.kind = 'uplift-training'", output_format="list"
    )
    metrics = training.data.metrics
    # Judged on the last quarter's experiment, which it did not learn from.
    assert metrics["qini_true_share"] >= 0.7, metrics
    assert metrics["qini_true"] == pytest.approx(
        metrics["qini_true_share"] * metrics["qini_true_best"]
    )
    assert training.data.params["evaluation_as_of"].startswith("2026-07-01")
    assert training.data.params["training_runs"].count("_vtruth") == 4
    assert "of the best ranking's" in " ".join(tracked.trained.split())
    plots = MlflowClient().list_artifacts(training.info.run_id, "uplift")
    assert sorted(Path(a.path).name for a in plots) == ["qini_observed.png", "qini_true.png"]
    version = MlflowClient().get_model_version_by_alias(UPLIFT_MODEL_NAME, CHAMPION)
    assert version.run_id == training.info.run_id


def cells(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """What a spreadsheet holds for each row: empty text is an empty cell."""
    shown = frame.assign(as_of=frame["as_of"].dt.strftime("%Y-%m-%d %H:%M %Z"))
    shown = shown.astype(object).where(shown.notna(), None).replace({"": None})
    return [tuple(row) for row in shown.itertuples(index=False)]


@pytest.mark.parametrize("order", list(ORDER_COLUMN))
def test_each_order_ranks_the_list_and_every_file_marketing_gets(site: Site, order: str) -> None:
    folder, printed = site.runs[order]
    assert f"by {order})" in " ".join(printed.split())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["order"] == {
        "asked": order,
        "used": order,
        "uplift_model_version": "1",
        "note": None,
    }
    ranked = pd.read_parquet(folder / "ranked_list.parquet")
    assert list(ranked.columns[2:5]) == ["probability", "uplift", "expected_value"]
    key = ranked[ORDER_COLUMN[order]]
    assert key.is_monotonic_decreasing and key.iloc[0] > key.iloc[-1]
    # Places in the list follow the order, after "Recover first" took its own.
    recover = ranked["segment"] == "Recover first"
    placed = ranked[~recover & ranked["segment"].isin(["Champion", "Likely advocate"])]
    rest = ranked[~recover & ~ranked["segment"].isin(["Champion", "Likely advocate"])]
    assert placed[ORDER_COLUMN[order]].min() >= rest[ORDER_COLUMN[order]].max()

    written = pd.read_csv(
        folder / "ranked_list.csv", dtype={"customer_id": "str", "model_version": "str"}
    )
    assert written.columns.tolist() == ranked.columns.tolist()
    pd.testing.assert_frame_equal(
        written.drop(columns="as_of").fillna(""),
        ranked.drop(columns="as_of").astype({c: object for c in ranked.columns[7:10]}).fillna(""),
        check_dtype=False,
    )
    sheet = openpyxl.load_workbook(folder / "ranked_list.xlsx")[LIST_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2:5] == (
        "Chance of advocating in the next 90 days",
        "Extra chance if asked",
        "Expected value of asking",
    )
    assert rows[1:] == cells(ranked)
    champions = pd.read_csv(folder / "segments" / "champion.csv", dtype={"customer_id": "str"})
    expected = ranked[
        (ranked["segment"] == "Champion") & ranked["contactable"] & ~ranked["control"]
    ]
    assert champions["customer_id"].tolist() == expected["customer_id"].tolist()
    assert champions["uplift"].tolist() == pytest.approx(expected["uplift"].tolist())

    listing = RunList(folder / "ranked_list.parquet", list(manifest["segments"]))
    downloaded = listing.download(ListFilter(include_not_contactable=True))
    assert downloaded.columns.tolist() == ranked.columns.tolist()
    pd.testing.assert_frame_equal(
        downloaded.drop(columns="as_of"),
        ranked[~ranked["control"]].reset_index(drop=True).drop(columns="as_of"),
        check_dtype=False,
    )


def test_recover_first_keeps_its_rule_while_the_orders_differ(site: Site) -> None:
    lists = {
        order: pd.read_parquet(folder / "ranked_list.parquet")
        for order, (folder, _) in site.runs.items()
    }
    recover = {
        order: set(ranked.loc[ranked["segment"] == "Recover first", "customer_id"])
        for order, ranked in lists.items()
    }
    assert recover["propensity"] == recover["uplift"] == recover["expected_value"] != set()
    champions = {
        order: set(ranked.loc[ranked["segment"] == "Champion", "customer_id"])
        for order, ranked in lists.items()
    }
    assert champions["propensity"] != champions["uplift"] != champions["expected_value"]
    by_id = lists["propensity"].set_index("customer_id")["uplift"]
    uplift_first = lists["uplift"]
    assert uplift_first["uplift"].tolist() == by_id.loc[uplift_first["customer_id"]].tolist()


def test_an_order_without_uplift_model_falls_back_to_propensity_in_one_line() -> None:
    model, version, used, note = choose_uplift("uplift", ("last_nps",))
    assert (model, version, used) == (None, None, "propensity")
    assert note == (
        "scoring.order_by is uplift, but there is no uplift model (train one with "
        "`advocacy train-uplift`): the list is ordered by propensity."
    )
    assert choose_uplift("propensity", ("last_nps",)) == (None, None, "propensity", None)


def test_training_without_two_experiment_runs_exits_2(site: Site, tmp_path: Path) -> None:
    store = site.folder / "experiment" / "store"
    status, _, err = run("train-uplift", "--store", str(store), "--scores", str(tmp_path))
    assert status == 2
    assert err.strip().splitlines()[-1].startswith("error: The uplift model needs runs in")
    assert "(found 0)" in err and "Traceback" not in err
    assert store_features(current_version(store))  # the store itself was fine
