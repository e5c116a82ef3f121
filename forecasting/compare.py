"""Run a whole comparison: split, scale, window, train every kind, forecast, score.

The dashboard and the command line both call :func:`run_comparison`; the numbers
they show come from here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.config import MODEL_LABELS, ExperimentConfig, TrainConfig
from forecasting.data import DataError
from forecasting.predict import free_run, predict_one_step
from forecasting.training import ProgressCallback, TrainResult, train_model
from forecasting.windows import (
    Split,
    Windows,
    make_windows,
    prepare_windows,
    previous_levels,
    split_series,
)

BASELINE_LABELS: dict[str, str] = {
    "persistence": "Persistence (naive)",
    "linear_ar": "Linear autoregression",
    "constant_velocity": "Constant velocity (naive)",
}
"""Display names of the simple baselines every model is compared with."""


@dataclass
class ModelRun:
    """One model kind trained with one or more seeds, and its forecasts.

    Attributes:
        kind: Model kind, e.g. ``"lstm"``.
        seed_predictions: One-step-ahead level forecasts of the test rows per seed,
            ``(seeds, n_test, features)``, original units.
        trains: How each seed's fit went (model, loss history, time, size).
        seed_rollouts: Free-run level forecasts from the last training window per
            seed, ``(seeds, steps, features)``, or ``None`` if not asked for.
    """

    kind: str
    seed_predictions: np.ndarray
    trains: list[TrainResult]
    seed_rollouts: np.ndarray | None = None

    @property
    def label(self) -> str:
        """Display name, e.g. ``"SimpleRNN"``."""
        return MODEL_LABELS[self.kind]

    @property
    def predictions(self) -> np.ndarray:
        """One-step forecasts ``(n_test, features)``: the mean over the seeds."""
        return self.seed_predictions.mean(axis=0)

    @property
    def rollout(self) -> np.ndarray | None:
        """Free-run forecast ``(steps, features)``: the mean over the seeds."""
        return None if self.seed_rollouts is None else self.seed_rollouts.mean(axis=0)

    @property
    def train(self) -> TrainResult:
        """The fit with the configured (first) seed."""
        return self.trains[0]


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
    trains: dict[str, list[TrainResult]] | None = None,
    with_euclidean: bool = False,
) -> pd.DataFrame:
    """Score every model and baseline on the same targets, in original units.

    Args:
        actual: Real values ``(n_test, features)``.
        predictions: Model kind -> per-seed forecasts ``(seeds, n_test, features)``.
        baselines: Baseline name -> forecasts ``(n_test, features)``.
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
    """Least-squares linear autoregression on the same windows as the models.

    Fitted (scikit-learn ``LinearRegression``) on the training windows of levels
    in original units, then applied to each test window, one step ahead.

    Args:
        split: Train and test rows.
        window: Past rows per prediction.

    Returns:
        Forecasts of the test rows ``(n_test, features)``.
    """
    from sklearn.linear_model import LinearRegression

    x, y = make_windows(split.train, window)
    context = np.concatenate([split.train[-window:], split.test])
    x_test, _ = make_windows(context, window)
    model = LinearRegression().fit(x.reshape(len(x), -1), y)
    return model.predict(x_test.reshape(len(x_test), -1))


def naive_baselines(split: Split, window: int, tracks: bool) -> dict[str, np.ndarray]:
    """Simple forecasts of the test rows that every model must beat.

    Persistence (each row predicted by the one before) and a linear
    autoregression on the same window; for tracks also constant velocity.
    """
    result = {
        "persistence": metrics.persistence(split.train[-1], split.test),
        "linear_ar": linear_autoregression(split, window),
    }
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
    windows = prepare_windows(split, config.window, config.scale_range, config.target)
    previous = previous_levels(split.train, split.test)
    start = windows.start_window(split.train)
    runs: dict[str, ModelRun] = {}
    for kind in config.models:
        trains, forecasts, rollouts = [], [], []
        for i in range(config.train.seeds):
            train_config = replace(config.train, seed=config.train.seed + i)
            trained = train_model(
                kind,
                windows.x_train,
                windows.y_train,
                config.model,
                train_config,
                _seeded_progress(progress, i, config.train),
            )
            trains.append(trained)
            scaled = predict_one_step(trained.model, windows.x_test)
            forecasts.append(windows.one_step_levels(scaled, previous))
            if rollout_steps > 0:
                path = free_run(
                    trained.model, start, rollout_steps, config.train.jit_compile
                )
                rollouts.append(windows.rollout_levels(path, split.train[-1]))
        run = ModelRun(
            kind,
            np.stack(forecasts),
            trains,
            np.stack(rollouts) if rollouts else None,
        )
        runs[kind] = run
        if on_model_done is not None:
            on_model_done(run)
    baselines = naive_baselines(split, config.window, tracks)
    table = metrics_table(
        split.test,
        {k: r.seed_predictions for k, r in runs.items()},
        baselines,
        {k: r.trains for k, r in runs.items()},
        with_euclidean=tracks,
    )
    return Comparison(config, windows, runs, baselines, table, rollout_steps, tracks)


def _seeded_progress(
    progress: ProgressCallback | None, index: int, train: TrainConfig
) -> ProgressCallback | None:
    """Count epochs across seeds, so one progress bar covers every seed of a kind."""
    if progress is None or train.seeds == 1:
        return progress

    def report(kind: str, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        logs = {**logs, "seed": float(train.seed + index)}
        progress(kind, index * epochs + epoch, train.seeds * epochs, logs)

    return report


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
    windows = comparison.windows
    split = split_series(frame, config.columns, config.split)
    if len(split.train) <= windows.context_rows:
        raise DataError(
            f"The other series has only {len(split.train)} training rows, not more "
            f"than the window ({config.window}); choose another individual."
        )
    x_test = windows.test_windows(split.train, split.test)
    previous = previous_levels(split.train, split.test)
    start = windows.start_window(split.train)
    predictions, rollouts = {}, {}
    for kind, run in comparison.runs.items():
        forecasts, paths = [], []
        for trained in run.trains:
            scaled = predict_one_step(trained.model, x_test)
            forecasts.append(windows.one_step_levels(scaled, previous))
            if comparison.rollout_steps > 0:
                path = free_run(
                    trained.model,
                    start,
                    comparison.rollout_steps,
                    config.train.jit_compile,
                )
                paths.append(windows.rollout_levels(path, split.train[-1]))
        predictions[kind] = np.stack(forecasts)
        if paths:
            rollouts[kind] = np.mean(paths, axis=0)
    baselines = naive_baselines(split, config.window, comparison.tracks)
    table = metrics_table(
        split.test, predictions, baselines, with_euclidean=comparison.tracks
    )
    means = {kind: p.mean(axis=0) for kind, p in predictions.items()}
    return Transfer(split, means, rollouts, table)
