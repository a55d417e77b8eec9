"""One rule for turning user-given moments into UTC timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd


def as_utc(moment: date | str | pd.Timestamp | None = None) -> pd.Timestamp:
    """The moment as a UTC timestamp: naive values are taken as UTC; None means now."""
    stamp = pd.Timestamp(moment if moment is not None else datetime.now(UTC))
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
