"""Free-run error by horizon: how far ahead a forecast stays close.

Forecasting ``N`` steps recursively from the end of training gives the error at
each step ahead (:func:`horizon_errors`), for the networks and for baselines run
freely the same way (:func:`comparison_horizon_errors`). Everything is in
original units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from forecasting.forecasters import fit_baselines
from forecasting.metrics import as_rows
from forecasting.prep.windows import Split

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison


def horizon_errors(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """The error of a free-run forecast at each step ahead.

    Args:
        actual: Real rows ``(steps,)`` or ``(steps, features)``.
        forecast: The forecast of the same rows, same shape.

    Returns:
        ``(steps,)``: the Euclidean distance between forecast and real row at each
        step (the absolute error for one column, the distance for 2-D tracks).

    Raises:
        ValueError: If the shapes differ or are empty.
    """
    true, pred = as_rows(actual), as_rows(forecast)
    if true.shape != pred.shape or true.size == 0:
        raise ValueError(
            f"actual and forecast must have the same non-empty shape, got "
            f"{true.shape} and {pred.shape}"
        )
    return np.linalg.norm(true - pred, axis=1)


def check_horizon(steps: int, n_test: int) -> int:
    """Return ``steps`` if it is a whole number of steps the test period covers.

    Raises:
        ValueError: Naming the value and the number of test rows.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"horizon must be a whole number of steps, got {steps!r}")
    if not 1 <= steps <= n_test:
        raise ValueError(
            f"horizon must be between 1 and the {n_test} test rows, got {steps}"
        )
    return int(steps)


def baseline_free_runs(split: Split, window: int, steps: int) -> dict[str, np.ndarray]:
    """Free runs of the baselines from the end of ``split.train``, keyed by kind.

    The baselines of :func:`forecasting.forecasters.fit_baselines` (persistence,
    the linear autoregression, and for a track constant velocity), each fed its
    own forecasts.

    Returns:
        Kind -> ``(steps, features)`` levels.
    """
    return {
        kind: forecaster.free_run(split, steps)
        for kind, forecaster in fit_baselines(split, window).items()
    }


def comparison_horizon_errors(
    comparison: Comparison, steps: int
) -> dict[str, np.ndarray]:
    """Error by steps ahead of every model's free run and every baseline's.

    Each network's free run is the mean over its seeds of the run started from
    the last training window (the comparison must have been planned with at
    least ``steps`` rollout steps).

    Args:
        comparison: A finished comparison.
        steps: Steps ahead, at most the test rows.

    Returns:
        Kind (models first, then baselines) -> ``(steps,)`` errors.

    Raises:
        ValueError: If ``steps`` is out of range or the comparison's free runs
            are shorter.
    """
    steps = check_horizon(steps, len(comparison.actual))
    if comparison.rollout_steps < steps:
        raise ValueError(
            f"horizon {steps} needs free runs of at least {steps} steps, the "
            f"comparison has {comparison.rollout_steps}"
        )
    actual = comparison.actual[:steps]
    result = {
        kind: horizon_errors(actual, run.rollout[:steps])
        for kind, run in comparison.runs.items()
        if run.rollout is not None
    }
    runs = baseline_free_runs(comparison.split, comparison.config.window, steps)
    result.update({name: horizon_errors(actual, path) for name, path in runs.items()})
    return result
