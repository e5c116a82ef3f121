"""Price histories: :class:`PriceData` and the price CSV reader.

A price history has one row per date and numeric columns such as Open, High,
Low, Close and Volume. :func:`read_price_csv` finds the date column, keeps the
numeric columns and cleans the rows (sorted, unique dates); every fix is listed
in the ``notes`` of the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.data.text import (
    CsvSource,
    CsvTable,
    hash_parts,
    join_names,
    match_column,
    not_a_number_note,
    plural,
)
from forecasting.data.values import (
    count_bad,
    find_dates,
    mostly_numbers,
    numeric_columns,
    out_of_range,
    out_of_range_note,
)
from forecasting.settings.errors import DataError


@dataclass(frozen=True, eq=False)
class PriceData:
    """A daily (or intraday) price history.

    Instances compare by identity; use :meth:`fingerprint` to compare contents.

    Attributes:
        frame: Prices with a tz-naive, sorted, unique ``DatetimeIndex`` named
            ``"Date"``; every column is numeric ``float64`` (may contain NaN).
        name: ``"mastercard"``, the file name, or the ticker symbol.
        notes: Remarks for the user about fixes applied while loading.
    """

    frame: pd.DataFrame
    name: str
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        """Names of the numeric columns."""
        return [str(c) for c in self.frame.columns]

    def default_column(self) -> str:
        """Return the column to forecast by default.

        Returns:
            ``"High"`` if present, else ``"Close"``, else the first column (names
            are matched case-insensitively; the actual spelling is returned).
        """
        lowered = {c.lower(): c for c in self.columns}
        for wanted in ("high", "close"):
            if wanted in lowered:
                return lowered[wanted]
        return self.columns[0]

    @property
    def years(self) -> tuple[int, int]:
        """First and last year in the index."""
        index = self.frame.index
        return int(index[0].year), int(index[-1].year)

    def fingerprint(self) -> str:
        """Return a short stable hash of the index, values and column names.

        Returns:
            16 hexadecimal characters; equal data gives equal fingerprints across
            processes, so it can key caches.
        """
        index = pd.DatetimeIndex(self.frame.index).as_unit("ns")
        values = np.ascontiguousarray(self.frame.to_numpy(dtype="float64"))
        return hash_parts(
            [
                b"prices",
                "\x1f".join(self.columns).encode(),
                index.asi8.tobytes(),
                values.tobytes(),
            ]
        )

    def series(self, column: str) -> pd.Series:
        """Return one column ready for windowing.

        Interior gaps are filled by linear interpolation in time; missing values
        at the start or end cannot be interpolated and those rows are left out.

        Args:
            column: Column name (an exact match is preferred; otherwise matched
                case-insensitively).

        Returns:
            A ``float64`` series without NaN, indexed by date, named ``column``.

        Raises:
            DataError: If the column does not exist or holds no values.
        """
        name = match_column(self.columns, column, "Column")
        values = self.frame[name].astype("float64")
        if values.notna().sum() == 0:
            raise DataError(
                f"Column '{name}' has no values; choose another column "
                f"({join_names(c for c in self.columns if c != name)})."
            )
        if values.isna().any():
            values = values.interpolate(method="time", limit_area="inside").dropna()
        return values.rename(name)


def _drop_rows(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Drop undated or empty rows, sort, keep the last duplicate date; note each."""
    no_date = frame.index.isna()
    if no_date.any():
        notes.append(
            f"Dropped {plural(int(no_date.sum()), 'row')} without a readable date."
        )
        frame = frame[~no_date]
    if frame.shape[1]:
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any() and not blank.all():
            notes.append(
                f"Dropped {plural(int(blank.sum()), 'row')} that "
                f"{'has' if blank.sum() == 1 else 'have'} a date but no values."
            )
            frame = frame[~blank]
    if not frame.index.is_monotonic_increasing:
        order = np.argsort(frame.index.asi8, kind="stable")
        frame = frame.iloc[order]
        notes.append("Sorted the rows by date (the file was not in date order).")
    duplicated = frame.index.duplicated(keep="last")
    if duplicated.any():
        count = int(duplicated.sum())
        notes.append(
            f"Dropped {plural(count, 'duplicate date')} (kept the last row of each)."
        )
        frame = frame[~duplicated]
    return frame


