"""Weekly simulation of one chunk of customers, vectorised over the customers.

Each week, for every customer who has signed up (before the week starts) and not churned:

1. Advocacy: each event type has a weekly hazard that depends on current satisfaction,
   social reach, value and recent experience (recent orders, a recent good ticket, a
   recent promoter answer), all taken from the state *before* the week. Counts are
   Poisson, times uniform within the week. Advocacy never feeds back into any state, so
   the hazards are an exact ground truth (see `features.generator.truth`). A share of
   referrals converts into a new customer who takes the slot of a not-yet-signed-up
   fresh customer of the chunk, so the number of customers stays exact.
2. Orders: Poisson with rate engagement x exp(satisfaction) x seasonality; returns are
   more likely when dissatisfied, and each return lowers satisfaction.
3. Support tickets: per order, per return and at random; resolution time by priority;
   slow (> 72 h), unresolved and reopened tickets lower satisfaction, fast ones raise it.
4. Surveys (NPS, CSAT, CES) answered by responsive customers, more so at the extremes of
   satisfaction; scores follow current satisfaction with noise.
5. Satisfaction = baseline + shock; the shock decays weekly and takes this week's effects
   from the next week on. Churn hazard rises as satisfaction falls; churned customers
   stop everything.

All parameters are module constants, documented in docs/generator.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.contracts import ADVOCACY_TYPES, SURVEY_TYPES
from features.generator.outreach import Asks
from features.generator.timeline import DAY, WEEK, Timeline
from features.generator.traits import (
    ENGAGEMENT,
    VALUE,
    derive_traits,
    draw_latent,
    inherit_latent,
)

LABEL_TYPES = ("referral", "review", "testimonial", "case_study", "reference_call")
LABEL_MASK = np.isin(np.array(ADVOCACY_TYPES), LABEL_TYPES)
REFERRAL = ADVOCACY_TYPES.index("referral")
REVIEW = ADVOCACY_TYPES.index("review")

# Signups: a share signed up before the span (their history starts with the span); the
# rest arrive during the span at a rate growing linearly to `SIGNUP_GROWTH` times the first.
PRE_SPAN_SHARE = 0.4
PRE_SPAN_YEARS = 3.0
SIGNUP_GROWTH = 2.0

# Advocacy: weekly hazard = base x exp(coefficients . (satisfaction, log reach, value
# latent, log(1 + recent orders), recent good ticket, recent promoter answer)), where
# reach and recent orders count only as far as the customer is satisfied: an unhappy
# customer with a large audience or many orders does not advocate for that.
SATISFACTION_GATE_SLOPE = 2.0  # gate = sigmoid(slope x satisfaction)
ADVOCACY_BASE = np.array([0.00070, 0.00105, 0.00023, 0.000035, 0.000045, 0.00200, 0.00120])
ADVOCACY_COEFFICIENTS = np.array(
    [
        [0.9, 0.5, 0.0, 0.5, 0.4, 0.8],  # referral
        [0.6, 0.2, 0.0, 0.9, 0.3, 0.5],  # review
        [1.0, 0.3, 0.2, 0.3, 0.6, 0.8],  # testimonial
        [1.0, 0.2, 1.2, 0.3, 0.3, 0.6],  # case_study
        [0.9, 0.1, 1.0, 0.3, 0.5, 0.6],  # reference_call
        [0.6, 1.0, 0.0, 0.4, 0.2, 0.4],  # social_mention
        [0.5, 0.5, 0.0, 0.6, 0.2, 0.3],  # community_post
    ]
)
DRIVER_LIMIT = 2.0  # satisfaction enters as 2 tanh(s / 2); reach and value are clipped to +-2
MEMORY_LIMIT = 1.5  # cap on the good-ticket and promoter memories
REFERRAL_CONVERSION = 0.35
REFERRAL_SIGNUP_DAYS = (1.0, 14.0)
REVIEW_RATING = (3.9, 0.8, 0.7)  # intercept, satisfaction slope, noise sd; rounded into 1-5

# Recent experience: weekly decay of the recent-orders, good-ticket and promoter memories.
RECENT_ORDERS_DECAY = 0.8
GOOD_TICKET_DECAY = 0.85
PROMOTER_DECAY = 0.9

# Orders and their status.
ORDER_SATISFACTION = 0.25
RETURN_LOGIT = (-2.9, -0.5)  # intercept, satisfaction slope
CANCEL_SHARE = 0.03
RETURN_EFFECT = -0.25

# Support tickets.
TICKET_PER_ORDER = 0.07
TICKET_PER_RETURN = 0.4
TICKET_RANDOM = 0.007  # per week
PRIORITY_SHARES = np.array([0.25, 0.45, 0.2, 0.1])  # low, normal, high, urgent
RESOLUTION_MEDIAN_HOURS = np.array([40.0, 26.0, 12.0, 5.0])
RESOLUTION_SIGMA = 1.0
NEVER_RESOLVED = 0.03
SLOW_HOURS = 72.0
FAST_HOURS = 24.0
EFFECT_UNRESOLVED = -0.8
EFFECT_SLOW = -0.5
EFFECT_MEDIUM = -0.05
EFFECT_FAST = 0.12
EFFECT_REOPEN = -0.2
REOPEN_RATE = (0.08, 0.5)  # base, extra when slow or unresolved
TICKET_CSAT_ANSWERED = (0.2, 0.5)  # base, per unit of responsiveness
TICKET_CSAT = (3.6, 0.5, -0.7, 0.8)  # intercept, satisfaction, log(hours/24), noise sd
TICKET_COMMENT = 0.25

# Surveys: weekly answer rate = base x responsiveness x (a + b x satisfaction^2).
SURVEY_BASE = 0.05
SURVEY_EXTREMES = (0.4, 0.5)
SURVEY_TYPE_SHARES = np.array([0.5, 0.3, 0.2])  # nps, csat, ces
SURVEY_SCORE = {  # intercept, satisfaction slope, noise sd, low, high
    "nps": (7.3, 1.6, 1.2, 0, 10),
    "csat": (3.8, 0.8, 0.7, 1, 5),
    "ces": (5.0, 1.0, 1.0, 1, 7),
}
SURVEY_NEUTRAL = {"nps": (7, 8), "csat": (3, 3), "ces": (4, 5)}  # below: negative, above: positive
PROMOTER_SCORE = 9
SURVEY_COMMENT = 0.3

# Satisfaction dynamics and churn.
SHOCK_DECAY = 0.9
SHOCK_NOISE = 0.07
CHURN_BASE = 0.0025
CHURN_SATISFACTION = 0.7
CHURN_ENGAGEMENT = 0.3

NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2
NO_COMMENT = -1


@dataclass(frozen=True)
class ChunkHistory:
    """Everything that happened to one chunk of customers (indices are within the chunk).

    Event tables are dicts of equally long arrays; -1 marks a missing time, index or score.
    """

    latent: np.ndarray
    signup: np.ndarray
    referred_by: np.ndarray
    churned_at: np.ndarray
    orders: dict[str, np.ndarray]  # week, customer, count, returned, cancelled (per week)
    tickets: dict[str, np.ndarray]  # customer, opened, resolved, priority, csat, reopened, tone
    surveys: dict[str, np.ndarray]  # customer, time, type, score, tone
    advocacy: dict[str, np.ndarray]  # customer, time, type, referred, rating
    label_hazard: np.ndarray  # (weeks, customers): summed weekly hazard of the label types
    ask_effect: np.ndarray  # (campaigns, customers): log-multiplier of an ask, see `outreach`


def draw_signups(rng: np.random.Generator, n: int, timeline: Timeline) -> np.ndarray:
    """Signup times of fresh customers, in epoch seconds."""
    before = rng.random(n) < PRE_SPAN_SHARE
    u = rng.random(n)
    span = timeline.end - timeline.start
    # Inverse CDF of a density growing linearly from 1 to SIGNUP_GROWTH over the span.
    g = SIGNUP_GROWTH - 1.0
    within = (np.sqrt(1.0 + g * (2.0 + g) * u) - 1.0) / g
    pre = PRE_SPAN_YEARS * 365.25 * DAY * (u - 1.0)
    offset = np.where(before, pre, within * span)
    return timeline.start + np.floor(offset).astype(np.int64)


class _Accumulator:
    """Collects a table's weekly arrays and concatenates them once at the end."""

    def __init__(self, *names: str) -> None:
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in names}

    def add(self, **arrays: np.ndarray) -> None:
        for name, array in arrays.items():
            self._parts[name].append(array)

    def finish(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) for name, parts in self._parts.items()}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _tone(
    score: np.ndarray, low_neutral: np.ndarray | int, high_neutral: np.ndarray | int
) -> np.ndarray:
    """Negative below the neutral band, positive above it."""
    return np.where(
        score < low_neutral, NEGATIVE, np.where(score > high_neutral, POSITIVE, NEUTRAL)
    )


