"""The fast TensorFlow path: compiled work shared between models, behind one switch.

Plain Keras compiles a new train step for every model it fits and a ``predict``
call per step of a free run. This module keeps compiled work per *setting*
instead, so later models with the same setting (other seeds, re-runs) skip
compilation and get the numbers a fresh compile would give:

- :func:`fit`: one compiled trainer per setting (XLA if asked, one graph call per
  epoch via ``steps_per_execution``); a fit copies the new model's seeded weights
  in and the trained ones out, then releases the graphs the fit traced from
  TensorFlow's gradient registry (a private attribute, see
  :func:`release_traced_graphs`).
- :func:`free_run`: one compiled ``tf.while_loop`` per architecture and number of
  steps; a free run copies the model's weights into the loop's twin.
- :func:`predict`: one traced forward pass per architecture, where
  ``model.predict`` traces a new one for every model; the same weights-into-a-
  twin copy. In a warm Quick-demo job the time outside the fit went from 0.5-0.7 s
  to 0.2-0.3 s (``python -m bench.job_overhead``).

No cache holds a caller's model. The switch is the environment variable
``FORECASTING_FAST_PATH`` (read at every call by :func:`enabled`): unset or ``1``
uses this module; ``0`` makes :mod:`forecasting.nn.training` and
:mod:`forecasting.nn.predict` fall back to a plain ``model.fit`` and a plain
``model.predict`` loop, for comparison or when a TensorFlow release breaks
something here. TensorFlow is imported inside the functions only.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

FAST_PATH_ENV = "FORECASTING_FAST_PATH"
"""The one switch: ``1`` (default) for this module's fast path, ``0`` for plain."""

_ON = ("", "1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def enabled() -> bool:
    """Whether the fast path is on: ``FORECASTING_FAST_PATH`` unset, ``1`` or ``0``.

    ``true``/``false``, ``yes``/``no`` and ``on``/``off`` work too.

    Raises:
        ValueError: If the variable holds anything else.
    """
    value = os.environ.get(FAST_PATH_ENV, "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(
        f"{FAST_PATH_ENV} must be 1 (fast path) or 0 (plain Keras), got "
        f"{os.environ[FAST_PATH_ENV]!r}"
    )


def _cached(
    cache: OrderedDict, key: Hashable, limit: int, build: Callable[[], Any]
) -> Any:
    """Return ``cache[key]``, calling ``build`` on a miss; keep the latest ``limit``.

    The one least-recently-used cache of the trainers, free runs and predictors.
    """
    entry = cache.pop(key, None)
    if entry is None:
        entry = build()
    cache[key] = entry
    while len(cache) > limit:
        cache.popitem(last=False)
    return entry


# Training ----------------------------------------------------------------------------
_Trainer = tuple[Any, list[np.ndarray]]
_TRAINERS: OrderedDict[Hashable, _Trainer] = OrderedDict()
_TRAINERS_MAX = 6
_TRAINER_LOCK = threading.Lock()


def custom_gradient_names() -> set[str]:
    """Names in TensorFlow's gradient registry now (empty where it is missing)."""
    try:
        from tensorflow.python.framework import ops

        return set(ops._gradient_registry._registry)
    except (ImportError, AttributeError):  # a TensorFlow without the registry
        return set()


def release_traced_graphs(before: set[str]) -> None:
    """Let the graphs traced by one ``fit`` be freed once it has returned.

    Every trace of Keras' train step registers a ``CustomGradient-<uid>`` entry in
    TensorFlow's process-wide gradient registry, and that entry keeps the whole
    traced graph alive, so each trained-and-discarded model leaked about 20 MB
    (``clear_session`` does not touch the registry; measured in docs/LEVERS.md).
    The entries are needed only while tracing. This touches a private TensorFlow
    attribute, so it does nothing where that attribute is missing; it must not
    run while another thread traces (a worker trains one model at a time).

    Args:
        before: :func:`custom_gradient_names` from before the fit.
    """
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):
        return
    for name in [n for n in registry if n.startswith("CustomGradient-")]:
        if name not in before:
            del registry[name]


