"""Connecting to a Dask scheduler named in the configuration, or one clear error.

Used by training (`train.dask_address`) and scoring (`scoring.dask_address`): a scheduler
that does not answer, or answers without workers, would otherwise mean a long traceback
or a run that waits for ever.
"""

from __future__ import annotations

from distributed import Client

from features.errors import UserError

CONNECT_SECONDS = 30


def connect(address: str, setting: str) -> Client:
    """A client of the scheduler at `address` that has workers; `setting` names the key."""
    try:
        client = Client(address, timeout=f"{CONNECT_SECONDS}s")
    except OSError as error:
        raise UserError(
            f"{setting}: no Dask scheduler answers at {address} within {CONNECT_SECONDS} s: "
            f"start it, or set {setting} to null to run on this machine."
        ) from error
    if not client.scheduler_info()["workers"]:
        client.close()
        raise UserError(
            f"{setting}: the Dask scheduler at {address} has no workers: "
            "start `dask worker` processes for it."
        )
    return client
