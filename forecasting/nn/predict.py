"""One-step (batched) and free-run (recursive) forecasts in scaled units.

A free run feeds each prediction back in as the newest step of the window. On the
fast path (:mod:`forecasting.nn.fastpath`) the whole loop runs inside one compiled
TensorFlow function, so 1000 steps cost one call instead of 1000
``model.predict`` calls; ``FORECASTING_FAST_PATH=0`` runs the plain loop, one
``model.predict`` per step. Several start windows (several individuals) run as
one batch either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from forecasting.nn import fastpath

if TYPE_CHECKING:
    import keras


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
    if fastpath.enabled() and len(array):
        return fastpath.predict(model, array, batch_size)
    return np.asarray(model.predict(array, batch_size=batch_size, verbose=0))


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
        jit_compile: Compile the loop with XLA (the fast path only).

    Returns:
        ``(steps, features)`` for one start window, ``(batch, steps, features)``
        for a batch; scaled, float32.

    Raises:
        ValueError: If ``steps`` is not positive or the shapes do not fit, or
            ``FORECASTING_FAST_PATH`` is neither 1 nor 0.
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
    if fastpath.enabled():
        result = fastpath.free_run(model, array, int(steps), jit_compile)
    else:
        result = _predict_loop(model, array, int(steps))
    return result[0] if single else result


def _predict_loop(model: keras.Model, windows: np.ndarray, steps: int) -> np.ndarray:
    """The plain free run: one ``model.predict`` call per step for the whole batch.

    Args:
        model: As for :func:`free_run`.
        windows: Start windows ``(batch, window, features)``, scaled.
        steps: Number of steps.

    Returns:
        ``(batch, steps, features)``, scaled.
    """
    window = np.asarray(windows, dtype=np.float32).copy()
    out = []
    for _ in range(steps):
        prediction = np.asarray(model.predict(window, verbose=0))
        out.append(prediction)
        window = np.concatenate([window[:, 1:], prediction[:, None]], axis=1)
    return np.stack(out, axis=1)


def free_run_reference(model: keras.Model, start: np.ndarray, steps: int) -> np.ndarray:
    """Free run the plain way: one ``model.predict`` call per step (slow; for tests).

    Args:
        model: As for :func:`free_run`.
        start: One window ``(window, features)``, scaled.
        steps: Number of steps.

    Returns:
        ``(steps, features)``, scaled.
    """
    return _predict_loop(model, np.asarray(start, dtype=np.float32)[None], steps)[0]