def finish_prices(
    frame: pd.DataFrame,
    name: str,
    notes: list[str],
    empty_columns: Sequence[str] = (),
) -> PriceData:
    """Clean a date-indexed numeric frame into :class:`PriceData`.

    Drops rows without a date or without any value, sorts by date, keeps the last
    row of duplicate dates, drops all-missing columns, and notes each fix.

    Args:
        frame: Numeric columns indexed by dates (tz-aware dates become naive).
        name: Display name.
        notes: Notes so far; the fixes are appended.
        empty_columns: Columns already left out because they had no values.

    Returns:
        The prices.

    Raises:
        DataError: If no column has values or fewer than 2 rows are left.
    """
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    frame = _drop_rows(frame.set_axis(index.as_unit("ns").rename("Date")), notes)
    all_missing = list(empty_columns) + [
        c for c in frame.columns if frame[c].isna().all()
    ]
    frame = frame.drop(columns=[c for c in all_missing if c in frame.columns])
    if all_missing:
        notes.append(
            f"Dropped {plural(len(all_missing), 'column')} without any values: "
            f"{join_names(all_missing)}."
        )
    if frame.shape[1] == 0:
        raise DataError(
            f"Every numeric column is empty ({join_names(all_missing)}); the file "
            "needs at least one column of numbers such as Close."
        )
    if len(frame) < 2:
        raise DataError(
            f"The data has only {plural(len(frame), 'usable dated row')}; a price "
            "history needs at least 2 rows (and a few hundred to train a model)."
        )
    missing = frame.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        detail = ", ".join(f"{c} {int(n)}" for c, n in missing.items())
        notes.append(
            f"{plural(int(missing.sum()), 'missing value')} ({detail}); gaps are "
            "filled by linear interpolation when a column is used."
        )
    frame = frame.astype("float64")
    frame.columns = [str(c) for c in frame.columns]
    return PriceData(frame=frame, name=name, notes=tuple(notes))


def _dated_rows(
    frame: pd.DataFrame, dates: pd.Series, column: str, notes: list[str]
) -> np.ndarray:
    """Rows to keep: those with a readable date pandas can hold (noted)."""
    outside = out_of_range(dates)
    if outside.any():
        example = frame[column][outside].iloc[0]
        notes.append(out_of_range_note(int(outside.sum()), example))
    undated = dates.isna().to_numpy()
    if undated.any():
        written = frame[column][undated].dropna()
        example = f" (e.g. '{written.iloc[0]}')" if len(written) else ""
        notes.append(
            f"Dropped {plural(int(undated.sum()), 'row')} without a readable "
            f"date{example}."
        )
    return ~(outside | undated)


def _price_columns(
    table: CsvTable,
    frame: pd.DataFrame,
    keep: np.ndarray,
    candidates: list[str],
    notes: list[str],
) -> tuple[dict[str, pd.Series], list[str]]:
    """The kept rows of the numeric columns, and the names of the empty ones.

    Non-numeric columns are dropped with a note.
    """
    converted = numeric_columns(table, frame, candidates)
    numeric: dict[str, pd.Series] = {}
    empty: list[str] = []
    non_numeric: list[str] = []
    for column in candidates:
        values, original = converted[column][keep], frame[column][keep]
        n_bad = count_bad(values, original)
        if original.notna().sum() == 0:
            empty.append(column)
        elif mostly_numbers(n_bad, original):
            numeric[column] = values
            if n_bad:
                notes.append(not_a_number_note(column, n_bad))
        else:
            non_numeric.append(column)
    if non_numeric:
        notes.append(
            f"Dropped {plural(len(non_numeric), 'non-numeric column')}: "
            f"{join_names(non_numeric)}."
        )
    if not numeric and not empty:
        raise DataError(
            f"No column holds numbers (columns: {join_names(frame.columns)}); the "
            "file needs at least one numeric column such as Close."
        )
    return numeric, empty


def read_price_csv(source: CsvSource, name: str | None = None) -> PriceData:
    """Read a price history from a CSV file.

    The separator (comma, semicolon or tab), encoding, decimal style and date
    format are detected. The date column is the first column named like one of
    :data:`DATE_COLUMNS` (case-insensitive), else the first column that parses as
    dates. Rows are sorted by date; for duplicate dates the last row is kept;
    rows whose date pandas cannot hold (before 1677 or after 2262), non-numeric
    and all-missing columns are dropped. Each fix is noted.

    Args:
        source: A path, the file's bytes, or an open binary file (e.g. an
            uploaded file).
        name: Display name; defaults to the file name.

    Returns:
        The prices, with remarks in ``notes``.

    Raises:
        DataError: If the file is empty, not text, has no data rows, no date
            column, no numeric column, or fewer than 2 usable rows.
    """
    table = CsvTable.open(source)
    frame = table.read_rows()
    notes = list(table.notes)
    date_column, dates, date_note = find_dates(frame)
    if date_note:
        notes.append(date_note)
    keep = _dated_rows(frame, dates, date_column, notes)
    candidates = [c for c in frame.columns if c != date_column]
    numeric, empty = _price_columns(table, frame, keep, candidates, notes)
    prices = pd.DataFrame(numeric, index=frame.index[keep], columns=list(numeric))
    prices.index = pd.DatetimeIndex(dates[keep])
    return finish_prices(prices, name or table.name, notes, empty_columns=empty)
