"""Train/test split by time, a scaler fitted on the training slice only, and windows.

Shapes used throughout:

* a series is ``(rows, features)``;
* windows are ``(samples, window, features)`` with targets ``(samples, features)``:
  sample ``i`` sees rows ``i .. i + window - 1`` and predicts row ``i + window``.

The test windows take their first context from the last ``window`` training rows,
so every test row gets a prediction (as the original tutorial does). The scaler
never sees a test value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MinMaxScaler

from forecasting.data.frames import is_track
from forecasting.prep.budget import check_memory
from forecasting.settings.config import SplitConfig
from forecasting.settings.errors import DataError


def make_windows(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into overlapping windows and next-step targets, without a loop.

    Args:
        values: The series, ``(rows,)`` or ``(rows, features)``.
        window: Steps per window; must be smaller than ``rows``.

    Returns:
        ``(x, y)`` with ``x`` of shape ``(rows - window, window, features)`` and ``y``
        of shape ``(rows - window, features)``; ``y[i]`` is the row after ``x[i]``.

    Raises:
        ValueError: If ``window`` is not an integer in ``1 .. rows - 1``.
    """
    array = np.asarray(values)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"values must be 1-D or 2-D, got shape {array.shape}")
    if (
        isinstance(window, bool)
        or not isinstance(window, (int, np.integer))
        or window < 1
    ):
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if window >= len(array):
        raise ValueError(
            f"window must be shorter than the series ({len(array)} rows), got {window}"
        )
    view = sliding_window_view(array, window, axis=0)  # (rows - window + 1, f, window)
    x = np.ascontiguousarray(view[:-1].transpose(0, 2, 1))
    y = array[window:].copy()
    return x, y


@dataclass(frozen=True)
class Split:
    """A series cut into a training period and the test period right after it.

    Attributes:
        train: Training rows in original units, ``(n_train, features)``.
        test: Test rows in original units, ``(n_test, features)``.
        train_index: Dates (or row numbers) of the training rows.
        test_index: Dates (or row numbers) of the test rows.
        columns: Feature names, one per column of ``train`` and ``test``.
        track: ``True`` when the rows are positions of one moving individual
            (the frame came from tracking data, see
            :func:`forecasting.data.as_track`): the scores add the mean distance
            and the baselines add constant velocity.
    """

    train: np.ndarray
    test: np.ndarray
    train_index: pd.Index
    test_index: pd.Index
    columns: tuple[str, ...]
    track: bool = False

    @property
    def n_features(self) -> int:
        """Features per row (columns of ``train`` and ``test``)."""
        return int(self.train.shape[1])


def _year_span(index: pd.DatetimeIndex) -> str:
    return f"{index.min().year}-{index.max().year}"


def split_series(
    frame: pd.DataFrame, columns: tuple[str, ...], split: SplitConfig
) -> Split:
    """Cut the chosen columns of a frame into train and test periods by time.

    Args:
        frame: Rows in time order; a ``DatetimeIndex`` is required for a split by
            years, any index works for fractions and row counts. A frame marked
            as a track (:func:`forecasting.data.as_track`) gives a track split.
        columns: Feature columns to keep, in this order.
        split: Where to cut.

    Returns:
        The :class:`Split`, in original units.

    Raises:
        DataError: If a column is missing or has gaps, the training years hold no
            rows, or nothing is left to test on.
    """
    data = _feature_columns(frame, columns)
    if split.method == "years":
        train, test = _split_by_years(data, split)
    elif split.method == "fraction":
        train, test = _split_by_fraction(data, split)
    else:
        train, test = _split_by_rows(data, split)
    return Split(
        train=train.to_numpy(dtype=np.float64),
        test=test.to_numpy(dtype=np.float64),
        train_index=train.index,
        test_index=test.index,
        columns=tuple(columns),
        track=is_track(frame),
    )


