"""Prediction intervals: split-conformal bounds, and the spread of the seeds.

The one-step errors of a model on a calibration tail of the TRAINING windows
(never the test rows) give a half-width that covers at least the chosen share of
new errors, if the errors keep behaving as on the tail
(:func:`conformal_interval`); the coverage reached on the test period is
reported beside the nominal one. With several seeds, :func:`seed_band` is the
spread of the seeds' forecasts (min to max).

Shapes: a series is ``(rows, features)``; per-seed forecasts are
``(seeds, rows, features)``. Everything is in original units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecasting.metrics import as_rows
from forecasting.settings.config import MODEL_LABELS

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison

INTERVAL_METHODS = ("coordinate", "distance")
"""``"coordinate"``: one half-width per column; ``"distance"``: one radius."""


def check_coverage(coverage: float) -> float:
    """Return ``coverage`` as a float if it lies strictly between 0 and 1.

    Raises:
        ValueError: Naming the value, e.g. for ``80`` instead of ``0.8``.
    """
    if (
        isinstance(coverage, bool)
        or not isinstance(coverage, (int, float, np.floating))
        or not 0.0 < float(coverage) < 1.0
    ):
        raise ValueError(
            f"coverage must be between 0 and 1 (e.g. 0.8 for 80%), got {coverage!r}"
        )
    return float(coverage)


def conformal_quantile(
    residuals: np.ndarray | Sequence[float], coverage: float
) -> float:
    """The split-conformal half-width of a list of calibration errors.

    With ``n`` absolute errors and ``alpha = 1 - coverage`` this is the
    ``ceil((n + 1)(1 - alpha))``-th smallest one, i.e. the empirical quantile at
    level ``ceil((n + 1)(1 - alpha)) / n``. A new error exchangeable with the
    calibration ones is then at most this large with probability at least
    ``coverage``.

    Args:
        residuals: Calibration errors ``(n,)`` (signs are dropped).
        coverage: Wanted coverage in ``(0, 1)``, e.g. ``0.8``.

    Returns:
        The half-width, in the units of the errors.

    Raises:
        ValueError: If ``coverage`` is not in ``(0, 1)``, there are no errors, or
            too few for that coverage (``ceil((n + 1) * coverage) > n``).
    """
    coverage = check_coverage(coverage)
    errors = np.sort(np.abs(np.asarray(residuals, dtype=np.float64).ravel()))
    n = len(errors)
    # The small tolerance keeps e.g. 10 * 0.7 = 7.000000000000001 at rank 7.
    rank = math.ceil((n + 1) * coverage - 1e-9)
    if n == 0 or rank > n:
        needed = math.ceil(coverage / (1 - coverage) - 1e-9)
        raise ValueError(
            f"coverage {coverage} needs at least {needed} calibration errors, got {n}; "
            "choose a lower coverage or more training data"
        )
    return float(errors[rank - 1])


@dataclass(frozen=True)
class Interval:
    """A split-conformal interval around one forecast.

    Attributes:
        nominal: The coverage asked for, e.g. ``0.8``.
        method: ``"coordinate"`` (a half-width per column; coverage is the share
            of test values inside their bounds) or ``"distance"`` (one radius on
            the Euclidean distance of a row; coverage is the share of test rows
            within it; ``lower``/``upper`` are the box around that disc).
        half_width: ``(features,)``; the same radius in every column for
            ``"distance"``.
        lower: ``(rows, features)``, the forecast minus ``half_width``.
        upper: ``(rows, features)``, the forecast plus ``half_width``.
        n_calibration: Calibration errors it was computed from.
        coverage: The share reached on the real test rows, or ``None``.
        held_out: Whether the calibration rows were kept out of the fit (the
            validation tail with early stopping); ``False`` means the model was
            trained on them too, so the errors are in-sample and the interval
            tends to be too narrow (the coverage reached shows by how much);
            ``None`` if unknown.
    """

    nominal: float
    method: str
    half_width: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_calibration: int
    coverage: float | None = None
    held_out: bool | None = None


def conformal_interval(
    calibration_actual: np.ndarray,
    calibration_forecast: np.ndarray,
    forecast: np.ndarray,
    coverage: float,
    method: str = "coordinate",
    actual: np.ndarray | None = None,
) -> Interval:
    """Split-conformal bounds around a forecast from errors on a calibration set.

    Args:
        calibration_actual: Real calibration rows ``(n_cal, features)``; they must
            not be test rows.
        calibration_forecast: One-step forecasts of them, same shape.
        forecast: The forecast to put bounds around ``(rows, features)``.
        coverage: Wanted coverage in ``(0, 1)``.
        method: One of :data:`INTERVAL_METHODS`.
        actual: Real values of the forecast rows, to report the coverage reached.

    Returns:
        The :class:`Interval`.

    Raises:
        ValueError: For a bad ``coverage`` or ``method``, mismatched shapes, or too
            few calibration rows for the coverage.
    """
    if method not in INTERVAL_METHODS:
        raise ValueError(
            f"method must be one of {', '.join(INTERVAL_METHODS)}, got {method!r}"
        )
    cal_true, cal_pred = as_rows(calibration_actual), as_rows(calibration_forecast)
    if cal_true.shape != cal_pred.shape:
        raise ValueError(
            f"calibration rows and forecasts differ in shape: {cal_true.shape} and "
            f"{cal_pred.shape}"
        )
    errors = cal_true - cal_pred
    center = as_rows(forecast)
    width = _half_width(errors, coverage, method)
    reached = None
    if actual is not None:
        reached = _coverage_reached(as_rows(actual), center, width, method)
    return Interval(
        nominal=float(coverage),
        method=method,
        half_width=width,
        lower=center - width,
        upper=center + width,
        n_calibration=len(errors),
        coverage=reached,
    )


def _half_width(errors: np.ndarray, coverage: float, method: str) -> np.ndarray:
    """Half-width ``(features,)`` from calibration errors ``(n_cal, features)``.

    ``"coordinate"``: the conformal quantile of each column's errors;
    ``"distance"``: that of the rows' Euclidean norms, in every column.
    """
    if method == "coordinate":
        return np.array(
            [conformal_quantile(errors[:, j], coverage) for j in range(errors.shape[1])]
        )
    radius = conformal_quantile(np.linalg.norm(errors, axis=1), coverage)
    return np.full(errors.shape[1], radius)


def _coverage_reached(
    true: np.ndarray, center: np.ndarray, width: np.ndarray, method: str
) -> float:
    """Share of real values (``"coordinate"``) or rows (``"distance"``) inside."""
    if method == "coordinate":
        return float(np.mean(np.abs(true - center) <= width))
    return float(np.mean(np.linalg.norm(true - center, axis=1) <= width[0]))


def model_intervals(
    comparison: Comparison, coverage: float, method: str = "coordinate"
) -> dict[str, Interval]:
    """Split-conformal intervals around every model's one-step test forecast.

    The calibration set is the tail of the training windows each fit forecast on
    its worker (:attr:`forecasting.nn.jobs.FitResult.calibration`, the validation
    tail of early stopping: held out of the fit only when early stopping is on,
    see :attr:`Interval.held_out`). With several seeds the forecast and the calibration
    forecasts are both the mean over the seeds, so the interval belongs to the
    forecast that is scored.

    Args:
        comparison: A finished comparison.
        coverage: Wanted coverage in ``(0, 1)``.
        method: One of :data:`INTERVAL_METHODS`.

    Returns:
        Model kind -> :class:`Interval` with the test coverage filled in; kinds
        whose fits carry no calibration forecasts are left out.
    """
    check_coverage(coverage)
    result = {}
    train = comparison.split.train
    held_out = comparison.config.train.early_stopping
    for kind, run in comparison.runs.items():
        calibrations = [fit.calibration for fit in run.trains]
        if any(c is None for c in calibrations):
            continue
        calibration = np.mean(np.stack(calibrations), axis=0)
        interval = conformal_interval(
            train[-len(calibration) :],
            calibration,
            run.predictions,
            coverage,
            method,
            actual=comparison.actual,
        )
        result[kind] = replace(interval, held_out=held_out)
    return result


def seed_band(seed_predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The spread of several seeds' forecasts: lowest and highest at each row.

    Min/max rather than mean +- std: with the few seeds a class trains (3-5) a
    standard deviation is a poor estimate, and min/max is exactly what the
    seeds' own curves show.

    Args:
        seed_predictions: ``(seeds, rows, features)``.

    Returns:
        ``(low, high)``, each ``(rows, features)``.
    """
    array = np.asarray(seed_predictions, dtype=np.float64)
    if array.ndim != 3:
        raise ValueError(
            f"seed_predictions must be (seeds, rows, features), got {array.shape}"
        )
    return array.min(axis=0), array.max(axis=0)


def predictions_with_bounds(
    comparison: Comparison, intervals: Mapping[str, Interval]
) -> pd.DataFrame:
    """The comparison's predictions table with each model's bounds beside it.

    Returns:
        :meth:`Comparison.predictions_frame` with ``<Model> low`` and
        ``<Model> high`` columns (``<Model> low <col>`` with several columns)
        right after each model's own column(s).
    """
    frame = comparison.predictions_frame()
    columns = comparison.split.columns
    for kind, interval in intervals.items():
        label = MODEL_LABELS[kind]
        for j, column in enumerate(columns):
            name = label if len(columns) == 1 else f"{label} {column}"
            at = frame.columns.get_loc(name) + 1
            for side, values in (("high", interval.upper), ("low", interval.lower)):
                key = f"{label} {side}" + ("" if len(columns) == 1 else f" {column}")
                frame.insert(at, key, values[:, j])
    return frame
