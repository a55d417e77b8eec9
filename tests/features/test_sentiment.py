"""Comment sentiment in SQL scores each comment as the plain-Python VADER reading does."""

from __future__ import annotations

import pandas as pd

from features.engine import EngineSettings, connect
from features.sentiment import register_lexicon, sentiment_sql
from tests.features.reference import comment_sentiment

COMMENTS = [
    "Good",
    "Not good at all",
    "not bad, not terrible... GREAT!",
    ", never   ever very good",  # the leading comma leaves an empty first word
    "I don't think it's good",
    "x not y z good",  # the negation three words before: negated
    "w not x y z good",  # four words before: not negated
    "good not",
    "bad bad not very very good",
    "Nothing was wrong. Happy!",
    "can't complain, great service",
    "no no no no good",
    "not",
    "!!!",
    "",
    "the parcel came on tuesday",
]


def test_every_comment_scores_as_the_reference() -> None:
    connection = connect(EngineSettings())
    register_lexicon(connection)
    ids = [f"c{i:02d}" for i in range(len(COMMENTS))]
    frame = pd.DataFrame({"comment_id": ids, "comment": COMMENTS, "customer_id": "C1"})
    connection.register("comment_rows", frame)
    scored = connection.execute(
        f"SELECT * FROM ({sentiment_sql('comment_rows', keep=('customer_id',))}) "
        "ORDER BY comment_id"
    ).df()
    assert scored["comment_id"].tolist() == ids
    assert (scored["customer_id"] == "C1").all()
    expected = [comment_sentiment(text) for text in COMMENTS]
    assert scored["sentiment"].tolist() == expected  # summed in word order, to the last bit
    assert expected[5] < 0 < expected[6] and expected[-1] == expected[-2] == 0
