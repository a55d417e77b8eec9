"""Corrupt a share of rows on purpose, so ingestion's quarantine rules have work to do.

Each switch of `Messiness` is a share of rows. With any switch on, every timestamp
column is written as text (so unparseable dates can exist at all).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.contracts import CONTRACTS, SURVEY_TYPES
from features.generator.formats import format_ids, iso_strings
from features.generator.settings import Messiness

BAD_DATES = np.array(["2024-13-45", "not a date", "31/02/2024", "2025-02-30T25:61:00Z", "soon"])
# Same instant, other spellings: a UTC offset (wall clock shifted by it) or no zone at all.
OFFSETS = (("+01:00", 3600), ("+02:00", 7200), ("-05:00", -18_000), ("+05:30", 19_800), ("", 0))
OUT_OF_RANGE = {  # per survey type: values just outside its range
    "nps": (-1.0, 11.0),
    "csat": (0.0, 6.0),
    "ces": (0.0, 8.0),
}
TICKET_CSAT_OUT_OF_RANGE = (0, 6)
RATING_OUT_OF_RANGE = (0.0, 9.0)


def _rows(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share


def _replace(column: pa.Array | pa.ChunkedArray, mask: np.ndarray, values: pa.Array) -> pa.Array:
    """`column` with the rows in `mask` replaced by `values` (one per masked row, in order)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not mask.any():
        return array
    return pc.replace_with_mask(array, pa.array(mask), values.cast(array.type))


