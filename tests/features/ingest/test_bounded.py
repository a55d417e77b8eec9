"""Bounded-memory ingestion stores exactly what the earlier in-memory ingestion stored.

`expected_stores.json` holds per-table content fingerprints of the stores that the
in-memory ingestion (before it was replaced) wrote for small seeded worlds: a clean one,
a messy one (every defect of the generator), and messy variants with a header-only
optional table, missing optional columns, and a mapped source (renamed columns, own
words, monthly files). The new path runs with tiny batches, so rows that share an id
fall into different batches. Re-record (only when a change to the stored data is
intended) with `python -m tests.features.ingest.test_bounded`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from features.contracts import TABLE_NAMES
from features.generator import GeneratorSettings, Messiness, generate_world
from features.ingest import IngestSettings, ingest
from features.store import MANIFEST, current_version

EXPECTED = Path(__file__).with_name("expected_stores.json")
AS_OF = "2026-11-01T00:00:00Z"
MAPPING = {
    "customers": {
        "columns": {"Kundennummer": "customer_id", "Angemeldet": "signup_at"},
        "values": {"plan": {"basic": "Basis"}},
    },
    "purchases": {
        "file": "bestellungen_*.csv",
        "delimiter": ";",
        "columns": {"Bestellnr": "order_id", "Kunde": "customer_id", "Status": "status"},
        "values": {"Status": {"geliefert": "completed", "storniert": "cancelled"}},
    },
}


def _generate(folder: Path, messy: bool) -> Path:
    messiness = Messiness(**dict.fromkeys(Messiness.model_fields, 0.05)) if messy else Messiness()
    settings = GeneratorSettings(
        customers=300, seed=11, years=1.0, truth_months=0, format="csv", messiness=messiness
    )
    generate_world(settings, folder)
    return folder


def _variant(messy: Path, folder: Path, change: str) -> Path:
    shutil.copytree(messy, folder)
    if change == "header_only":
        tickets = pd.read_csv(folder / "support_tickets.csv", dtype="str", nrows=0)
        tickets.to_csv(folder / "support_tickets.csv", index=False)
    elif change == "no_column":
        for table, column in (("purchases", "discount"), ("customers", "plan")):
            frame = pd.read_csv(folder / f"{table}.csv", dtype="str", keep_default_na=False)
            frame.drop(columns=column).to_csv(folder / f"{table}.csv", index=False)
    elif change == "mapped":
        _map(folder)
    return folder


def _map(folder: Path) -> None:
    """The source as a company's own export: its names, its words, two order files."""
    customers = pd.read_csv(folder / "customers.csv", dtype="str", keep_default_na=False)
    customers["plan"] = customers["plan"].replace({"Basis": "basic"})
    customers.rename(columns={"customer_id": "Kundennummer", "signup_at": "Angemeldet"}).to_csv(
        folder / "customers.csv", index=False
    )
    orders = pd.read_csv(folder / "purchases.csv", dtype="str", keep_default_na=False)
    orders["status"] = orders["status"].replace(
        {"completed": "geliefert", "cancelled": "storniert"}
    )
    orders = orders.rename(
        columns={"order_id": "Bestellnr", "customer_id": "Kunde", "status": "Status"}
    )
    half = len(orders) // 2
    orders.iloc[:half].to_csv(folder / "bestellungen_1.csv", sep=";", index=False)
    orders.iloc[half:].to_csv(folder / "bestellungen_2.csv", sep=";", index=False)
    (folder / "purchases.csv").unlink()


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The five source folders, by name."""
    root = tmp_path_factory.mktemp("worlds")
    messy = _generate(root / "messy", messy=True)
    found = {"clean": _generate(root / "clean", messy=False), "messy": messy}
    for change in ("header_only", "no_column", "mapped"):
        found[change] = _variant(messy, root / change, change)
    return found


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """A hash of a table's columns, types, values and row order."""
    digest = hashlib.sha256(json.dumps([[c, str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def store_fingerprints(version: Path) -> dict[str, object]:
    """Every table and quarantine file's fingerprint, and the manifest's counts."""
    found: dict[str, object] = {}
    for name in TABLE_NAMES:
        found[name] = frame_fingerprint(pd.read_parquet(version / f"{name}.parquet"))
        quarantine = pd.read_parquet(version / "quarantine" / f"{name}.parquet")
        if "source_file" in quarantine and len(quarantine):  # temporary folders differ by run
            quarantine["source_file"] = quarantine["source_file"].map(lambda p: Path(p).name)
        found[f"quarantine/{name}"] = frame_fingerprint(quarantine)
    tables = json.loads((version / MANIFEST).read_text())["tables"]
    for table in tables:
        table["files"] = [Path(path).name for path in table["files"]]
    found["manifest"] = tables
    return found


def ingest_world(source: Path, store: Path, name: str) -> Path:
    """Ingest one world into `store`; returns the version folder."""
    tables = MAPPING if name == "mapped" else {}
    ingest(IngestSettings(source=source, store=store, as_of=AS_OF, tables=tables))
    return current_version(store)


@pytest.mark.parametrize("name", ["clean", "messy", "header_only", "no_column", "mapped"])
def test_stores_equal_those_of_in_memory_ingestion(
    worlds: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr("features.ingest.files.BATCH_ROWS", 500)
    version = ingest_world(worlds[name], tmp_path / "store", name)
    assert store_fingerprints(version) == json.loads(EXPECTED.read_text())[name]
    files = {p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file()}
    tables = {f"{name}.parquet" for name in TABLE_NAMES}
    assert files == {MANIFEST, *tables, *(f"quarantine/{table}" for table in tables)}


def _record(root: Path) -> None:
    """Write `expected_stores.json` from the current ingestion."""
    found = {}
    messy = _generate(root / "messy", messy=True)
    sources = {"clean": _generate(root / "clean", messy=False), "messy": messy}
    for change in ("header_only", "no_column", "mapped"):
        sources[change] = _variant(messy, root / change, change)
    for name, source in sources.items():
        found[name] = store_fingerprints(ingest_world(source, root / f"store-{name}", name))
    EXPECTED.write_text(json.dumps(found, indent=1) + "\n")


if __name__ == "__main__":
    _record(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/expected-stores"))
