"""The trained networks as forecasters: they fit and forecast as engine jobs.

A :class:`NetworkForecaster` fits and forecasts through jobs on the engine's
workers (TensorFlow is never imported in this process); :func:`precompute` sends
the forecasts of several networks as one batch of jobs, so they run at once on
several workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from forecasting.forecasters.base import Forecaster
from forecasting.nn.jobs import ApplyJob, FitJob, FitResult, split_digest
from forecasting.prep.windows import (
    Split,
    Windows,
    prepare_windows,
    previous_levels,
)
from forecasting.runtime.service import run_jobs
from forecasting.settings.config import MODEL_KINDS, ExperimentConfig
from forecasting.settings.errors import DataError

if TYPE_CHECKING:
    from forecasting.runtime.engine import Engine


class NetworkForecaster(Forecaster):
    """One network kind with one seed; it trains and forecasts as engine jobs.

    :meth:`fit` runs a :class:`~forecasting.nn.jobs.FitJob` on the engine (a worker
    trains; identical fits are trained once); :meth:`trained` wraps a fit that
    already ran (a comparison's jobs). Forecasts of the training split come with
    the fit; forecasts of any other split (a transfer) or a longer free run run
    an :class:`~forecasting.nn.jobs.ApplyJob` with the trained model and its
    training scaler, and are kept.

    Args:
        kind: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        config: Window, scaling, target, architecture and training settings.
        seed: The seed (default ``config.train.seed``).
        rollout_steps: Free-run length the fit computes with it (0 for none).
        engine: Where the jobs run; the process-wide engine if ``None``.
        owner: Who asks (for the engine's fair queue).

    Attributes:
        result: The finished fit (history, time, size, model file), or ``None``.
    """

    def __init__(
        self,
        kind: str,
        config: ExperimentConfig,
        seed: int | None = None,
        *,
        rollout_steps: int = 0,
        engine: Engine | None = None,
        owner: str = "cli",
    ) -> None:
        super().__init__()
        if kind not in MODEL_KINDS:
            raise ValueError(
                f"kind must be one of {', '.join(MODEL_KINDS)}, got {kind!r}"
            )
        self.kind = kind
        self.config = config
        self.seed = config.train.seed if seed is None else int(seed)
        self.rollout_steps = rollout_steps
        self.engine = engine
        self.owner = owner
        self.result: FitResult | None = None
        self._windows: Windows | None = None
        self._one: dict[str, np.ndarray] = {}
        self._paths: dict[str, np.ndarray] = {}

    @classmethod
    def trained(
        cls,
        job: FitJob,
        result: FitResult,
        windows: Windows | None = None,
        *,
        engine: Engine | None = None,
        owner: str = "cli",
    ) -> NetworkForecaster:
        """Wrap a fit the engine has finished (nothing is trained again).

        Args:
            job: The job that made ``result``.
            result: Its result.
            windows: The windows of ``job.split`` (made again if ``None``).
            engine: Where later forecasts run.
            owner: Who asks.
        """
        net = cls(
            job.kind,
            job.config,
            job.seed,
            rollout_steps=job.rollout_steps,
            engine=engine,
            owner=owner,
        )
        net._attach(job.split, result, windows)
        return net

    def fit_job(self, split: Split) -> FitJob:
        """The job :meth:`fit` runs: this kind and seed on ``split``."""
        from forecasting.prep.budget import fit_seconds

        config = self.config
        context = config.window + (1 if config.target == "diff" else 0)
        n_windows = max(len(split.train) - context, 0)
        return FitJob(
            self.kind,
            self.seed,
            config,
            split,
            self.rollout_steps,
            estimate=fit_seconds(self.kind, n_windows, config),
        )

    def _fit(self, split: Split) -> None:
        job = self.fit_job(split)
        windows = prepare_windows(
            split, self.config.window, self.config.scale_range, self.config.target
        )
        (result,) = run_jobs([job], engine=self.engine, owner=self.owner)
        self._attach(split, result, windows)

    def _attach(self, split: Split, result: FitResult, windows: Windows | None) -> None:
        config = self.config
        self.result = result
        self._windows = windows or prepare_windows(
            split, config.window, config.scale_range, config.target
        )
        key = split_digest(split)
        self._one = {key: result.predictions}
        self._paths = {} if result.rollout is None else {key: result.rollout}
        self._n_features = split.n_features

    def needs(self, split: Split, steps: int = 0) -> bool:
        """Whether forecasting ``split`` (and ``steps`` free steps) needs a job."""
        key = split_digest(split)
        path = self._paths.get(key)
        short = steps > 0 and (path is None or len(path) < steps)
        return key not in self._one or short

    def apply_job(self, split: Split, steps: int = 0) -> ApplyJob:
        """The job that forecasts ``split`` with the trained model.

        Raises:
            RuntimeError: If the network is not fitted.
            DataError: If ``split`` has too few training rows for one window.
        """
        self._check(split)
        assert self.result is not None and self._windows is not None
        windows = self._windows
        if len(split.train) <= windows.context_rows:
            raise DataError(
                f"The other series has only {len(split.train)} training rows, not "
                f"more than the window ({self.config.window}); choose another "
                "individual."
            )
        return ApplyJob(
            self.kind,
            self.seed,
            self.result.model_file,
            windows.test_windows(split.train, split.test),
            windows.start_window(split.train),
            steps,
            self.config.train.jit_compile,
        )

    def take(self, split: Split, output: tuple[np.ndarray, np.ndarray | None]) -> None:
        """Keep the output of :meth:`apply_job` for ``split`` as levels."""
        assert self._windows is not None
        one, path = output
        key = split_digest(split)
        previous = previous_levels(split.train, split.test)
        self._one[key] = self._windows.one_step_levels(one, previous)
        if path is not None:
            self._paths[key] = self._windows.rollout_levels(path, split.train[-1])

    def _run(self, split: Split, steps: int) -> None:
        job = self.apply_job(split, steps)
        (output,) = run_jobs([job], engine=self.engine, owner=self.owner)
        self.take(split, output)

    def _one_step(self, split: Split) -> np.ndarray:
        key = split_digest(split)
        if key not in self._one:
            self._run(split, 0)
        return self._one[key]

    def _free_run(self, split: Split, steps: int) -> np.ndarray:
        if self.needs(split, steps):
            self._run(split, steps)
        return self._paths[split_digest(split)][:steps]


def precompute(
    forecasters: Sequence[Forecaster],
    split: Split,
    steps: int = 0,
    engine: Engine | None = None,
    owner: str | None = None,
) -> None:
    """Run the networks' missing forecasts of ``split`` as one batch of jobs.

    Afterwards ``one_step(split)`` and ``free_run(split, s)`` for ``s <= steps``
    return at once. Baselines need nothing (they compute when asked).

    Args:
        forecasters: Fitted forecasters (only the networks matter here).
        split: The rows to forecast.
        steps: Free-run length to have ready (0 for one-step forecasts only).
        engine: Where the jobs run (default: the first network's engine).
        owner: Who asks (default: the first network's owner).

    Raises:
        DataError: If ``split`` is too short for a network's window.
        JobFailed: If a job failed.
    """
    nets = [
        f
        for f in forecasters
        if isinstance(f, NetworkForecaster) and f.needs(split, steps)
    ]
    if not nets:
        return
    jobs = [net.apply_job(split, steps) for net in nets]
    outputs = run_jobs(
        jobs, engine=engine or nets[0].engine, owner=owner or nets[0].owner
    )
    for net, output in zip(nets, outputs, strict=True):
        net.take(split, output)
