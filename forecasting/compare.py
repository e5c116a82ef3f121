"""Run a whole comparison: split, scale, window, train every kind, forecast, score.

The dashboard and the command line both go through here: :func:`plan_comparison`
cuts a comparison into jobs (one fit per model kind and seed), the engine runs
them on workers, and :func:`assemble` scores the results beside the baselines.
:func:`run_comparison` does all three and waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.config import MODEL_LABELS, ExperimentConfig
from forecasting.data import DataError
from forecasting.engine import Engine, JobFailed, Ticket, get_engine, user_error
from forecasting.jobs import ApplyJob, FitJob, FitResult
from forecasting.training import ProgressCallback
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
        trains: How each seed's fit went (loss history, time, size, model file).
        seed_rollouts: Free-run level forecasts from the last training window per
            seed, ``(seeds, steps, features)``, or ``None`` if not asked for.
    """

    kind: str
    seed_predictions: np.ndarray
    trains: list[FitResult]
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
    def train(self) -> FitResult:
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
    trains: dict[str, list[FitResult]] | None = None,
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


@dataclass(frozen=True)
class Plan:
    """A comparison cut into jobs: one fit per model kind and seed.

    Attributes:
        config: The settings.
        windows: Scaled windows, scaler and split (made here, cheaply, so the
            caller can check them before anything is queued).
        jobs: One :class:`~forecasting.jobs.FitJob` per kind and seed, kinds in
            the configured order, seeds ascending.
        rollout_steps: Free-run length (0 for none).
        tracks: Score as 2-D tracks.
    """

    config: ExperimentConfig
    windows: Windows
    jobs: tuple[FitJob, ...]
    rollout_steps: int = 0
    tracks: bool = False


def plan_comparison(
    frame: pd.DataFrame,
    config: ExperimentConfig,
    rollout_steps: int = 0,
    tracks: bool = False,
) -> Plan:
    """Split, scale and window the data and list the fits to run.

    Raises:
        DataError: If the data does not fit the config (missing column, empty year
            range, window too long, windows too large for memory, ...).
    """
    from forecasting.budget import fit_seconds

    split = split_series(frame, config.columns, config.split)
    windows = prepare_windows(split, config.window, config.scale_range, config.target)
    n_windows = len(windows.x_train)
    jobs = tuple(
        FitJob(
            kind,
            config.train.seed + i,
            config,
            split,
            rollout_steps,
            estimate=fit_seconds(kind, n_windows, config),
        )
        for kind in config.models
        for i in range(config.train.seeds)
    )
    return Plan(config, windows, jobs, rollout_steps, tracks)


def assemble(plan: Plan, results: list[FitResult]) -> Comparison:
    """Put the fits of a plan (in the plan's job order) together and score them."""
    split = plan.windows.split
    runs: dict[str, ModelRun] = {}
    for kind in plan.config.models:
        fits = [r for r in results if r.kind == kind]
        rollouts = [r.rollout for r in fits if r.rollout is not None]
        runs[kind] = ModelRun(
            kind,
            np.stack([r.predictions for r in fits]),
            fits,
            np.stack(rollouts) if rollouts else None,
        )
    baselines = naive_baselines(split, plan.config.window, plan.tracks)
    table = metrics_table(
        split.test,
        {k: r.seed_predictions for k, r in runs.items()},
        baselines,
        {k: r.trains for k, r in runs.items()},
        with_euclidean=plan.tracks,
    )
    return Comparison(
        plan.config,
        plan.windows,
        runs,
        baselines,
        table,
        plan.rollout_steps,
        plan.tracks,
    )


