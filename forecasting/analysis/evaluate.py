"""Beyond one test score: prediction intervals, error by horizon, walk-forward folds.

Three views of how far a forecast can be trusted, all in original units and all
computed without Streamlit or TensorFlow (networks run as jobs on the engine):

* **Split-conformal intervals** (:func:`conformal_interval`): the one-step errors
  of a model on a calibration tail of the TRAINING windows (never the test rows)
  give a half-width that covers at least the chosen share of new errors, if the
  errors keep behaving as on the tail; the coverage reached on the test period is
  reported beside the nominal one. With several seeds, :func:`seed_band` is the
  spread of the seeds' forecasts (min to max).
* **Free-run error by horizon** (:func:`horizon_errors`): forecasting ``N``
  steps recursively from the end of training, the error at each step ahead,
  for the networks and for baselines run freely the same way.
* **Walk-forward backtest** (:func:`plan_backtest`, :func:`run_backtest`): the
  test period cut into ``K`` consecutive folds, each trained on everything
  before it (an expanding window), models beside baselines per fold.

Shapes: a series is ``(rows, features)``; per-seed forecasts are
``(seeds, rows, features)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.analysis.compare import (
    BASELINE_LABELS,
    Comparison,
    metrics_table,
    naive_baselines,
    run_jobs,
)
from forecasting.nn.jobs import FitJob, FitResult
from forecasting.prep.windows import Split
from forecasting.settings.config import MODEL_LABELS, ExperimentConfig

if TYPE_CHECKING:
    from forecasting.nn.training import ProgressCallback
    from forecasting.runtime.engine import Engine

INTERVAL_METHODS = ("coordinate", "distance")
"""``"coordinate"``: one half-width per column; ``"distance"``: one radius."""

MIN_FOLD_ROWS = 2
"""Fewest test rows a backtest fold may have."""


# ---------------------------------------------------------------- intervals


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


def _rows(values: np.ndarray | Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array[:, None] if array.ndim == 1 else array


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
    cal_true, cal_pred = _rows(calibration_actual), _rows(calibration_forecast)
    if cal_true.shape != cal_pred.shape:
        raise ValueError(
            f"calibration rows and forecasts differ in shape: {cal_true.shape} and "
            f"{cal_pred.shape}"
        )
    errors = cal_true - cal_pred
    center = _rows(forecast)
    if method == "coordinate":
        width = np.array(
            [conformal_quantile(errors[:, j], coverage) for j in range(errors.shape[1])]
        )
    else:
        radius = conformal_quantile(np.linalg.norm(errors, axis=1), coverage)
        width = np.full(errors.shape[1], radius)
    reached = None
    if actual is not None:
        true = _rows(actual)
        if method == "coordinate":
            reached = float(np.mean(np.abs(true - center) <= width))
        else:
            reached = float(np.mean(np.linalg.norm(true - center, axis=1) <= width[0]))
    return Interval(
        nominal=float(coverage),
        method=method,
        half_width=width,
        lower=center - width,
        upper=center + width,
        n_calibration=len(errors),
        coverage=reached,
    )


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


# ------------------------------------------------------- error by horizon


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
    true, pred = _rows(actual), _rows(forecast)
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
    from forecasting.forecasters import fit_baselines

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


# ------------------------------------------------------ walk-forward backtest


def check_folds(k: int, n_test: int) -> int:
    """Return ``k`` if it is a whole number of folds of at least 2 test rows each.

    Raises:
        ValueError: Naming ``k``, the test rows and the largest ``k`` allowed.
    """
    largest = n_test // MIN_FOLD_ROWS
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(
            f"backtest folds must be a whole number of 1 or more, got {k!r}"
        )
    if k > largest:
        advice = f"choose at most {largest}" if largest else "test on more rows"
        raise ValueError(
            f"backtest folds {k} is too many for the {n_test} test rows (each fold "
            f"needs at least {MIN_FOLD_ROWS}); {advice}"
        )
    return int(k)


def walk_forward_folds(split: Split, k: int) -> list[Split]:
    """Cut the test period into ``k`` consecutive folds with expanding training.

    Fold ``i`` tests on the ``i``-th block of ``n_test // k`` test rows (the last
    fold also takes the remainder) and trains on every row before it: the
    original training rows plus the test rows of the earlier folds. Fold 1 is
    therefore the original training period.

    Args:
        split: The comparison's split.
        k: Number of folds, at least 1.

    Returns:
        ``k`` splits in time order.

    Raises:
        ValueError: If ``k`` is not a whole number from 1 to ``n_test // 2``.
    """
    n_test = len(split.test)
    check_folds(k, n_test)
    size = n_test // k
    train = np.concatenate([split.train, split.test])
    index = split.train_index.append(split.test_index)
    n_train = len(split.train)
    folds = []
    for i in range(k):
        start = n_train + i * size
        stop = n_train + n_test if i == k - 1 else start + size
        folds.append(
            Split(
                train=train[:start],
                test=train[start:stop],
                train_index=index[:start],
                test_index=index[start:stop],
                columns=split.columns,
                track=split.track,
            )
        )
    return folds


@dataclass(frozen=True)
class BacktestPlan:
    """A walk-forward backtest cut into jobs.

    Attributes:
        folds: The fold splits (see :func:`walk_forward_folds`).
        refit: Whether the networks are trained again on each fold.
        jobs: With ``refit``, one :class:`~forecasting.nn.jobs.FitJob` per fold
            after the first, model kind and seed (fold 1 trains on the original
            training rows, so the comparison's own fits are its fits); else empty.
        estimate_seconds: Estimated seconds of training of ``jobs``.
    """

    folds: tuple[Split, ...]
    refit: bool
    jobs: tuple[FitJob, ...] = ()
    estimate_seconds: float = 0.0


def plan_backtest(comparison: Comparison, k: int, refit: bool = False) -> BacktestPlan:
    """Cut the comparison's test period into folds and list the refits, if any.

    Without ``refit`` nothing is trained: each network keeps the weights and the
    scaler it was trained with (the original training rows precede every fold,
    so no fold's test row is seen), and a one-step forecast only needs the real
    rows before it, so its fold scores are its one-step forecasts of those rows.
    With ``refit`` each fold's fit windows its own training rows with a scaler
    fitted on them only (:func:`~forecasting.prep.windows.prepare_windows` inside
    :meth:`FitJob.run`).

    Raises:
        ValueError: If ``k`` does not fit the test rows.
    """
    from forecasting.prep.budget import fit_seconds

    folds = tuple(walk_forward_folds(comparison.split, k))
    if not refit:
        return BacktestPlan(folds, False)
    config = comparison.config
    context = config.window + (1 if config.target == "diff" else 0)
    jobs = tuple(
        FitJob(
            fit.kind,
            fit.seed,
            config,
            fold,
            estimate=fit_seconds(fit.kind, len(fold.train) - context, config),
        )
        for fold in folds[1:]
        for run in comparison.runs.values()
        for fit in run.trains
    )
    return BacktestPlan(folds, True, jobs, sum(job.estimate for job in jobs))


def refit_seconds(split: Split, config: ExperimentConfig, k: int) -> float:
    """Estimated seconds of training of a backtest with refits, before planning it.

    The same sum as :attr:`BacktestPlan.estimate_seconds`: one fit per model
    kind and seed on each fold after the first.

    Raises:
        ValueError: If ``k`` does not fit the test rows.
    """
    from forecasting.prep.budget import fit_seconds

    context = config.window + (1 if config.target == "diff" else 0)
    return sum(
        fit_seconds(kind, len(fold.train) - context, config) * config.train.seeds
        for fold in walk_forward_folds(split, k)[1:]
        for kind in config.models
    )


def _label(value: object) -> object:
    """An index label as JSON: a date as ``YYYY-MM-DD``, a row number as int."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.integer):
        return int(value)
    return value


def _fold_entry(
    fold: Split,
    predictions: dict[str, np.ndarray],
    window: int,
) -> dict[str, Any]:
    baselines = naive_baselines(fold, window)
    table = metrics_table(fold.test, predictions, baselines, with_euclidean=fold.track)
    keys = [k for k in metrics.METRIC_NAMES if k in table.columns]
    models = {}
    for _, row in table.iterrows():
        values = {k: float(row[k]) for k in keys}
        models[row["kind"]] = {
            k: v if math.isfinite(v) else None for k, v in values.items()
        }
    return {
        "train_end": _label(fold.train_index[-1]),
        "test_start": _label(fold.test_index[0]),
        "test_end": _label(fold.test_index[-1]),
        "n_train": len(fold.train),
        "n_test": len(fold.test),
        "models": models,
    }


def assemble_backtest(
    plan: BacktestPlan, comparison: Comparison, results: Sequence[FitResult] = ()
) -> dict[str, Any]:
    """Score every model and baseline on every fold.

    Args:
        plan: From :func:`plan_backtest`.
        comparison: The comparison it was planned from.
        results: The results of ``plan.jobs``, in order (empty without refit).

    Returns:
        ``{"k", "refit", "folds": [{"train_end", "test_start", "test_end",
        "n_train", "n_test", "models": {kind: {"rmse", "mae", "mape"
        (, "euclidean")}}}, ...]}``; ``models`` holds the networks (mean over
        seeds of each seed's score, as the metrics table) and the baselines
        (persistence and a linear autoregression refitted on the fold's training
        rows; constant velocity for tracks), keyed by kind id; values are plain
        JSON (``None`` for a missing MAPE or a diverged network's error).
    """
    offset = len(comparison.split.train)
    fits_of: dict[int, list[FitResult]] = {id(fold): [] for fold in plan.folds}
    for job, result in zip(plan.jobs, results, strict=True):
        fits_of[id(job.split)].append(result)
    folds = []
    for fold in plan.folds:
        fits = fits_of[id(fold)]
        if fits:
            predictions = {
                kind: np.stack([f.predictions for f in fits if f.kind == kind])
                for kind in comparison.runs
            }
        else:
            start = len(fold.train) - offset
            stop = start + len(fold.test)
            predictions = {
                kind: run.seed_predictions[:, start:stop]
                for kind, run in comparison.runs.items()
            }
        folds.append(_fold_entry(fold, predictions, comparison.config.window))
    return {"k": len(plan.folds), "refit": plan.refit, "folds": folds}


def run_backtest(
    comparison: Comparison,
    k: int,
    refit: bool = False,
    progress: ProgressCallback | None = None,
    engine: Engine | None = None,
    owner: str = "cli",
) -> dict[str, Any]:
    """Plan, run (refits on the engine) and score a walk-forward backtest.

    Callers that want to show the estimate first call :func:`plan_backtest`,
    look at :attr:`BacktestPlan.estimate_seconds`, then run
    ``assemble_backtest(plan, comparison, run_jobs(plan.jobs, ...))``.

    Returns:
        As :func:`assemble_backtest`.
    """
    plan = plan_backtest(comparison, k, refit)
    results = run_jobs(plan.jobs, progress, engine, owner) if plan.jobs else []
    return assemble_backtest(plan, comparison, results)


def backtest_frame(backtest: Mapping[str, Any], metric: str = "rmse") -> pd.DataFrame:
    """The per-fold errors as a table: one row per fold, one column per kind.

    Args:
        backtest: From :func:`assemble_backtest`.
        metric: A key of :data:`forecasting.metrics.METRIC_NAMES`.

    Returns:
        A frame indexed by fold number (from 1) with a ``test`` column
        (``"<test_start> .. <test_end>"``) and one column per kind id.
    """
    rows = []
    for number, fold in enumerate(backtest["folds"], start=1):
        row: dict[str, Any] = {
            "fold": number,
            "test": f"{fold['test_start']} .. {fold['test_end']}",
        }
        row.update({kind: m.get(metric) for kind, m in fold["models"].items()})
        rows.append(row)
    return pd.DataFrame(rows).set_index("fold")


def display_name(kind: str) -> str:
    """The display label of a model or baseline kind id."""
    return MODEL_LABELS.get(kind) or BASELINE_LABELS.get(kind, kind)


def check_lab_settings(
    n_test: int,
    coverage: float | None = None,
    horizon: int | None = None,
    folds: int | None = None,
    refit: bool = False,
) -> None:
    """Check interval, horizon and backtest settings against the test rows.

    Called before anything trains, so a bad value fails at once.

    Args:
        n_test: Test rows of the split.
        coverage: Interval coverage, or ``None`` for no intervals.
        horizon: Free-run steps to score, or ``None``.
        folds: Backtest folds, or ``None`` for no backtest.
        refit: Refit the networks per fold (needs ``folds``).

    Raises:
        ValueError: Naming the bad value.
    """
    if coverage is not None:
        check_coverage(coverage)
    if horizon is not None:
        check_horizon(horizon, n_test)
    if folds is not None:
        check_folds(folds, n_test)
    elif refit:
        raise ValueError("refit needs a backtest: give the number of folds too")
