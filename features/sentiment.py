"""Comment sentiment from the VADER lexicon, computed in SQL.

A lexicon method works offline and scores a million comments in seconds inside DuckDB.
Each comment's score follows VADER's normalisation, sum / sqrt(sum^2 + 15), in -1..1,
over the valences of its words, with a word's valence flipped (x -0.74, as in VADER)
when one of the three words before it is a negation.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import duckdb
import pandas as pd

NEGATIONS = (
    "not", "no", "never", "none", "nothing", "nobody", "neither", "nor", "without", "cannot",
    "dont", "don't", "didnt", "didn't", "doesnt", "doesn't", "isnt", "isn't", "wasnt", "wasn't",
    "wont", "won't", "cant", "can't", "couldnt", "couldn't", "arent", "aren't", "havent", "haven't",
)  # fmt: skip


@cache
def lexicon() -> pd.DataFrame:
    """VADER's word valences (-4..4), as shipped inside the vaderSentiment package."""
    text = (files("vaderSentiment") / "vader_lexicon.txt").read_text(encoding="utf-8")
    rows = [line.split("\t")[:2] for line in text.splitlines() if line.strip()]
    table = pd.DataFrame(
        {"token": [token for token, _ in rows], "valence": [float(value) for _, value in rows]}
    )
    return table.drop_duplicates("token", keep="last")  # as VADER's own dict does


def register_lexicon(connection: duckdb.DuckDBPyConnection) -> None:
    """Make the tables `sentiment_lexicon` and `sentiment_negations` visible to SQL."""
    connection.register("sentiment_lexicon", lexicon())
    connection.register("sentiment_negations", pd.DataFrame({"token": list(NEGATIONS)}))


def sentiment_sql(comments: str) -> str:
    """SQL scoring each row (comment_id, comment) of the relation `comments`."""
    return f"""
    SELECT comment_id,
           coalesce(sum(valence) / sqrt(sum(valence) * sum(valence) + 15), 0) AS sentiment
    FROM (
        SELECT t.comment_id,
               l.valence * CASE WHEN n1.token IS NOT NULL OR n2.token IS NOT NULL
                                  OR n3.token IS NOT NULL THEN -0.74 ELSE 1 END AS valence
        FROM (
            SELECT comment_id, token, pos,
                   lag(token, 1) OVER w AS prev1, lag(token, 2) OVER w AS prev2,
                   lag(token, 3) OVER w AS prev3
            FROM (
                SELECT comment_id,
                       unnest(words) AS token, unnest(range(1, len(words) + 1)) AS pos
                FROM (SELECT comment_id,
                             regexp_split_to_array(lower(comment), '[^a-z'']+') AS words
                      FROM {comments})
            )
            WINDOW w AS (PARTITION BY comment_id ORDER BY pos)
        ) AS t
        LEFT JOIN sentiment_lexicon AS l ON l.token = t.token
        LEFT JOIN sentiment_negations AS n1 ON n1.token = t.prev1
        LEFT JOIN sentiment_negations AS n2 ON n2.token = t.prev2
        LEFT JOIN sentiment_negations AS n3 ON n3.token = t.prev3
    )
    GROUP BY comment_id
    """
