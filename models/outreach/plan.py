"""A simulated send: the contacts a run's outreach files ask for, as a plan the generator replays.

Marketing sends the measured segments' programs to the customers in the segment files
(contactable, not held out) at the run's as-of moment; `advocacy generate --outreach`
then simulates the world again with those asks (`features.generator.outreach`).
"""

from __future__ import annotations

import pandas as pd


def plan_from_run(ranked: pd.DataFrame, segments: list[str], cost: float) -> pd.DataFrame:
    """One contact per customer of the measured `segments` that the run's files list."""
    asked = ranked[ranked["segment"].isin(segments) & ranked["contactable"] & ~ranked["control"]]
    return pd.DataFrame(
        {
            "customer_id": asked["customer_id"].to_numpy(),
            "sent_at": asked["as_of"].to_numpy(),
            "program": asked["suggested_program"].to_numpy(),
            "channel": "email",
            "cost": cost,
            "campaign": [
                f"{segment} {as_of:%Y-%m-%d}"
                for segment, as_of in zip(asked["segment"], asked["as_of"], strict=True)
            ],
        }
    )
