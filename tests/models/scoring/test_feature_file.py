"""Reading parts of a feature table: slices across row groups, samples, some columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.scoring.feature_file import FeatureColumns, read_columns, read_rows, sample_rows


@pytest.fixture
def table(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    """1,000 rows written in row groups of 64 rows."""
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series([f"C{i:04d}" for i in range(1000)], dtype="str"),
            "tenure_days": np.arange(1000, dtype="float64") * 1.5,
            "orders_total": np.arange(1000) % 7,
        }
    )
    path = tmp_path / "features.parquet"
    frame.to_parquet(path, index=False, row_group_size=64)
    return frame, path


@pytest.mark.parametrize(("start", "stop"), [(0, 1000), (0, 64), (63, 65), (100, 900), (999, 1000)])
def test_rows_of_a_slice_across_row_groups(
    table: tuple[pd.DataFrame, Path], start: int, stop: int
) -> None:
    frame, path = table
    expected = frame.iloc[start:stop].reset_index(drop=True)
    pd.testing.assert_frame_equal(read_rows(path, start, stop), expected)


def test_a_sample_is_the_one_pandas_draws(table: tuple[pd.DataFrame, Path]) -> None:
    frame, path = table
    expected = frame.sample(300, random_state=4).reset_index(drop=True)
    pd.testing.assert_frame_equal(sample_rows(path, 300, seed=4), expected)
    assert len(sample_rows(path, 5000)) == 1000  # no more rows than the table has


def test_columns_the_table_lacks_are_left_out(table: tuple[pd.DataFrame, Path]) -> None:
    frame, path = table
    read = read_columns(path, ["tenure_days", "open_urgent_tickets", "tenure_days"])
    pd.testing.assert_frame_equal(read, frame[["tenure_days"]])
    pd.testing.assert_series_equal(FeatureColumns(path)["orders_total"], frame["orders_total"])
