"""Known customer ids: the same answers as Arrow's is_in, also when hashes collide."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from features import known_ids
from features.known_ids import KnownIds

IDS = pa.array([f"C{i:05d}" for i in range(0, 2000, 2)] + ["Zoë", ""])
VALUES = pa.array(["C00000", "C00001", "C01998", "C01999", None, "Zoë", "zoë", "", "C0000"])


def test_the_answers_are_arrows() -> None:
    expected = pc.is_in(VALUES, value_set=IDS).to_numpy(zero_copy_only=False)
    assert KnownIds(IDS).contains(VALUES).tolist() == expected.tolist()
    assert expected.tolist() == [True, False, True, False, False, True, False, True, False]


def test_ids_sharing_a_hash_are_told_apart_by_their_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hashes of a few distinct values: most ids and values share one with others.
    monkeypatch.setattr(
        known_ids,
        "id_hashes",
        lambda ids: np.array([len(v or "") % 3 for v in ids.to_pylist()], dtype=np.uint64),
    )
    expected = pc.is_in(VALUES, value_set=IDS).to_numpy(zero_copy_only=False)
    assert KnownIds(IDS).contains(VALUES).tolist() == expected.tolist()


def test_no_ids_or_no_values() -> None:
    assert KnownIds(pa.array([], type=pa.string())).contains(VALUES).tolist() == [False] * 9
    assert KnownIds(IDS).contains(pa.array([], type=pa.string())).tolist() == []
