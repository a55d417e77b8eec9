"""Trying a feature idea before it joins the registry: same SQL, same point-in-time rule.

A data scientist writes the idea as the registry entry it would become (a
`features.registry.Feature`: name, family, dtype, description, phrase, sql, missing)
and computes it here for the rows of a feature table that `features.build` made. The
SQL is read exactly as the feature builder reads the registry's: an aggregate over the
family's events joined to each cutoff on `event time < cutoff`, with `age_days` the
event's age at the cutoff; a derived feature is an expression over the other
features; a profile feature an expression over the customer's row and the cutoff.
Promoting an idea that helps is then copying the entry into `FEATURES`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from features.build import FAMILY_EVENTS, as_cutoffs, family_sql, register_events
from features.definitions import Feature

ROWS_VIEW = "candidate_rows"


def _events_sql(candidate: Feature) -> str:
    value = "f.value" if candidate.missing == "missing" else "coalesce(f.value, 0)"
    return f"""
    SELECT {value} AS value
    FROM {ROWS_VIEW} AS r
    LEFT JOIN ({family_sql(candidate.family, {"value": candidate.sql})}) AS f
        USING (customer_id, cutoff)
    ORDER BY r.row_number
    """


def candidate_values(
    connection: DuckDBPyConnection, rows: pd.DataFrame, candidate: Feature
) -> pd.Series:
    """The candidate's value for each row (customer_id, cutoff, ...) of a feature table.

    `connection` sees the five tables (`features.source.open_store` or `open_frames`);
    `rows` needs the columns customer_id and cutoff, and for a derived candidate the
    features its expression names. Returns a Series aligned with `rows`, of the
    candidate's dtype, with 0 or missing for customers without history in the family
    as its `missing` says.
    """
    numbered = rows.assign(row_number=np.arange(len(rows)))
    if candidate.family in FAMILY_EVENTS:
        connection.register("cutoffs", as_cutoffs(rows["cutoff"].unique().tolist()))
        register_events(connection)
        sql = _events_sql(candidate)
    elif candidate.family == "derived":
        sql = f"SELECT {candidate.sql} AS value FROM {ROWS_VIEW} ORDER BY row_number"
    else:  # profile: the customer's own row at the cutoff
        sql = (
            f"SELECT {candidate.sql} AS value FROM {ROWS_VIEW} "
            "JOIN customers USING (customer_id) ORDER BY row_number"
        )
    connection.register(ROWS_VIEW, numbered)
    try:
        values = connection.execute(sql).df()["value"]
    finally:
        connection.unregister(ROWS_VIEW)
    dtype = "int64" if candidate.dtype == "int" else "float64"
    return pd.Series(values.to_numpy(), index=rows.index, name=candidate.name).astype(dtype)
