"""Real purchases: the CDNOW purchase history, through a mapping, to features.

CDNOW_master.txt ships inside the `lifetimes` package (a dev dependency): 69,659
purchases of the 23,570 customers who first bought at CDNOW in the first quarter of
1997, up to June 1998, one line per customer and day, ids with leading zeros. The file
is read from the installed package's folder, without importing the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from features.build import build_features
from features.ingest import IngestReport, IngestSettings, ingest
from features.store import present_sources
from features.views import open_version

CUTOFF = pd.Timestamp("1998-03-01T00:00:00Z")
ZONE = "America/New_York"  # CDNOW was a US shop; its dates are local days

# The package's own column names, renamed to the contract by the mapping.
MAPPING = {
    "customers": {
        "file": "cdnow_customers.txt",
        "delimiter": "\t",
        "timestamp_format": "%Y%m%d",
        "timezone": ZONE,
        "columns": {"first_purchase": "signup_at"},
    },
    "purchases": {
        "file": "cdnow_purchases_*.txt",
        "delimiter": "\t",
        "timestamp_format": "%Y%m%d",
        "timezone": ZONE,
        "columns": {"transaction_id": "order_id", "date": "ordered_at", "dollar_value": "amount"},
    },
}


def cdnow_master() -> pd.DataFrame:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations is not None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_master.txt"
    return pd.read_csv(path, sep=r"\s+", dtype="str")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return cdnow_master()


@pytest.fixture(scope="module")
def ingested(raw: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> IngestReport:
    """CDNOW as a purchases-only source: one file per year, plus first purchases as signups."""
    source = tmp_path_factory.mktemp("cdnow")
    purchases = raw.assign(transaction_id=[f"T{n}" for n in range(1, len(raw) + 1)])
    for year, rows in purchases.groupby(purchases["date"].str[:4]):
        rows.to_csv(source / f"cdnow_purchases_{year}.txt", sep="\t", index=False)
    first = raw.groupby("customer_id", as_index=False)["date"].min()
    first.rename(columns={"date": "first_purchase"}).to_csv(
        source / "cdnow_customers.txt", sep="\t", index=False
    )
    settings = IngestSettings.model_validate(
        {
            "source": source,
            "store": tmp_path_factory.mktemp("store"),
            "as_of": "1998-07-01T00:00:00Z",
            "tables": MAPPING,
        }
    )
    return ingest(settings)


def expected_features(raw: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The features under test, from the raw file with plain pandas."""
    local = pd.to_datetime(raw["date"], format="%Y%m%d").dt.tz_localize(ZONE)
    orders = raw.assign(at=local.dt.tz_convert("UTC"), amount=raw["dollar_value"].astype("float64"))
    orders = orders[orders["at"] < cutoff]
    orders["age_days"] = (cutoff - orders["at"]).dt.total_seconds() / 86400.0
    by_customer = orders.groupby("customer_id")
    expected = pd.DataFrame(
        {
            "orders_all": by_customer.size(),
            "revenue_all": by_customer["amount"].sum(),
            "revenue_90d": orders[orders["age_days"] <= 90].groupby("customer_id")["amount"].sum(),
            "days_since_last_order": by_customer["age_days"].min(),
        }
    )
    active = by_customer["age_days"].min() <= 365
    return expected[active].fillna({"revenue_90d": 0.0}).sort_index()


def test_every_purchase_and_customer_is_kept(ingested: IngestReport) -> None:
    rows = {t.table: (t.rows_read, t.rows_kept, t.rows_quarantined) for t in ingested.tables}
    assert rows["purchases"] == (69_659, 69_659, 0)
    assert rows["customers"] == (23_570, 23_570, 0)
    assert [
        Path(f).name for f in next(t for t in ingested.tables if t.table == "purchases").files
    ] == [
        "cdnow_purchases_1997.txt",
        "cdnow_purchases_1998.txt",
    ]
    assert set(present_sources(ingested.store_version)) == {"customers", "purchases"}


@pytest.fixture(scope="module")
def features(ingested: IngestReport) -> pd.DataFrame:
    table = build_features(open_version(ingested.store_version), [CUTOFF])
    return table.set_index("customer_id").sort_index()


def test_features_agree_with_plain_pandas_on_the_raw_file(
    raw: pd.DataFrame, features: pd.DataFrame
) -> None:
    expected = expected_features(raw, CUTOFF)
    assert features.index.tolist() == expected.index.tolist()
    assert features["orders_all"].tolist() == expected["orders_all"].tolist()
    for column in ("revenue_all", "revenue_90d"):
        assert features[column].round(2).tolist() == expected[column].round(2).tolist()
    assert features["days_since_last_order"].tolist() == expected["days_since_last_order"].tolist()
    # Tables the source does not have give empty families.
    assert (features["tickets_365d"] == 0).all() and features["last_nps"].isna().all()


def test_ids_keep_their_leading_zeros(raw: pd.DataFrame, features: pd.DataFrame) -> None:
    assert features.index.str.fullmatch(r"\d{5}").all()
    assert set(features.index) <= set(raw["customer_id"])
    assert features.index.str.startswith("000").any()
