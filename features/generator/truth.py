"""The ground truth of a world: hidden traits, true advocacy probabilities, effects of asks.

Advocacy events of each type arrive as a Poisson process whose rate is constant within a
week and never depends on earlier advocacy. Given the realised path of the world, the
number of label events in [cutoff, cutoff + horizon) is therefore Poisson with mean
the integral of the summed label hazards over that window (a partial week counts by its
overlap), and the true probability of at least one is 1 - exp(-integral).

An outreach ask multiplies the hazards by a known factor over known weeks (see
`features.generator.outreach`), so the same integral with and without that factor gives
each customer's probability if asked and if not asked, whichever happened.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.generator.formats import timestamps
from features.generator.outreach import ASK_WEEKS
from features.generator.simulation import ChunkHistory
from features.generator.tables import IdSpace
from features.generator.timeline import DAY, Timeline
from features.generator.traits import derive_traits

# Rows of propensity.parquet: customers signed up before the cutoff and not churned more
# than this many days before it, i.e. everyone the default activity rule (an order in the
# last 365 days) can select. Churned customers are listed with probability 0.
POPULATION_LOOKBACK_DAYS = 365

PROPENSITY_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("cutoff", pa.timestamp("us", tz="UTC")),
        ("true_probability", pa.float64()),
    ]
)
OUTREACH_EFFECT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("sent_at", pa.timestamp("us", tz="UTC")),
        ("asked", pa.bool_()),
        ("p_not_asked", pa.float64()),
        ("p_asked", pa.float64()),
        ("effect", pa.float64()),
    ]
)
TRAITS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("satisfaction_baseline", pa.float64()),
        ("social_reach", pa.float64()),
        ("value", pa.float64()),
        ("engagement", pa.float64()),
        ("responsiveness", pa.float64()),
        ("churned_at", pa.timestamp("us", tz="UTC")),
        ("referred_by", pa.string()),
    ]
)


def build_propensity(history: ChunkHistory, timeline: Timeline, ids: IdSpace) -> pa.Table:
    """Compute the true probability of a label event in each window, per cutoff and customer."""
    expected = timeline.window_overlap() @ history.label_hazard
    probability = -np.expm1(-expected)
    lookback = POPULATION_LOOKBACK_DAYS * DAY
    never_churned = history.churned_at < 0
    parts: list[pa.Table] = []
    for row, cutoff in enumerate(timeline.cutoffs):
        listed = (history.signup < cutoff) & (
            never_churned | (history.churned_at > cutoff - lookback)
        )
        who = np.flatnonzero(listed)
        parts.append(
            pa.Table.from_arrays(
                [
                    ids.customers(who),
                    timestamps(np.full(len(who), cutoff, dtype=np.int64)),
                    pa.array(probability[row, who]),
                ],
                schema=PROPENSITY_SCHEMA,
            )
        )
    if not parts:
        return PROPENSITY_SCHEMA.empty_table()
    return pa.concat_tables(parts)


def build_traits(history: ChunkHistory, ids: IdSpace) -> pa.Table:
    """Each customer's hidden traits, churn time and referrer."""
    traits = derive_traits(history.latent)
    n = len(history.signup)
    return pa.Table.from_arrays(
        [
            ids.customers(np.arange(n)),
            pa.array(traits.satisfaction_baseline),
            pa.array(traits.social_reach),
            pa.array(traits.value),
            pa.array(traits.engagement),
            pa.array(traits.responsiveness),
            timestamps(history.churned_at, missing=history.churned_at < 0),
            ids.customers_or_null(history.referred_by),
        ],
        schema=TRAITS_SCHEMA,
    )


def build_outreach_effect(
    history: ChunkHistory, timeline: Timeline, ids: IdSpace, sent_at: np.ndarray, asked: np.ndarray
) -> pa.Table:
    """Per campaign (send time) and customer active then: P(label event) if asked and if not.

    The window is [sent_at, sent_at + truth horizon), cut at the end of the span; `asked`
    (campaigns x customers) says who was. `effect` = p_asked - p_not_asked.
    """
    overlap = timeline.window_overlap(sent_at)
    first_week = np.searchsorted(timeline.week_starts, sent_at, side="left")
    parts: list[pa.Table] = []
    for k, begin in enumerate(sent_at):
        total = overlap[k] @ history.label_hazard
        weeks = slice(first_week[k], first_week[k] + ASK_WEEKS)
        during = overlap[k, weeks] @ history.label_hazard[weeks]
        u = history.ask_effect[k]
        rest = total - during
        without = np.where(asked[k], rest + during * np.exp(-u), total)
        with_ask = np.where(asked[k], total, rest + during * np.exp(u))
        active = (history.signup < begin) & (
            (history.churned_at < 0) | (history.churned_at > begin)
        )
        who = np.flatnonzero(active)
        p_not, p_yes = -np.expm1(-without[who]), -np.expm1(-with_ask[who])
        parts.append(
            pa.Table.from_arrays(
                [
                    ids.customers(who),
                    timestamps(np.full(len(who), begin, dtype=np.int64)),
                    pa.array(asked[k, who]),
                    pa.array(p_not),
                    pa.array(p_yes),
                    pa.array(p_yes - p_not),
                ],
                schema=OUTREACH_EFFECT_SCHEMA,
            )
        )
    if not parts:
        return OUTREACH_EFFECT_SCHEMA.empty_table()
    return pa.concat_tables(parts)
