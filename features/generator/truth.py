"""The ground truth of a world: hidden traits and each customer's true advocacy probability.

Advocacy events of each type arrive as a Poisson process whose rate is constant within a
week and never depends on earlier advocacy. Given the realised path of the world, the
number of label events in [cutoff, cutoff + horizon) is therefore Poisson with mean
the integral of the summed label hazards over that window (a partial week counts by its
overlap), and the true probability of at least one is 1 - exp(-integral).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.generator.formats import timestamps
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
