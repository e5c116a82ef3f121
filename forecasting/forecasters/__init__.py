"""Forecasters with one interface: the naive baselines and the trained networks.

Every forecaster is fitted on a :class:`~forecasting.prep.windows.Split` and then
forecasts LEVELS in original units, as darts' baselines share ``fit`` and
``predict`` with its RNNModel:

* :meth:`Forecaster.one_step` ``(split) -> (n_test, n_features)``: each test row
  from the real rows before it (the last training rows, then the test rows);
* :meth:`Forecaster.free_run` ``(split, steps) -> (steps, n_features)``: the
  ``steps`` rows after the last training row of ``split``, each prediction fed
  back in as the newest row. To start elsewhere, pass a split whose training
  rows end where the run should start.

Forecasting another split than the one fitted on applies what was learned,
unchanged (the networks keep their training scaler): that is a transfer.

The baselines compute here (numpy, scikit-learn). A :class:`NetworkForecaster`
fits and forecasts through jobs on the engine's workers (TensorFlow is never
imported in this process); :func:`precompute` sends the forecasts of several
networks as one batch of jobs, so they run at once on several workers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from forecasting import metrics
from forecasting.nn.jobs import ApplyJob, FitJob, FitResult, split_digest
from forecasting.prep.windows import (
    Split,
    Windows,
    make_windows,
    prepare_windows,
    previous_levels,
)
from forecasting.runtime.service import run_jobs
from forecasting.settings.config import MODEL_KINDS, MODEL_LABELS, ExperimentConfig
from forecasting.settings.errors import DataError

if TYPE_CHECKING:
    from typing import Self

    from forecasting.runtime.engine import Engine

BASELINE_LABELS: dict[str, str] = {
    "persistence": "Persistence (naive)",
    "linear_ar": "Linear autoregression",
    "constant_velocity": "Constant velocity (naive)",
}
"""Display names of the simple baselines every model is compared with."""

BASELINE_KINDS: tuple[str, ...] = tuple(BASELINE_LABELS)
"""Kind ids of the baselines, in the order they are shown."""


def label(kind: str) -> str:
    """Display name of a model or baseline kind, e.g. ``"GRU"``."""
    return MODEL_LABELS.get(kind) or BASELINE_LABELS[kind]


def _check_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    return int(steps)


class Forecaster(ABC):
    """Fit on a split, then forecast levels one step ahead or freely.

    Subclasses set :attr:`kind` and implement ``_fit``, ``_one_step`` and
    ``_free_run``; the public methods check the order (fit first) and the shapes.

    Attributes:
        kind: Stable id, e.g. ``"persistence"`` or ``"gru"``: results and tables
            are keyed by it; :attr:`label` is only for display.
    """

    kind: str

    def __init__(self) -> None:
        self._n_features: int | None = None

    @property
    def label(self) -> str:
        """Display name, e.g. ``"Persistence (naive)"``."""
        return label(self.kind)

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` has been called."""
        return self._n_features is not None

    def fit(self, split: Split) -> Self:
        """Learn from the training rows of ``split`` (the test rows are not used).

        Returns:
            ``self``, fitted.

        Raises:
            DataError: If the training rows are too few for this forecaster.
        """
        self._fit(split)
        self._n_features = split.n_features
        return self

    def one_step(self, split: Split) -> np.ndarray:
        """Forecast every test row of ``split`` from the real rows before it.

        Returns:
            Levels ``(n_test, n_features)``, original units.

        Raises:
            RuntimeError: If the forecaster is not fitted.
            ValueError: If ``split`` has other features than the fitted one.
        """
        self._check(split)
        return self._one_step(split)

    def free_run(self, split: Split, steps: int) -> np.ndarray:
        """Forecast ``steps`` rows after the training rows, feeding each one back.

        Returns:
            Levels ``(steps, n_features)``, original units; row ``h - 1`` is the
            forecast ``h`` steps after ``split.train[-1]``.

        Raises:
            RuntimeError: If the forecaster is not fitted.
            ValueError: If ``steps`` is not a positive integer or ``split`` has
                other features than the fitted one.
        """
        steps = _check_steps(steps)
        self._check(split)
        return self._free_run(split, steps)

    def _check(self, split: Split) -> None:
        if self._n_features is None:
            raise RuntimeError(f"{self.label} is not fitted; call fit(split) first.")
        if split.n_features != self._n_features:
            raise ValueError(
                f"{self.label} was fitted on {self._n_features} feature(s), but the "
                f"split has {split.n_features}"
            )

    @abstractmethod
    def _fit(self, split: Split) -> None: ...

    @abstractmethod
    def _one_step(self, split: Split) -> np.ndarray: ...

    @abstractmethod
    def _free_run(self, split: Split, steps: int) -> np.ndarray: ...


