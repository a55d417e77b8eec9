"""Rows that share their id with others, found and judged out of core.

Such rows are judged together: exact copies of an earlier row are dropped, rows that
still share their id are quarantined as `duplicate_id`. A table may have more rows than
memory holds, so the ids, and the rows that share one, are staged as Parquet in a
scratch folder and judged by DuckDB, which spills to disk within its memory limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.batches import parquet_batches
from features.contracts import STORE_DTYPES, TableContract, arrow_schema
from features.engine import EngineSettings, connect

CHUNK_ROWS = 1_000_000
RAW = "raw:"
"""Prefix of the staged columns that hold a row's original text."""


def _sql_path(path: Path) -> str:
    return "'" + path.as_posix().replace("'", "''") + "'"


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


class SharedIds:
    """Which rows, batch by batch in position order, have an id that other rows have too.

    DuckDB writes their positions to a file and is closed before the batches are read:
    its memory is not held while they are checked.
    """

    def __init__(self, engine: EngineSettings, ids_file: Path, positions_file: Path) -> None:
        ids = f"read_parquet({_sql_path(ids_file)})"
        with connect(engine) as connection:
            connection.execute(
                f"COPY (SELECT position FROM {ids} WHERE id IN "
                f"(SELECT id FROM {ids} WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1) "
                f"ORDER BY position) TO {_sql_path(positions_file)} (FORMAT parquet)"
            )
        batches = parquet_batches(positions_file, CHUNK_ROWS)
        self._chunks = (batch.column(0).to_numpy() for batch in batches)
        self._pending = np.empty(0, dtype=np.int64)

    def mask(self, positions: pd.RangeIndex) -> np.ndarray:
        """Whether each row of a batch (consecutive positions, after the previous batch's)."""
        start, stop = positions.start, positions.stop
        while not len(self._pending) or self._pending[-1] < stop:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending = np.concatenate([self._pending, chunk])
        taken = self._pending[self._pending < stop]
        self._pending = self._pending[len(taken) :]
        shared = np.zeros(len(positions), dtype=bool)
        shared[taken - start] = True
        return shared


@dataclass
class HeldRows:
    """Stages the rows that share an id: position, typed values, original text, failures.

    The failures are those of the row's own values (parsing and row checks), in the order
    they were found; `duplicate_id` is decided by `judge`.
    """

    contract: TableContract
    path: Path
    raw_columns: list[str] = field(default_factory=list)
    rows: int = 0
    _writer: pq.ParquetWriter | None = None

    def write(self, raw: pd.DataFrame, typed: pd.DataFrame, failures: pd.DataFrame) -> None:
        """Stage one batch's held rows (`failures`: their row, column, rule records)."""
        if raw.empty:
            return
        if self._writer is None:
            self.raw_columns = list(raw.columns)
            schema = arrow_schema(self.contract)
            schema = pa.schema(
                [
                    ("position", pa.int64()),
                    *schema,
                    *((RAW + c, pa.string()) for c in self.raw_columns),
                    ("failed_columns", pa.list_(pa.string())),
                    ("failed_rules", pa.list_(pa.string())),
                ]
            )
            self._writer = pq.ParquetWriter(self.path, schema)
        by_row = failures.groupby("row", sort=False)
        columns = by_row["column"].agg(list).reindex(raw.index)
        rules = by_row["rule"].agg(list).reindex(raw.index)
        staged = pd.DataFrame({"position": raw.index.to_numpy(dtype=np.int64)}, index=raw.index)
        staged = pd.concat(
            [
                staged,
                typed,
                raw.reindex(columns=self.raw_columns).astype("str").add_prefix(RAW),
            ],
            axis=1,
        )
        staged["failed_columns"] = [c if isinstance(c, list) else [] for c in columns]
        staged["failed_rules"] = [r if isinstance(r, list) else [] for r in rules]
        self._writer.write_table(
            pa.Table.from_pandas(staged, schema=self._writer.schema, preserve_index=False)
        )
        self.rows += len(staged)

    def judge(
        self, engine: EngineSettings, judged_file: Path
    ) -> tuple[int, Iterator[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]]:
        """Judge the staged rows together; returns the count of exact copies dropped.

        And the remaining rows in position order, as (original text, typed values,
        failures) chunks with `duplicate_id` added where rows still share their id.
        """
        if self._writer is None:
            return 0, iter(())
        self._writer.close()
        contract = self.contract
        values = ", ".join(_quoted(c) for c in contract.column_names)
        key = _quoted(contract.id_column)
        with connect(engine) as connection:
            connection.execute(
                f"COPY (SELECT * EXCLUDE (copy), {key} IS NOT NULL "
                f"AND count(*) OVER (PARTITION BY {key}) > 1 AS conflicting FROM ("
                f"SELECT *, row_number() OVER (PARTITION BY {values} ORDER BY position) AS copy "
                f"FROM read_parquet({_sql_path(self.path)})) WHERE copy = 1 ORDER BY position) "
                f"TO {_sql_path(judged_file)} (FORMAT parquet)"
            )
        kept = pq.ParquetFile(judged_file).metadata.num_rows
        return self.rows - kept, self._chunks(judged_file)

    def _chunks(self, judged: Path) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
        contract = self.contract
        kinds = {c.name: STORE_DTYPES[c.kind] for c in contract.columns}
        for batch in parquet_batches(judged, CHUNK_ROWS):
            frame = batch.to_pandas()
            frame.index = pd.Index(frame.pop("position"), dtype="int64")
            typed = frame[list(contract.column_names)].astype(kinds)
            raw = frame[[RAW + c for c in self.raw_columns]]
            raw.columns = self.raw_columns
            found = frame[["failed_columns", "failed_rules"]].explode(
                ["failed_columns", "failed_rules"]
            )
            found = found.dropna()
            conflicting = frame.index[frame["conflicting"].to_numpy(dtype=bool)]
            failures = pd.concat(
                [
                    pd.DataFrame(
                        {
                            "row": found.index.to_numpy(dtype=np.int64),
                            "column": found["failed_columns"].astype("str").to_numpy(),
                            "rule": found["failed_rules"].astype("str").to_numpy(),
                        }
                    ),
                    pd.DataFrame(
                        {
                            "row": conflicting.to_numpy(dtype=np.int64),
                            "column": contract.id_column,
                            "rule": "duplicate_id",
                        }
                    ),
                ],
                ignore_index=True,
            ).astype({"row": "int64", "column": "str", "rule": "str"})
            yield raw, typed, failures
