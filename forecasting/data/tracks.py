"""Animal tracks: :class:`TrackingData`, one :class:`Track`, and the track reader.

A tracking table is in long format: one row per individual and time step, an ID
column, an optional order column (frame number or time) and coordinate columns
(X, Y by default). Gaps inside one individual's track are filled by linear
interpolation when the track is taken out with :meth:`TrackingData.track`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.data import text
from forecasting.data.values import (
    count_bad,
    mostly_numbers,
    numeric_columns,
    out_of_range,
    parse_dates,
)
from forecasting.settings.errors import DataError

ID_COLUMNS: tuple[str, ...] = (
    "ID",
    "id",
    "track",
    "individual",
    "track_id",
    "animal",
    "animal_id",
    "individual_id",
    "identity",
    "subject",
    "object_id",
)
"""Names of ID columns, matched case-insensitively in this order."""
ORDER_COLUMNS: tuple[str, ...] = (
    "frame",
    "t",
    "time",
    "timestamp",
    "frame_count",
    "frame_number",
    "frame_idx",
    "seconds",
    "step",
)
"""Names of order columns, matched case-insensitively in this order."""
DEFAULT_FEATURES: tuple[str, ...] = ("X", "Y")


@dataclass(frozen=True, eq=False)
class Track:
    """The cleaned rows of one individual.

    Attributes:
        individual: The individual's ID.
        values: ``(rows, features)`` ``float64`` array without NaN.
        order: ``(rows,)`` values of the order column (or ``0..n-1``).
        n_interpolated: How many rows had a missing coordinate that was filled by
            linear interpolation.
    """

    individual: str
    values: np.ndarray
    order: np.ndarray
    n_interpolated: int


@dataclass(frozen=True, eq=False)
class TrackingData:
    """Tracks of several individuals in long format.

    Instances compare by identity; use :meth:`fingerprint` to compare contents.
    The frame must not be modified after construction (the row ranges of each
    ID are cached).

    Attributes:
        frame: One row per individual and time step: the ID column (``str``),
            the order column (if any) and the feature columns (``float64``, may
            contain NaN). Rows are grouped by ID in order of first appearance and,
            within an ID, sorted stably by the order column.
        id_column: Name of the ID column.
        features: Names of the feature (coordinate) columns.
        order_column: Name of the column giving the order within an ID, or None
            when the file order is used.
        name: ``"fly"``, ``"locust"`` or the file name.
        notes: Remarks for the user about fixes applied while loading.
    """

    frame: pd.DataFrame
    id_column: str
    features: tuple[str, ...]
    order_column: str | None
    name: str
    notes: tuple[str, ...] = ()
    _spans: dict[str, tuple[int, int]] | None = field(
        init=False, repr=False, default=None
    )

    def _groups(self) -> dict[str, tuple[int, int]]:
        """ID -> (first row, end row); rows of one ID are contiguous."""
        spans = self._spans
        if spans is None:
            spans = {}
            ids = self.frame[self.id_column].to_numpy(dtype=object)
            if len(ids):
                starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
                stops = np.r_[starts[1:], len(ids)]
                for start, stop in zip(starts, stops, strict=True):
                    spans.setdefault(str(ids[start]), (int(start), int(stop)))
            object.__setattr__(self, "_spans", spans)  # cache on a frozen instance
        return spans

    def ids(self) -> list[str]:
        """Return the individuals' IDs in order of first appearance in the file."""
        return list(self._groups())

    def counts(self) -> pd.Series:
        """Return the number of rows per individual.

        Returns:
            Integer series indexed by ID (same order as :meth:`ids`), named
            ``"rows"``.
        """
        groups = self._groups()
        return pd.Series(
            [stop - start for start, stop in groups.values()],
            index=pd.Index(list(groups), name=self.id_column, dtype=object),
            name="rows",
            dtype="int64",
        )

    def track(
        self, individual: str, min_rows: int = 0, *, needed_for: str | None = None
    ) -> Track:
        """Return the cleaned rows of one individual.

        Rows before the first and after the last complete row are dropped;
        missing coordinates in between are filled by linear interpolation (over
        the order column when it is numeric and strictly increasing, else over
        the row position).

        Args:
            individual: The ID (compared as a string).
            min_rows: Minimum number of usable rows required.
            needed_for: Optional explanation of ``min_rows`` for the error
                message, e.g. ``"train 2000 + test 1000 + window 60"``.

        Returns:
            The individual's :class:`Track`.

        Raises:
            DataError: If the ID is unknown, has no complete row, or has fewer
                usable rows than ``min_rows``.
        """
        key = str(individual)
        groups = self._groups()
        if key not in groups:
            raise DataError(
                f"Individual '{key}' is not in the data; choose one of "
                f"{text.join_names(groups, limit=5)}."
            )
        start, stop = groups[key]
        block = self.frame.iloc[start:stop]
        values = block[list(self.features)].to_numpy(dtype="float64", copy=True)
        if self.order_column is None:
            order = np.arange(len(block))
        else:
            order = block[self.order_column].to_numpy(copy=True)
        missing = np.isnan(values).any(axis=1)
        complete = np.flatnonzero(~missing)
        if complete.size == 0:
            raise DataError(
                f"Individual '{key}' has no row with all of "
                f"{', '.join(self.features)}; choose another individual."
            )
        first, last = int(complete[0]), int(complete[-1]) + 1
        values, order = values[first:last], order[first:last]
        n_interpolated = int(missing[first:last].sum())
        if n_interpolated:
            _fill_gaps(values, order)
        usable = len(values)
        if usable < min_rows:
            why = f" ({needed_for})" if needed_for else ""
            raise DataError(
                f"Individual '{key}' has {usable} usable rows but {min_rows} are "
                f"needed{why}; choose another individual or fewer rows."
            )
        return Track(key, values, order, n_interpolated)

    def fingerprint(self) -> str:
        """Return a short stable hash of IDs, order, features and column names.

        Returns:
            16 hexadecimal characters, stable across processes.
        """
        frame = self.frame
        parts = [
            b"tracks",
            "\x1f".join(
                [self.id_column, self.order_column or "", *self.features]
            ).encode(),
            "\x1f".join(frame[self.id_column].astype(str)).encode(),
            np.ascontiguousarray(
                frame[list(self.features)].to_numpy(dtype="float64")
            ).tobytes(),
        ]
        if self.order_column is not None:
            order = frame[self.order_column]
            if pd.api.types.is_datetime64_any_dtype(order):
                parts.append(pd.DatetimeIndex(order).as_unit("ns").asi8.tobytes())
            else:
                parts.append(order.to_numpy(dtype="float64").tobytes())
        return text.hash_parts(parts)