class Persistence(Forecaster):
    """Tomorrow is today: each row is forecast by the row before it."""

    kind = "persistence"

    def _fit(self, split: Split) -> None:
        pass  # nothing to learn

    def _one_step(self, split: Split) -> np.ndarray:
        return metrics.persistence(split.train[-1], split.test)

    def _free_run(self, split: Split, steps: int) -> np.ndarray:
        last = np.asarray(split.train[-1:], dtype=np.float64)
        return np.repeat(last, steps, axis=0)


class ConstantVelocity(Forecaster):
    """Each row continues the last step's motion: ``x[t-1] + (x[t-1] - x[t-2])``.

    Meaningful for tracks (positions); a comparison offers it when the split is
    a track (:attr:`Split.track`).
    """

    kind = "constant_velocity"

    def _fit(self, split: Split) -> None:
        if len(split.train) < 2:
            raise DataError(
                "Constant velocity needs at least 2 training rows; use a longer "
                "training period."
            )

    def _one_step(self, split: Split) -> np.ndarray:
        return metrics.constant_velocity(split.train[-2:], split.test)

    def _free_run(self, split: Split, steps: int) -> np.ndarray:
        last = np.asarray(split.train[-1], dtype=np.float64)
        step = last - np.asarray(split.train[-2], dtype=np.float64)
        return last + np.arange(1, steps + 1, dtype=np.float64)[:, None] * step


class LinearAutoregression(Forecaster):
    """Least squares on the same windows as the networks, in original units.

    Fitted (scikit-learn ``LinearRegression``) on the training windows of levels:
    the next row is a linear function of the ``window`` rows before it.

    Args:
        window: Past rows per forecast.
    """

    kind = "linear_ar"

    def __init__(self, window: int) -> None:
        super().__init__()
        self.window = window
        self._coef = np.empty((0, 0))
        self._intercept = np.empty(0)
        self._model: Any = None

    def _fit(self, split: Split) -> None:
        from sklearn.linear_model import LinearRegression

        if len(split.train) <= self.window:
            raise DataError(
                f"The window ({self.window} rows) must be shorter than the training "
                f"data ({len(split.train)} rows); choose a smaller window."
            )
        x, y = make_windows(split.train, self.window)
        self._model = LinearRegression().fit(x.reshape(len(x), -1), y)
        self._coef = np.asarray(self._model.coef_, dtype=np.float64)
        self._intercept = np.asarray(self._model.intercept_, dtype=np.float64)

    def _one_step(self, split: Split) -> np.ndarray:
        context = np.concatenate([split.train[-self.window :], split.test])
        x_test, _ = make_windows(context, self.window)
        return self._model.predict(x_test.reshape(len(x_test), -1))

    def _free_run(self, split: Split, steps: int) -> np.ndarray:
        rows = np.asarray(split.train[-self.window :], dtype=np.float64)
        if len(rows) < self.window:
            raise DataError(
                f"A free run needs {self.window} training rows to start from, the "
                f"split has {len(rows)}."
            )
        out = np.empty((steps, rows.shape[1]))
        for i in range(steps):
            out[i] = self._coef @ rows.reshape(-1) + self._intercept
            rows = np.concatenate([rows[1:], out[i : i + 1]])
        return out


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


def fit_baselines(split: Split, window: int) -> dict[str, Forecaster]:
    """The baselines for this data, fitted on ``split``: kind -> forecaster.

    Persistence and a linear autoregression on ``window`` rows; for a track
    (:attr:`Split.track`) also constant velocity.
    """
    chosen: list[Forecaster] = [Persistence(), LinearAutoregression(window)]
    if split.track:
        chosen.append(ConstantVelocity())
    return {f.kind: f.fit(split) for f in chosen}


def make_forecaster(
    kind: str,
    config: ExperimentConfig,
    seed: int | None = None,
    *,
    engine: Engine | None = None,
    owner: str = "cli",
) -> Forecaster:
    """An unfitted forecaster of any kind (a baseline or a network).

    Args:
        kind: A baseline kind (:data:`BASELINE_KINDS`) or a model kind.
        config: ``config.window`` for the autoregression; everything for a network.
        seed: A network's seed (default ``config.train.seed``); baselines have none.
        engine: Where a network's jobs run.
        owner: Who asks.

    Raises:
        ValueError: If the kind is unknown.
    """
    if kind == "persistence":
        return Persistence()
    if kind == "linear_ar":
        return LinearAutoregression(config.window)
    if kind == "constant_velocity":
        return ConstantVelocity()
    if kind in MODEL_KINDS:
        return NetworkForecaster(kind, config, seed, engine=engine, owner=owner)
    known = ", ".join((*BASELINE_KINDS, *MODEL_KINDS))
    raise ValueError(f"kind must be one of {known}, got {kind!r}")
