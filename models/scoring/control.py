"""Control groups: a random share of each measured segment is held out of the run's outreach.

After the run's horizon, the advocacy of the customers who were asked is compared with
that of the control group (`advocacy evaluate-outreach`), which tells what the outreach
changed. The control group is drawn among the customers who may be contacted, within
each segment and suggested program, so every program has its own comparison group, and
it is seeded by the run (as-of moment and model version): scoring the same run again
holds out the same customers.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class ControlSettings(BaseModel):
    """Who is held out of a run's outreach to measure it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    control_share: float = Field(0.1, ge=0.0, lt=1.0)
    """Share of each measured segment's contactable customers held out (0: none)."""
    measured_segments: list[str] = ["Champion", "Likely advocate"]
    """Segments whose outreach is measured against a control group."""


def control_seed(as_of: pd.Timestamp, model_version: str) -> int:
    """The run's seed: the same as-of moment and model version draw the same control group."""
    digest = hashlib.sha256(f"{as_of.isoformat()}|{model_version}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def hold_out_controls(ranked: pd.DataFrame, settings: ControlSettings) -> pd.Series:
    """True for the customers of the ranked list held out of outreach as the control group.

    In each (segment, suggested program) of the measured segments, exactly
    round(share x contactable customers) of its contactable customers, drawn at random.
    """
    control = pd.Series(False, index=ranked.index)
    if settings.control_share == 0 or ranked.empty:
        return control
    rng = np.random.default_rng(
        control_seed(ranked["as_of"].iloc[0], str(ranked["model_version"].iloc[0]))
    )
    eligible = ranked[ranked["contactable"] & ranked["segment"].isin(settings.measured_segments)]
    for _, members in eligible.groupby(["segment", "suggested_program"], sort=True):
        held = round(settings.control_share * len(members))
        control[rng.choice(members.index.to_numpy(), size=held, replace=False)] = True
    return control


def control_split(ranked: pd.DataFrame, settings: ControlSettings) -> dict[str, Any]:
    """For the manifest: the share, the seed, and per measured segment who is asked or held out."""
    asked = ranked["contactable"] & ~ranked["control"]
    return {
        "share": settings.control_share,
        "seed": control_seed(ranked["as_of"].iloc[0], str(ranked["model_version"].iloc[0]))
        if not ranked.empty
        else None,
        "segments": {
            segment: {
                "asked": int((asked & (ranked["segment"] == segment)).sum()),
                "control": int((ranked["control"] & (ranked["segment"] == segment)).sum()),
            }
            for segment in settings.measured_segments
        },
    }
