"""A DuckDB connection that sees the six curated tables as views.

The feature and label builders run SQL against such a connection, whether the tables
come from the curated store's Parquet files (production), from one customer partition
of them (`features.partitions`), or from DataFrames (tests, notebooks), so every path
runs the very same SQL.

Besides the tables, the view `referrals` (referred_customer_id, occurred_at) holds the
referral events that name the customer they brought: the one fact about a customer
that sits in another customer's rows, so on a partition it is read from every part.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from features.contracts import CONTRACTS, TABLE_NAMES, with_all_columns
from features.engine import EngineSettings, connect
from features.store import table_files


def open_version(
    version: Path,
    threads: int | None = None,
    engine: EngineSettings | None = None,
    partition: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """Views over one version folder of the curated store (see `features.store`).

    `engine`: DuckDB's memory limit and spill folder (default: half the machine's memory).
    `partition`: only the customers of this part of a partitioned store (0 for a store
    that is not partitioned); default: all.
    """
    connection = connect(engine or EngineSettings())
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    for name in TABLE_NAMES:
        files = table_files(version, name)
        if not files:  # a version published before the table was part of the store
            connection.register(f"{name}_frame", with_all_columns(pd.DataFrame(), CONTRACTS[name]))
            connection.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_frame")
            continue
        part = files if partition is None else [files[partition]]
        connection.execute(f"CREATE VIEW {name} AS SELECT * FROM {_read_parquet(part)}")
    every = table_files(version, "advocacy_events")
    _create_referrals(
        connection, _read_parquet(every) if partition is not None and every else "advocacy_events"
    )
    return connection


def _read_parquet(files: list[Path]) -> str:
    paths = ", ".join("'" + file.as_posix().replace("'", "''") + "'" for file in files)
    return f"read_parquet([{paths}])"


def _create_referrals(connection: duckdb.DuckDBPyConnection, events: str) -> None:
    connection.execute(
        f"""
        CREATE VIEW referrals AS SELECT referred_customer_id, occurred_at FROM {events}
        WHERE referred_customer_id IS NOT NULL
        """
    )


def open_frames(tables: Mapping[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """Views over in-memory tables (missing tables and optional columns are empty or NULL)."""
    connection = connect(EngineSettings())
    for name in TABLE_NAMES:
        frame = with_all_columns(tables.get(name, pd.DataFrame()), CONTRACTS[name])
        connection.register(f"{name}_frame", frame)
        connection.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_frame")
    _create_referrals(connection, "advocacy_events")
    return connection
