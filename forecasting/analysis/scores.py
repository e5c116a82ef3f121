"""Score forecasts side by side: every model and baseline on the same test rows.

:func:`metrics_table` is the table of a comparison, a transfer and a backtest
fold; :func:`naive_baselines` gives the baselines' forecasts it scores the
models against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.forecasters import BASELINE_LABELS, LinearAutoregression, fit_baselines
from forecasting.nn.jobs import FitResult
from forecasting.prep.windows import Split
from forecasting.settings.config import MODEL_LABELS


def metrics_table(
    actual: np.ndarray,
    predictions: dict[str, np.ndarray],
    baselines: dict[str, np.ndarray],
    trains: dict[str, list[FitResult]] | None = None,
    with_euclidean: bool = False,
) -> pd.DataFrame:
    """Score every model and baseline on the same targets, in original units.

    Args:
        actual: Real values ``(n_test, features)``.
        predictions: Model kind -> per-seed forecasts ``(seeds, n_test, features)``.
        baselines: Baseline kind -> forecasts ``(n_test, features)``.
        trains: Model kind -> per-seed fit details, for the time and size columns.
        with_euclidean: Add the mean Euclidean error (tracks).

    Returns:
        A frame indexed by display name (models first, then baselines) with columns
        ``rmse``, ``mae``, ``mape`` (, ``euclidean``): the mean over the seeds of
        each seed's error; with several seeds also ``rmse_std`` etc. (sample
        standard deviation); then ``fit_seconds`` (mean per seed), ``params``,
        ``epochs`` (mean), ``seeds`` and ``kind`` (model kind or baseline key).
    """
    keys = ["rmse", "mae", "mape"] + (["euclidean"] if with_euclidean else [])
    n_seeds = max([len(p) for p in predictions.values()] or [1])
    rows = []
    for kind, per_seed in predictions.items():
        scores = pd.DataFrame(
            [metrics.score(actual, p, with_euclidean) for p in per_seed]
        )
        row: dict[str, object] = {"name": MODEL_LABELS[kind], "kind": kind}
        row.update(scores[keys].mean().to_dict())
        if n_seeds > 1:
            row.update({f"{k}_std": scores[k].std(ddof=1) for k in keys})
        row["seeds"] = len(per_seed)
        if trains and kind in trains:
            row["fit_seconds"] = float(np.mean([t.fit_seconds for t in trains[kind]]))
            row["params"] = trains[kind][0].params
            row["epochs"] = float(np.mean([t.epochs_run for t in trains[kind]]))
        rows.append(row)
    for key, pred in baselines.items():
        row = {"name": BASELINE_LABELS[key], "kind": key}
        row.update(metrics.score(actual, pred, with_euclidean))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("name")
    table.index.name = None
    spread = [f"{k}_std" for k in keys] if n_seeds > 1 else []
    ordered = keys + spread + ["fit_seconds", "params", "epochs", "seeds", "kind"]
    return table.reindex(columns=ordered)


def linear_autoregression(split: Split, window: int) -> np.ndarray:
    """One-step forecasts of the test rows by a linear autoregression.

    See :class:`~forecasting.forecasters.LinearAutoregression` (fitted on the
    training windows of ``split``).

    Returns:
        Levels ``(n_test, features)``.
    """
    return LinearAutoregression(window).fit(split).one_step(split)


def naive_baselines(split: Split, window: int) -> dict[str, np.ndarray]:
    """One-step forecasts of the test rows by every baseline for this data.

    Persistence and a linear autoregression on the same window; for a track
    (:attr:`~forecasting.prep.windows.Split.track`) also constant velocity.

    Returns:
        Baseline kind -> levels ``(n_test, features)``.
    """
    return {k: f.one_step(split) for k, f in fit_baselines(split, window).items()}
