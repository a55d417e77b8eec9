"""A slow, obviously-correct plain-pandas computation of every feature, for comparison.

Written apart from the SQL builder, one cutoff at a time, straight from the feature
descriptions in the registry.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from features.sentiment import NEGATIONS, lexicon


def _age_days(times: pd.Series, cutoff: pd.Timestamp) -> pd.Series:
    return (cutoff - times).dt.total_seconds() / 86400


@cache
def _valences() -> dict[str, float]:
    return dict(zip(lexicon()["token"], lexicon()["valence"], strict=True))


def comment_sentiment(text: str) -> float:
    valence = _valences()
    words = re.split(r"[^a-z']+", text.lower())
    total = 0.0
    for i, word in enumerate(words):
        if word in valence:
            negated = any(w in NEGATIONS for w in words[max(0, i - 3) : i])
            total += valence[word] * (-0.74 if negated else 1)
    return total / np.sqrt(total * total + 15)


def reference_features(
    tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, activity_days: int = 365
) -> pd.DataFrame:
    c = pd.Timestamp(cutoff)
    customers = tables["customers"]
    p = tables["purchases"]
    p = p[p["ordered_at"] < c].assign(age=lambda d: _age_days(d["ordered_at"], c))
    status = p["status"].fillna("completed")
    p_valid = p[status != "cancelled"]
    # returns are known only after the 30-day return window
    p_completed = p[(status != "cancelled") & ~((status == "returned") & (p["age"] > 30))]
    active = set(p_valid.loc[p_valid["age"] <= activity_days, "customer_id"])
    population = customers[(customers["signup_at"] < c) & customers["customer_id"].isin(active)]
    out = pd.DataFrame(index=pd.Index(sorted(population["customer_id"]), name="customer_id"))
    signup = population.set_index("customer_id")["signup_at"]
    out["tenure_days"] = _age_days(signup, c)
    adv = tables["advocacy_events"]
    adv = adv[adv["occurred_at"] < c].assign(age=lambda d: _age_days(d["occurred_at"], c))
    referred = set(adv.loc[adv["event_type"] == "referral", "referred_customer_id"].dropna())
    channel = population.set_index("customer_id")["acquisition_channel"]
    out["acquired_by_referral"] = [
        int(channel.get(cid) == "referral" or cid in referred) for cid in out.index
    ]

    def count(frame: pd.DataFrame) -> pd.Series:
        return frame.groupby("customer_id").size().reindex(out.index, fill_value=0)

    def agg(frame: pd.DataFrame, column: str, how: str) -> pd.Series:
        return frame.groupby("customer_id")[column].agg(how).reindex(out.index)

    for days in (30, 90, 365):
        out[f"orders_{days}d"] = count(p_valid[p_valid["age"] <= days])
    out["orders_all"] = count(p_valid)
    out["orders_prev_90d"] = count(p_valid[(p_valid["age"] > 90) & (p_valid["age"] <= 180)])
    for days in (30, 90, 365):
        out[f"revenue_{days}d"] = agg(
            p_completed[p_completed["age"] <= days], "amount", "sum"
        ).fillna(0)
    out["revenue_all"] = agg(p_completed, "amount", "sum").fillna(0)
    out["avg_order_value_365d"] = agg(p_completed[p_completed["age"] <= 365], "amount", "mean")
    out["categories_365d"] = agg(p_valid[p_valid["age"] <= 365], "category", "nunique").fillna(0)
    out["days_since_last_order"] = agg(p_valid, "age", "min")
    known = p_valid[(p_valid["age"] > 30) & (p_valid["age"] <= 365)]
    out["returned_orders_365d"] = count(known[known["status"] == "returned"])
    out["return_share_365d"] = out["returned_orders_365d"] / count(known).replace(0, np.nan)
    recent = p_valid[p_valid["age"] <= 365]
    out["discount_share_365d"] = agg(
        recent.assign(d=(recent["discount"].fillna(0) > 0).astype(float)), "d", "mean"
    )
    out["order_trend_90d"] = out["orders_90d"] - out["orders_prev_90d"]

    t = tables["support_tickets"]
    t = t[t["opened_at"] < c].assign(age=lambda d: _age_days(d["opened_at"], c))
    resolved = t["resolved_at"].notna() & (t["resolved_at"] < c)
    end = t["resolved_at"].where(resolved, c)
    t = t.assign(resolved=resolved, hours=(end - t["opened_at"]).dt.total_seconds() / 3600)
    year = t[t["age"] <= 365]
    out["tickets_90d"] = count(t[t["age"] <= 90])
    out["tickets_365d"] = count(year)
    out["urgent_tickets_365d"] = count(year[year["priority"] == "urgent"])
    out["open_tickets"] = count(t[~t["resolved"]])
    open_urgent = t[~t["resolved"] & (t["priority"] == "urgent")]
    out["open_urgent_tickets"] = count(open_urgent)
    out["open_urgent_ticket_days"] = agg(open_urgent, "age", "max")
    out["hours_to_resolve_365d"] = agg(year[year["resolved"]], "hours", "mean")
    out["slow_tickets_365d"] = count(year[year["hours"] > 72])
    out["ticket_csat_365d"] = agg(year[year["resolved"]], "csat", "mean")
    out["reopened_tickets_365d"] = count(year[year["resolved"] & (year["reopened"].fillna(0) > 0)])
    out["days_since_last_ticket"] = agg(t, "age", "min")

    s = tables["survey_responses"]
    s = s[s["responded_at"] < c].assign(age=lambda d: _age_days(d["responded_at"], c))
    s = s.sort_values("responded_at")
    nps = s[s["survey_type"] == "nps"]
    out["last_nps"] = agg(nps, "score", "last")
    out["days_since_last_nps"] = agg(nps, "age", "min")
    out["mean_nps"] = agg(nps, "score", "mean")
    last_two = nps.groupby("customer_id").tail(2).groupby("customer_id")["score"]
    pairs = last_two.agg(["first", "last", "size"])
    out["nps_change"] = (
        (pairs["last"] - pairs["first"]).where(pairs["size"] == 2).reindex(out.index)
    )
    out["is_promoter"] = (out["last_nps"] >= 9).astype(int)
    out["is_detractor"] = (out["last_nps"] <= 6).astype(int)
    out["last_csat"] = agg(s[s["survey_type"] == "csat"], "score", "last")
    out["last_ces"] = agg(s[s["survey_type"] == "ces"], "score", "last")
    out["surveys_365d"] = count(s[s["age"] <= 365])

    comments = pd.concat(
        [
            s.loc[s["comment"].notna(), ["customer_id", "age", "comment"]],
            t.loc[t["comment"].notna(), ["customer_id", "age", "comment"]],
        ]
    )
    comments = comments[comments["age"] <= 365]
    comments = comments.assign(sentiment=comments["comment"].map(comment_sentiment))
    out["comment_sentiment_365d"] = agg(comments, "sentiment", "mean")
    out["negative_comments_365d"] = count(comments[comments["sentiment"] <= -0.05])

    for kind, plural in [
        ("referral", "referrals"), ("review", "reviews"), ("testimonial", "testimonials"),
        ("case_study", "case_studies"), ("reference_call", "reference_calls"),
        ("social_mention", "social_mentions"), ("community_post", "community_posts"),
    ]:  # fmt: skip
        out[f"past_{plural}"] = count(adv[adv["event_type"] == kind])
    out["advocacy_365d"] = count(adv[adv["age"] <= 365])
    out["days_since_last_advocacy"] = agg(adv, "age", "min")
    out["mean_review_rating"] = agg(adv[adv["event_type"] == "review"], "rating", "mean")
    rated = adv[(adv["event_type"] == "review") & adv["rating"].notna()]
    out["last_review_rating"] = agg(rated.sort_values("occurred_at"), "rating", "last")
    return out