def _expand(counts: np.ndarray) -> np.ndarray:
    """Repeat each customer index by its event count."""
    who = np.flatnonzero(counts)
    return np.repeat(who, counts[who])


def _pick(rng: np.random.Generator, shares: np.ndarray, size: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(shares)[:-1], rng.random(size), side="right")


class _Chunk:
    """The mutable state of a chunk while its weeks are simulated."""

    def __init__(
        self, n: int, timeline: Timeline, rng: np.random.Generator, asks: Asks | None
    ) -> None:
        self.n = n
        self.asks = asks
        self.timeline = timeline
        self.rng = rng
        self.latent = draw_latent(rng, n)
        self.signup = draw_signups(rng, n, timeline)
        self.fresh_order = np.argsort(self.signup, kind="stable")
        self.fresh_signup = self.signup[self.fresh_order]
        self.tail = n - 1
        self.referred_by = np.full(n, -1, dtype=np.int64)
        traits = derive_traits(self.latent)
        self.baseline = traits.satisfaction_baseline
        self.log_reach = np.log(traits.social_reach)
        self.engagement = traits.engagement
        self.responsiveness = traits.responsiveness
        self.alive = np.ones(n, dtype=bool)
        self.churned_at = np.full(n, -1, dtype=np.int64)
        self.shock = np.zeros(n)
        self.recent_orders = np.zeros(n)
        self.good_ticket = np.zeros(n)
        self.promoter = np.zeros(n)
        self.label_hazard = np.zeros((timeline.n_weeks, n))
        self.orders = _Accumulator("week", "customer", "count", "returned", "cancelled")
        self.tickets = _Accumulator(
            "customer", "opened", "resolved", "priority", "csat", "reopened", "tone"
        )
        self.surveys = _Accumulator("customer", "time", "type", "score", "tone")
        self.advocacy = _Accumulator("customer", "time", "type", "referred", "rating")

    def _refresh(self, index: np.ndarray) -> None:
        """Recompute derived traits of `index` after their latent scores changed."""
        traits = derive_traits(self.latent[index])
        self.baseline[index] = traits.satisfaction_baseline
        self.log_reach[index] = np.log(traits.social_reach)
        self.engagement[index] = traits.engagement
        self.responsiveness[index] = traits.responsiveness

    def run(self) -> ChunkHistory:
        season = self.timeline.seasonality()
        for week, start in enumerate(self.timeline.week_starts):
            active = self.alive & (self.signup < start)
            satisfaction = self.baseline + self.shock
            asked = self.asks.multiplier(week, satisfaction, self.log_reach) if self.asks else None
            self._advocate(week, int(start), active, satisfaction, asked)
            effects = np.zeros(self.n)
            ordered = self._order(week, active, satisfaction, season[week], effects)
            good = self._open_tickets(int(start), active, satisfaction, ordered, effects)
            promoters = self._answer_surveys(int(start), active, satisfaction)
            self._step(int(start), active, satisfaction, ordered[0], effects, good, promoters)
        return ChunkHistory(
            latent=self.latent,
            signup=self.signup,
            referred_by=self.referred_by,
            churned_at=self.churned_at,
            orders=self.orders.finish(),
            tickets=self.tickets.finish(),
            surveys=self.surveys.finish(),
            advocacy=self.advocacy.finish(),
            label_hazard=self.label_hazard,
            ask_effect=self.asks.effect if self.asks else np.zeros((0, self.n)),
        )

    def _advocate(
        self,
        week: int,
        start: int,
        active: np.ndarray,
        satisfaction: np.ndarray,
        asked: np.ndarray | None,
    ) -> None:
        """Draw this week's advocacy from hazards set by the state before the week.

        `asked` multiplies the hazards of customers an outreach ask is changing this week.
        """
        # Only customers taking part this week have a hazard; the rest stay at zero.
        part = np.flatnonzero(active)
        level = satisfaction[part]
        gate = _sigmoid(SATISFACTION_GATE_SLOPE * level)
        # Each driver saturates, so no customer advocates without bound.
        drivers = np.stack(
            [
                DRIVER_LIMIT * np.tanh(level / DRIVER_LIMIT),
                gate * np.clip(self.log_reach[part], -DRIVER_LIMIT, DRIVER_LIMIT),
                np.clip(self.latent[part, VALUE], -DRIVER_LIMIT, DRIVER_LIMIT),
                gate * np.log1p(self.recent_orders[part]),
                np.minimum(self.good_ticket[part], MEMORY_LIMIT),
                np.minimum(self.promoter[part], MEMORY_LIMIT),
            ]
        )
        hazard = ADVOCACY_BASE[:, None] * np.exp(ADVOCACY_COEFFICIENTS @ drivers)
        if asked is not None:
            hazard *= asked[part]
        self.label_hazard[week, part] = hazard[LABEL_MASK].sum(axis=0)
        total = hazard.sum(axis=0)
        among = _expand(self.rng.poisson(total))
        who = part[among]
        m = len(who)
        draw = self.rng.random(m) * total[among]
        kind = np.minimum((np.cumsum(hazard[:, among], axis=0) < draw).sum(axis=0), 6)
        time = start + np.floor(self.rng.random(m) * WEEK).astype(np.int64)
        intercept, slope, noise = REVIEW_RATING
        rating = np.clip(
            np.rint(intercept + slope * satisfaction[who] + self.rng.normal(0, noise, m)), 1, 5
        )
        rating[kind != REVIEW] = np.nan
        referred = self._convert_referrals(start, who, kind, time)
        self.advocacy.add(customer=who, time=time, type=kind, referred=referred, rating=rating)

    def _convert_referrals(
        self, start: int, who: np.ndarray, kind: np.ndarray, time: np.ndarray
    ) -> np.ndarray:
        """Turn converting referrals into new customers; returns the referred index or -1."""
        referred = np.full(len(who), -1, dtype=np.int64)
        low, high = REFERRAL_SIGNUP_DAYS
        signup = time + np.floor(self.rng.uniform(low, high, len(who)) * DAY).astype(np.int64)
        converts = (kind == REFERRAL) & (self.rng.random(len(who)) < REFERRAL_CONVERSION)
        converts &= signup < self.timeline.end
        events = np.flatnonzero(converts)
        events = events[np.argsort(time[events], kind="stable")]
        # Claimable: fresh customers not yet signed up, taken from the latest signup down.
        first_claimable = int(np.searchsorted(self.fresh_signup, start, side="left"))
        k = min(len(events), max(0, self.tail - first_claimable + 1))
        events = events[:k]
        slots = self.fresh_order[self.tail - np.arange(k)]
        self.tail -= k
        referrers = who[events]
        self.latent[slots] = inherit_latent(self.latent[referrers], self.latent[slots])
        self._refresh(slots)
        self.signup[slots] = signup[events]
        self.referred_by[slots] = referrers
        referred[events] = slots
        return referred

    def _order(
        self,
        week: int,
        active: np.ndarray,
        satisfaction: np.ndarray,
        season: float,
        effects: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw this week's orders; returns (orders per customer, who ordered, their returns)."""
        rate = self.engagement * np.exp(ORDER_SATISFACTION * satisfaction) * season * active
        count = self.rng.poisson(rate)
        who = np.flatnonzero(count)
        placed = count[who]
        intercept, slope = RETURN_LOGIT
        returned = self.rng.binomial(placed, _sigmoid(intercept + slope * satisfaction[who]))
        cancelled = self.rng.binomial(placed - returned, CANCEL_SHARE)
        self.orders.add(
            week=np.full(len(who), week, dtype=np.int32),
            customer=who,
            count=placed.astype(np.int32),
            returned=returned.astype(np.int32),
            cancelled=cancelled.astype(np.int32),
        )
        effects[who] += RETURN_EFFECT * returned
        return count, who, returned

    def _open_tickets(
        self,
        start: int,
        active: np.ndarray,
        satisfaction: np.ndarray,
        ordered: tuple[np.ndarray, np.ndarray, np.ndarray],
        effects: np.ndarray,
    ) -> np.ndarray:
        """Open and resolve this week's tickets; returns good resolutions per customer."""
        rng = self.rng
        _, who_ordered, returned = ordered
        count = rng.poisson(TICKET_RANDOM * active)
        kept = ordered[0][who_ordered] - returned
        count[who_ordered] += rng.binomial(kept, TICKET_PER_ORDER) + rng.binomial(
            returned, TICKET_PER_RETURN
        )
        who = _expand(count)
        m = len(who)
        priority = _pick(rng, PRIORITY_SHARES, m)
        hours = RESOLUTION_MEDIAN_HOURS[priority] * np.exp(
            RESOLUTION_SIGMA * rng.standard_normal(m)
        )
        never = rng.random(m) < NEVER_RESOLVED
        opened = start + np.floor(rng.random(m) * WEEK).astype(np.int64)
        resolved = opened + np.rint(hours * 3600).astype(np.int64)
        resolved[never | (resolved >= self.timeline.end)] = -1
        slow = never | (hours > SLOW_HOURS)
        fast = ~never & (hours < FAST_HOURS)
        reopened = rng.poisson(REOPEN_RATE[0] + REOPEN_RATE[1] * slow)
        effect = np.where(
            never,
            EFFECT_UNRESOLVED,
            np.where(slow, EFFECT_SLOW, np.where(fast, EFFECT_FAST, EFFECT_MEDIUM)),
        )
        effect = effect + EFFECT_REOPEN * reopened
        effects += np.bincount(who, weights=effect, minlength=self.n)
        base, per_unit = TICKET_CSAT_ANSWERED
        answered = ~never & (rng.random(m) < base + per_unit * self.responsiveness[who])
        intercept, slope, per_log_hours, noise = TICKET_CSAT
        csat = intercept + slope * satisfaction[who] + per_log_hours * np.log(hours / FAST_HOURS)
        csat = np.clip(np.rint(csat + rng.normal(0.0, noise, m)), 1, 5).astype(np.int64)
        csat[~answered] = -1
        # Comment tone: the csat when given, else the experience felt.
        felt = satisfaction[who] + 2.0 * effect
        felt_tone = np.where(felt < -0.5, NEGATIVE, np.where(felt > 0.7, POSITIVE, NEUTRAL))
        tone = np.where(answered, _tone(csat, 3, 3), felt_tone)
        tone[rng.random(m) >= TICKET_COMMENT] = NO_COMMENT
        self.tickets.add(
            customer=who,
            opened=opened,
            resolved=resolved,
            priority=priority,
            csat=csat,
            reopened=reopened,
            tone=tone,
        )
        good = fast & (reopened == 0)
        return np.bincount(who[good], minlength=self.n)

    def _answer_surveys(
        self, start: int, active: np.ndarray, satisfaction: np.ndarray
    ) -> np.ndarray:
        """Draw this week's survey answers; returns promoter answers per customer."""
        rng = self.rng
        a, b = SURVEY_EXTREMES
        rate = SURVEY_BASE * self.responsiveness * (a + b * satisfaction**2) * active
        who = _expand(rng.poisson(rate))
        m = len(who)
        kind = _pick(rng, SURVEY_TYPE_SHARES, m)
        params = np.array([SURVEY_SCORE[t] for t in SURVEY_TYPES])[kind]
        raw = (
            params[:, 0] + params[:, 1] * satisfaction[who] + params[:, 2] * rng.standard_normal(m)
        )
        score = np.clip(np.rint(raw), params[:, 3], params[:, 4]).astype(np.int64)
        neutral = np.array([SURVEY_NEUTRAL[t] for t in SURVEY_TYPES])[kind]
        tone = _tone(score, neutral[:, 0], neutral[:, 1])
        tone[rng.random(m) >= SURVEY_COMMENT] = NO_COMMENT
        time = start + np.floor(rng.random(m) * WEEK).astype(np.int64)
        self.surveys.add(customer=who, time=time, type=kind, score=score, tone=tone)
        promoter = (kind == SURVEY_TYPES.index("nps")) & (score >= PROMOTER_SCORE)
        return np.bincount(who[promoter], minlength=self.n)

    def _step(
        self,
        start: int,
        active: np.ndarray,
        satisfaction: np.ndarray,
        orders: np.ndarray,
        effects: np.ndarray,
        good: np.ndarray,
        promoters: np.ndarray,
    ) -> None:
        """Carry the state into the next week: memories, satisfaction shock and churn."""
        rng = self.rng
        self.recent_orders = RECENT_ORDERS_DECAY * self.recent_orders + orders
        self.good_ticket = GOOD_TICKET_DECAY * self.good_ticket + good
        self.promoter = PROMOTER_DECAY * self.promoter + promoters
        noise = SHOCK_NOISE * rng.standard_normal(self.n) * active
        self.shock = SHOCK_DECAY * self.shock + effects + noise
        hazard = CHURN_BASE * np.exp(
            -CHURN_SATISFACTION * satisfaction - CHURN_ENGAGEMENT * self.latent[:, ENGAGEMENT]
        )
        churns = active & (rng.random(self.n) < hazard)
        self.alive &= ~churns
        self.churned_at[churns] = start + WEEK


def simulate_chunk(
    n: int, timeline: Timeline, rng: np.random.Generator, asks: Asks | None = None
) -> ChunkHistory:
    """Simulate `n` customers (fresh and referred) over the timeline's weeks, asked by `asks`."""
    return _Chunk(n, timeline, rng, asks).run()
