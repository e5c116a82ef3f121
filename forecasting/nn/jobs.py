"""Units of work that run on a worker: one model fit, one set of forecasts, one build.

A job is a small frozen dataclass that pickles (numpy arrays, configs, bytes, no
Keras objects) and has a :meth:`run` method. The engine (:mod:`~.runtime.engine`)
sends jobs to worker processes or Ray tasks and the same ``run`` executes there;
TensorFlow is imported only inside ``run``, so the process that submits jobs (the
Streamlit server) never needs it.

``run(report)`` calls ``report(payload)`` after every epoch; ``report`` raises
:class:`Cancelled` when the job should stop, which ends the fit at that epoch.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forecasting.prep.windows import Split, prepare_windows, previous_levels
from forecasting.runtime.protocol import Report
from forecasting.settings.config import MODEL_LABELS, ExperimentConfig

if TYPE_CHECKING:
    import keras


def _digest(*parts: object) -> str:
    """A stable hex digest of arrays, indexes and reprs (the job's identity)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()[:32]


def split_digest(split: Split) -> str:
    """Identify a split by its values and the first and last index labels."""
    index = [split.train_index[[0, -1]].tolist(), split.test_index[[0, -1]].tolist()]
    return _digest(split.train, split.test, index, split.columns)


def model_to_bytes(model: keras.Model) -> bytes:
    """Return a model as the bytes of a ``.keras`` file (Keras saves only to paths)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(data: bytes) -> keras.Model:
    """Load a model from the bytes of a ``.keras`` file."""
    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        return keras.models.load_model(path, compile=False)


@dataclass(frozen=True)
class FitResult:
    """What one fit sends back: forecasts in original units and the model file.

    Attributes:
        kind: Model kind, e.g. ``"gru"``.
        seed: The seed it was trained with.
        predictions: One-step forecasts of the test rows ``(n_test, features)``.
        rollout: Free-run forecast ``(steps, features)`` from the last training
            window, or ``None``.
        history: Per-epoch ``"loss"`` (and ``"val_loss"``) values.
        fit_seconds: Wall time of the fit on the worker, compilation included.
        params: Number of weights.
        epochs_run: Epochs actually run.
        best_epoch: Epoch (from 1) whose weights were kept.
        model_file: The trained model as the bytes of a ``.keras`` file.
        calibration: One-step level forecasts ``(n_cal, features)`` of the last
            ``n_cal`` training windows, whose targets are the last ``n_cal``
            training rows: the calibration tail of split-conformal intervals
            (:mod:`forecasting.analysis.intervals`). It is the validation tail of early
            stopping (``train.validation_fraction`` of the windows), held out of
            the weight updates only when early stopping is on.
    """

    kind: str
    seed: int
    predictions: np.ndarray
    rollout: np.ndarray | None
    history: dict[str, list[float]]
    fit_seconds: float
    params: int
    epochs_run: int
    best_epoch: int
    model_file: bytes = field(repr=False, default=b"")
    calibration: np.ndarray | None = field(repr=False, default=None)


def calibration_size(n_windows: int, fraction: float) -> int:
    """Windows in the calibration tail: as many as early stopping holds out."""
    return min(n_windows, max(1, int(round(n_windows * fraction))))


@dataclass(frozen=True)
class FitJob:
    """Fit one model kind with one seed on one split, then forecast the test rows.

    Attributes:
        kind: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        seed: Seed for weights, dropout and shuffling.
        config: The comparison's settings (``train.seed`` and ``train.seeds`` are
            replaced by ``seed`` and 1 here).
        split: Train and test rows in original units.
        rollout_steps: Also forecast this many steps freely (0 for none).
        estimate: Estimated seconds of work (for queue places and waits).
    """

    kind: str
    seed: int
    config: ExperimentConfig
    split: Split = field(repr=False)
    rollout_steps: int = 0
    estimate: float = 10.0

    @property
    def label(self) -> str:
        """E.g. ``"LSTM, seed 455"``."""
        return f"{MODEL_LABELS[self.kind]}, seed {self.seed}"

    def key(self) -> str:
        """Identical keys give identical results (so they are trained once)."""
        train = replace(self.config.train, seed=self.seed, seeds=1)
        config = replace(self.config, models=(self.kind,), train=train)
        return "fit:" + _digest(split_digest(self.split), config, self.rollout_steps)

    def compile_key(self) -> str:
        """Jobs with the same compile key share one worker's compiled code.

        Everything that shapes the compiled train step and forecast loops (the
        kind, the data, the layers, the optimizer, the batch size), but not the
        seed or the number of epochs: students who differ only in their seed share
        it. Compiling is most of a short fit (about 3 of the 5 s of a Quick-demo
        LSTM), so the local engine sends a job to a worker that has its key, and
        idle workers compile the keys of recent jobs ahead (:meth:`prepare`).
        """
        train = replace(self.config.train, seed=0, seeds=1, epochs=1)
        config = replace(self.config, models=(self.kind,), train=train)
        split = split_digest(self.split)
        return "compile:" + _digest(split, config, self.rollout_steps)

    def prepare(self) -> None:
        """Compile what this job needs, ahead: the same job for one epoch, dropped.

        The compiled train step is kept per setting, not per number of epochs
        (:mod:`forecasting.nn.fastpath`), and so are the forecast loops, so the real
        job that follows on this worker starts warm. Results do not depend on it:
        every fit starts from its own seeded weights.
        """
        train = replace(self.config.train, epochs=1)
        replace(self, config=replace(self.config, train=train)).run(lambda _: None)

    def run(self, report: Report) -> FitResult:
        """Train, forecast and package the model (imports TensorFlow)."""
        from forecasting.nn.predict import free_run, predict_one_step
        from forecasting.nn.training import train_model

        config, split = self.config, self.split
        windows = prepare_windows(
            split, config.window, config.scale_range, config.target
        )
        train = replace(config.train, seed=self.seed, seeds=1)

        def progress(kind: str, epoch: int, epochs: int, logs: dict) -> None:
            report({"epoch": epoch, "epochs": epochs, "logs": logs})

        trained = train_model(
            self.kind, windows.x_train, windows.y_train, config.model, train, progress
        )
        scaled = predict_one_step(trained.model, windows.x_test)
        previous = previous_levels(split.train, split.test)
        n_cal = calibration_size(len(windows.x_train), train.validation_fraction)
        calibration = windows.one_step_levels(
            predict_one_step(trained.model, windows.x_train[-n_cal:]),
            split.train[-n_cal - 1 : -1],
        )
        rollout = None
        if self.rollout_steps > 0:
            start = windows.start_window(split.train)
            path = free_run(trained.model, start, self.rollout_steps, train.jit_compile)
            rollout = windows.rollout_levels(path, split.train[-1])
        return FitResult(
            kind=self.kind,
            seed=self.seed,
            predictions=windows.one_step_levels(scaled, previous),
            rollout=rollout,
            history=trained.history,
            fit_seconds=trained.fit_seconds,
            params=trained.params,
            epochs_run=trained.epochs_run,
            best_epoch=trained.best_epoch,
            model_file=model_to_bytes(trained.model),
            calibration=calibration,
        )


@dataclass(frozen=True)
class ApplyJob:
    """Run a trained model (as a ``.keras`` file) on new windows.

    Attributes:
        kind: Model kind (for labels).
        seed: The seed the model was trained with (for labels).
        model_file: The model's ``.keras`` bytes.
        x: Windows for one-step forecasts ``(samples, window, features)``, scaled.
        start: Start window of a free run ``(window, features)``, scaled.
        rollout_steps: Free-run length (0 for none).
        jit_compile: Compile the free run with XLA.
    """

    kind: str
    seed: int
    model_file: bytes = field(repr=False)
    x: np.ndarray = field(repr=False)
    start: np.ndarray = field(repr=False)
    rollout_steps: int = 0
    jit_compile: bool = True
    estimate: float = 3.0

    @property
    def label(self) -> str:
        """E.g. ``"GRU, seed 455 (forecast)"``."""
        return f"{MODEL_LABELS[self.kind]}, seed {self.seed} (forecast)"

    def key(self) -> str:
        """Identify the model and the inputs."""
        return "apply:" + _digest(
            self.model_file, self.x, self.start, self.rollout_steps, self.jit_compile
        )

    def run(self, report: Report) -> tuple[np.ndarray, np.ndarray | None]:
        """Return ``(one-step outputs (samples, features), free run or None)``."""
        from forecasting.nn.predict import free_run, predict_one_step

        model = model_from_bytes(self.model_file)
        one_step = predict_one_step(model, self.x)
        path = None
        if self.rollout_steps > 0:
            path = free_run(model, self.start, self.rollout_steps, self.jit_compile)
        return one_step, path


@dataclass(frozen=True)
class SummaryJob:
    """Build each model kind in Keras and return its weight count and summary.

    Attributes:
        kinds: Model kinds to build.
        window: Steps per window.
        n_features: Features per step.
        units: Units per layer.
        layers: Stacked layers.
    """

    kinds: tuple[str, ...]
    window: int
    n_features: int
    units: int
    layers: int
    estimate: float = 2.0

    @property
    def label(self) -> str:
        """What it builds."""
        return "Keras model summaries"

    def key(self) -> str:
        """The settings identify the result."""
        return "summary:" + _digest(self)

    def run(self, report: Report) -> dict[str, tuple[int, str]]:
        """Kind -> ``(model.count_params(), model.summary() text)``."""
        from forecasting.nn.models import build_model

        result = {}
        for kind in self.kinds:
            model = build_model(
                kind,
                window=self.window,
                n_features=self.n_features,
                units=self.units,
                layers=self.layers,
            )
            result[kind] = (int(model.count_params()), _summary_text(model))
        return result


def _summary_text(model: keras.Model) -> str:
    """``model.summary()`` as plain text."""
    parts: list[str] = []
    model.summary(print_fn=lambda text, **_: parts.append(text))
    return "\n".join(parts)
