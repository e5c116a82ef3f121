"""The naive baselines every network is compared with, computed here.

Persistence and constant velocity use numpy; the linear autoregression fits
scikit-learn's ``LinearRegression`` on the same windows as the networks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecasting import metrics
from forecasting.forecasters.base import Forecaster
from forecasting.prep.windows import Split, make_windows
from forecasting.settings.errors import DataError


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


def fit_baselines(split: Split, window: int) -> dict[str, Forecaster]:
    """The baselines for this data, fitted on ``split``: kind -> forecaster.

    Persistence and a linear autoregression on ``window`` rows; for a track
    (:attr:`Split.track`) also constant velocity.
    """
    chosen: list[Forecaster] = [Persistence(), LinearAutoregression(window)]
    if split.track:
        chosen.append(ConstantVelocity())
    return {f.kind: f.fit(split) for f in chosen}