def _compiled_trainer(
    setting: Hashable,
    build: Callable[[], keras.Model],
    optimizer: Callable[[], Any],
    jit_compile: bool,
    steps_per_execution: int,
) -> _Trainer:
    """Return a compiled model for one setting and its optimizer's initial state.

    Cached per setting (the last :data:`_TRAINERS_MAX`): the train step is traced
    (and, with XLA, compiled) once per setting, not once per model. That saves
    the compile time of every further fit (several seconds with XLA) and the
    memory it would cost: TensorFlow keeps every XLA executable for the life of
    the process (tensorflow/tensorflow#64170), so a compile per model grew the
    process by about 20 MB per trained model.
    """

    def compiled() -> _Trainer:
        model = build()
        model.compile(
            optimizer=optimizer(),
            loss="mse",
            jit_compile=jit_compile,
            # One call into the compiled graph per epoch instead of one per batch:
            # the same updates in the same order, without Python between batches.
            steps_per_execution=steps_per_execution,
        )
        model.optimizer.build(model.trainable_variables)
        return model, [np.array(v) for v in model.optimizer.variables]

    key = (setting, jit_compile, steps_per_execution)
    return _cached(_TRAINERS, key, _TRAINERS_MAX, compiled)


def _copy_variables(source: keras.Model, target: keras.Model) -> None:
    """Copy weights and random-seed states between two identically built models."""
    for a, b in zip(source.variables, target.variables, strict=True):
        b.assign(a)