def _fill_gaps(values: np.ndarray, order: np.ndarray) -> None:
    """Fill the NaN of ``values`` ``(rows, features)`` in place, linearly.

    Each column is interpolated over :func:`_interpolation_axis` of ``order``;
    the first and last rows must be complete.
    """
    position = _interpolation_axis(order)
    for j in range(values.shape[1]):
        column = values[:, j]
        gaps = np.isnan(column)
        if gaps.any():
            column[gaps] = np.interp(position[gaps], position[~gaps], column[~gaps])


def _interpolation_axis(order: np.ndarray) -> np.ndarray:
    """Positions to interpolate over: the order values if usable, else 0..n-1."""
    if np.issubdtype(order.dtype, np.datetime64):
        position = order.astype("datetime64[ns]").astype("int64").astype("float64")
    elif np.issubdtype(order.dtype, np.number):
        position = order.astype("float64")
    else:
        return np.arange(len(order), dtype="float64")
    if len(position) > 1 and not np.all(np.diff(position) > 0):
        return np.arange(len(order), dtype="float64")
    return position


def _unique_names(names: Sequence[str]) -> str:
    """Join names, leaving out repeats that differ only in case."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return ", ".join(seen.values())


def _choose_columns(
    columns: list[str],
    id_column: str | None,
    features: Sequence[str],
    order_column: str | None,
) -> tuple[list[str], str | None, str | None]:
    """Match the chosen (or detected) feature, ID and order columns.

    Returns:
        ``(features, id column or None, order column or None)``.
    """
    if isinstance(features, str):
        features = (features,)
    if not features:
        raise DataError(
            "No feature columns were chosen; choose at least one numeric column "
            "such as X."
        )
    feature_columns = [
        text.match_column(columns, f, "Feature column") for f in features
    ]
    feature_columns = list(dict.fromkeys(feature_columns))
    if id_column is not None:
        id_col = text.match_column(columns, id_column, "ID column")
        if id_col in feature_columns:
            raise DataError(
                f"Column '{id_col}' cannot be both the ID column and a feature; "
                "choose different columns."
            )
    else:
        id_col = text.find_named(columns, ID_COLUMNS, exclude=feature_columns)
    taken = [*feature_columns, *([id_col] if id_col else [])]
    if order_column is None:
        return feature_columns, id_col, text.find_named(columns, ORDER_COLUMNS, taken)
    order_col = text.match_column(columns, order_column, "Order column")
    if order_col in taken:
        raise DataError(
            f"Column '{order_col}' cannot be the order column because it is "
            "already the ID or a feature; choose another order column or none."
        )
    return feature_columns, id_col, order_col


def _feature_values(
    frame: pd.DataFrame, converted: dict[str, pd.Series], notes: list[str]
) -> None:
    """Check that each converted feature column holds numbers (notes bad cells)."""
    for column, values in converted.items():
        original = frame[column]
        n_bad = count_bad(values, original)
        if original.notna().sum() == 0:
            raise DataError(
                f"Feature column '{column}' has no values; choose another column."
            )
        if not mostly_numbers(n_bad, original):
            example = original.dropna().iloc[0]
            raise DataError(
                f"Feature column '{column}' is not numeric (e.g. '{example}'); "
                "choose columns that hold numbers, such as X and Y."
            )
        if n_bad:
            notes.append(text.not_a_number_note(column, n_bad))


def _id_values(
    frame: pd.DataFrame, id_col: str | None, display_name: str, notes: list[str]
) -> tuple[str, pd.Series]:
    """The ID of each row (NaN where missing), and the ID column's name."""
    if id_col is None:
        single = Path(display_name).stem or "track"
        notes.append(
            f"No ID column was found (looked for {_unique_names(ID_COLUMNS)}); "
            f"the whole file is treated as one individual, '{single}'."
        )
        return "ID", pd.Series(single, index=frame.index, dtype=object)
    ids = frame[id_col].astype("str").str.strip().where(frame[id_col].notna())
    return id_col, ids.where(ids != "")


