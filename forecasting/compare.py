"""Run a whole comparison: split, scale, window, train every kind, forecast, score.

The dashboard and the command line both call :func:`run_comparison`; the numbers
they show come from here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.config import MODEL_LABELS, ExperimentConfig
from forecasting.data import DataError
from forecasting.predict import free_run, predict_one_step
from forecasting.training import ProgressCallback, TrainResult, train_model
from forecasting.windows import (
    Split,
    Windows,
    make_windows,
    prepare_windows,
    split_series,
)

BASELINE_LABELS: dict[str, str] = {
    "persistence": "Persistence (naive)",
    "constant_velocity": "Constant velocity (naive)",
}
"""Display names of the naive baselines."""


@dataclass
class ModelRun:
    """One trained model kind and its forecasts, in original units.

    Attributes:
        kind: Model kind, e.g. ``"lstm"``.
        predictions: One-step-ahead predictions of the test rows
            ``(n_test, features)``.
        train: How the fit went (model, loss history, time, parameter count).
        rollout: Free-run forecast from the last training window
            ``(steps, features)``, or ``None`` if not asked for.
    """

    kind: str
    predictions: np.ndarray
    train: TrainResult
    rollout: np.ndarray | None = None

    @property
    def label(self) -> str:
        """Display name, e.g. ``"SimpleRNN"``."""
        return MODEL_LABELS[self.kind]


@dataclass
class Comparison:
    """Everything one comparison produced.

    Attributes:
        config: The settings that made it.
        windows: Scaled windows, scaler and split (original-unit train/test rows).
        runs: One :class:`ModelRun` per model kind, in the order trained.
        baselines: Naive forecasts of the test rows by name, ``(n_test, features)``.
        metrics: One row per model and per baseline (see :func:`metrics_table`).
        rollout_steps: Steps of the free-run forecasts (0 if none).
        tracks: ``True`` for 2-D tracks (adds the Euclidean error).
    """

    config: ExperimentConfig
    windows: Windows
    runs: dict[str, ModelRun]
    baselines: dict[str, np.ndarray]
    metrics: pd.DataFrame
    rollout_steps: int = 0
    tracks: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def split(self) -> Split:
        """The train/test split in original units."""
        return self.windows.split

    @property
    def actual(self) -> np.ndarray:
        """Real test rows ``(n_test, features)``."""
        return self.windows.split.test

    def predictions_frame(self) -> pd.DataFrame:
        """Test rows with the real values and every model's and baseline's predictions.

        Returns:
            A frame indexed by the test dates (or row numbers) with columns
            ``real <col>``, ``<Model> <col>`` and ``<Baseline> <col>``; with a single
            feature the column suffix is left out (``real``, ``LSTM``, ...).
        """
        columns = self.split.columns
        parts: dict[str, np.ndarray] = {"real": self.actual}
        parts.update({run.label: run.predictions for run in self.runs.values()})
        parts.update({BASELINE_LABELS[k]: v for k, v in self.baselines.items()})
        data: dict[str, np.ndarray] = {}
        for name, values in parts.items():
            for j, column in enumerate(columns):
                key = name if len(columns) == 1 else f"{name} {column}"
                data[key] = values[:, j]
        return pd.DataFrame(data, index=self.split.test_index)


def metrics_table(
    actual: np.ndarray,
    predictions: dict[str, np.ndarray],
    baselines: dict[str, np.ndarray],
    trains: dict[str, TrainResult] | None = None,
    with_euclidean: bool = False,
) -> pd.DataFrame:
    """Score every model and baseline on the same targets, in original units.

    Args:
        actual: Real values ``(n_test, features)``.
        predictions: Model kind -> predictions of the same shape.
        baselines: Baseline name -> predictions of the same shape.
        trains: Model kind -> fit details, for the time and size columns.
        with_euclidean: Add the mean Euclidean error (tracks).

    Returns:
        A frame indexed by display name (models first, then baselines) with columns
        ``rmse``, ``mae``, ``mape`` (, ``euclidean``), ``fit_seconds``, ``params``,
        ``epochs`` and ``kind`` (the model kind or baseline key).
    """
    rows = []
    for kind, pred in predictions.items():
        row: dict[str, object] = {"name": MODEL_LABELS[kind], "kind": kind}
        row.update(metrics.score(actual, pred, with_euclidean))
        if trains and kind in trains:
            row.update(
                fit_seconds=trains[kind].fit_seconds,
                params=trains[kind].params,
                epochs=trains[kind].epochs_run,
            )
        rows.append(row)
    for key, pred in baselines.items():
        row = {"name": BASELINE_LABELS[key], "kind": key}
        row.update(metrics.score(actual, pred, with_euclidean))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("name")
    for column in ("fit_seconds", "params", "epochs"):
        if column not in table:
            table[column] = np.nan
    table.index.name = None
    ordered = ["rmse", "mae", "mape"] + (["euclidean"] if with_euclidean else [])
    return table[ordered + ["fit_seconds", "params", "epochs", "kind"]]


def naive_baselines(split: Split, tracks: bool) -> dict[str, np.ndarray]:
    """Naive test forecasts: persistence (and constant velocity for tracks)."""
    result = {"persistence": metrics.persistence(split.train[-1], split.test)}
    if tracks:
        result["constant_velocity"] = metrics.constant_velocity(
            split.train[-2:], split.test
        )
    return result


ModelDoneCallback = Callable[[ModelRun], None]


def run_comparison(
    frame: pd.DataFrame,
    config: ExperimentConfig,
    progress: ProgressCallback | None = None,
    rollout_steps: int = 0,
    tracks: bool = False,
    on_model_done: ModelDoneCallback | None = None,
) -> Comparison:
    """Train every model kind of ``config`` on one series and score them side by side.

    Args:
        frame: The series in time order, with the ``config.columns`` among its
            columns; a ``DatetimeIndex`` for splits by years.
        config: Split, window, scaling, model kinds, architecture and training.
        progress: Optional ``progress(kind, epoch, epochs, logs)`` per epoch.
        rollout_steps: If positive, also forecast this many steps freely from the
            last training window.
        tracks: Score as 2-D tracks (adds the Euclidean error and the
            constant-velocity baseline).
        on_model_done: Called with each :class:`ModelRun` as soon as it is ready.

    Returns:
        The :class:`Comparison`.

    Raises:
        DataError: If the data does not fit the config (missing column, empty year
            range, window too long, ...).
    """
    split = split_series(frame, config.columns, config.split)
    windows = prepare_windows(split, config.window, config.scale_range)
    runs: dict[str, ModelRun] = {}
    for kind in config.models:
        trained = train_model(
            kind, windows.x_train, windows.y_train, config.model, config.train, progress
        )
        scaled = predict_one_step(trained.model, windows.x_test)
        rollout = None
        if rollout_steps > 0:
            last_window = windows.scale(split.train[-config.window :])
            path = free_run(
                trained.model, last_window, rollout_steps, config.train.jit_compile
            )
            rollout = windows.inverse(path)
        run = ModelRun(kind, windows.inverse(scaled), trained, rollout)
        runs[kind] = run
        if on_model_done is not None:
            on_model_done(run)
    baselines = naive_baselines(split, tracks)
    table = metrics_table(
        split.test,
        {k: r.predictions for k, r in runs.items()},
        baselines,
        {k: r.train for k, r in runs.items()},
        with_euclidean=tracks,
    )
    return Comparison(config, windows, runs, baselines, table, rollout_steps, tracks)


def rollout_error(comparison: Comparison) -> dict[str, float]:
    """Mean Euclidean error of each model's free run against the real test rows.

    The free run starts after the last training row, so it is compared with the
    first ``min(steps, n_test)`` test rows.

    Returns:
        Model kind -> mean Euclidean error (empty if no free run was made).
    """
    result = {}
    for kind, run in comparison.runs.items():
        if run.rollout is None:
            continue
        n = min(len(run.rollout), len(comparison.actual))
        result[kind] = metrics.euclidean(comparison.actual[:n], run.rollout[:n])
    return result


@dataclass
class Transfer:
    """Trained models applied to another series (another individual).

    Attributes:
        split: The other series' train/test rows (same split settings).
        predictions: Model kind -> one-step predictions of its test rows.
        rollouts: Model kind -> free-run forecast from its last training window.
        metrics: Same layout as :attr:`Comparison.metrics`.
    """

    split: Split
    predictions: dict[str, np.ndarray]
    rollouts: dict[str, np.ndarray]
    metrics: pd.DataFrame


def apply_to(comparison: Comparison, frame: pd.DataFrame) -> Transfer:
    """Apply a comparison's trained models, unchanged, to another series.

    The other series is split with the same settings and scaled with the
    ORIGINAL training scaler (the model and its scaler travel together), so this
    measures how well what was learned on one individual carries over.

    Args:
        frame: The other series, with the same feature columns.
        comparison: A finished comparison.

    Returns:
        The :class:`Transfer`, scored against the other series' test rows.

    Raises:
        DataError: If the other series is too short or lacks a column.
    """
    config = comparison.config
    split = split_series(frame, config.columns, config.split)
    if len(split.train) < config.window:
        raise DataError(
            f"The other series has only {len(split.train)} training rows, fewer "
            f"than the window ({config.window}); choose another individual."
        )
    windows = comparison.windows
    context = np.concatenate([split.train[-config.window :], split.test])
    x_test, _ = make_windows(windows.scale(context), config.window)
    predictions, rollouts = {}, {}
    for kind, run in comparison.runs.items():
        predictions[kind] = windows.inverse(predict_one_step(run.train.model, x_test))
        if comparison.rollout_steps > 0:
            start = windows.scale(split.train[-config.window :])
            path = free_run(
                run.train.model,
                start,
                comparison.rollout_steps,
                config.train.jit_compile,
            )
            rollouts[kind] = windows.inverse(path)
    baselines = naive_baselines(split, comparison.tracks)
    table = metrics_table(
        split.test, predictions, baselines, with_euclidean=comparison.tracks
    )
    return Transfer(split, predictions, rollouts, table)
