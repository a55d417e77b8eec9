"""Free-text comments whose tone follows the customer's experience, from phrase banks.

A comment is an opening sentence and, often, a detail sentence of the same tone, so the
banks give hundreds of distinct comments per tone. Positive and negative phrases use
plainly positive or negative words (love, great, helpful / disappointed, awful, rude),
so a lexicon sentiment method such as VADER scores them with the right sign; neutral
phrases state facts without opinion words.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.generator.simulation import NEGATIVE, NEUTRAL, POSITIVE

SURVEY_OPENERS = {
    POSITIVE: [
        "Love this shop!",
        "Great experience overall.",
        "Really happy with my orders.",
        "Excellent service, as always.",
        "Fantastic quality for the price.",
        "I would happily recommend you to friends.",
        "Always a pleasure to order here.",
        "Very satisfied with everything.",
        "Best online shop I have used.",
        "Wonderful products and friendly people.",
        "Impressed every time.",
        "Thank you, great job!",
    ],
    NEUTRAL: [
        "Ordered a few items this year.",
        "The order arrived on Tuesday.",
        "Delivery took about a week.",
        "I mostly buy the same things here.",
        "Prices are similar to other shops.",
        "Some items were in stock, some were not.",
        "I use the app now and then.",
        "Standard delivery, standard packaging.",
        "No particular comments this time.",
        "It does what it says.",
        "I compared a few shops before ordering.",
        "Average experience.",
    ],
    NEGATIVE: [
        "Very disappointed with my last order.",
        "Terrible experience, sadly.",
        "Not happy at all.",
        "The quality is poor these days.",
        "Awful service lately.",
        "I regret ordering here.",
        "Frustrating from start to finish.",
        "Worst delivery experience I have had.",
        "Poor value for money.",
        "I am annoyed and will not order again.",
        "Really bad this time.",
        "Disappointing and sad, to be honest.",
    ],
}
SURVEY_DETAILS = {
    POSITIVE: [
        "Delivery was quick and everything arrived in perfect condition.",
        "The support team was friendly and helpful.",
        "The clothes fit perfectly and look great.",
        "Returns were easy and the refund was fast.",
        "The app is simple and a joy to use.",
        "Lovely packaging, it felt like a gift.",
        "Great deals during the sale.",
        "My family loves the products too.",
    ],
    NEUTRAL: [
        "I will see how the next order goes.",
        "The parcel came in two boxes.",
        "I paid by card.",
        "The size chart matches the labels.",
        "I usually order on weekends.",
        "Tracking showed the usual steps.",
    ],
    NEGATIVE: [
        "The parcel was late and the box was damaged.",
        "Support was rude and unhelpful.",
        "The item broke after two weeks.",
        "Refunds are painfully slow.",
        "The app keeps crashing at checkout, so annoying.",
        "Wrong size sent twice, what a waste of time.",
        "Hidden fees at checkout, not fair.",
        "Nobody answered my emails, which is bad.",
    ],
}
TICKET_OPENERS = {
    POSITIVE: [
        "Problem solved quickly, thank you!",
        "Great support, very helpful agent.",
        "Fast and friendly help.",
        "Excellent, the issue was fixed the same day.",
        "Thanks for the quick and kind reply.",
        "Super helpful, much appreciated.",
        "Impressive service from the support team.",
        "Happy with how this was handled.",
    ],
    NEUTRAL: [
        "The ticket was closed after two emails.",
        "I was asked for my order number.",
        "The agent forwarded the case to another team.",
        "Replacement shipped, waiting for it to arrive.",
        "I called and then sent photos by email.",
        "The refund shows as pending.",
        "Case closed.",
        "I followed the steps in the reply.",
    ],
    NEGATIVE: [
        "Still waiting, this is unacceptable.",
        "Terrible support, I feel ignored.",
        "Slow and useless response.",
        "I had to explain the problem three times, very frustrating.",
        "The issue is not fixed and I am angry.",
        "Awful experience with customer service.",
        "Disappointed, the agent was rude.",
        "Bad support, I feel ignored.",
    ],
}
TICKET_DETAILS = {
    POSITIVE: [
        "The agent was patient and kind.",
        "Refund arrived within a day, great.",
        "They even sent a small gift, lovely.",
        "Clear answers, no hassle.",
    ],
    NEUTRAL: [
        "The item was a jacket.",
        "It was my second ticket this year.",
        "I got a reference number.",
        "The reply came by email.",
    ],
    NEGATIVE: [
        "No refund yet after weeks.",
        "The chat bot was useless.",
        "Nobody called me back, a broken promise.",
        "I will cancel my account if this continues.",
    ],
}
DETAIL_SHARE = 0.6


def _bank(phrases: dict[int, list[str]]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """All phrases in one array, with the first position and count of each tone."""
    tones = (NEGATIVE, NEUTRAL, POSITIVE)
    flat = [phrase for tone in tones for phrase in phrases[tone]]
    counts = np.array([len(phrases[tone]) for tone in tones])
    return pa.array(flat), np.concatenate([[0], np.cumsum(counts)[:-1]]), counts


def _choose(rng: np.random.Generator, phrases: dict[int, list[str]], tone: np.ndarray) -> pa.Array:
    bank, first, count = _bank(phrases)
    index = first[tone] + np.floor(rng.random(len(tone)) * count[tone]).astype(np.int64)
    return pc.take(bank, pa.array(index))


def compose_comments(rng: np.random.Generator, tone: np.ndarray, about: str) -> pa.Array:
    """One comment per row of `tone` (null where it is `NO_COMMENT`); about "survey" or "ticket"."""
    openers, details = (
        (SURVEY_OPENERS, SURVEY_DETAILS) if about == "survey" else (TICKET_OPENERS, TICKET_DETAILS)
    )
    has = tone >= 0
    known = np.where(has, tone, NEUTRAL)
    opening = _choose(rng, openers, known)
    detail = _choose(rng, details, known)
    with_detail = pa.array(rng.random(len(tone)) < DETAIL_SHARE)
    text = pc.if_else(with_detail, pc.binary_join_element_wise(opening, detail, " "), opening)
    return pc.if_else(pa.array(has), text, pa.scalar(None, pa.string()))
