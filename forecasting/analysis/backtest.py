"""Walk-forward backtest: the test period in folds, each trained on all before it.

The test period is cut into ``K`` consecutive folds (:func:`walk_forward_folds`),
each trained on everything before it (an expanding window), and models are
scored beside baselines per fold (:func:`plan_backtest`, :func:`run_backtest`).
Networks run as jobs on the engine; everything is in original units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.analysis.scores import metrics_table, naive_baselines
from forecasting.nn.jobs import FitJob, FitResult
from forecasting.prep.windows import Split
from forecasting.runtime.service import run_jobs
from forecasting.settings.config import ExperimentConfig

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison
    from forecasting.nn.training import ProgressCallback
    from forecasting.runtime.engine import Engine

MIN_FOLD_ROWS = 2
"""Fewest test rows a backtest fold may have."""


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
