"""Errors in original units, and naive baselines on exactly the same targets.

Every function takes arrays of shape ``(samples,)`` or ``(samples, features)`` in
ORIGINAL units (never scaled). With several features, RMSE, MAE and MAPE pool all
values; :func:`euclidean` measures the distance per row (for 2-D tracks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METRIC_NAMES: dict[str, str] = {
    "rmse": "RMSE",
    "mae": "MAE",
    "mape": "MAPE %",
    "euclidean": "Mean distance",
}
"""Metric keys and their display names (the one name of each metric in the app)."""


def as_rows(values: np.ndarray | Sequence[float]) -> np.ndarray:
    """``values`` as float64 ``(rows, features)``; ``(rows,)`` becomes one column."""
    array = np.asarray(values, dtype=np.float64)
    return array[:, None] if array.ndim == 1 else array


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.shape != pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {true.shape} and "
            f"{pred.shape}"
        )
    if true.size == 0:
        raise ValueError("y_true and y_pred must not be empty")
    return true, pred


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error."""
    true, pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((true - pred) ** 2)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred)))


def mape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute percentage error in percent, skipping zero targets.

    Returns:
        The MAPE in percent, or NaN when every target is zero.
    """
    true, pred = _pair(y_true, y_pred)
    nonzero = true != 0
    if not nonzero.any():
        return float("nan")
    return float(np.mean(np.abs((true[nonzero] - pred[nonzero]) / true[nonzero])) * 100)


def euclidean(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean Euclidean distance of the rows ``(samples, features)``."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.linalg.norm(as_rows(true) - as_rows(pred), axis=-1)))


def score(
    y_true: np.ndarray, y_pred: np.ndarray, with_euclidean: bool = False
) -> dict[str, float]:
    """Compute RMSE, MAE and MAPE (and the mean Euclidean error if asked).

    Args:
        y_true: Real values ``(samples, features)``, original units.
        y_pred: Predictions of the same shape.
        with_euclidean: Add ``"euclidean"`` (for tracks).

    Returns:
        A dict keyed like :data:`METRIC_NAMES`.
    """
    result = {
        "rmse": rmse(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "mape": mape(y_true, y_pred),
    }
    if with_euclidean:
        result["euclidean"] = euclidean(y_true, y_pred)
    return result


def persistence(last_train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Naive persistence forecast: each test row is predicted by the row before it.

    Args:
        last_train: The last training row ``(features,)``; it predicts ``test[0]``.
        test: Real test rows ``(samples, features)``.

    Returns:
        Predictions ``(samples, features)``: ``[last_train, test[0], ..., test[-2]]``.
    """
    test = np.asarray(test, dtype=np.float64)
    first = np.asarray(last_train, dtype=np.float64).reshape(1, *test.shape[1:])
    return np.concatenate([first, test[:-1]], axis=0)


def constant_velocity(before: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Naive constant-velocity forecast: each row continues the last step's motion.

    Args:
        before: The last two rows before the test ``(2, features)``.
        test: Real test rows ``(samples, features)``.

    Returns:
        Predictions ``(samples, features)``: ``x[t-1] + (x[t-1] - x[t-2])``.
    """
    test = np.asarray(test, dtype=np.float64)
    history = np.concatenate([np.asarray(before, dtype=np.float64)[-2:], test], axis=0)
    return 2 * history[1:-1] - history[:-2]


def non_finite_note(errors: dict[str, float]) -> str | None:
    """A sentence when an error is infinite or not a number; ``None`` if all are.

    A value near the largest float (such as ``1e308`` in a file) makes the squared
    error overflow, so RMSE is infinite: the table alone would not say why.

    Args:
        errors: Model name -> RMSE.

    Returns:
        One sentence naming the models and what to do, or ``None``.
    """
    bad = [name for name, value in errors.items() if not np.isfinite(value)]
    if not bad:
        return None
    return (
        f"The RMSE of {', '.join(bad)} is not a finite number: the data holds "
        "values too large for the arithmetic (near 1e308). Check the file for "
        "such values, or rescale the column, and train again."
    )
