"""Growing the booster on a Dask cluster (`train.dask_address`), through `lightgbm.dask`.

Only the booster's fit moves: the training rows are split over the workers, which grow
the trees together (LightGBM's data-parallel learner; `lightgbm.dask` opens a free port
on each worker for their network, so several workers on one host are fine). The
parameters, the stopping rule and everything after the fit are those of a local run.
Trees grown on a cluster are close to, not identical with, the local ones: each worker
bins and bags its own share of the rows.
"""

from __future__ import annotations

import warnings
from typing import Any

import dask.array as da
import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from distributed import Future
from lightgbm.dask import DaskLGBMClassifier

from models.cluster import connect
from models.training.stopping import StopWhenValidationStalls


def fit_on_cluster(
    address: str,
    params: dict[str, Any],
    rounds: int,
    matrix: npt.NDArray[np.float64],
    label: npt.NDArray[np.int64],
    features: list[str],
    stopping: StopWhenValidationStalls,
) -> lgb.Booster:
    """A booster grown by the workers of the scheduler at `address`, one share of rows each."""
    with connect(address, "train.dask_address") as client:
        workers = len(client.scheduler_info()["workers"])
        # One share of rows per worker, sent straight to it rather than inside the graph.
        shares = np.array_split(np.arange(len(label)), workers)
        rows = client.scatter([matrix[share] for share in shares])
        labels = client.scatter([label[share] for share in shares])
        # Each worker runs LightGBM on all its threads; num_threads does not apply there.
        cluster_params = {key: value for key, value in params.items() if key != "num_threads"}
        model = DaskLGBMClassifier(client=client, n_estimators=rounds, **cluster_params)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            model.fit(
                _stacked(rows, [len(share) for share in shares], matrix),
                _stacked(labels, [len(share) for share in shares], label),
                feature_name=features,
                callbacks=[stopping],
            )
        return model.booster_


def _stacked(futures: list[Future], lengths: list[int], like: npt.NDArray[Any]) -> da.Array:
    """One Dask array of the arrays the workers hold, in order."""
    return da.concatenate(
        [
            da.from_delayed(future, shape=(length, *like.shape[1:]), dtype=like.dtype)
            for future, length in zip(futures, lengths, strict=True)
        ]
    )