def _order_values(frame: pd.DataFrame, order_col: str, numbers: pd.Series) -> pd.Series:
    """The order column as integers, floats or dates (NaN/NaT where missing)."""
    original = frame[order_col]
    if pd.api.types.is_integer_dtype(numbers.dtype):
        return numbers  # keep frame numbers as integers
    if mostly_numbers(count_bad(numbers, original), original):
        return numbers.astype("float64")
    parsed = parse_dates(original, named=True)
    if parsed is None:
        raise DataError(
            f"Order column '{order_col}' holds neither numbers nor dates; "
            "choose a numeric column such as frame or t, or none."
        )
    dates = parsed[0]
    return dates.mask(out_of_range(dates))


def _drop_unordered(
    order: pd.Series, order_col: str, keep: np.ndarray, notes: list[str]
) -> np.ndarray:
    """``keep`` without the rows that have no order value; a note if any went."""
    no_order = order.isna().to_numpy() & keep
    if no_order.any():
        notes.append(
            f"Dropped {text.plural(int(no_order.sum()), 'row')} without a value in "
            f"'{order_col}'."
        )
    return keep & ~no_order


def _grouped_rows(
    codes: np.ndarray, order: np.ndarray | None
) -> tuple[np.ndarray, bool]:
    """Row permutation grouping IDs by first appearance, sorted by ``order``.

    Returns:
        ``(permutation, whether sorting by order changed the file order)``.
    """
    grouped = np.argsort(codes, kind="stable")
    if order is None:
        return grouped, False
    key = order
    if np.issubdtype(key.dtype, np.datetime64):
        key = key.astype("datetime64[ns]").astype("int64")
    permutation = np.lexsort((key, codes))
    return permutation, not np.array_equal(permutation, grouped)


