"""The SQL feature builder agrees with a plain-pandas reference on a generated world."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.build import build_features
from features.contracts import TABLE_NAMES
from features.definitions import FEATURE_NAMES
from features.generator import GeneratorSettings, generate_world
from features.ingest import IngestSettings, ingest
from features.store import current_version, read_table
from features.views import open_version
from tests.features.reference import reference_features

CUTOFFS = [pd.Timestamp("2025-06-01T00:00:00Z"), pd.Timestamp("2026-03-17T12:00:00Z")]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reference")
    generate_world(GeneratorSettings(customers=600, seed=11), root / "world")
    ingest(
        IngestSettings(source=root / "world", store=root / "store", as_of="2026-11-01T00:00:00Z")
    )
    return root / "store"


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_every_feature_matches_the_reference(store: Path, cutoff: pd.Timestamp) -> None:
    built = build_features(open_version(current_version(store)), [cutoff]).set_index("customer_id")
    tables = {name: read_table(current_version(store), name) for name in TABLE_NAMES}
    expected = reference_features(tables, cutoff)
    assert len(built) > 100
    assert built.index.tolist() == expected.index.tolist()
    columns = list(FEATURE_NAMES)
    pd.testing.assert_frame_equal(
        built[columns].astype("float64"), expected[columns].astype("float64"), rtol=1e-9
    )


def test_several_cutoffs_at_once_equal_one_at_a_time(store: Path) -> None:
    together = build_features(open_version(current_version(store)), CUTOFFS)
    apart = pd.concat(
        [build_features(open_version(current_version(store)), [c]) for c in CUTOFFS],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(together, apart)