def _spell(column: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Spell a timestamp column as UTC text; also return its epoch seconds and null mask."""
    typed = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    missing = typed.is_null().to_numpy(zero_copy_only=False)
    seconds = typed.cast(pa.int64()).fill_null(0).to_numpy() // 1_000_000
    return iso_strings(seconds, "Z", missing), seconds, missing


def _timestamp_columns(name: str) -> list[str]:
    return [column.name for column in CONTRACTS[name].columns if column.kind == "timestamp"]


def timestamps_as_text(name: str, table: pa.Table) -> pa.Table:
    """Spell a clean table's timestamp columns as ISO-8601 UTC text (for CSV)."""
    for column in _timestamp_columns(name):
        text, _, _ = _spell(table[column])
        table = table.set_column(table.schema.get_field_index(column), column, text)
    return table


class _Corrupter:
    """Applies the switched-on defects to one table of one chunk."""

    def __init__(
        self, messiness: Messiness, rng: np.random.Generator, first_unknown: int, width: int
    ) -> None:
        self.messiness = messiness
        self.rng = rng
        self.first_unknown = first_unknown
        self.width = width

    def corrupt(self, name: str, table: pa.Table) -> pa.Table:
        m = self.messiness
        if m.duplicates > 0:
            table = self._duplicate(name, table)
        if m.negative_amounts > 0 and name == "purchases":
            table = self._negate_amounts(table)
        if m.out_of_range_scores > 0:
            table = self._break_scores(name, table)
        if m.unknown_customers > 0 and name != "customers":
            table = self._unknown_customers(table)
        return self._timestamps_as_text(name, table)

    def _set(self, table: pa.Table, column: str, values: pa.Array) -> pa.Table:
        return table.set_column(table.schema.get_field_index(column), column, values)

    def _duplicate(self, name: str, table: pa.Table) -> pa.Table:
        """Exact copies of some rows, and rows carrying another row's id with their own content."""
        n = table.num_rows
        if n < 2:
            return table
        k = int(self.rng.binomial(n, self.messiness.duplicates))
        source = self.rng.integers(0, n, k)
        exact, changed = source[: k // 2], source[k // 2 :]
        copies = table.take(pa.array(exact))
        impostors = table.take(pa.array(changed))
        other = (changed + 1 + self.rng.integers(0, n - 1, len(changed))) % n
        id_column = CONTRACTS[name].id_column
        impostors = self._set(impostors, id_column, table[id_column].take(pa.array(other)))
        return pa.concat_tables([table, copies, impostors])

    def _negate_amounts(self, table: pa.Table) -> pa.Table:
        amount = table["amount"].to_numpy()
        mask = _rows(self.rng, len(amount), self.messiness.negative_amounts) & (amount > 0)
        return self._set(table, "amount", pa.array(np.where(mask, -amount, amount)))

    def _break_scores(self, name: str, table: pa.Table) -> pa.Table:
        n = table.num_rows
        share = self.messiness.out_of_range_scores
        if name == "survey_responses":
            kind = table["survey_type"].to_numpy(zero_copy_only=False)
            score = table["score"].to_numpy().copy()
            mask = _rows(self.rng, n, share)
            side = self.rng.integers(0, 2, n)
            for survey in SURVEY_TYPES:
                rows = mask & (kind == survey)
                score[rows] = np.array(OUT_OF_RANGE[survey])[side[rows]]
            return self._set(table, "score", pa.array(score))
        if name == "support_tickets":
            mask = _rows(self.rng, n, share)
            values = np.array(TICKET_CSAT_OUT_OF_RANGE)[self.rng.integers(0, 2, int(mask.sum()))]
            return self._set(table, "csat", _replace(table["csat"], mask, pa.array(values)))
        if name == "advocacy_events":
            reviews = table["event_type"].to_numpy(zero_copy_only=False) == "review"
            mask = _rows(self.rng, n, share) & reviews
            values = np.array(RATING_OUT_OF_RANGE)[self.rng.integers(0, 2, int(mask.sum()))]
            return self._set(table, "rating", _replace(table["rating"], mask, pa.array(values)))
        return table

    def _unknown_customers(self, table: pa.Table) -> pa.Table:
        mask = _rows(self.rng, table.num_rows, self.messiness.unknown_customers)
        numbers = self.first_unknown + self.rng.integers(0, 10**self.width, int(mask.sum()))
        values = format_ids("C", numbers, self.width)
        return self._set(table, "customer_id", _replace(table["customer_id"], mask, values))

    def _timestamps_as_text(self, name: str, table: pa.Table) -> pa.Table:
        for column in _timestamp_columns(name):
            text, seconds, missing = _spell(table[column])
            if self.messiness.mixed_timezones > 0:
                text = self._shift_zones(text, seconds, missing)
            if self.messiness.bad_dates > 0 and column == CONTRACTS[name].time_column:
                mask = _rows(self.rng, len(text), self.messiness.bad_dates)
                bad = self.rng.choice(BAD_DATES, int(mask.sum()))
                text = _replace(text, mask, pa.array(bad, pa.string()))
            table = self._set(table, column, text)
        return table

    def _shift_zones(self, text: pa.Array, seconds: np.ndarray, missing: np.ndarray) -> pa.Array:
        mask = _rows(self.rng, len(seconds), self.messiness.mixed_timezones) & ~missing
        zone = self.rng.integers(0, len(OFFSETS), int(mask.sum()))
        rows = np.flatnonzero(mask)
        values = np.empty(len(rows), dtype=object)
        for index, (suffix, offset) in enumerate(OFFSETS):
            chosen = zone == index
            spelled = iso_strings(seconds[rows[chosen]] + offset, suffix)
            values[chosen] = spelled.to_numpy(zero_copy_only=False)
        return _replace(text, mask, pa.array(values, pa.string()))


def corrupt_tables(
    tables: dict[str, pa.Table],
    messiness: Messiness,
    rng: np.random.Generator,
    first_unknown: int,
    width: int,
) -> dict[str, pa.Table]:
    """Apply the switched-on defects to a chunk's tables, writing timestamps as text.

    Unknown customer ids are numbered from `first_unknown` up, past every real customer.
    """
    corrupter = _Corrupter(messiness, rng, first_unknown, width)
    return {name: corrupter.corrupt(name, table) for name, table in tables.items()}