def _grouped_frame(
    ids: pd.Series,
    order: pd.Series | None,
    features: dict[str, pd.Series],
    keep: np.ndarray,
    notes: list[str],
    id_col: str,
    order_col: str | None,
) -> pd.DataFrame:
    """The kept rows grouped by ID and sorted by order, as the tracking frame."""
    positions = np.flatnonzero(keep)
    if positions.size == 0:
        raise DataError(
            "No rows are left after dropping rows without an ID or order value; "
            "check the ID and order columns."
        )
    id_values = ids.to_numpy(dtype=object)[positions]
    codes, _ = pd.factorize(id_values, sort=False)
    order_values = None if order is None else order.to_numpy()[positions]
    permutation, resorted = _grouped_rows(codes, order_values)
    if resorted:
        notes.append(
            f"Sorted the rows of each individual by '{order_col}' (they were "
            "not in order)."
        )
    rows = positions[permutation]
    result = pd.DataFrame(
        {id_col: pd.array(id_values[permutation].astype(str), dtype="str")}
    )
    if order is not None and order_col is not None:
        result[order_col] = order.to_numpy()[rows]
    for column, values in features.items():
        result[column] = values.to_numpy(dtype="float64")[rows]
    missing = int(result[list(features)].isna().any(axis=1).sum())
    if missing:
        notes.append(
            f"{text.plural(missing, 'row')} with a missing coordinate; gaps inside a "
            "track are interpolated, and rows missing at a track's start or end "
            "are left out."
        )
    return result


def read_tracking_csv(
    source: text.CsvSource,
    id_column: str | None = None,
    features: Sequence[str] = DEFAULT_FEATURES,
    order_column: str | None = None,
    name: str | None = None,
) -> TrackingData:
    """Read animal tracks (one row per individual and time step) from a CSV file.

    Args:
        source: A path, the file's bytes, or an open binary file.
        id_column: Column identifying the individual; by default the first
            column named like one of :data:`ID_COLUMNS` (case-insensitive). If
            there is none, the whole file is treated as one individual (noted).
        features: Numeric columns to forecast (matched case-insensitively).
        order_column: Column giving the order within an individual; by default
            the first column named like one of :data:`ORDER_COLUMNS`, else the
            file order is used.
        name: Display name; defaults to the file name.

    Returns:
        The tracks; see :class:`TrackingData` for the frame layout.

    Raises:
        DataError: If the file cannot be read, a chosen column is missing or not
            numeric, or no rows remain.
    """
    table = text.CsvTable.open(source)
    features, id_col, order_col = _choose_columns(
        table.names, id_column, features, order_column
    )
    frame = table.read_rows()
    notes = list(table.notes)
    display_name = name or table.name
    converted = numeric_columns(table, frame, [*features, *filter(None, [order_col])])
    _feature_values(frame, {c: converted[c] for c in features}, notes)
    id_col, ids = _id_values(frame, id_col, display_name, notes)
    keep = ids.notna().to_numpy()
    if not keep.all():
        notes.append(f"Dropped {text.plural(int((~keep).sum()), 'row')} without an ID.")
    order = None
    if order_col is not None:
        order = _order_values(frame, order_col, converted[order_col])
        keep = _drop_unordered(order, order_col, keep, notes)
    columns = {c: converted[c] for c in features}
    result = _grouped_frame(ids, order, columns, keep, notes, id_col, order_col)
    return TrackingData(
        frame=result,
        id_column=id_col,
        features=tuple(features),
        order_column=order_col,
        name=display_name,
        notes=tuple(notes),
    )
