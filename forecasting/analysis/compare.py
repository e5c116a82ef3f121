"""Run a whole comparison: split, scale, window, train every kind, forecast, score.

The dashboard and the command line both go through here: :func:`plan_comparison`
cuts a comparison into jobs (one fit per model kind and seed), the engine runs
them on workers, and :func:`assemble` scores the results beside the baselines.
:func:`run_comparison` does all three and waits. The scores come from
:mod:`~forecasting.analysis.scores` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.analysis.scores import (
    linear_autoregression,
    metrics_table,
    naive_baselines,
)
from forecasting.forecasters import (
    BASELINE_LABELS,
    Forecaster,
    NetworkForecaster,
    fit_baselines,
    precompute,
)
from forecasting.nn.jobs import FitJob, FitResult
from forecasting.nn.training import ProgressCallback
from forecasting.prep.windows import Split, Windows, prepare_windows, split_series
from forecasting.runtime.engine import Engine
from forecasting.runtime.service import run_jobs
from forecasting.settings.config import MODEL_LABELS, ExperimentConfig

__all__ = [
    "BASELINE_LABELS",
    "Comparison",
    "ModelRun",
    "Plan",
    "Transfer",
    "apply_to",
    "assemble",
    "free_runs",
    "linear_autoregression",
    "metrics_table",
    "naive_baselines",
    "plan_comparison",
    "rollout_error",
    "run_comparison",
]


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
        baselines: Naive forecasts of the test rows by kind, ``(n_test, features)``.
        metrics: One row per model and per baseline (see :func:`metrics_table`).
        rollout_steps: Steps of the free-run forecasts (0 if none).
        forecasters: Kind -> the fitted forecasters behind its row: one
            :class:`~forecasting.forecasters.NetworkForecaster` per seed for a
            model, one forecaster for a baseline (for more forecasts, e.g.
            :func:`free_runs`).
    """

    config: ExperimentConfig
    windows: Windows
    runs: dict[str, ModelRun]
    baselines: dict[str, np.ndarray]
    metrics: pd.DataFrame
    rollout_steps: int = 0
    forecasters: dict[str, list[Forecaster]] = field(default_factory=dict)

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


@dataclass(frozen=True)
class Plan:
    """A comparison cut into jobs: one fit per model kind and seed.

    Attributes:
        config: The settings.
        windows: Scaled windows, scaler and split (made here, cheaply, so the
            caller can check them before anything is queued).
        jobs: One :class:`~forecasting.nn.jobs.FitJob` per kind and seed, kinds in
            the configured order, seeds ascending.
        rollout_steps: Free-run length (0 for none).
    """

    config: ExperimentConfig
    windows: Windows
    jobs: tuple[FitJob, ...]
    rollout_steps: int = 0


def plan_comparison(
    frame: pd.DataFrame, config: ExperimentConfig, rollout_steps: int = 0
) -> Plan:
    """Split, scale and window the data and list the fits to run.

    A frame marked as a track (:func:`forecasting.data.as_track`, as
    ``series_frame`` does for tracking data) is scored as a track.

    Raises:
        DataError: If the data does not fit the config (missing column, empty year
            range, window too long, windows too large for memory, ...).
    """
    split = split_series(frame, config.columns, config.split)
    windows = prepare_windows(split, config.window, config.scale_range, config.target)
    jobs = tuple(
        NetworkForecaster(
            kind, config, config.train.seed + i, rollout_steps=rollout_steps
        ).fit_job(split)
        for kind in config.models
        for i in range(config.train.seeds)
    )
    return Plan(config, windows, jobs, rollout_steps)


@dataclass
class _Scored:
    """What the one forecast and scoring loop gives back.

    Attributes:
        predictions: Model kind -> per-seed one-step levels
            ``(seeds, n_test, features)``.
        rollouts: Model kind -> per-seed free runs ``(seeds, steps, features)``
            (empty without a free run).
        baselines: Baseline kind -> fitted forecaster.
        baseline_predictions: Baseline kind -> one-step levels ``(n_test, features)``.
        table: The metrics (see :func:`metrics_table`).
    """

    predictions: dict[str, np.ndarray]
    rollouts: dict[str, np.ndarray]
    baselines: dict[str, Forecaster]
    baseline_predictions: dict[str, np.ndarray]
    table: pd.DataFrame


def _forecast_and_score(
    split: Split,
    models: dict[str, list[Forecaster]],
    window: int,
    steps: int,
    trains: dict[str, list[FitResult]] | None = None,
    engine: Engine | None = None,
    owner: str | None = None,
) -> _Scored:
    """Forecast the test rows of ``split`` with every model and baseline, and score.

    The one loop of a comparison (``split`` is the training split: the forecasts
    came with the fits) and of a transfer (another split: the networks forecast
    it unchanged, as one batch of jobs). The baselines are fitted on ``split``.

    Args:
        split: The rows to forecast and score.
        models: Model kind -> fitted forecasters, one per seed.
        window: The autoregression's window.
        steps: Free-run length (0 for none).
        trains: Model kind -> per-seed fits, for the time and size columns.
        engine: Where network forecasts run.
        owner: Who asks.
    """
    precompute(
        [f for group in models.values() for f in group], split, steps, engine, owner
    )
    predictions = {
        kind: np.stack([f.one_step(split) for f in group])
        for kind, group in models.items()
    }
    rollouts = (
        {
            kind: np.stack([f.free_run(split, steps) for f in group])
            for kind, group in models.items()
        }
        if steps > 0
        else {}
    )
    baselines = fit_baselines(split, window)
    baseline_predictions = {k: b.one_step(split) for k, b in baselines.items()}
    table = metrics_table(
        split.test,
        predictions,
        baseline_predictions,
        trains,
        with_euclidean=split.track,
    )
    return _Scored(predictions, rollouts, baselines, baseline_predictions, table)


