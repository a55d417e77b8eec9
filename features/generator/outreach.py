"""Outreach in a generated world: asking a customer changes their advocacy by a known amount.

A plan of contacts (customer_id, sent_at, program, channel; optional cost, campaign),
for example the outreach files of a scoring run, is replayed in the simulation. Being
asked multiplies all of the customer's advocacy hazards by exp(u) for `ASK_WEEKS`
weeks, from the first week that starts at or after `sent_at`, where

    u = ASK_BASE + ASK_SATISFACTION x tanh(satisfaction) + ASK_REACH x gate x clip(log reach)

is set by the customer's state when the ask lands: satisfied, sociable customers answer
an ask with more advocacy; detractors answer it with less. Advocacy never feeds back into
the world, so the history before the first ask is the same as without the plan, and the
effect of each ask on each customer is known exactly (`features.generator.truth`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import UserError
from features.generator.timeline import Timeline

ASK_WEEKS = 6
ASK_BASE = 0.1
ASK_SATISFACTION = 0.5
ASK_REACH = 0.2
REACH_LIMIT = 2.0
GATE_SLOPE = 2.0  # as the advocacy hazard's satisfaction gate: reach counts when satisfied
PLAN_REQUIRED = ("customer_id", "sent_at", "program", "channel")
PLAN_OPTIONAL = ("cost", "campaign")


def ask_effect(satisfaction: np.ndarray, log_reach: np.ndarray) -> np.ndarray:
    """The log-multiplier `u` of the advocacy hazards of a customer asked in this state."""
    gate = 1.0 / (1.0 + np.exp(-GATE_SLOPE * satisfaction))
    reach = np.clip(log_reach, -REACH_LIMIT, REACH_LIMIT)
    return ASK_BASE + ASK_SATISFACTION * np.tanh(satisfaction) + ASK_REACH * gate * reach


@dataclass(frozen=True)
class OutreachPlan:
    """The contacts to replay: one row per contact, with the customer's number (1-based)."""

    contacts: pd.DataFrame  # number, sent_at (epoch s), program, channel, cost, campaign
    sent_at: np.ndarray  # the distinct send times, sorted: one campaign each

    def for_chunk(self, first: int, size: int) -> pd.DataFrame:
        """The contacts of customers numbered [first, first + size)."""
        number = self.contacts["number"]
        return self.contacts[(number >= first) & (number < first + size)]


def _read(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".csv":
            return pd.read_csv(path, dtype={"customer_id": "str"})
        return pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise UserError(f"outreach plan {path}: cannot read it ({error})") from error


def read_plan(path: Path, customers: int, timeline: Timeline) -> OutreachPlan:
    """Read and check a plan of contacts (.parquet or .csv) for a world of `customers`."""
    raw = _read(path)
    missing = [column for column in PLAN_REQUIRED if column not in raw.columns]
    if missing:
        raise UserError(f"outreach plan {path}: missing column(s) {', '.join(missing)}")
    digits = raw["customer_id"].astype("str").str.extract(r"^C(\d+)$")[0]
    number = pd.to_numeric(digits, errors="coerce")
    unknown = number.isna() | (number < 1) | (number > customers)
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise UserError(
            f"outreach plan {path}, row {row + 1}: customer_id "
            f"{raw['customer_id'].iloc[row]!r} is not a customer of this world "
            f"(C...1 to C...{customers})"
        )
    sent = pd.to_datetime(raw["sent_at"], utc=True, errors="coerce")
    epoch = pd.Timestamp(0, tz="UTC")
    seconds = ((sent.fillna(epoch) - epoch) // pd.Timedelta(seconds=1)).astype("int64")
    outside = sent.isna() | (seconds < timeline.start) | (seconds >= timeline.end)
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise UserError(
            f"outreach plan {path}, row {row + 1}: sent_at {raw['sent_at'].iloc[row]!r} is not "
            "a time inside the generated span"
        )
    contacts = pd.DataFrame(
        {
            "number": number.astype("int64").to_numpy(),
            "sent_at": seconds.to_numpy(),
            "program": raw["program"].astype("str").to_numpy(),
            "channel": raw["channel"].astype("str").to_numpy(),
            "cost": pd.to_numeric(raw["cost"], errors="coerce").to_numpy()
            if "cost" in raw.columns
            else np.nan,
            "campaign": raw["campaign"].astype("str").to_numpy()
            if "campaign" in raw.columns
            else None,
        }
    ).sort_values(["sent_at", "number"], kind="stable", ignore_index=True)
    return OutreachPlan(contacts, np.unique(contacts["sent_at"].to_numpy()))


class Asks:
    """The asks of one chunk while it is simulated.

    Who is asked in which campaign, and how strongly each customer would answer each
    campaign (set when the campaign lands, for everyone, so the truth covers the unasked).
    """

    def __init__(self, plan: OutreachPlan, timeline: Timeline, first: int, size: int) -> None:
        self.sent_at = plan.sent_at
        self.first_week = np.searchsorted(timeline.week_starts, plan.sent_at, side="left")
        self.asked = np.zeros((len(plan.sent_at), size), dtype=bool)
        contacts = plan.for_chunk(first, size)
        campaign = np.searchsorted(plan.sent_at, contacts["sent_at"].to_numpy())
        self.asked[campaign, contacts["number"].to_numpy() - first] = True
        self.effect = np.zeros((len(plan.sent_at), size))

    def multiplier(
        self, week: int, satisfaction: np.ndarray, log_reach: np.ndarray
    ) -> np.ndarray | None:
        """The factor of this week on every customer's advocacy hazards (None: no ask is live)."""
        for k in np.flatnonzero(self.first_week == week):
            self.effect[k] = ask_effect(satisfaction, log_reach)
        live = (self.first_week <= week) & (week < self.first_week + ASK_WEEKS)
        if not live.any():
            return None
        return np.exp((self.asked[live] * self.effect[live]).sum(axis=0))
