"""Turning raw column values into the curated store's types.

A value that is present but cannot be read as its contract kind becomes missing in the
typed table and is reported as an `unparseable_<kind>` failure for its row, so the row
can be quarantined together with its original text.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from features.contracts import STORE_DTYPES, ColumnKind, TableContract, with_all_columns

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
_OFFSET_SUFFIX = r"(?:[zZ]|[+-]\d{2}:?\d{2})$"


def _as_text(values: pd.Series, _: str) -> pd.Series:
    return values.astype("str").str.strip().replace("", pd.NA).astype("str")


def _as_timestamp(values: pd.Series, naive_timezone: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values.dt.tz_localize(naive_timezone).dt.tz_convert("UTC")
    elif naive_timezone == "UTC":
        parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    else:
        text = values.astype("str")
        naive = text.notna() & ~text.str.contains(_OFFSET_SUFFIX, regex=True, na=False)
        parsed = pd.to_datetime(text.where(~naive), format="ISO8601", utc=True, errors="coerce")
        local = pd.to_datetime(text.where(naive), format="ISO8601", errors="coerce")
        localized = local.dt.tz_localize(naive_timezone, ambiguous="NaT", nonexistent="NaT")
        parsed = parsed.fillna(localized.dt.tz_convert("UTC"))
    return parsed.astype(STORE_DTYPES["timestamp"])


def _as_number(values: pd.Series, _: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


def _as_integer(values: pd.Series, naive_timezone: str) -> pd.Series:
    numbers = _as_number(values, naive_timezone)
    return numbers.where(numbers == numbers.round()).astype(STORE_DTYPES["integer"])


def _as_boolean(values: pd.Series, _: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(STORE_DTYPES["boolean"])
    words = values.astype("str").str.strip().str.lower()
    mapped = pd.Series(pd.NA, index=values.index, dtype=STORE_DTYPES["boolean"])
    mapped[words.isin(TRUE_WORDS)] = True
    mapped[words.isin(FALSE_WORDS)] = False
    return mapped


PARSERS: dict[ColumnKind, Callable[[pd.Series, str], pd.Series]] = {
    "id": _as_text,
    "text": _as_text,
    "timestamp": _as_timestamp,
    "number": _as_number,
    "integer": _as_integer,
    "boolean": _as_boolean,
}


def parse_table(
    raw: pd.DataFrame, contract: TableContract, naive_timezone: str = "UTC"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type every column; return the typed table (all contract columns) and its parse failures.

    Failures have the columns row (index of `raw`), column and rule.
    """
    typed: dict[str, pd.Series] = {}
    failures = []
    for column in raw.columns:
        kind = contract.kind_of(column)
        values = PARSERS[kind](raw[column], naive_timezone)
        typed[column] = values
        if kind in ("id", "text"):
            continue  # any text reads as text; blank text simply counts as missing
        unreadable = raw[column].notna() & values.isna()
        if unreadable.any():
            failures.append(
                pd.DataFrame(
                    {"row": raw.index[unreadable], "column": column, "rule": f"unparseable_{kind}"}
                )
            )
    failure_frame = pd.concat(failures, ignore_index=True) if failures else no_failures()
    return with_all_columns(pd.DataFrame(typed, index=raw.index), contract), failure_frame


def no_failures() -> pd.DataFrame:
    """An empty failure table: (row, column, rule) records of broken rules."""
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "column": pd.Series(dtype="str"),
            "rule": pd.Series(dtype="str"),
        }
    )
