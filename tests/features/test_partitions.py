"""A store in customer partitions holds the same rows, and gives the same features part by part."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from features.build import FeatureSettings, write_features
from features.contracts import CONTRACTS, TABLE_NAMES
from features.errors import UserError
from features.partitions import combine_partition_features, write_partition_features
from features.store import MANIFEST, partition_count, partition_of, read_table, table_files
from tests.features.partitioned import ingest_in, referred_without_channel

AS_OF = pd.Timestamp("2026-09-01", tz="UTC")
PARTS = 3


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same messy world ingested whole and in three customer partitions."""
    root = tmp_path_factory.mktemp("partitions")
    world = referred_without_channel(root / "world", customers=500, messy=True)
    return ingest_in(world, root / "whole", 1), ingest_in(world, root / "parts", PARTS)


def test_the_hash_of_an_id_is_fixed() -> None:
    # Pinned: a change would move customers between the parts of existing stores.
    ids = pa.array(["C0000001", "C0000002", "C0000004", "C0000005", "C0000006", "Kunde-ü-7"])
    assert partition_of(ids, 4).tolist() == [3, 2, 3, 2, 1, 3]
    assert partition_of(ids.slice(4), 4).tolist() == [1, 3]  # whatever the batch around it


def test_parts_keep_and_quarantine_the_rows_of_the_whole_store(
    versions: tuple[Path, Path],
) -> None:
    whole, parts = versions
    assert partition_count(whole) == 1 and partition_count(parts) == PARTS
    for table in TABLE_NAMES:
        files = table_files(parts, table)
        assert [file.name for file in files] == [f"part-{i:04d}.parquet" for i in range(PARTS)]
        for index, file in enumerate(files):
            rows = pd.read_parquet(file)
            assert (partition_of(pa.array(rows["customer_id"]), PARTS) == index).all(), file
        key = list(CONTRACTS[table].column_names)
        kept = [read_table(v, table).sort_values(key, ignore_index=True) for v in versions]
        pd.testing.assert_frame_equal(kept[1], kept[0])
        quarantined = [pd.read_parquet(v / "quarantine" / f"{table}.parquet") for v in versions]
        pd.testing.assert_frame_equal(quarantined[1], quarantined[0])
    reports = [json.loads((v / MANIFEST).read_text())["tables"] for v in versions]
    assert reports[1] == reports[0]
    quarantined_rows = {report["table"]: report["rows_quarantined"] for report in reports[0]}
    assert quarantined_rows["customers"] > 0 and quarantined_rows["purchases"] > 0
    assert sum(report["exact_duplicates_dropped"] for report in reports[0]) > 0


def test_features_part_by_part_equal_the_whole_build(
    versions: tuple[Path, Path], tmp_path: Path
) -> None:
    whole, parts = versions
    expected = write_features(whole, AS_OF, tmp_path / "whole.parquet")
    # The single-machine build reads a partitioned store as it reads a whole one.
    pd.testing.assert_frame_equal(write_features(parts, AS_OF, tmp_path / "all.parquet"), expected)

    files = [
        write_partition_features(parts, i, AS_OF, tmp_path / f"{i}.parquet", FeatureSettings())
        for i in range(PARTS)
    ]
    rows = combine_partition_features(
        files, AS_OF, tmp_path / "combined.parquet", FeatureSettings()
    )
    assert rows == len(expected)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "combined.parquet"), expected)
    assert not any(file.exists() for file in files)

    # Referred customers whose referrer sits in another part are found all the same.
    events = read_table(whole, "advocacy_events").dropna(subset=["referred_customer_id"])
    referrer = partition_of(pa.array(events["customer_id"]), PARTS)
    referred = partition_of(pa.array(events["referred_customer_id"]), PARTS)
    across = set(events["referred_customer_id"][referrer != referred])
    flagged = expected[expected["acquired_by_referral"] == 1]
    assert flagged["customer_id"].isin(across).sum() > 0


def test_no_eligible_customer_is_one_clear_error(
    versions: tuple[Path, Path], tmp_path: Path
) -> None:
    whole, parts = versions
    early = pd.Timestamp("2000-01-01", tz="UTC")
    with pytest.raises(UserError, match="No customer is eligible as of 2000-01-01"):
        write_features(whole, early, tmp_path / "whole.parquet")
    files = [
        write_partition_features(parts, i, early, tmp_path / f"{i}.parquet", FeatureSettings())
        for i in range(PARTS)
    ]
    with pytest.raises(UserError, match="No customer is eligible as of 2000-01-01"):
        combine_partition_features(files, early, tmp_path / "c.parquet", FeatureSettings())
    assert not (tmp_path / "whole.parquet").exists() and not (tmp_path / "c.parquet").exists()