def fit(
    setting: Hashable,
    build: Callable[[], keras.Model],
    optimizer: Callable[[], Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    jit_compile: bool,
    batch_size: int,
    **fit_args: Any,
) -> tuple[keras.Model, keras.callbacks.History, float]:
    """Fit a new seeded model on the shared compiled trainer of its setting.

    Args:
        setting: Hashable description of everything ``build`` and ``optimizer``
            depend on; equal settings must build identical models.
        build: Builds the uncompiled model (called before seeding for a new
            trainer, after seeding for the model itself).
        optimizer: Returns a fresh optimizer.
        x: Training windows ``(samples, window, features)``, float32.
        y: Targets ``(samples, outputs)``, float32.
        seed: Seed set right before the model is built.
        jit_compile: Compile the train step with XLA.
        batch_size: Windows per gradient step.
        **fit_args: Passed on to ``keras.Model.fit`` (``epochs``, ``shuffle``,
            ``validation_data``, ``callbacks``...).

    Returns:
        ``(model, history, seconds)``: the trained (uncompiled) model, the
        ``fit`` history and the wall time of the ``fit`` call.
    """
    import keras

    steps = math.ceil(len(x) / batch_size)  # batches per epoch
    with _TRAINER_LOCK:
        trainer, optimizer_start = _compiled_trainer(
            setting, build, optimizer, jit_compile, steps
        )
        # Seed, then build: the initial weights (and dropout seeds) are those of a
        # fresh model, whether or not the compiled trainer was reused.
        keras.utils.set_random_seed(seed)
        model = build()
        _copy_variables(model, trainer)
        for variable, value in zip(
            trainer.optimizer.variables, optimizer_start, strict=True
        ):
            variable.assign(value)
        traced_before = custom_gradient_names()
        start = time.perf_counter()
        history = trainer.fit(x, y, batch_size=batch_size, **fit_args)
        seconds = time.perf_counter() - start
        release_traced_graphs(traced_before)
        _copy_variables(trainer, model)
    return model, history, seconds


# Free runs ---------------------------------------------------------------------------
_Rollout = tuple[Any, Callable[..., Any]]
_ROLLOUTS: OrderedDict[tuple[str, int, bool], _Rollout] = OrderedDict()
_ROLLOUTS_MAX = 12
_ROLLOUTS_LOCK = threading.Lock()


def _architecture_key(model: keras.Model) -> str:
    """Describe a model's architecture, without its layer names or weights.

    Two models built with the same settings get the same key, so compiled
    functions can be shared between them.
    """
    layers = [
        (
            type(layer).__name__,
            {k: v for k, v in layer.get_config().items() if k != "name"},
        )
        for layer in model.layers
    ]
    return json.dumps([str(model.input_shape), layers], sort_keys=True, default=str)


def _rollout(model: keras.Model, steps: int, jit_compile: bool) -> _Rollout:
    """Return a twin of ``model`` and its compiled ``steps``-step loop.

    The loop is traced (and with XLA compiled) once per architecture, not once
    per model: a free run copies the model's weights into the twin first. The
    cache never holds the caller's model, and TensorFlow, which keeps every XLA
    executable for the life of the process (tensorflow/tensorflow#64170), gains
    no new one per trained model.
    """
    import keras
    import tensorflow as tf

    def compiled() -> _Rollout:
        twin = keras.models.clone_model(model)

        def rollout(window: tf.Tensor) -> tf.Tensor:
            outputs = tf.TensorArray(tf.float32, size=steps)

            def body(i: tf.Tensor, w: tf.Tensor, out: tf.TensorArray) -> tuple:
                prediction = tf.cast(twin(w, training=False), tf.float32)
                w = tf.concat([w[:, 1:, :], prediction[:, None, :]], axis=1)
                return i + 1, w, out.write(i, prediction)

            _, _, outputs = tf.while_loop(
                lambda i, w, out: i < steps, body, (tf.constant(0), window, outputs)
            )
            return tf.transpose(outputs.stack(), [1, 0, 2])

        return twin, tf.function(
            rollout, jit_compile=jit_compile, reduce_retracing=True
        )

    key = (_architecture_key(model), steps, jit_compile)
    return _cached(_ROLLOUTS, key, _ROLLOUTS_MAX, compiled)


def free_run(
    model: keras.Model, windows: np.ndarray, steps: int, jit_compile: bool
) -> np.ndarray:
    """Free run a batch of start windows in one compiled loop.

    Args:
        model: Maps ``(samples, window, features)`` to ``(samples, features)``.
        windows: Start windows ``(batch, window, features)``, float32, scaled.
        steps: Steps to forecast (positive).
        jit_compile: Compile the loop with XLA.

    Returns:
        ``(batch, steps, features)``, scaled, float32.
    """
    with _ROLLOUTS_LOCK:
        twin, rollout = _rollout(model, int(steps), jit_compile)
        twin.set_weights(model.get_weights())
        return np.asarray(rollout(windows))


# One-step predictions -----------------------------------------------------------------
_PREDICTORS: OrderedDict[str, _Rollout] = OrderedDict()
_PREDICTORS_MAX = 12


def _predictor(model: keras.Model) -> _Rollout:
    """Return a twin of ``model`` and its traced forward pass (one per architecture).

    Traced as ``model.predict`` traces it on this CPU-only build (no XLA), with
    the number of windows left free, so any batch size reuses it.
    """
    import keras
    import tensorflow as tf

    def traced() -> _Rollout:
        twin = keras.models.clone_model(model)

        def forward(windows: tf.Tensor) -> tf.Tensor:
            return twin(windows, training=False)

        return twin, tf.function(forward, reduce_retracing=True)

    return _cached(_PREDICTORS, _architecture_key(model), _PREDICTORS_MAX, traced)


def predict(model: keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """One-step predictions of every window, ``batch_size`` windows per pass.

    Args:
        model: Maps ``(samples, window, features)`` to ``(samples, outputs)``.
        x: Windows ``(samples, window, features)``, float32, at least one.
        batch_size: Windows per forward pass (as ``model.predict``'s).

    Returns:
        ``(samples, outputs)``, float32: ``model.predict``'s numbers.
    """
    with _ROLLOUTS_LOCK:
        twin, forward = _predictor(model)
        twin.set_weights(model.get_weights())
        parts = [
            np.asarray(forward(x[start : start + batch_size]))
            for start in range(0, len(x), batch_size)
        ]
    return np.concatenate(parts)


def clear_caches() -> None:
    """Forget every compiled trainer, free-run loop and predictor (for tests)."""
    with _TRAINER_LOCK:
        _TRAINERS.clear()
    with _ROLLOUTS_LOCK:
        _ROLLOUTS.clear()
        _PREDICTORS.clear()
