"""The interface every forecaster shares: fit on a split, forecast levels.

:class:`Forecaster` checks the order (fit first), the steps and the features;
subclasses implement ``_fit``, ``_one_step`` and ``_free_run``. The package
docstring (:mod:`forecasting.forecasters`) describes the two kinds of forecast.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from forecasting.prep.windows import Split
from forecasting.settings.config import MODEL_LABELS

if TYPE_CHECKING:
    from typing import Self

BASELINE_LABELS: dict[str, str] = {
    "persistence": "Persistence (naive)",
    "linear_ar": "Linear autoregression",
    "constant_velocity": "Constant velocity (naive)",
}
"""Display names of the simple baselines every model is compared with."""
BASELINE_KINDS: tuple[str, ...] = tuple(BASELINE_LABELS)
"""Kind ids of the baselines, in the order they are shown."""


def display_name(kind: str) -> str:
    """Display name of a model or baseline kind id, e.g. ``"GRU"``; others as is."""
    return MODEL_LABELS.get(kind) or BASELINE_LABELS.get(kind, kind)


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
        return display_name(self.kind)

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