def _feature_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The chosen columns of ``frame``, checked to exist and to have no gaps."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"Column {missing[0]!r} is not in the data; choose one of "
            f"{', '.join(map(str, frame.columns))}."
        )
    data = frame.loc[:, list(columns)]
    if data.isna().to_numpy().any():
        bad = data.columns[data.isna().any()].tolist()
        raise DataError(
            f"Column {bad[0]!r} has missing values; fill or drop them before splitting."
        )
    return data


def _split_by_years(
    data: pd.DataFrame, split: SplitConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on the training years, test on the years after (up to the end year)."""
    if not isinstance(data.index, pd.DatetimeIndex):
        raise DataError(
            "A split by years needs dates; this series has none, so split by "
            "fraction or by row counts instead."
        )
    years = data.index.year
    train_mask = (years >= split.train_start_year) & (years <= split.train_end_year)
    test_mask = years > split.train_end_year
    if split.test_end_year is not None:
        test_mask &= years <= split.test_end_year
    if not train_mask.any():
        raise DataError(
            f"No rows fall in the training years {split.train_start_year}-"
            f"{split.train_end_year}; the data covers {_year_span(data.index)}, "
            "so choose training years inside that range."
        )
    if not test_mask.any():
        raise DataError(
            f"No rows are left to test on after {split.train_end_year}; the data "
            f"covers {_year_span(data.index)}, so choose an earlier train end year."
        )
    return data[train_mask], data[test_mask]


def _split_by_fraction(
    data: pd.DataFrame, split: SplitConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on the first ``train_fraction`` of the rows, test on the rest."""
    n_train = int(len(data) * split.train_fraction)
    if n_train < 2 or n_train >= len(data):
        raise DataError(
            f"A training fraction of {split.train_fraction} of {len(data)} rows "
            "leaves no training or no test rows; choose a fraction between 0.1 "
            "and 0.95, or use more data."
        )
    return data.iloc[:n_train], data.iloc[n_train:]


def _split_by_rows(
    data: pd.DataFrame, split: SplitConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on the first ``train_rows`` rows, test on the ``test_rows`` after."""
    needed = split.train_rows + split.test_rows
    if len(data) < needed:
        raise DataError(
            f"The series has {len(data)} rows but {needed} are needed (train "
            f"{split.train_rows} + test {split.test_rows}); choose fewer rows."
        )
    return data.iloc[: split.train_rows], data.iloc[split.train_rows : needed]


@dataclass(frozen=True)
class Windows:
    """Scaled model inputs for one split, plus the way back to original units.

    With ``target="level"`` the models see and predict the scaled values. With
    ``target="diff"`` they see and predict the scaled step-to-step changes;
    :meth:`one_step_levels` and :meth:`rollout_levels` integrate them back to
    levels. Either way the scaler is fitted on the training period only.

    Attributes:
        x_train: Training windows ``(samples, window, features)``, float32.
        y_train: Training targets ``(samples, features)``, float32.
        x_test: Test windows ``(n_test, window, features)``, float32; the first
            ones reach back into the end of the training period.
        y_test: Test targets ``(n_test, features)``, float32 (scaled).
        scaler: MinMax scaler fitted on the training period only.
        split: The split the windows were cut from (original units).
        window: Steps per window.
        target: ``"level"`` or ``"diff"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: MinMaxScaler
    split: Split
    window: int
    target: str = "level"

    @property
    def context_rows(self) -> int:
        """Level rows needed to form one window (one more for differences)."""
        return self.window + (1 if self.target == "diff" else 0)

    def scale(self, values: np.ndarray) -> np.ndarray:
        """Scale model-space values ``(..., features)`` with the training scaler."""
        array = np.asarray(values, dtype=np.float64)
        flat = self.scaler.transform(array.reshape(-1, array.shape[-1]))
        return flat.reshape(array.shape).astype(np.float32)

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        """Map scaled model-space values ``(..., features)`` back to original units."""
        array = np.asarray(scaled, dtype=np.float64)
        flat = self.scaler.inverse_transform(array.reshape(-1, array.shape[-1]))
        return flat.reshape(array.shape)

    def encode(self, levels: np.ndarray) -> np.ndarray:
        """Turn level rows ``(rows, features)`` into the scaled model-space series.

        Returns:
            ``(rows, features)`` for levels, ``(rows - 1, features)`` for diffs.
        """
        levels = np.asarray(levels, dtype=np.float64)
        return self.scale(np.diff(levels, axis=0) if self.target == "diff" else levels)

    def test_windows(self, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        """Windows for one-step forecasts of every row of ``test``.

        Args:
            train: Level rows before the test, ``(rows, features)``; only the last
                :attr:`context_rows` are used.
            test: Level rows to forecast, ``(n_test, features)``.

        Returns:
            ``(n_test, window, features)``, scaled.
        """
        context = np.concatenate([np.asarray(train)[-self.context_rows :], test])
        x, _ = make_windows(self.encode(context), self.window)
        return x

    def start_window(self, train: np.ndarray) -> np.ndarray:
        """Last window of ``train`` levels for a free run, ``(window, features)``."""
        return self.encode(np.asarray(train)[-self.context_rows :])

    def one_step_levels(self, scaled: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Original-unit level forecasts from scaled one-step model outputs.

        Args:
            scaled: Model outputs ``(n_test, features)``.
            previous: The real level before each forecast row ``(n_test, features)``
                (used only for differences).

        Returns:
            Level forecasts ``(n_test, features)``.
        """
        values = self.inverse(scaled)
        return np.asarray(previous) + values if self.target == "diff" else values

    def rollout_levels(
        self, scaled_path: np.ndarray, last_level: np.ndarray
    ) -> np.ndarray:
        """Original-unit levels of a free run ``(..., steps, features)``.

        For differences the predicted changes are summed up from ``last_level``,
        the last real level before the run.
        """
        values = self.inverse(scaled_path)
        if self.target == "diff":
            return np.asarray(last_level) + np.cumsum(values, axis=-2)
        return values


def previous_levels(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The real level before each test row: ``[train[-1], test[0], ..., test[-2]]``."""
    return np.concatenate([np.asarray(train)[-1:], np.asarray(test)[:-1]])


def prepare_windows(
    split: Split,
    window: int,
    scale_range: tuple[float, float] = (0.0, 1.0),
    target: str = "level",
) -> Windows:
    """Fit the scaler on the training period and cut train and test windows.

    Args:
        split: Train and test rows in original units.
        window: Steps per window.
        scale_range: ``(low, high)`` target range of the MinMax scaler.
        target: ``"level"`` or ``"diff"`` (model the step-to-step change).

    Returns:
        The :class:`Windows`; ``x_test`` has exactly one window per test row.

    Raises:
        DataError: If the window is not shorter than the training data, or the
            windows would not fit in the memory one run may use.
    """
    n_train = len(split.train)
    needed = window + (1 if target == "diff" else 0)
    if needed >= n_train:
        raise DataError(
            f"The window ({window} rows) must be shorter than the training data "
            f"({n_train} rows); choose a smaller window or a longer training period."
        )
    check_memory(n_train - needed + len(split.test), window, split.train.shape[1])
    train = split.train
    model_space = np.diff(train, axis=0) if target == "diff" else train
    scaler = MinMaxScaler(feature_range=tuple(scale_range))
    scaler.fit(model_space)  # the training period only: no test value leaks in
    windows = Windows(
        x_train=np.empty((0, window, train.shape[1]), np.float32),
        y_train=np.empty((0, train.shape[1]), np.float32),
        x_test=np.empty((0, window, train.shape[1]), np.float32),
        y_test=np.empty((0, train.shape[1]), np.float32),
        scaler=scaler,
        split=split,
        window=window,
        target=target,
    )
    x_train, y_train = make_windows(windows.encode(train), window)
    context = np.concatenate([train[-windows.context_rows :], split.test])
    x_test, y_test = make_windows(windows.encode(context), window)
    return replace(
        windows, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
