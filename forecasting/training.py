"""Seeded training with a progress callback and honest early stopping.

Early stopping watches a validation tail cut from the END of the training windows
(in time order), never the test data. TensorFlow and Keras keep process-wide state
(seeds, name counters), so a process trains one model at a time: the engine's
workers (:mod:`forecasting.workers`) each run one job after another.

Speed: the train step is compiled with XLA and runs a whole epoch per call
(``steps_per_execution``), and the compiled step is kept per setting and reused
by later fits of new models with the same setting (other seeds, re-runs), which
get the numbers a fresh compile would give. ``bench/`` measures all of it
against plain Keras.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from forecasting.config import ModelConfig, TrainConfig
from forecasting.data import DataError
from forecasting.models import build_model

if TYPE_CHECKING:
    import keras

ProgressCallback = Callable[[str, int, int, dict[str, float]], None]
"""``progress(model_kind, epoch, epochs, logs)``, called after every epoch.

``epoch`` counts from 1; ``logs`` holds ``"loss"`` (and ``"val_loss"`` with early
stopping) as floats.
"""


@dataclass
class TrainResult:
    """A fitted model and how its fit went.

    Attributes:
        kind: Model kind, e.g. ``"gru"``.
        model: The fitted Keras model, mapping ``(samples, window, features)`` to
            ``(samples, features)`` in scaled units.
        history: Per-epoch ``"loss"`` (and ``"val_loss"``) values.
        fit_seconds: Wall time of the fit, compilation included.
        params: Number of trainable and non-trainable weights.
        epochs_run: Epochs actually run (fewer than asked if stopped early).
        best_epoch: Epoch (from 1) whose weights were kept.
    """

    kind: str
    model: keras.Model
    history: dict[str, list[float]] = field(default_factory=dict)
    fit_seconds: float = 0.0
    params: int = 0
    epochs_run: int = 0
    best_epoch: int = 0


def make_optimizer(name: str, learning_rate: float) -> Any:
    """Return a fresh Keras optimizer by name (``rmsprop``, ``adam`` or ``sgd``)."""
    import keras

    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }
    TrainConfig(optimizer=name, learning_rate=learning_rate)  # validates both
    return classes[name](learning_rate=learning_rate)


def validation_split(
    x: np.ndarray, y: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the last ``fraction`` of the training windows off as a validation tail.

    Args:
        x: Training windows ``(samples, window, features)`` in time order.
        y: Targets ``(samples, features)``.
        fraction: Share of the samples to hold out, from the end.

    Returns:
        ``(x_fit, y_fit, x_val, y_val)``.

    Raises:
        DataError: If fewer than two windows would be left to fit on.
    """
    n_val = max(1, int(round(len(x) * fraction)))
    if len(x) - n_val < 2:
        raise DataError(
            f"Early stopping needs a validation tail, but only {len(x)} training "
            "windows exist; turn early stopping off or use more training data."
        )
    return x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]


def _custom_gradient_names() -> set[str]:
    try:
        from tensorflow.python.framework import ops

        return set(ops._gradient_registry._registry)
    except (ImportError, AttributeError):  # a TensorFlow without the registry
        return set()


def _release_traced_graphs(before: set[str]) -> None:
    """Let the graphs traced by one ``fit`` be freed once it has returned.

    Every trace of Keras' train step registers a ``CustomGradient-<uid>`` entry in
    TensorFlow's process-wide gradient registry, and that entry keeps the whole
    traced graph alive, so each trained-and-discarded model leaked about 20 MB
    (``clear_session`` does not touch the registry; measured in docs/LEVERS.md).
    The entries are needed only while tracing. This touches a private TensorFlow
    attribute, so it does nothing where that attribute is missing; it must not
    run while another thread traces (a worker trains one model at a time).
    """
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):
        return
    for name in [n for n in registry if n.startswith("CustomGradient-")]:
        if name not in before:
            del registry[name]


_TRAINER_LOCK = threading.Lock()


def _build(
    kind: str,
    window: int,
    n_features: int,
    n_outputs: int,
    model_config: ModelConfig,
) -> keras.Model:
    return build_model(
        kind,
        window=window,
        n_features=n_features,
        units=model_config.units,
        layers=model_config.layers,
        dropout=model_config.dropout,
        n_outputs=n_outputs,
    )


