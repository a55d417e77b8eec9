"""Schemas of the tables written after ingest, and the one way to check a table against them.

The input tables are checked against their contracts (`features.contracts`); a table the
pipeline builds later is checked against the invariants the code promises, just before it
is written, so a defect stops the run instead of leaving a wrong table for the next step.
The feature table's schema is built from the feature registry: a new feature needs no edit.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa

from features.definitions import FEATURE_NAMES, Dtype, feature

FEATURE_DTYPES: dict[Dtype, str] = {"int": "int64", "float": "float64"}
REPORTED_CHECKS = 8
EXAMPLES = 3


class TableSchemaError(RuntimeError):
    """A table the pipeline built breaks its schema: a defect in the code, not in the input."""


def _is_utc(series: pd.Series) -> pd.Series:
    """Row by row, so that the report shows the offending timestamps with their zone."""
    utc = isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dtype.tz) == "UTC"
    return pd.Series(utc, index=series.index)


def utc_timestamp_column() -> pa.Column:
    """A non-null UTC timestamp column at any resolution (as-of moments keep their own)."""
    return pa.Column(checks=pa.Check(_is_utc, name="utc_timestamp"))


def feature_table_schema(names: Sequence[str] = FEATURE_NAMES) -> pa.DataFrameSchema:
    """One row per customer and cutoff, then the named features in registry order.

    `names` are the features the source supports (`features.build.store_features`). A
    feature may be missing only where its registry entry says customers without history
    get a missing value rather than 0.
    """
    features = {
        name: pa.Column(
            FEATURE_DTYPES[feature(name).dtype], nullable=feature(name).missing == "missing"
        )
        for name in names
    }
    return pa.DataFrameSchema(
        {"customer_id": pa.Column("str"), "cutoff": utc_timestamp_column(), **features},
        strict=True,
        ordered=True,
        unique=["customer_id", "cutoff"],
        name="feature table",
    )


def validate_table(table: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    """Raise a short `TableSchemaError` unless the table passes `schema`.

    Failing rows are reported by position: pandera cannot report duplicate rows of a
    table whose index repeats a label.
    """
    try:
        schema.validate(table.reset_index(drop=True), lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        # pandera's own message lists every failing value; a few lines say enough.
        raise TableSchemaError(_failure_summary(str(schema.name), errors.failure_cases)) from None


def _failure_summary(table: str, cases: pd.DataFrame) -> str:
    """One line per failed check: where, which check, how many rows and a few failing values."""
    table_wide = cases["schema_context"] == "DataFrameSchema"
    columns = cases["column"].astype("str")
    # A table-wide check, such as the uniqueness of a column pair, is one check of many columns.
    joined = (
        columns[table_wide]
        .groupby(cases["check"][table_wide])
        .agg(lambda names: ", ".join(names.unique()))
    )
    where = columns.mask(table_wide, cases["check"].map(joined))
    lines = [
        f"  {place}: {check}: {_failures(group)}"
        for (place, check), group in cases.groupby(
            [where, cases["check"]], sort=False, dropna=False
        )
    ]
    more = len(lines) - REPORTED_CHECKS
    return "\n".join(
        [
            f"The {table} breaks {len(lines)} check(s) of its schema:",
            *lines[:REPORTED_CHECKS],
            *([f"  ... and {more} more"] if more > 0 else []),
        ]
    )


def _failures(group: pd.DataFrame) -> str:
    """How many rows failed and a few failing values (or just the values, for the layout)."""
    values = ", ".join(str(v) for v in group["failure_case"].drop_duplicates().head(EXAMPLES))
    rows = group["index"].nunique()
    return f"{rows} row(s), e.g. {values}" if rows else values
