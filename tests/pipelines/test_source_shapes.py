"""Sources in every shape a company has, through the real command line.

Each case changes a small generated world the way a real source differs from the
contract (a table missing or header-only, an optional column missing, hundreds of
categories, its own names and file layout) and runs `advocacy ingest` and `advocacy
features` on it: exit 0, no traceback, and a manifest that says what the source had.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.availability import available_features
from features.contracts import CONTRACTS, OPTIONAL_TABLES, TABLE_NAMES
from features.generator import GeneratorSettings, generate_world
from features.store import current_version, present_sources, read_table
from models.scoring.segments import assign_segments
from pipelines.cli import main
from pipelines.config import load_config

AS_OF = "2026-11-01"
CUTOFF = "2026-07-01"
CUSTOMERS = 300
# Count features of each optional table's family: all 0 when the table has no rows.
FAMILY_COUNTS = {  # outreach feeds no feature
    "support_tickets": "tickets_365d",
    "survey_responses": "surveys_365d",
    "advocacy_events": "advocacy_365d",
}

Shape = Callable[[Path], dict[str, object]]
"""Changes the world in a folder; returns the `ingest.tables` mapping it needs."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(GeneratorSettings(customers=CUSTOMERS, seed=5), out)
    return out


def without_table(table: str) -> Shape:
    def change(folder: Path) -> dict[str, object]:
        (folder / f"{table}.parquet").unlink()
        return {}

    return change


def header_only(table: str, suffix: str) -> Shape:
    def change(folder: Path) -> dict[str, object]:
        path = folder / f"{table}.parquet"
        empty = pd.read_parquet(path).iloc[:0]
        path.unlink()
        if suffix == "csv":
            empty.to_csv(folder / f"{table}.csv", index=False)
        else:
            empty.to_parquet(path)
        return {}

    return change


def without_column(table: str, column: str) -> Shape:
    def change(folder: Path) -> dict[str, object]:
        path = folder / f"{table}.parquet"
        pd.read_parquet(path).drop(columns=column).to_parquet(path)
        return {}

    return change


def as_an_export(folder: Path) -> dict[str, object]:
    """Orders in one semicolon CSV per year, with their own names, words and number format."""
    path = folder / "purchases.parquet"
    orders = pd.read_parquet(path)
    path.unlink()
    local = orders["ordered_at"].dt.tz_convert("Asia/Tokyo")
    export = pd.DataFrame(
        {
            "Order": orders["order_id"],
            "Customer": orders["customer_id"],
            "Placed": local.dt.strftime("%d/%m/%Y %H:%M:%S"),
            "Total": orders["amount"].map(lambda amount: f"{amount:.2f}".replace(".", ",")),
            "Currency": orders["currency"],
            "Department": orders["category"],
            "Channel": orders["channel"],
            "Discount": orders["discount"].map(lambda share: f"{share:.2f}".replace(".", ",")),
            "State": orders["status"].replace({"completed": "shipped", "returned": "refunded"}),
        }
    )
    for year, rows in export.groupby(local.dt.year):
        rows.to_csv(folder / f"orders {year}.csv", sep=";", index=False)
    return {
        "purchases": {
            "file": "orders *.csv",
            "delimiter": ";",
            "decimal": ",",
            "timestamp_format": "%d/%m/%Y %H:%M:%S",
            "timezone": "Asia/Tokyo",
            "columns": {
                "Order": "order_id",
                "Customer": "customer_id",
                "Placed": "ordered_at",
                "Total": "amount",
                "Currency": "currency",
                "Department": "category",
                "Channel": "channel",
                "Discount": "discount",
                "State": "status",
            },
            "values": {"State": {"shipped": "completed", "refunded": "returned"}},
        }
    }


SHAPES: dict[str, Shape] = {
    **{f"no {t}": without_table(t) for t in OPTIONAL_TABLES},
    **{
        f"{t} header only ({s})": header_only(t, s)
        for t in OPTIONAL_TABLES
        for s in ("csv", "parquet")
    },
    **{
        f"no {t}.{c.name}": without_column(t, c.name)
        for t in TABLE_NAMES
        for c in CONTRACTS[t].columns
        if not c.required
    },
    "an export with its own names and files": as_an_export,
}


