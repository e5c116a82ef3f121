"""Seeded training with a progress callback and honest early stopping.

Early stopping watches a validation tail cut from the END of the training windows
(in time order), never the test data. TensorFlow and Keras keep process-wide state
(seeds, name counters), so a process trains one model at a time: the engine's
workers (:mod:`forecasting.runtime.workers`) each run one job after another.

Speed: by default a fit takes the fast path of :mod:`forecasting.nn.fastpath` (XLA
if asked, a whole epoch per graph call, the compiled step kept per setting and
reused by later fits, which get the numbers a fresh compile would give).
``FORECASTING_FAST_PATH=0`` fits with a plain ``model.fit`` instead; ``bench/``
measures the fast path against plain Keras.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from forecasting.data import DataError
from forecasting.nn import fastpath
from forecasting.nn.models import build_model
from forecasting.settings.config import ModelConfig, TrainConfig

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


def train_model(
    kind: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    model_config: ModelConfig,
    train_config: TrainConfig,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Build and fit one model, seeded so that the same inputs give the same model.

    The fit takes the fast path (:mod:`forecasting.nn.fastpath`) unless
    ``FORECASTING_FAST_PATH=0``, which fits with a plain ``model.fit``.

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
        ValueError: If ``FORECASTING_FAST_PATH`` is neither 1 nor 0.
    """
    x = np.asarray(x_train, dtype=np.float32)
    y = np.asarray(y_train, dtype=np.float32)
    validation_data = None
    if train_config.early_stopping:
        x, y, x_val, y_val = validation_split(x, y, train_config.validation_fraction)
        validation_data = (x_val, y_val)
    callbacks = _callbacks(kind, train_config, progress)
    model, fit, seconds = _fit(
        kind, x, y, model_config, train_config, validation_data, callbacks
    )
    # Compiling without fitting traces nothing; it records how the model was
    # trained in a downloaded .keras file.
    model.compile(
        optimizer=make_optimizer(train_config.optimizer, train_config.learning_rate),
        loss="mse",
        jit_compile=False,
    )
    return _result(kind, model, fit.history, seconds, train_config)


def _callbacks(
    kind: str, train_config: TrainConfig, progress: ProgressCallback | None
) -> list[keras.callbacks.Callback]:
    """Early stopping (if on) and the per-epoch ``progress`` report (if given)."""
    import keras

    callbacks: list[keras.callbacks.Callback] = []
    if train_config.early_stopping:
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
    return callbacks


def _fit(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    model_config: ModelConfig,
    train_config: TrainConfig,
    validation_data: tuple[np.ndarray, np.ndarray] | None,
    callbacks: list[keras.callbacks.Callback],
) -> tuple[keras.Model, keras.callbacks.History, float]:
    """Build a seeded model and fit it, on the fast path or with plain Keras.

    Returns:
        ``(model, history, seconds)``; ``seconds`` is the wall time of the
        ``fit`` call alone.
    """
    import keras

    _, window, n_features = x.shape
    n_outputs = y.shape[1]
    build = functools.partial(_build, kind, window, n_features, n_outputs, model_config)
    optimizer = functools.partial(
        make_optimizer, train_config.optimizer, train_config.learning_rate
    )
    fit_args = {
        "epochs": train_config.epochs,
        "batch_size": train_config.batch_size,
        "shuffle": True,
        "validation_data": validation_data,
        "callbacks": callbacks,
        "verbose": 0,
    }
    if fastpath.enabled():
        setting = (kind, window, n_features, n_outputs, model_config)
        setting += (train_config.optimizer, train_config.learning_rate)
        return fastpath.fit(
            setting,
            build,
            optimizer,
            x,
            y,
            seed=train_config.seed,
            jit_compile=train_config.jit_compile,
            **fit_args,
        )
    keras.utils.set_random_seed(train_config.seed)
    model = build()
    model.compile(
        optimizer=optimizer(), loss="mse", jit_compile=train_config.jit_compile
    )
    start = time.perf_counter()
    fit = model.fit(x, y, **fit_args)
    return model, fit, time.perf_counter() - start


def _result(
    kind: str,
    model: keras.Model,
    fit_history: dict[str, list[Any]],
    seconds: float,
    train_config: TrainConfig,
) -> TrainResult:
    """The :class:`TrainResult` of a finished fit (losses as plain floats)."""
    history = {k: [float(v) for v in values] for k, values in fit_history.items()}
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