def assemble(plan: Plan, results: list[FitResult]) -> Comparison:
    """Put the fits of a plan (in the plan's job order) together and score them."""
    models: dict[str, list[Forecaster]] = {kind: [] for kind in plan.config.models}
    for job, result in zip(plan.jobs, results, strict=True):
        models[job.kind].append(NetworkForecaster.trained(job, result, plan.windows))
    trains = {
        kind: [f.result for f in group if isinstance(f, NetworkForecaster) and f.result]
        for kind, group in models.items()
    }
    scored = _forecast_and_score(
        plan.windows.split, models, plan.config.window, plan.rollout_steps, trains
    )
    runs = {
        kind: ModelRun(
            kind, scored.predictions[kind], trains[kind], scored.rollouts.get(kind)
        )
        for kind in models
    }
    forecasters = {**models, **{k: [b] for k, b in scored.baselines.items()}}
    return Comparison(
        plan.config,
        plan.windows,
        runs,
        scored.baseline_predictions,
        scored.table,
        plan.rollout_steps,
        forecasters,
    )


def run_comparison(
    frame: pd.DataFrame,
    config: ExperimentConfig,
    progress: ProgressCallback | None = None,
    rollout_steps: int = 0,
    engine: Engine | None = None,
    owner: str = "cli",
) -> Comparison:
    """Train every model kind of ``config`` on one series and score them side by side.

    The fits (every kind and seed) run as jobs on the engine, at the same time
    when it has several workers. A track (a frame from tracking data, see
    :func:`forecasting.data.as_track`) adds the mean distance and the
    constant-velocity baseline.

    Args:
        frame: The series in time order, with the ``config.columns`` among its
            columns; a ``DatetimeIndex`` for splits by years.
        config: Split, window, scaling, model kinds, architecture and training.
        progress: Optional ``progress(kind, epoch, epochs, logs)`` per epoch and
            fit; ``logs["seed"]`` says which seed.
        rollout_steps: If positive, also forecast this many steps freely from the
            last training window.
        engine: Where the jobs run; the process-wide engine if ``None``.
        owner: Who asks (for the engine's fair queue).

    Returns:
        The :class:`Comparison`.

    Raises:
        DataError: If the data does not fit the config (missing column, empty year
            range, window too long, ...).
        JobFailed: If a fit failed (a worker died, ...).
    """
    plan = plan_comparison(frame, config, rollout_steps)
    return assemble(plan, run_jobs(plan.jobs, progress, engine, owner))


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


def free_runs(
    comparison: Comparison,
    steps: int,
    split: Split | None = None,
    engine: Engine | None = None,
    owner: str | None = None,
) -> dict[str, np.ndarray]:
    """Free runs of every model (the mean over its seeds) and every baseline.

    Each forecaster runs as it was fitted; the networks' missing runs go to the
    engine as one batch of jobs (the comparison's own free run is reused when it
    is long enough).

    Args:
        comparison: A finished comparison.
        steps: Steps to forecast.
        split: Start after the training rows of this split (default: the
            comparison's own split).
        engine: Where network forecasts run.
        owner: Who asks.

    Returns:
        Kind -> levels ``(steps, features)``, models first, then baselines.
    """
    split = comparison.split if split is None else split
    everything = [f for group in comparison.forecasters.values() for f in group]
    precompute(everything, split, steps, engine, owner)
    return {
        kind: np.mean([f.free_run(split, steps) for f in group], axis=0)
        for kind, group in comparison.forecasters.items()
    }


@dataclass
class Transfer:
    """Trained models applied to another series (another individual).

    Attributes:
        split: The other series' train/test rows (same split settings).
        predictions: Model kind -> one-step predictions of its test rows.
        rollouts: Model kind -> free-run forecast from its last training window.
        metrics: Same layout as :attr:`Comparison.metrics`.
        baselines: Baseline kind -> one-step forecasts of the same rows (fitted
            on the other series).
    """

    split: Split
    predictions: dict[str, np.ndarray]
    rollouts: dict[str, np.ndarray]
    metrics: pd.DataFrame
    baselines: dict[str, np.ndarray] = field(default_factory=dict)


def apply_to(
    comparison: Comparison,
    frame: pd.DataFrame,
    engine: Engine | None = None,
    owner: str = "cli",
) -> Transfer:
    """Apply a comparison's trained models, unchanged, to another series.

    The other series is split with the same settings and scaled with the
    ORIGINAL training scaler (the model and its scaler travel together), so this
    measures how well what was learned on one individual carries over. The
    baselines are fitted on the other series (they are the yardstick there).

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
    split = split_series(frame, config.columns, config.split)
    models = {kind: comparison.forecasters[kind] for kind in comparison.runs}
    scored = _forecast_and_score(
        split,
        models,
        config.window,
        comparison.rollout_steps,
        engine=engine,
        owner=owner,
    )
    means = {kind: p.mean(axis=0) for kind, p in scored.predictions.items()}
    rollouts = {kind: p.mean(axis=0) for kind, p in scored.rollouts.items()}
    return Transfer(split, means, rollouts, scored.table, scored.baseline_predictions)
