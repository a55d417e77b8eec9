"""Hidden traits of customers: drawn once, never written to the input tables.

Every customer has five correlated latent scores (standard normal), turned into traits:

- satisfaction baseline: the level their satisfaction returns to after shocks (latent scale);
- social reach: a multiplier (median 1, heavy right tail) on how far their word carries;
- value: their typical order amount in EUR (lognormal, median about 49);
- engagement: their baseline number of orders per week;
- survey responsiveness: their propensity to answer surveys, 0 to 1.

Referred customers resemble the customer who referred them (latent correlation `REFERRAL_RHO`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Latent order: satisfaction, reach, value, engagement, responsiveness.
SATISFACTION, REACH, VALUE, ENGAGEMENT, RESPONSIVENESS = range(5)
LATENT_CORRELATION = np.array(
    [
        [1.0, 0.10, 0.05, 0.20, 0.10],
        [0.10, 1.0, 0.05, 0.10, 0.05],
        [0.05, 0.05, 1.0, 0.30, 0.00],
        [0.20, 0.10, 0.30, 1.0, 0.10],
        [0.10, 0.05, 0.00, 0.10, 1.0],
    ]
)
REACH_SIGMA = 1.0
VALUE_LOG_MEDIAN = np.log(49.0)
VALUE_SIGMA = 0.55
ENGAGEMENT_MEDIAN = 0.22  # orders per week at neutral satisfaction, outside the peak season
ENGAGEMENT_SIGMA = 0.75
RESPONSIVENESS_SHIFT = -0.6
RESPONSIVENESS_SCALE = 1.1
REFERRAL_RHO = 0.5

COUNTRIES = np.array(["DE", "FR", "NL", "ES", "IT", "BE", "AT", "IE"])
COUNTRY_SHARES = np.array([0.30, 0.20, 0.12, 0.12, 0.12, 0.06, 0.05, 0.03])
CHANNELS = np.array(["organic_search", "paid_search", "social", "email", "affiliate", "direct"])
CHANNEL_SHARES = np.array([0.28, 0.22, 0.18, 0.08, 0.09, 0.15])
PLANS = np.array(["basic", "plus", "premium"])
MARKETING_OPT_IN = 0.7
COUNTRY_KEPT_BY_REFERRAL = 0.8


def draw_latent(rng: np.random.Generator, n: int) -> np.ndarray:
    """Correlated standard-normal latent scores, one row per customer."""
    cholesky = np.linalg.cholesky(LATENT_CORRELATION)
    return rng.standard_normal((n, 5)) @ cholesky.T


def inherit_latent(referrer: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Latent scores of referred customers: correlated with their referrers', still standard."""
    return REFERRAL_RHO * referrer + np.sqrt(1.0 - REFERRAL_RHO**2) * own


@dataclass(frozen=True)
class Traits:
    """The traits derived from latent scores, as arrays over customers."""

    satisfaction_baseline: np.ndarray
    social_reach: np.ndarray
    value: np.ndarray
    engagement: np.ndarray
    responsiveness: np.ndarray


def derive_traits(latent: np.ndarray) -> Traits:
    """Turn latent scores into the interpretable traits."""
    return Traits(
        satisfaction_baseline=latent[:, SATISFACTION].copy(),
        social_reach=np.exp(REACH_SIGMA * latent[:, REACH]),
        value=np.exp(VALUE_LOG_MEDIAN + VALUE_SIGMA * latent[:, VALUE]),
        engagement=ENGAGEMENT_MEDIAN * np.exp(ENGAGEMENT_SIGMA * latent[:, ENGAGEMENT]),
        responsiveness=1.0
        / (
            1.0 + np.exp(-(RESPONSIVENESS_SHIFT + RESPONSIVENESS_SCALE * latent[:, RESPONSIVENESS]))
        ),
    )


@dataclass(frozen=True)
class Profile:
    """Observable attributes of customers (the optional columns of the customers table)."""

    country: np.ndarray
    plan: np.ndarray
    acquisition_channel: np.ndarray
    marketing_opt_in: np.ndarray


def draw_profile(rng: np.random.Generator, latent: np.ndarray, referred_by: np.ndarray) -> Profile:
    """Country, plan, acquisition channel and opt-in; referred customers mostly share a country.

    The plan follows value and engagement, so it carries a little signal about both.
    """
    n = len(latent)
    country = rng.choice(COUNTRIES, size=n, p=COUNTRY_SHARES)
    referred = referred_by >= 0
    keep = referred & (rng.random(n) < COUNTRY_KEPT_BY_REFERRAL)
    country[keep] = country[referred_by[keep]]
    plan_score = 0.6 * latent[:, VALUE] + 0.6 * latent[:, ENGAGEMENT] + rng.normal(0.0, 0.7, n)
    plan = PLANS[np.searchsorted([0.35, 1.25], plan_score)]
    channel = rng.choice(CHANNELS, size=n, p=CHANNEL_SHARES).astype(object)
    channel[referred] = "referral"
    return Profile(
        country=country,
        plan=plan,
        acquisition_channel=channel,
        marketing_opt_in=rng.random(n) < MARKETING_OPT_IN,
    )
