"""Which rows break the contract, and the quarantine records that say why.

A failure is a (row, column, rule) record; a quarantined row keeps its original values,
its source file and row number, and every rule it broke.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pandera.pandas as pandera

from features.contracts import CONTRACTS, TABLE_CHECKS
from features.ingest.files import FileRows
from features.ingest.parsing import no_failures

PANDERA_RULES = {"not_nullable": "missing_value", "field_uniqueness": "duplicate_id"}


def validate_rows(typed: pd.DataFrame, schema: pandera.DataFrameSchema) -> pd.DataFrame:
    """Rows that break the contract, as (row, column, rule) records."""
    if typed.empty:
        return no_failures()
    contract = CONTRACTS[schema.name]
    try:
        schema.validate(typed, lazy=True, inplace=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        structural = cases[cases["index"].isna()]
        if not structural.empty:
            raise RuntimeError(
                f"typed {contract.name} table does not fit its schema:\n{structural}"
            ) from errors
        rules = cases["check"].astype("str").replace(PANDERA_RULES)
        table_columns = {name: column for name, column, _ in TABLE_CHECKS.get(contract.name, [])}
        reported = cases["column"].astype("str")
        columns = reported.where(~rules.isin(list(table_columns)), rules.map(table_columns))
        return pd.DataFrame(
            {"row": cases["index"].astype("int64"), "column": columns, "rule": rules}
        ).drop_duplicates()
    return no_failures()


def quarantine_records(
    raw: pd.DataFrame, failures: pd.DataFrame, rows: FileRows, names: Mapping[str, str]
) -> pd.DataFrame:
    """The failed rows as the user wrote them, with their file and row and the rules broken.

    Columns, also in the rules, go by the user's names (`names`: contract -> theirs).
    """
    columns = failures["column"].map(lambda column: names.get(column, column))
    reasons = (
        (columns + ": " + failures["rule"])
        .groupby(failures["row"])
        .agg(lambda texts: "; ".join(sorted(set(texts))))
    )
    files, numbers = rows.locate(reasons.index.to_numpy())
    original = raw.loc[reasons.index].astype("str").rename(columns=names)
    return pd.concat(
        [
            pd.DataFrame(
                {"source_file": files, "source_row": numbers, "rules": reasons.to_numpy()},
                index=reasons.index,
            ),
            original,
        ],
        axis=1,
    ).reset_index(drop=True)
