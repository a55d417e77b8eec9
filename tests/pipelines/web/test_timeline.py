"""How a customer's events read on their page."""

from __future__ import annotations

import pandas as pd

from pipelines.web.timeline import details_text


def test_codes_read_as_words_and_ids_stay_as_stored() -> None:
    row = pd.Series(
        {"event_id": "E_01", "event_type": "social_mention", "channel": "", "rating": 4.5}
    )
    details = details_text(row, ("event_id", "event_type", "channel", "rating"))
    assert details == "event id E_01 · event type social mention · rating 4.5"