def run_comparison(
    frame: pd.DataFrame,
    config: ExperimentConfig,
    progress: ProgressCallback | None = None,
    rollout_steps: int = 0,
    tracks: bool = False,
    engine: Engine | None = None,
    owner: str = "cli",
) -> Comparison:
    """Train every model kind of ``config`` on one series and score them side by side.

    The fits (every kind and seed) run as jobs on the engine, at the same time
    when it has several workers.

    Args:
        frame: The series in time order, with the ``config.columns`` among its
            columns; a ``DatetimeIndex`` for splits by years.
        config: Split, window, scaling, model kinds, architecture and training.
        progress: Optional ``progress(kind, epoch, epochs, logs)`` per epoch and
            fit; ``logs["seed"]`` says which seed.
        rollout_steps: If positive, also forecast this many steps freely from the
            last training window.
        tracks: Score as 2-D tracks (adds the Euclidean error and the
            constant-velocity baseline).
        engine: Where the jobs run; the process-wide engine if ``None``.
        owner: Who asks (for the engine's fair queue).

    Returns:
        The :class:`Comparison`.

    Raises:
        DataError: If the data does not fit the config (missing column, empty year
            range, window too long, ...).
        JobFailed: If a fit failed (a worker died, ...).
    """
    plan = plan_comparison(frame, config, rollout_steps, tracks)
    return assemble(plan, run_jobs(plan.jobs, progress, engine, owner))


def run_jobs(
    jobs: Sequence[FitJob],
    progress: ProgressCallback | None = None,
    engine: Engine | None = None,
    owner: str = "cli",
) -> list[Any]:
    """Run jobs on the engine and return their results in order.

    Raises:
        DataError, ValueError: A job's own error (bad data or settings).
        JobFailed: Any other failure.
    """
    engine = engine or get_engine()
    tickets = [engine.submit(job, owner) for job in jobs]
    by_ticket = {t.id: job for t, job in zip(tickets, jobs, strict=True)}
    several_seeds = len({getattr(job, "seed", 0) for job in jobs}) > 1

    def relay(ticket: Ticket, payload: dict[str, Any]) -> None:
        job = by_ticket[ticket.id]
        if progress is not None and isinstance(job, FitJob):
            logs = dict(payload["logs"])
            if several_seeds:
                logs["seed"] = float(job.seed)
            progress(job.kind, payload["epoch"], payload["epochs"], logs)

    try:
        return engine.gather(tickets, relay)
    except JobFailed as err:
        raise user_error(err) from None
    finally:
        engine.release(tickets)


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


def apply_to(
    comparison: Comparison,
    frame: pd.DataFrame,
    engine: Engine | None = None,
    owner: str = "cli",
) -> Transfer:
    """Apply a comparison's trained models, unchanged, to another series.

    The other series is split with the same settings and scaled with the
    ORIGINAL training scaler (the model and its scaler travel together), so this
    measures how well what was learned on one individual carries over.

    Args:
        comparison: A finished comparison.
        frame: The other series, with the same feature columns.
        engine: Where the forecasts run; the process-wide engine if ``None``.
        owner: Who asks (for the engine's fair queue).

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
    steps, jit = comparison.rollout_steps, config.train.jit_compile
    jobs = [
        ApplyJob(fit.kind, fit.seed, fit.model_file, x_test, start, steps, jit)
        for run in comparison.runs.values()
        for fit in run.trains
    ]
    outputs = run_jobs(jobs, engine=engine, owner=owner)
    predictions, rollouts = {}, {}
    for kind in comparison.runs:
        mine = [out for job, out in zip(jobs, outputs, strict=True) if job.kind == kind]
        predictions[kind] = np.stack(
            [windows.one_step_levels(one, previous) for one, _ in mine]
        )
        paths = [
            windows.rollout_levels(p, split.train[-1]) for _, p in mine if p is not None
        ]
        if paths:
            rollouts[kind] = np.mean(paths, axis=0)
    baselines = naive_baselines(split, config.window, comparison.tracks)
    table = metrics_table(
        split.test, predictions, baselines, with_euclidean=comparison.tracks
    )
    means = {kind: p.mean(axis=0) for kind, p in predictions.items()}
    return Transfer(split, means, rollouts, table)
