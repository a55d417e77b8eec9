"""Values by customer id: each id's value, a stated value for ids the table lacks."""

import pandas as pd

from models.scoring.lookup import value_by_id


def test_each_id_gets_its_value_in_its_own_order_and_the_missing_value_when_absent() -> None:
    ids = pd.Series(["C3", "C1", "C9", "C1"], dtype="str", index=[10, 11, 12, 13])
    segments = pd.Series(["Champion", "Nurture", "Not now"], index=pd.Index(["C1", "C2", "C3"]))
    found = value_by_id(ids, segments, missing="not scored")
    assert found.tolist() == ["Not now", "Champion", "not scored", "Champion"]
    assert found.index.tolist() == [10, 11, 12, 13]


def test_flags_keep_their_type_and_an_empty_table_gives_the_missing_value() -> None:
    ids = pd.Series(["C1", "C2"], dtype="str")
    opted_in = pd.Series(pd.array([True, None], dtype="boolean"), index=["C2", "C1"])
    assert value_by_id(ids, opted_in, missing=False).tolist() == [pd.NA, True]
    assert value_by_id(ids, pd.Series(dtype=bool), missing=False).tolist() == [False, False]
