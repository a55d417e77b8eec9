"""The weekly calendar a world is simulated on, and the cutoffs its ground truth is given at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from features.generator.settings import GeneratorSettings

DAY = 86_400
WEEK = 7 * DAY

# Order-rate multiplier by calendar month: the Nov/Dec peak, a quiet January and summer.
MONTH_SEASONALITY = np.array([0.8, 0.85, 0.95, 1.0, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.35, 1.55])


@dataclass(frozen=True)
class Timeline:
    """Weeks of the span in epoch seconds; the last week ends exactly at `end`."""

    start: int
    end: int
    n_weeks: int
    cutoffs: tuple[int, ...]
    horizon: int

    @property
    def week_starts(self) -> np.ndarray:
        """Epoch seconds at which each week starts."""
        return self.start + WEEK * np.arange(self.n_weeks, dtype=np.int64)

    def seasonality(self) -> np.ndarray:
        """Order-rate multiplier of each week, from the month of its middle day."""
        middles = (self.week_starts + WEEK // 2).astype("datetime64[s]")
        months = middles.astype("datetime64[M]").astype(np.int64) % 12
        return MONTH_SEASONALITY[months]

    def window_overlap(self, begins: tuple[int, ...] | np.ndarray | None = None) -> np.ndarray:
        """Share of each week inside each truth window [begin, begin + horizon), per begin.

        The windows begin at the cutoffs unless `begins` are given.
        """
        starts = self.week_starts.astype(np.float64)
        chosen = self.cutoffs if begins is None else begins
        cutoffs = np.asarray(chosen, dtype=np.float64)[:, None]
        low = np.maximum(starts[None, :], cutoffs)
        high = np.minimum(starts[None, :] + WEEK, cutoffs + self.horizon)
        return np.clip(high - low, 0.0, None) / WEEK


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _first_of_months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def build_timeline(settings: GeneratorSettings) -> Timeline:
    """Lay out the span of `settings.years` (whole weeks) ending at `settings.end`, and its cutoffs.

    Cutoffs are the first of each month, the latest `truth_months` of them whose truth
    window ends by `end` and starts inside the span.
    """
    end = _epoch(settings.end)
    n_weeks = max(1, round(settings.years * 365.25 / 7))
    start = end - n_weeks * WEEK
    horizon = settings.truth_horizon_days * DAY
    cutoffs: list[int] = []
    back = 0
    while len(cutoffs) < settings.truth_months:
        first = _first_of_months_back(settings.end.replace(day=1), back)
        cutoff = _epoch(first)
        if cutoff < start:
            break
        if cutoff + horizon <= end:
            cutoffs.append(cutoff)
        back += 1
    return Timeline(start, end, n_weeks, tuple(sorted(cutoffs)), horizon)


def iso_day(seconds: int) -> str:
    """Spell an epoch second as an ISO-8601 UTC timestamp string."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
