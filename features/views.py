"""A DuckDB connection that sees the six curated tables as views.

The feature and label builders run SQL against such a connection, whether the tables
come from the curated store's Parquet files (production) or from DataFrames (tests,
notebooks), so both paths run the very same SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from features.contracts import CONTRACTS, TABLE_NAMES, with_all_columns
from features.engine import EngineSettings, connect


def open_version(
    version: Path, threads: int | None = None, engine: EngineSettings | None = None
) -> duckdb.DuckDBPyConnection:
    """Views over one version folder of the curated store (see `features.store`).

    `engine`: DuckDB's memory limit and spill folder (default: half the machine's memory).
    """
    connection = connect(engine or EngineSettings())
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    for name in TABLE_NAMES:
        file = version / f"{name}.parquet"
        if not file.exists():  # a version published before the table was part of the store
            connection.register(f"{name}_frame", with_all_columns(pd.DataFrame(), CONTRACTS[name]))
            connection.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_frame")
            continue
        path = file.as_posix().replace("'", "''")
        connection.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return connection


def open_frames(tables: Mapping[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """Views over in-memory tables (missing tables and optional columns are empty or NULL)."""
    connection = connect(EngineSettings())
    for name in TABLE_NAMES:
        frame = with_all_columns(tables.get(name, pd.DataFrame()), CONTRACTS[name])
        connection.register(f"{name}_frame", frame)
        connection.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_frame")
    return connection
