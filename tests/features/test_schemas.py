"""The feature table's schema: real tables pass, each broken invariant is stopped briefly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import features.build
from features.build import build_features, store_features, write_features
from features.errors import UserError
from features.ingest import IngestSettings, ingest
from features.schemas import (
    REPORTED_CHECKS,
    TableSchemaError,
    feature_table_schema,
    validate_table,
)
from features.store import current_version
from features.views import open_frames
from tests.worlds import clean_tables, typed

CUTOFFS = [pd.Timestamp("2024-03-15T00:00:00Z"), pd.Timestamp("2024-04-15T00:00:00Z")]
CUTOFF = CUTOFFS[0]


@pytest.fixture
def table() -> pd.DataFrame:
    """C1 and C2 at two cutoffs; C2 has no NPS answer, so its `last_nps` is missing."""
    return build_features(open_frames(typed(clean_tables())), CUTOFFS)


@pytest.fixture
def store_version(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    for name, frame in clean_tables().items():
        frame.to_csv(source / f"{name}.csv", index=False)
    ingest(IngestSettings(source=source, store=tmp_path / "store", as_of="2025-01-01T00:00:00Z"))
    return current_version(tmp_path / "store")


def test_real_feature_table_passes(table: pd.DataFrame) -> None:
    assert table["customer_id"].duplicated().any()  # unique only together with the cutoff
    assert table["last_nps"].isna().any()  # missing where the registry says "missing"
    validate_table(table, feature_table_schema())


def _duplicate_first_row(t: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([t, t.head(1)], ignore_index=True)


def _with(column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(t: pd.DataFrame) -> pd.DataFrame:
        t = t.copy()
        t.loc[0, column] = value
        return t

    return change


BROKEN: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "missing feature": (lambda t: t.drop(columns="orders_90d"), "column_in_dataframe"),
    "extra column": (lambda t: t.assign(label=1), "column_in_schema"),
    "out of registry order": (
        lambda t: t[["customer_id", "cutoff", *reversed(t.columns[2:])]],
        "column_ordered",
    ),
    "float count": (lambda t: t.astype({"orders_30d": "float64"}), "orders_30d: dtype('int64')"),
    "duplicate customer at a cutoff": (_duplicate_first_row, "multiple_fields_uniqueness"),
    "missing customer": (_with("customer_id", None), "customer_id: not_nullable"),
    "missing value where the rule is 0": (_with("revenue_90d", None), "revenue_90d: not_nullable"),
    "cutoff in another zone": (
        lambda t: t.assign(cutoff=t["cutoff"].dt.tz_convert("Europe/Berlin")),
        "cutoff: utc_timestamp",
    ),
    "naive cutoff": (
        lambda t: t.assign(cutoff=t["cutoff"].dt.tz_localize(None)),
        "cutoff: utc_timestamp",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_feature_table_is_stopped(table: pd.DataFrame, case: str) -> None:
    breaks, check = BROKEN[case]
    with pytest.raises(TableSchemaError) as caught:
        validate_table(breaks(table), feature_table_schema())
    message = str(caught.value)
    assert message.startswith("The feature table breaks 1 check(s)")
    assert check in message
    assert not isinstance(caught.value, UserError)  # a defect in the code, not the input


def test_report_lists_a_few_checks_not_every_failure(table: pd.DataFrame) -> None:
    zero_rule_floats = ["tenure_days", "revenue_30d", "revenue_90d", "revenue_365d", "revenue_all"]
    counts = ["orders_30d", "orders_90d", "orders_365d", "orders_all", "past_reviews"]
    broken = table.assign(**dict.fromkeys(zero_rule_floats, np.nan))
    broken = broken.astype(dict.fromkeys(counts, "float64"))
    with pytest.raises(TableSchemaError) as caught:
        validate_table(broken, feature_table_schema())
    lines = str(caught.value).splitlines()
    assert lines[0] == "The feature table breaks 10 check(s) of its schema:"
    assert len(lines) == 1 + REPORTED_CHECKS + 1
    assert lines[-1] == "  ... and 2 more"


def test_written_feature_table_passes(store_version: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    write_features(store_version, CUTOFF, out)
    written = pd.read_parquet(out)
    assert "categories_365d" not in written  # the source's purchases have no category
    validate_table(written, feature_table_schema(store_features(store_version)))


def test_broken_feature_table_is_not_written(
    store_version: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def build_without_a_feature(*args: object) -> pd.DataFrame:
        return build_features(*args).drop(columns="last_nps")

    monkeypatch.setattr(features.build, "build_features", build_without_a_feature)
    out = tmp_path / "features.parquet"
    with pytest.raises(TableSchemaError, match="last_nps"):
        write_features(store_version, CUTOFF, out)
    assert not out.exists()
