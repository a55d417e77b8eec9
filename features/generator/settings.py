"""What a generated world looks like: size, seed, span, file format, messiness, outreach."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _share() -> float:
    # A share of rows: 0 switches the defect off; 1 would leave no clean row to corrupt.
    return Field(default=0.0, ge=0.0, lt=1.0)


class Messiness(BaseModel):
    """Shares of rows corrupted on purpose, to exercise ingestion's quarantine; 0 is off.

    Ground truth is computed from the clean world, and the clean rows are the same with
    or without messiness (the corruption draws from its own random stream).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    duplicates: float = _share()
    bad_dates: float = _share()
    negative_amounts: float = _share()
    unknown_customers: float = _share()
    out_of_range_scores: float = _share()
    mixed_timezones: float = _share()

    @property
    def enabled(self) -> bool:
        """Whether any defect is switched on (timestamps are then written as strings)."""
        return any(share > 0 for share in self.model_dump().values())


class GeneratorSettings(BaseModel):
    """Settings of one generated world; the same settings always give the same bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    out: Path = Path("data/sample")
    """Folder the world is written to; not part of the world (world.json leaves it out)."""
    customers: int = Field(default=10_000, ge=1)
    seed: int = Field(default=7, ge=0)
    years: float = Field(default=3.0, gt=0.0, le=50.0)
    end: date = date(2026, 10, 1)
    format: Literal["parquet", "csv"] = "parquet"
    truth_horizon_days: int = Field(default=90, ge=1)
    truth_months: int = Field(default=18, ge=0)
    categories: int = Field(default=8, ge=8)
    """Distinct product categories: the 8 departments, split evenly into sub-categories
    ("fashion-001", ...) when more; real catalogues have hundreds."""
    messiness: Messiness = Messiness()
    outreach: Path | None = None
    """A plan of contacts to replay (.parquet or .csv: customer_id, sent_at, program,
    channel; optional cost, campaign), e.g. from `advocacy plan-outreach`. Each ask changes
    the customer's advocacy by a known effect (`features.generator.outreach`); the world
    gets an outreach table and truth/outreach_effect.parquet. None: nobody is asked."""
