"""Worlds for the tests of stores in customer partitions (features and flows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.generator import GeneratorSettings, Messiness, generate_world
from features.ingest import IngestSettings, ingest
from features.store import current_version


def referred_without_channel(folder: Path, customers: int, messy: bool = False) -> Path:
    """A generated world whose customers table lacks acquisition_channel.

    Then only the referral events of the customers who brought them (stored in the
    referrer's partition) tell that a customer came through a referral. `messy`: with
    every defect of the generator, 5 % each.
    """
    messiness = Messiness(**dict.fromkeys(Messiness.model_fields, 0.05)) if messy else Messiness()
    generate_world(GeneratorSettings(customers=customers, seed=5, messiness=messiness), folder)
    table = pd.read_parquet(folder / "customers.parquet")
    table.drop(columns="acquisition_channel").to_parquet(folder / "customers.parquet", index=False)
    return folder


def ingest_in(source: Path, store: Path, partitions: int) -> Path:
    """Ingest `source` into `store` in `partitions` parts; returns the version folder."""
    ingest(IngestSettings(source=source, store=store, as_of="2026-11-01", partitions=partitions))
    return current_version(store)
