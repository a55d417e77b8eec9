"""The `outreach` section of the configuration: control groups and what advocacy is worth."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from features.contracts import ADVOCACY_TYPES
from models.scoring.control import ControlSettings

MEASURED: Literal["measured"] = "measured"
Worth = float | Literal["measured"]


def _default_values() -> dict[str, Worth]:
    return {
        "referral": MEASURED,
        "review": 20.0,
        "testimonial": 50.0,
        "case_study": 500.0,
        "reference_call": 250.0,
    }


class OutreachSettings(ControlSettings):
    """Control groups at scoring, and the value of advocacy when outreach is evaluated."""

    value_per_advocacy: dict[str, Worth] = Field(default_factory=_default_values)
    """Worth of one event of each type, in the purchases' currency; types left out are worth
    nothing. `measured` (referrals only): the first-year revenue that a referral brings,
    measured from the data (converted referrals per referral x first-year revenue of a
    referred customer)."""
    contact_cost: float = Field(1.0, ge=0.0)
    """Cost of one contact that `advocacy plan-outreach` writes into a simulated plan."""

    @field_validator("value_per_advocacy")
    @classmethod
    def _known_types(cls, values: dict[str, float | str]) -> dict[str, float | str]:
        unknown = sorted(set(values) - set(ADVOCACY_TYPES))
        if unknown:
            raise ValueError(
                f"unknown advocacy types {unknown}; known: {', '.join(ADVOCACY_TYPES)}"
            )
        if any(value == MEASURED for kind, value in values.items() if kind != "referral"):
            raise ValueError("only referral can be `measured`; give the others a number")
        return values
