"""Control groups: an exact random share per segment and program, the same for the same run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.scoring import files
from models.scoring.control import ControlSettings, control_split, hold_out_controls
from models.scoring.run import segment_counts, write_outreach, write_segment_files
from pipelines.config import load_config

AS_OF = pd.Timestamp("2026-07-02", tz="UTC")


def ranked(as_of: pd.Timestamp = AS_OF, model_version: str = "3") -> pd.DataFrame:
    """400 customers: 100 per segment, two programs in Champion, a third not contactable."""
    n = 400
    index = np.arange(n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in index],
            "segment": np.repeat(["Recover first", "Champion", "Likely advocate", "Not now"], 100),
            "suggested_program": np.where(index % 2 == 0, "ambassador", "case study"),
            "contactable": index % 3 != 0,
            "control": False,
            "as_of": as_of,
            "model_version": model_version,
        }
    )


def test_an_exact_share_of_each_measured_segment_and_program_is_held_out() -> None:
    rows = ranked()
    control = hold_out_controls(rows, ControlSettings(control_share=0.1))
    assert not control[~rows["contactable"]].any()
    held = rows[control].groupby(["segment", "suggested_program"]).size().to_dict()
    contactable = rows[rows["contactable"]].groupby(["segment", "suggested_program"]).size()
    assert held == {
        (segment, program): round(0.1 * contactable[(segment, program)])
        for segment in ("Champion", "Likely advocate")
        for program in ("ambassador", "case study")
    }


def test_the_same_run_holds_out_the_same_customers_and_another_run_others() -> None:
    settings = ControlSettings(control_share=0.2)
    first = hold_out_controls(ranked(), settings)
    assert first.equals(hold_out_controls(ranked(), settings))
    assert not first.equals(hold_out_controls(ranked(model_version="4"), settings))
    assert not first.equals(hold_out_controls(ranked(AS_OF + pd.Timedelta(days=7)), settings))
    assert not hold_out_controls(ranked(), ControlSettings(control_share=0)).any()


def test_outreach_files_leave_the_control_group_out_and_the_manifest_counts_it(
    tmp_path: Path,
) -> None:
    settings = ControlSettings(control_share=0.25, measured_segments=["Champion"])
    rows = ranked().assign(control=lambda r: hold_out_controls(r, settings))
    champions = rows[rows["segment"] == "Champion"]
    write_outreach(champions, tmp_path / "champion.csv", contactable_only=False)
    written = pd.read_csv(tmp_path / "champion.csv")
    assert set(written["customer_id"]) == set(champions.loc[~champions["control"], "customer_id"])
    split = control_split(rows, settings)
    assert split["share"] == 0.25 and isinstance(split["seed"], int)
    assert split["segments"] == {
        "Champion": {
            "asked": int((champions["contactable"] & ~champions["control"]).sum()),
            "control": int(champions["control"].sum()),
        }
    }


def test_segment_files_hold_the_asked_contactable_members_in_list_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "CSV_CHUNK_ROWS", 64)  # the segments' rows span chunks
    settings = load_config().scoring
    rows = ranked().assign(control=lambda r: hold_out_controls(r, ControlSettings()))
    written = write_segment_files(rows, settings, tmp_path)
    counts = segment_counts(rows, settings)
    assert set(written) == set(counts) == {rule.name for rule in settings.segments.rules}
    for segment, file in written.items():
        members = rows[rows["segment"] == segment]
        asked = members[members["contactable"] & ~members["control"]]
        assert pd.read_csv(tmp_path / file)["customer_id"].tolist() == asked["customer_id"].tolist()
        # Every cell as the whole file of those rows would have it.
        files.write_csv(asked, tmp_path / "expected.csv")
        assert (tmp_path / file).read_bytes() == (tmp_path / "expected.csv").read_bytes()
        assert counts[segment] == {
            "customers": len(members),
            "contactable": int(members["contactable"].sum()),
            "control": int(members["control"].sum()),
        }
    assert counts["Champion"]["control"] > 0
