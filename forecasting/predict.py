"""One-step (batched) and free-run (recursive) forecasts in scaled units.

A free run feeds each prediction back in as the newest step of the window. The
whole loop runs inside one compiled TensorFlow function, so 1000 steps cost one
call instead of 1000 ``model.predict`` calls; several start windows (several
individuals) run as one batch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

_Rollout = tuple[Any, Callable[..., Any]]
_ROLLOUTS: OrderedDict[tuple[str, int, bool], _Rollout] = OrderedDict()
_ROLLOUTS_MAX = 12
_ROLLOUTS_LOCK = threading.Lock()


def predict_one_step(
    model: keras.Model, x: np.ndarray, batch_size: int = 2048
) -> np.ndarray:
    """Predict the next step after every window, in one batched call.

    Args:
        model: Maps ``(samples, window, features)`` to ``(samples, features)``.
        x: Windows ``(samples, window, features)``, scaled.
        batch_size: Windows per forward pass.

    Returns:
        Predictions ``(samples, features)``, scaled, float32.
    """
    array = np.asarray(x, dtype=np.float32)
    if array.ndim != 3:
        raise ValueError(
            f"x must be (samples, window, features), got shape {array.shape}"
        )
    return np.asarray(model.predict(array, batch_size=batch_size, verbose=0))


def _architecture_key(model: keras.Model) -> str:
    """Describe a model's architecture, without its layer names or weights.

    Two models built with the same settings get the same key, so compiled
    functions can be shared between them.
    """
    import json

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

    key = (_architecture_key(model), steps, jit_compile)
    entry = _ROLLOUTS.pop(key, None)
    if entry is None:
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

        entry = (
            twin,
            tf.function(rollout, jit_compile=jit_compile, reduce_retracing=True),
        )
    _ROLLOUTS[key] = entry
    while len(_ROLLOUTS) > _ROLLOUTS_MAX:
        _ROLLOUTS.popitem(last=False)
    return entry


def free_run(
    model: keras.Model, start: np.ndarray, steps: int, jit_compile: bool = True
) -> np.ndarray:
    """Forecast ``steps`` steps ahead by feeding predictions back in.

    Args:
        model: Maps ``(samples, window, features)`` to ``(samples, features)``; its
            output features must equal its input features.
        start: The last known window, ``(window, features)``, or a batch of them,
            ``(batch, window, features)``; scaled.
        steps: Number of steps to forecast.
        jit_compile: Compile the loop with XLA.

    Returns:
        ``(steps, features)`` for one start window, ``(batch, steps, features)``
        for a batch; scaled, float32.

    Raises:
        ValueError: If ``steps`` is not positive or the shapes do not fit.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    array = np.asarray(start, dtype=np.float32)
    single = array.ndim == 2
    if single:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(
            f"start must be (window, features) or (batch, window, features), "
            f"got shape {np.asarray(start).shape}"
        )
    with _ROLLOUTS_LOCK:
        twin, rollout = _rollout(model, int(steps), jit_compile)
        twin.set_weights(model.get_weights())
        result = np.asarray(rollout(array))
    return result[0] if single else result


def free_run_reference(model: keras.Model, start: np.ndarray, steps: int) -> np.ndarray:
    """Free run the plain way: one ``model.predict`` call per step (slow; for tests).

    Args:
        model: As for :func:`free_run`.
        start: One window ``(window, features)``, scaled.
        steps: Number of steps.

    Returns:
        ``(steps, features)``, scaled.
    """
    window = np.asarray(start, dtype=np.float32).copy()
    out = []
    for _ in range(steps):
        prediction = np.asarray(model.predict(window[None], verbose=0))[0]
        out.append(prediction)
        window = np.concatenate([window[1:], prediction[None]], axis=0)
    return np.stack(out)
