"""The one frame builder: loaded data plus the chosen columns -> the series to split.

The command line, the dashboard and the benchmarks all call :func:`series_frame`,
so a file with gaps is filled, checked and explained the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from forecasting.data.prices import PriceData
from forecasting.data.text import match_column, plural
from forecasting.data.tracks import TrackingData
from forecasting.settings.errors import DataError

TRACK_ATTR = "track"
"""Key in ``frame.attrs``: ``True`` when the rows are positions of one individual."""


def as_track(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark a frame as a track: positions of one moving individual, in time order.

    :func:`series_frame` marks the frames it builds from tracking data; the mark
    travels with the frame (``frame.attrs``, kept by pandas through selections and
    copies) into :class:`~forecasting.prep.windows.Split`, where it adds the mean
    distance and the constant-velocity baseline.

    Returns:
        A shallow copy of ``frame`` with the mark.
    """
    marked = frame.copy(deep=False)
    marked.attrs[TRACK_ATTR] = True
    return marked


def is_track(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is marked as a track (see :func:`as_track`)."""
    return bool(frame.attrs.get(TRACK_ATTR, False))


def _price_series(
    data: PriceData, columns: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    notes = []
    parts = []
    for column in columns:
        series = data.series(column)
        raw = data.frame[series.name]
        filled = int(raw.loc[series.index].isna().sum())
        edge = len(raw) - len(series)
        if filled:
            notes.append(
                f"Column {series.name}: {plural(filled, 'missing value')} inside "
                "the series filled by linear interpolation."
            )
        if edge:
            notes.append(
                f"Column {series.name}: {plural(edge, 'row')} without a value at "
                "the start or end left out."
            )
        parts.append(series)
    frame = pd.concat(parts, axis=1, join="inner")
    frame.index.name = "Date"
    return frame, notes


def _track_series(
    data: TrackingData,
    columns: Sequence[str],
    individual: str | None,
    min_rows: int,
    needed_for: str | None,
) -> tuple[pd.DataFrame, list[str]]:
    features = list(data.features)
    chosen = [match_column(features, c, "Coordinate column") for c in columns]
    key = str(individual) if individual is not None else data.ids()[0]
    track = data.track(key, min_rows=min_rows, needed_for=needed_for)
    index = pd.Index(track.order, name=data.order_column or "row")
    frame = pd.DataFrame(track.values, columns=features, index=index)
    notes = []
    if track.n_interpolated:
        notes.append(
            f"Individual {key}: {plural(track.n_interpolated, 'row')} with a "
            "missing coordinate filled by linear interpolation."
        )
    edge = int(data.counts()[key]) - len(frame)
    if edge:
        notes.append(
            f"Individual {key}: {plural(edge, 'row')} without every coordinate "
            "at the start or end of the track left out."
        )
    return as_track(frame.loc[:, list(dict.fromkeys(chosen))]), notes


def series_frame(
    data: PriceData | TrackingData,
    columns: Sequence[str],
    individual: str | None = None,
    *,
    min_rows: int = 0,
    needed_for: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Build the gap-free frame that is split into training and test rows.

    Prices: each chosen column with interior gaps filled by linear interpolation
    in time; rows where a column starts late or ends early are left out. Tracks:
    one individual's rows, gaps filled by linear interpolation over the order
    column, incomplete rows at the start and end left out.

    Args:
        data: Loaded prices or tracks.
        columns: Columns (prices) or coordinates (tracks) to keep, in this order;
            names are matched case-insensitively.
        individual: For tracks, the individual (default: the first); must be
            None for prices.
        min_rows: For tracks, the number of rows the individual must have.
        needed_for: For tracks, what ``min_rows`` is for, shown in the error.

    Returns:
        ``(frame, notes)``: a ``(rows, len(columns))`` ``float64`` frame without
        NaN, indexed by date (``"Date"``) for prices and by the order column
        (or ``"row"``) for tracks, with the columns' actual names (a track's
        frame is marked with :func:`as_track`); and remarks for the user about
        filled or left-out rows.

    Raises:
        DataError: If no column is chosen, a column is unknown or empty, or the
            individual is unknown or has too few rows.
    """
    if not columns:
        raise DataError(
            "No column is chosen; choose at least one column to forecast, such as "
            "High or X."
        )
    if isinstance(data, TrackingData):
        return _track_series(data, columns, individual, min_rows, needed_for)
    if individual is not None:
        raise ValueError("individual is only for tracking data, not for prices")
    return _price_series(data, columns)