def run_shape(
    world: Path, folder: Path, shape: Shape, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, pd.DataFrame]:
    """Ingest the changed world and build features through the CLI; the store and features."""
    source = folder / "source"
    shutil.copytree(world, source, ignore=shutil.ignore_patterns("truth", "world.json"))
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({"ingest": {"tables": shape(source)}}))
    store, features = folder / "store", folder / "features.parquet"
    common = ["--store", str(store), "--config", str(config)]
    assert main(["ingest", "--source", str(source), "--as-of", AS_OF, *common]) == 0
    assert main(["features", "--as-of", CUTOFF, "--out", str(features), *common]) == 0
    assert "Traceback" not in capsys.readouterr().err
    return current_version(store), pd.read_parquet(features)


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_shape_ingests_and_builds_features(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    version, features = run_shape(world, tmp_path, SHAPES[name], capsys)
    present = present_sources(version)
    assert len(features) > CUSTOMERS / 2
    assert list(features.columns[2:]) == list(available_features(present))
    if name.startswith("no ") and "." not in name:
        table = name.removeprefix("no ")
        assert table not in present
        assert table not in FAMILY_COUNTS or FAMILY_COUNTS[table] not in features
    elif "header only" in name:
        table = name.split()[0]
        assert present[table] == list(CONTRACTS[table].column_names)
        assert table not in FAMILY_COUNTS or (features[FAMILY_COUNTS[table]] == 0).all()
    elif name.startswith("no "):
        table, column = name.removeprefix("no ").split(".")
        assert present[table] == [c for c in CONTRACTS[table].column_names if c != column]
        assert read_table(version, table)[column].isna().all()
    else:
        assert present == {t: list(CONTRACTS[t].column_names) for t in TABLE_NAMES}


def test_an_export_through_a_mapping_stores_what_the_contract_files_store(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, plain_features = run_shape(world, tmp_path / "plain", lambda _: {}, capsys)
    mapped, mapped_features = run_shape(world, tmp_path / "mapped", as_an_export, capsys)
    for table in TABLE_NAMES:
        pd.testing.assert_frame_equal(
            read_table(mapped, table).sort_values(CONTRACTS[table].id_column, ignore_index=True),
            read_table(plain, table).sort_values(CONTRACTS[table].id_column, ignore_index=True),
        )
    pd.testing.assert_frame_equal(mapped_features, plain_features)


def test_hundreds_of_categories_are_counted_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = tmp_path / "world"
    generate_world(GeneratorSettings(customers=CUSTOMERS, seed=5, categories=500), world)
    version, features = run_shape(world, tmp_path, lambda _: {}, capsys)
    orders = read_table(version, "purchases")
    assert orders["category"].nunique() == 500
    cutoff = pd.Timestamp(CUTOFF, tz="UTC")
    recent = orders[
        (orders["ordered_at"] < cutoff)
        & (orders["ordered_at"] >= cutoff - pd.Timedelta(days=365))
        & (orders["status"] != "cancelled")
    ]
    expected = recent.groupby("customer_id")["category"].nunique()
    counted = features.set_index("customer_id")["categories_365d"]
    assert counted.to_dict() == expected.reindex(counted.index, fill_value=0).to_dict()


def recover_first_share(features: pd.DataFrame) -> float:
    """Share of customers the default segment rules put in "Recover first"."""
    percentile = pd.Series(0.0, index=features.index)  # no one in a top share
    segments = assign_segments(features, percentile, load_config().scoring.segments)
    return float((segments["segment"] == "Recover first").mean())


def test_tickets_without_resolved_at_recover_about_as_many_as_the_full_world(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, full = run_shape(world, tmp_path / "full", lambda _: {}, capsys)
    _, unresolved = run_shape(
        world, tmp_path / "unresolved", without_column("support_tickets", "resolved_at"), capsys
    )
    assert "open_urgent_tickets" not in unresolved  # not "open forever"
    assert abs(recover_first_share(unresolved) - recover_first_share(full)) < 0.03
    assert recover_first_share(unresolved) < 0.15


# -- the dry run


def test_check_source_reports_without_publishing(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source"
    shutil.copytree(world, source, ignore=shutil.ignore_patterns("truth", "world.json"))
    (source / "support_tickets.parquet").unlink()
    without_column("purchases", "discount")(source)
    store = tmp_path / "store"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"ingest": {"store": str(store), "as_of": AS_OF}}))
    assert main(["check-source", "--source", str(source), "--config", str(config)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "Absent tables: support_tickets" in printed
    assert "Absent optional columns: purchases.discount" in printed
    assert "Feature families available: profile, purchases, surveys, comments, advocacy" in printed
    assert "Not available (no source data): support" in printed
    assert "Recover first: `open_urgent_tickets >= 1`" in printed
    assert "last_nps" not in printed.split("cannot hold")[-1]
    assert not store.exists()


def test_check_source_exits_2_with_one_line_when_no_store_can_be_built(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source"
    shutil.copytree(world, source, ignore=shutil.ignore_patterns("truth", "world.json"))
    (source / "purchases.parquet").unlink()
    assert main(["check-source", "--source", str(source)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no purchases.parquet or purchases.csv" in err