@functools.lru_cache(maxsize=6)
def _compiled_trainer(
    kind: str,
    window: int,
    n_features: int,
    n_outputs: int,
    model_config: ModelConfig,
    optimizer: str,
    learning_rate: float,
    jit_compile: bool,
    steps_per_execution: int,
) -> tuple[keras.Model, list[np.ndarray]]:
    """Return a compiled model for one setting and its optimizer's initial state.

    Cached per setting: fitting a new model copies its fresh weights into this
    trainer, fits the trainer and copies the weights back, so the train step is
    traced (and, with XLA, compiled) once per setting, not once per model. That
    saves the compile time of every further fit (several seconds with XLA) and
    the memory it would cost: TensorFlow keeps every XLA executable for the life
    of the process (tensorflow/tensorflow#64170), so a compile per model grew the
    process by about 20 MB per trained model.
    """
    model = _build(kind, window, n_features, n_outputs, model_config)
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss="mse",
        jit_compile=jit_compile,
        # One call into the compiled graph per epoch instead of one per batch: the
        # same updates in the same order, without Python between the batches.
        steps_per_execution=steps_per_execution,
    )
    model.optimizer.build(model.trainable_variables)
    return model, [np.array(v) for v in model.optimizer.variables]


def _copy_variables(source: keras.Model, target: keras.Model) -> None:
    """Copy weights and random-seed states between two identically built models."""
    for a, b in zip(source.variables, target.variables, strict=True):
        b.assign(a)


def train_model(
    kind: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    model_config: ModelConfig,
    train_config: TrainConfig,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Build and fit one model, seeded so that the same inputs give the same model.

    Args:
        kind: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        x_train: Windows ``(samples, window, features)``, scaled, in time order.
        y_train: Next-step targets ``(samples, features)``, scaled.
        model_config: Architecture.
        train_config: Optimizer, epochs, batch size, seed, early stopping.
        progress: Optional ``progress(kind, epoch, epochs, logs)`` callback.

    Returns:
        The :class:`TrainResult`.

    Raises:
        DataError: If early stopping is on and the training data is too short for
            a validation tail.
    """
    import keras

    x = np.asarray(x_train, dtype=np.float32)
    y = np.asarray(y_train, dtype=np.float32)
    validation_data = None
    callbacks: list[keras.callbacks.Callback] = []
    if train_config.early_stopping:
        x, y, x_val, y_val = validation_split(x, y, train_config.validation_fraction)
        validation_data = (x_val, y_val)
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=train_config.patience,
                restore_best_weights=True,
            )
        )
    if progress is not None:
        epochs = train_config.epochs

        def on_epoch_end(epoch: int, logs: dict[str, Any] | None = None) -> None:
            clean = {k: float(v) for k, v in (logs or {}).items()}
            progress(kind, epoch + 1, epochs, clean)

        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end))

    _, window, n_features = x.shape
    n_outputs = y.shape[1]
    with _TRAINER_LOCK:
        trainer, optimizer_start = _compiled_trainer(
            kind,
            window,
            n_features,
            n_outputs,
            model_config,
            train_config.optimizer,
            train_config.learning_rate,
            train_config.jit_compile,
            math.ceil(len(x) / train_config.batch_size),
        )
        # Seed, then build: the initial weights (and dropout seeds) are those of a
        # fresh model, whether or not the compiled trainer was reused.
        keras.utils.set_random_seed(train_config.seed)
        model = _build(kind, window, n_features, n_outputs, model_config)
        _copy_variables(model, trainer)
        for variable, value in zip(
            trainer.optimizer.variables, optimizer_start, strict=True
        ):
            variable.assign(value)
        traced_before = _custom_gradient_names()
        start = time.perf_counter()
        fit = trainer.fit(
            x,
            y,
            epochs=train_config.epochs,
            batch_size=train_config.batch_size,
            shuffle=True,
            validation_data=validation_data,
            callbacks=callbacks,
            verbose=0,
        )
        seconds = time.perf_counter() - start
        _release_traced_graphs(traced_before)
        _copy_variables(trainer, model)
    # Compiling without fitting traces nothing; it records how the model was
    # trained in a downloaded .keras file.
    model.compile(
        optimizer=make_optimizer(train_config.optimizer, train_config.learning_rate),
        loss="mse",
        jit_compile=False,
    )
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    losses = history.get("val_loss") or history.get("loss") or [0.0]
    best = int(np.argmin(losses)) + 1 if train_config.early_stopping else len(losses)
    return TrainResult(
        kind=kind,
        model=model,
        history=history,
        fit_seconds=seconds,
        params=int(model.count_params()),
        epochs_run=len(history.get("loss", [])),
        best_epoch=best,
    )
