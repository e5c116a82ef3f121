"""Load price histories and animal tracks from CSV files, Yahoo Finance or samples.

Two kinds of data feed the forecasting models:

* **Prices** (:class:`PriceData`): one row per date, numeric columns such as Open,
  High, Low, Close and Volume. Read with :func:`read_price_csv`, downloaded with
  :func:`load_ticker`, or loaded from the bundled ``mastercard`` sample.
* **Tracks** (:class:`TrackingData`): a long table with one row per individual and
  time step, an ID column and coordinate columns (X, Y by default). Read with
  :func:`read_tracking_csv` or loaded from the bundled ``fly`` and ``locust`` samples.

Both CSV readers share one internal reader that copes with files people really
have: comma, semicolon or tab separators (sniffed), a UTF-8 byte order mark, CRLF
line endings, Latin-1 / Windows-1252 text, decimal commas (``12,5``), thousands
separators (``"7,380,500"`` or ``1.234,56``) and dates written as ISO
(``2021-01-31``, also with a time and UTC offset), ``M/D/YYYY`` or ``DD.MM.YYYY``.

Every problem with the input raises :class:`DataError`, whose message is one
sentence saying what is wrong and what to do about it, ready to show to the user.
Fixes that were applied silently (sorting, dropped duplicates, dropped columns)
are listed in the ``notes`` of the result.

The frames inside the returned objects are owned by the caller: each call returns
fresh objects (samples are parsed once and copied on every call), so mutating them
does not affect later calls. This module never imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import os
import re
import sys
import typing
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DATE_COLUMNS",
    "DEFAULT_FEATURES",
    "ID_COLUMNS",
    "ORDER_COLUMNS",
    "PRICE_SAMPLES",
    "SAMPLES",
    "TRACKING_SAMPLES",
    "DataError",
    "PriceData",
    "Track",
    "TrackingData",
    "list_columns",
    "load_sample",
    "load_ticker",
    "read_price_csv",
    "read_tracking_csv",
    "sample_path",
]


class DataError(ValueError):
    """Bad input data.

    ``str(err)`` is one sentence saying what is wrong and what to do, suitable for
    showing to the user as is.
    """


# Column names are matched case-insensitively, in the priority order given here.
DATE_COLUMNS: tuple[str, ...] = (
    "Date",
    "date",
    "Datum",
    "timestamp",
    "Datetime",
    "Trade Date",
    "Day",
    "Time",
    "Fecha",
    "Data",
)
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
DEFAULT_FEATURES: tuple[str, ...] = ("X", "Y")

CsvSource = str | os.PathLike | bytes | typing.BinaryIO

_DELIMITERS = ",;\t"
_SNIFF_CHARS = 64 * 1024
_HEAD_BYTES = 64 * 1024
_BYTES_NAME = "uploaded CSV"


# --------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------


def _hash_parts(parts: Iterable[bytes]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _join_names(names: Iterable[object], limit: int = 12) -> str:
    names = [str(n) for n in names]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", … ({len(names)} in total)"
    return ", ".join(names)


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
        return _hash_parts(
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
        name = _match_column(self.columns, column, "Column")
        values = self.frame[name].astype("float64")
        if values.notna().sum() == 0:
            raise DataError(
                f"Column '{name}' has no values; choose another column "
                f"({_join_names(c for c in self.columns if c != name)})."
            )
        if values.isna().any():
            values = values.interpolate(method="time", limit_area="inside").dropna()
        return values.rename(name)


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
                f"{_join_names(groups, limit=5)}."
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
        values, order, missing = (
            values[first:last],
            order[first:last],
            missing[first:last],
        )
        n_interpolated = int(missing.sum())
        if n_interpolated:
            position = _interpolation_axis(order)
            for j in range(values.shape[1]):
                column = values[:, j]
                gaps = np.isnan(column)
                if gaps.any():
                    column[gaps] = np.interp(
                        position[gaps], position[~gaps], column[~gaps]
                    )
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
        return _hash_parts(parts)


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


# --------------------------------------------------------------------------------
# Shared CSV reading
# --------------------------------------------------------------------------------


def _source_bytes(source: CsvSource, limit: int | None = None) -> tuple[bytes, str]:
    """Read raw bytes (at most ``limit``) and a display name from a source."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return (data if limit is None else data[:limit]), _BYTES_NAME
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        shown = str(source) if len(str(source)) <= 80 else str(source)[:77] + "..."
        try:
            with path.open("rb") as handle:
                data = handle.read() if limit is None else handle.read(limit)
        except FileNotFoundError:
            raise DataError(
                f"File '{shown}' does not exist; check the path or upload the file."
            ) from None
        except IsADirectoryError:
            raise DataError(
                f"'{shown}' is a folder, not a file; choose a CSV file."
            ) from None
        except OSError as err:
            raise DataError(
                f"File '{shown}' could not be read ({err.strerror or err}); check "
                "that it exists and is readable."
            ) from None
        return data, path.name
    if hasattr(source, "read"):
        raw_name = getattr(source, "name", None)
        name = Path(raw_name).name if isinstance(raw_name, str) else _BYTES_NAME
        if hasattr(source, "getvalue"):
            data = source.getvalue()
            if limit is not None:
                data = data[:limit]
        elif limit is not None and getattr(source, "seekable", lambda: False)():
            position = source.tell()
            data = source.read(limit)
            source.seek(position)
        else:
            data = source.read() if limit is None else source.read(limit)
        if isinstance(data, str):
            data = data.encode("utf-8")
        return bytes(data), name
    raise DataError(
        f"Cannot read data from a {type(source).__name__}; pass a file path, "
        "bytes or an open binary file."
    )


_EMPTY_MESSAGE = (
    "The file is empty; choose a CSV file with a header row and rows of data."
)
_NOT_TEXT_MESSAGE = (
    "The file is not a text CSV file (it contains binary data); export the data "
    "as comma-, semicolon- or tab-separated text and try again."
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


def _decode(data: bytes, notes: list[str], truncated: bool = False) -> str:
    """Decode CSV bytes to text, or raise DataError if they are not text."""
    if not data.strip():
        raise DataError(_EMPTY_MESSAGE)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if truncated:
            data = data[: len(data) // 2 * 2]
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(_NOT_TEXT_MESSAGE) from None
    elif b"\x00" in data:
        raise DataError(_NOT_TEXT_MESSAGE)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            if truncated and err.start >= len(data) - 3:
                text = data[: err.start].decode("utf-8-sig")
            else:
                try:
                    text = data.decode("cp1252")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
                notes.append(
                    "The file is not UTF-8; it was read as Latin-1 (Windows-1252) text."
                )
    text = text.lstrip("\ufeff")
    sample = text[:_SNIFF_CHARS]
    if len(_CONTROL_CHARS.findall(sample)) > max(2, len(sample) // 200):
        raise DataError(_NOT_TEXT_MESSAGE)
    if not text.strip():
        raise DataError(_EMPTY_MESSAGE)
    return text


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    try:
        return [len(row) for row in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:
        return []


def _consistent(counts: list[int]) -> bool:
    if not counts or counts[0] < 2:
        return False
    same = sum(count == counts[0] for count in counts)
    return same >= 0.9 * len(counts)


def _sniff_delimiter(text: str) -> str:
    """Guess the delimiter among comma, semicolon and tab.

    ``csv.Sniffer`` is tried first and accepted if it splits the header into at
    least two fields and (nearly) every row into as many; otherwise the candidate
    that splits the lines most consistently into the most fields wins.
    """
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    lines = [line for line in sample.splitlines() if line.strip()][:100]
    if not lines:
        return ","
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS)
        if _consistent(_field_counts(lines, sniffed.delimiter)):
            return sniffed.delimiter
    except csv.Error:
        pass
    best, best_score = ",", (-1.0, 0)
    for delimiter in _DELIMITERS:
        counts = _field_counts(lines, delimiter)
        if not counts or counts[0] < 2:
            continue
        share = sum(count == counts[0] for count in counts) / len(counts)
        score = (share, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


_DATA_LIKE_NAME = re.compile(r"[+-]?[\d.,:/ -]*\d[\d.,:/ -]*")
_UNNAMED = re.compile(r"Unnamed: \d+")


@dataclass
class _CsvText:
    """Decoded CSV text with its sniffed delimiter and header."""

    text: str
    sep: str
    name: str
    notes: list[str]
    raw_names: list[str]
    names: list[str]

    @classmethod
    def open(cls, source: CsvSource, limit: int | None = None) -> _CsvText:
        data, name = _source_bytes(source, limit)
        notes: list[str] = []
        truncated = limit is not None and len(data) >= limit
        text = _decode(data, notes, truncated=truncated)
        if truncated and "\n" in text:
            text = text[: text.rindex("\n") + 1]
        sep = _sniff_delimiter(text)
        try:
            header = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                nrows=0,
                skipinitialspace=True,
                index_col=False,
            )
        except pd.errors.EmptyDataError:
            raise DataError(_EMPTY_MESSAGE) from None
        except (pd.errors.ParserError, ValueError) as err:
            raise _parser_error(err) from None
        raw_names = [str(c) for c in header.columns]
        names: list[str] = []
        for raw in raw_names:
            clean = raw.strip() or raw
            while clean in names:
                clean += "_"
            names.append(clean)
        if names and all(_DATA_LIKE_NAME.fullmatch(n) for n in names):
            raise DataError(
                "The first row looks like data, not column names; add a header "
                "row such as 'Date,Open,High,Low,Close' or 'ID,frame,X,Y'."
            )
        return cls(text, sep, name, notes, raw_names, names)

    def read(self, as_text: Iterable[str] = ()) -> pd.DataFrame:
        """Parse the whole table.

        Args:
            as_text: Columns (clean names) to keep as strings rather than infer.

        Returns:
            The table with clean column names; entirely empty ``Unnamed: n``
            columns (from trailing delimiters) are removed.
        """
        raw_of = dict(zip(self.names, self.raw_names, strict=True))
        dtype = {raw_of[c]: str for c in as_text}
        try:
            frame = pd.read_csv(
                io.StringIO(self.text),
                sep=self.sep,
                dtype=dtype,
                skipinitialspace=True,
                index_col=False,
                low_memory=False,
            )
        except pd.errors.EmptyDataError:
            raise DataError(_EMPTY_MESSAGE) from None
        except (pd.errors.ParserError, ValueError) as err:
            raise _parser_error(err) from None
        frame.columns = self.names
        empty_unnamed = [
            c for c in frame.columns if _UNNAMED.fullmatch(c) and frame[c].isna().all()
        ]
        return frame.drop(columns=empty_unnamed)

    def read_columns_as_text(self, columns: Sequence[str]) -> pd.DataFrame:
        """Re-read some columns as strings (to apply decimal-comma rules)."""
        positions = [self.names.index(c) for c in columns]
        try:
            frame = pd.read_csv(
                io.StringIO(self.text),
                sep=self.sep,
                dtype=str,
                usecols=positions,
                skipinitialspace=True,
                index_col=False,
            )
        except (pd.errors.ParserError, ValueError) as err:
            raise _parser_error(err) from None
        frame.columns = [self.names[p] for p in sorted(positions)]
        return frame


def _parser_error(err: Exception) -> DataError:
    detail = str(err).strip().splitlines()[-1] if str(err).strip() else ""
    detail = detail.replace("C error: ", "").rstrip(".")
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if match:
        expected, line, seen = match.groups()
        return DataError(
            f"Line {line} of the file has {seen} fields but the header has "
            f"{expected}; fix that line or export the file again."
        )
    return DataError(
        f"The file could not be read as CSV ({detail or type(err).__name__}); check "
        "that it is a comma-, semicolon- or tab-separated text file."
    )


def _match_column(columns: Sequence[str], wanted: str, what: str) -> str:
    """Find ``wanted`` among ``columns`` (exact, then case-insensitive)."""
    if wanted in columns:
        return wanted
    lowered = str(wanted).strip().lower()
    for column in columns:
        if column.lower() == lowered:
            return column
    raise DataError(
        f"{what} '{wanted}' is not in the data; choose one of: "
        f"{_join_names(columns, limit=20)}."
    )


def _find_named(
    columns: Sequence[str], candidates: Sequence[str], exclude: Iterable[str] = ()
) -> str | None:
    """Return the first column whose name matches a candidate (case-insensitive)."""
    excluded = set(exclude)
    lowered: dict[str, str] = {}
    for column in columns:
        if column not in excluded:
            lowered.setdefault(column.lower(), column)
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


# --------------------------------------------------------------------------------
# Numbers: decimal points, decimal commas and thousands separators
# --------------------------------------------------------------------------------

_EXPONENT = r"(?:[eE][+-]?\d+)?"
# "1,234,567.89" style (comma thousands, point decimals) and plain numbers.
_US_NUMBER = re.compile(
    rf"[+-]?(?=[.\d])(?:[1-9]\d{{0,2}}(?:,\d{{3}})+|\d+)?(?:\.\d+)?{_EXPONENT}"
)
# "1.234.567,89" style (point thousands, comma decimals) and plain numbers.
_EU_NUMBER = re.compile(
    rf"[+-]?(?=[,\d])(?:[1-9]\d{{0,2}}(?:\.\d{{3}})+|\d+)?(?:,\d+)?{_EXPONENT}"
)
_GROUPING_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f'’](?=\d{3}(?!\d))")


def _number_evidence(values: pd.Series) -> tuple[int, int]:
    """Count values readable only as point-decimal and only as comma-decimal."""
    sample = values.dropna().head(1000).astype(str).str.strip()
    if sample.empty:
        return 0, 0
    us = sample.str.fullmatch(_US_NUMBER.pattern)
    eu = sample.str.fullmatch(_EU_NUMBER.pattern)
    return int((us & ~eu).sum()), int((eu & ~us).sum())


def _parse_numbers(values: pd.Series, style: str) -> tuple[pd.Series, int]:
    """Convert strings to float64 under ``style`` ("us" or "eu").

    Returns:
        The numbers (NaN where missing or unreadable; infinities become NaN) and
        how many non-missing values could not be read.
    """
    text = values.astype("str").str.strip().where(values.notna())
    if style == "eu":
        comma_style = text.str.fullmatch(_EU_NUMBER.pattern).fillna(False).astype(bool)
        converted = text.str.replace(".", "", regex=False).str.replace(
            ",", ".", regex=False
        )
        text = converted.where(comma_style, text)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() & text.notna()
    if bad.any():
        retry = text[bad].str.replace(_GROUPING_SPACES.pattern, "", regex=True)
        if style == "eu":
            ok = retry.str.fullmatch(_EU_NUMBER.pattern).fillna(False).astype(bool)
            fixed = retry.str.replace(".", "", regex=False).str.replace(
                ",", ".", regex=False
            )
        else:
            ok = retry.str.fullmatch(_US_NUMBER.pattern).fillna(False).astype(bool)
            fixed = retry.str.replace(",", "", regex=False)
        numbers = numbers.astype("float64")
        numbers[bad] = pd.to_numeric(fixed.where(ok, retry), errors="coerce")
    numbers = numbers.astype("float64")
    n_bad = int((numbers.isna() & text.notna()).sum())
    return numbers.where(np.isfinite(numbers)), n_bad


def _numeric_columns(
    table: _CsvText, frame: pd.DataFrame, columns: Sequence[str]
) -> dict[str, tuple[pd.Series, int]]:
    """Convert ``columns`` of ``frame`` to float64, detecting decimal commas.

    Columns pandas already parsed as numbers are taken as they are, unless the
    file may use decimal commas (semicolon separator, or comma-decimal values
    seen); then they are re-read as text so that ``1.234`` can mean 1234.

    Returns:
        Column -> (float64 series, count of unreadable non-missing values).
    """

    def inferred(column: str) -> bool:
        dtype = frame[column].dtype
        return pd.api.types.is_numeric_dtype(dtype) and not (
            pd.api.types.is_bool_dtype(dtype)
        )

    texts = {c: frame[c] for c in columns if not inferred(c)}
    evidence = {c: _number_evidence(s) for c, s in texts.items()}
    maybe_comma = table.sep == ";" or any(eu for _, eu in evidence.values())
    if maybe_comma:
        reread = [c for c in columns if inferred(c)]
        if reread:
            again = table.read_columns_as_text(reread).reindex(frame.index)
            for column in reread:
                texts[column] = again[column]
                evidence[column] = _number_evidence(again[column])
    total_us = sum(us for us, _ in evidence.values())
    total_eu = sum(eu for _, eu in evidence.values())
    default = (
        "eu"
        if total_eu > total_us or (total_eu == total_us and table.sep == ";")
        else "us"
    )
    result: dict[str, tuple[pd.Series, int]] = {}
    for column in columns:
        if column not in texts:
            numbers = frame[column].astype("float64")
            result[column] = (numbers.where(np.isfinite(numbers)), 0)
            continue
        us, eu = evidence[column]
        style = default if us == eu else ("eu" if eu > us else "us")
        result[column] = _parse_numbers(texts[column], style)
    return result


def _is_mostly_numbers(n_bad: int, original: pd.Series) -> bool:
    present = int(original.notna().sum())
    return present > 0 and n_bad * 2 <= present


# --------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------

_TZ_SUFFIX = re.compile(
    r"^(?P<keep>.*\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$",
    re.IGNORECASE,
)
_DATE_TIME = (
    r"^(?P<date>[^\sT]+)"
    r"(?:(?:\s+|T)(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$"
)
# (pattern of the date part, format, alternative format if the first fails)
_DATE_FORMATS: tuple[tuple[str, str, str | None], ...] = (
    (r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d", None),
    (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d", None),
    (r"\d{4}\.\d{1,2}\.\d{1,2}", "%Y.%m.%d", None),
    (r"\d{4}-\d{1,2}", "%Y-%m", None),
    (r"\d{1,2}/\d{1,2}/\d{4}", "%m/%d/%Y", "%d/%m/%Y"),
    (r"\d{1,2}/\d{1,2}/\d{2}", "%m/%d/%y", "%d/%m/%y"),
    (r"\d{1,2}\.\d{1,2}\.\d{4}", "%d.%m.%Y", None),
    (r"\d{1,2}\.\d{1,2}\.\d{2}", "%d.%m.%y", None),
    (r"\d{1,2}-\d{1,2}-\d{4}", "%m-%d-%Y", "%d-%m-%Y"),
)
_COMPACT_DATE = (r"(?:1[89]|2[01])\d{2}[01]\d[0-3]\d", "%Y%m%d", None)
# Share of non-missing values that must be dates: a column named like a date
# column may hold a stray footer such as 'Total'; any other column must be clean.
_MIN_DATE_SHARE = {True: 0.5, False: 0.9}


def _parse_dates(values: pd.Series, named: bool) -> tuple[pd.Series, str | None] | None:
    """Parse a column as dates.

    Args:
        values: The raw column.
        named: Whether the column's name says it holds dates (allows the
            ambiguous ``YYYYMMDD`` form).

    Returns:
        ``(datetime64 series with NaT where unreadable, note or None)`` if at
        least 90 % (50 % for a named date column) of the non-missing values are
        dates, else None. Times are kept as wall-clock times; UTC offsets are
        dropped (so ``2021-01-04 00:00:00-05:00`` becomes 2021-01-04).
    """
    text = values.astype("str").str.strip().where(values.notna())
    present = text.dropna()
    if present.empty:
        return None
    stripped = text.str.replace(_TZ_SUFFIX.pattern, r"\g<keep>", regex=True, flags=re.I)
    parts = stripped.str.extract(_DATE_TIME)
    needed = max(1, int(np.ceil(_MIN_DATE_SHARE[named] * len(present))))
    formats = _DATE_FORMATS + ((_COMPACT_DATE,) if named else ())
    date_part = parts["date"]
    for pattern, fmt, alternative in formats:
        if int(date_part.str.fullmatch(pattern).fillna(False).sum()) < needed:
            continue
        dates = pd.to_datetime(date_part, format=fmt, errors="coerce")
        note = None
        if alternative is not None and dates.notna().sum() < len(present):
            other = pd.to_datetime(date_part, format=alternative, errors="coerce")
            if other.notna().sum() > dates.notna().sum():
                example = date_part[dates.isna() & other.notna()].iloc[0]
                dates = other
                order = alternative.replace("%", "").replace("y", "Y").lower()
                order = "/".join(
                    {"d": "day", "m": "month", "y": "year"}[c]
                    for c in order
                    if c in "dmy"
                )
                note = (
                    f"Dates were read as {order} because values like "
                    f"'{example}' cannot be month first."
                )
        times = parts["time"]
        if times.notna().any():
            times = times.where(
                ~times.str.fullmatch(r"\d{1,2}:\d{2}").fillna(False), times + ":00"
            )
            offset = pd.to_timedelta(times, errors="coerce").fillna(pd.Timedelta(0))
            dates = dates + offset
        if int(dates.notna().sum()) >= needed:
            return dates, note
        return None
    # Anything else ("Jan 3, 2012", "3 March 2020"): let pandas try, but only for
    # values with a month name and a four-digit year, never for plain numbers.
    looks_like_text_date = present.str.contains(r"[A-Za-z]{3}", regex=True) & (
        present.str.contains(r"\d{4}", regex=True)
    )
    if int(looks_like_text_date.sum()) < needed:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dates = pd.to_datetime(stripped, format="mixed", errors="coerce")
        except (ValueError, TypeError, OverflowError):
            return None
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    if int(dates.notna().sum()) >= needed:
        return dates, None
    return None


def _find_dates(frame: pd.DataFrame) -> tuple[str, pd.Series, str | None]:
    """Find the date column: by name (DATE_COLUMNS), else the first, else any."""
    named: list[str] = []
    lowered = {c.lower(): c for c in frame.columns}
    for candidate in DATE_COLUMNS:
        column = lowered.get(candidate.lower())
        if column is not None and column not in named:
            named.append(column)
    others = [c for c in frame.columns if c not in named]
    for column in named + others:
        series = frame[column]
        if column not in named and pd.api.types.is_float_dtype(series.dtype):
            continue
        parsed = _parse_dates(series, named=column in named)
        if parsed is not None:
            return column, parsed[0], parsed[1]
    if named:
        written = frame[named[0]].dropna().astype(str).str.strip()
        odd = written[~written.str.match(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b")]
        example = odd if len(odd) else written
        shown = f" (e.g. '{example.iloc[0]}')" if len(example) else ""
        raise DataError(
            f"Column '{named[0]}' does not hold readable dates{shown}; write dates "
            "like 2021-01-31, 1/31/2021 or 31.01.2021."
        )
    raise DataError(
        f"No column holds dates (columns: {_join_names(frame.columns)}); put the "
        "dates in the first column, written like 2021-01-31, 1/31/2021 or 31.01.2021."
    )


# --------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------


def _unique_names(names: Iterable[str]) -> str:
    """Join names, leaving out repeats that differ only in case."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return ", ".join(seen.values())


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _finish_prices(
    frame: pd.DataFrame,
    name: str,
    notes: list[str],
    empty_columns: Sequence[str] = (),
) -> PriceData:
    """Clean a date-indexed numeric frame into :class:`PriceData`.

    Drops rows without a date or without any value, sorts by date, keeps the last
    row of duplicate dates, drops all-missing columns, and notes each fix.
    """
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    frame = frame.set_axis(index.as_unit("ns").rename("Date"), axis=0)
    no_date = frame.index.isna()
    if no_date.any():
        notes.append(
            f"Dropped {_plural(int(no_date.sum()), 'row')} without a readable date."
        )
        frame = frame[~no_date]
    if frame.shape[1]:
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any() and not blank.all():
            notes.append(
                f"Dropped {_plural(int(blank.sum()), 'row')} that "
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
            f"Dropped {_plural(count, 'duplicate date')} (kept the last row of each)."
        )
        frame = frame[~duplicated]
    all_missing = list(empty_columns) + [
        c for c in frame.columns if frame[c].isna().all()
    ]
    frame = frame.drop(columns=[c for c in all_missing if c in frame.columns])
    if all_missing:
        notes.append(
            f"Dropped {_plural(len(all_missing), 'column')} without any values: "
            f"{_join_names(all_missing)}."
        )
    if frame.shape[1] == 0:
        raise DataError(
            f"Every numeric column is empty ({_join_names(all_missing)}); the file "
            "needs at least one column of numbers such as Close."
        )
    if len(frame) < 2:
        raise DataError(
            f"The data has only {_plural(len(frame), 'usable dated row')}; a price "
            "history needs at least 2 rows (and a few hundred to train a model)."
        )
    missing = frame.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        detail = ", ".join(f"{c} {int(n)}" for c, n in missing.items())
        notes.append(
            f"{_plural(int(missing.sum()), 'missing value')} ({detail}); gaps are "
            "filled by linear interpolation when a column is used."
        )
    frame = frame.astype("float64")
    frame.columns = [str(c) for c in frame.columns]
    return PriceData(frame=frame, name=name, notes=tuple(notes))


def read_price_csv(source: CsvSource, name: str | None = None) -> PriceData:
    """Read a price history from a CSV file.

    The separator (comma, semicolon or tab), encoding, decimal style and date
    format are detected. The date column is the first column named like one of
    :data:`DATE_COLUMNS` (case-insensitive), else the first column that parses as
    dates. Rows are sorted by date; for duplicate dates the last row is kept;
    non-numeric and all-missing columns are dropped. Each fix is noted.

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
    table = _CsvText.open(source)
    first = table.names[:1]
    named = [c for c in table.names if c.lower() in {d.lower() for d in DATE_COLUMNS}]
    frame = table.read(as_text=[*named, *first])
    if frame.empty:
        raise DataError(
            "The file has a header row but no data rows; add rows of data below "
            "the header."
        )
    notes = list(table.notes)
    date_column, dates, date_note = _find_dates(frame)
    if date_note:
        notes.append(date_note)
    undated = dates.isna().to_numpy()
    if undated.any():
        written = frame[date_column][undated].dropna()
        example = f" (e.g. '{written.iloc[0]}')" if len(written) else ""
        notes.append(
            f"Dropped {_plural(int(undated.sum()), 'row')} without a readable "
            f"date{example}."
        )
        frame, dates = frame[~undated], dates[~undated]
    candidates = [c for c in frame.columns if c != date_column]
    converted = _numeric_columns(table, frame, candidates)
    numeric: dict[str, pd.Series] = {}
    empty: list[str] = []
    non_numeric: list[str] = []
    for column in candidates:
        values, n_bad = converted[column]
        original = frame[column]
        if original.notna().sum() == 0:
            empty.append(column)
        elif _is_mostly_numbers(n_bad, original):
            numeric[column] = values
            if n_bad:
                notes.append(
                    f"Column '{column}': {_plural(n_bad, 'value')} that "
                    f"{'is' if n_bad == 1 else 'are'} not a number "
                    f"{'was' if n_bad == 1 else 'were'} treated as missing."
                )
        else:
            non_numeric.append(column)
    if non_numeric:
        notes.append(
            f"Dropped {_plural(len(non_numeric), 'non-numeric column')}: "
            f"{_join_names(non_numeric)}."
        )
    if not numeric and not empty:
        raise DataError(
            f"No column holds numbers (columns: {_join_names(frame.columns)}); the "
            "file needs at least one numeric column such as Close."
        )
    prices = pd.DataFrame(numeric, index=frame.index, columns=list(numeric))
    prices.index = pd.DatetimeIndex(dates)
    return _finish_prices(prices, name or table.name, notes, empty_columns=empty)


# --------------------------------------------------------------------------------
# Yahoo Finance
# --------------------------------------------------------------------------------

_PRICE_FIELDS = {"open", "high", "low", "close", "adj close", "volume"}


def _default_cache_dir() -> Path:
    configured = os.environ.get("RNN_FORECAST_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "rnn-forecast-explorer" / "yahoo"


def _cache_file(
    cache_dir: Path, symbol: str, start: str | None, end: str | None
) -> Path:
    safe = re.sub(r"[^A-Za-z0-9.^=_-]", "_", symbol)
    if safe != symbol:
        safe += "-" + hashlib.sha1(symbol.encode()).hexdigest()[:8]
    return cache_dir / f"{safe}_{start or 'earliest'}_{end or 'latest'}.csv"


def _day(value: str | None, label: str) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        stamp = pd.Timestamp(str(value).strip())
    except (ValueError, TypeError):
        raise DataError(
            f"{label} '{value}' is not a date; write it like 2021-01-31."
        ) from None
    if stamp is pd.NaT:
        raise DataError(f"{label} '{value}' is not a date; write it like 2021-01-31.")
    return stamp.strftime("%Y-%m-%d")


def _yahoo_frame(raw: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Flatten a yfinance result to one numeric column per price field."""
    frame = raw
    if isinstance(frame.columns, pd.MultiIndex):
        levels = range(frame.columns.nlevels)
        field_level = next(
            (
                level
                for level in levels
                if {str(v).lower() for v in frame.columns.get_level_values(level)}
                & _PRICE_FIELDS
            ),
            0,
        )
        ticker_levels = [level for level in levels if level != field_level]
        if ticker_levels:
            labels = frame.columns.get_level_values(ticker_levels[0])
            tickers = list(dict.fromkeys(labels))
            wanted = next(
                (t for t in tickers if str(t).upper() == symbol.upper()), tickers[0]
            )
            frame = frame.loc[:, np.asarray(labels == wanted)]
        frame = frame.set_axis(
            [str(c) for c in frame.columns.get_level_values(field_level)], axis=1
        )
    frame = frame.loc[:, [not str(c).startswith("Unnamed") for c in frame.columns]]
    numeric = frame.apply(pd.to_numeric, errors="coerce").astype("float64")
    numeric.columns = [str(c) for c in numeric.columns]
    return numeric.dropna(axis=0, how="all")


_BROWSER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def _plain_session_if_tensorflow_loaded() -> object | None:
    """Return a ``requests`` session for yfinance once TensorFlow is imported.

    yfinance downloads through curl_cffi's browser impersonation. In a process
    that has imported TensorFlow (the dashboard after its first training), that
    impersonation fails with "Impersonating chrome150 is not supported" (the two
    libraries bring clashing TLS libraries), so every download would fail even
    online. yfinance also accepts a plain ``requests`` session, which works there.

    Returns:
        A ``requests.Session`` with a browser User-Agent, or ``None`` to let
        yfinance use its default session.
    """
    if "tensorflow" not in sys.modules:
        return None
    try:
        import requests
    except ImportError:
        return None
    session = requests.Session()
    session.headers["User-Agent"] = _BROWSER_AGENT
    return session


def load_ticker(
    symbol: str,
    start: str | None = None,
    end: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> PriceData:
    """Download daily prices from Yahoo Finance, with an offline cache.

    Every successful download is saved as CSV in ``cache_dir`` (default: the
    ``RNN_FORECAST_CACHE`` environment variable, else
    ``~/.cache/rnn-forecast-explorer/yahoo``), keyed by symbol, start and end.
    When Yahoo cannot be reached or returns nothing, the cached copy for the same
    key is used and a note says so.

    Args:
        symbol: Yahoo Finance ticker, e.g. ``"MA"`` (upper-cased).
        start: First date (``YYYY-MM-DD``); None downloads the whole history.
        end: End date (exclusive, as in yfinance); None means up to today.
        cache_dir: Folder for the cached CSV files.

    Returns:
        Prices adjusted for splits and dividends (``auto_adjust=True``), named
        after the symbol.

    Raises:
        DataError: If the symbol or dates are invalid, or the download fails and
            nothing is cached for this key.
    """
    symbol = (symbol or "").strip().upper()
    if not symbol:
        raise DataError(
            "No ticker symbol was given; type a Yahoo Finance symbol such as 'MA' "
            "or 'AAPL'."
        )
    if re.search(r"\s", symbol):
        raise DataError(
            f"Ticker '{symbol}' contains spaces; type one Yahoo Finance symbol "
            "such as 'MA' or 'AAPL'."
        )
    start_day, end_day = _day(start, "Start date"), _day(end, "End date")
    if start_day and end_day and start_day >= end_day:
        raise DataError(
            f"Start date {start_day} is not before end date {end_day}; choose a "
            "start date before the end date."
        )
    folder = Path(cache_dir).expanduser() if cache_dir else _default_cache_dir()
    cached = _cache_file(folder, symbol, start_day, end_day)

    frame: pd.DataFrame | None = None
    missing_package = False
    try:
        import yfinance  # optional dependency, imported only when needed
    except ImportError:
        missing_package = True
    else:
        options: dict[str, object] = {
            "start": start_day,
            "end": end_day,
            "progress": False,
            "auto_adjust": True,
            "multi_level_index": False,
        }
        if start_day is None:
            # Without start and end, yfinance returns only the last month.
            options["period"] = "max"
        session = _plain_session_if_tensorflow_loaded()
        if session is not None:
            options["session"] = session
        try:
            raw = yfinance.download(symbol, **options)
            if raw is not None and len(raw):
                frame = _yahoo_frame(raw, symbol)
        except Exception:  # network, HTTP and parsing errors alike
            frame = None
    if frame is not None and len(frame) and frame.shape[1]:
        try:
            prices = _finish_prices(frame, symbol, [])
        except DataError:
            prices = None
        if prices is not None:
            partial = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp")
            try:
                folder.mkdir(parents=True, exist_ok=True)
                prices.frame.to_csv(partial, index_label="Date")
                os.replace(partial, cached)
            except OSError:
                # The cache is a convenience; a read-only disk must not stop us.
                partial.unlink(missing_ok=True)
            return prices
    if cached.is_file():
        try:
            prices = read_price_csv(cached, name=symbol)
        except DataError:
            prices = None
        if prices is not None:
            when = datetime.fromtimestamp(cached.stat().st_mtime).strftime("%Y-%m-%d")
            reason = (
                "The yfinance package is not installed"
                if missing_package
                else "Yahoo Finance could not be reached"
            )
            note = f"{reason}; using the copy cached on {when}."
            return replace(prices, notes=(*prices.notes, note))
    if missing_package:
        raise DataError(
            "The yfinance package is not installed, so tickers cannot be "
            "downloaded; install it with 'pip install yfinance', or use a bundled "
            "sample or upload a CSV."
        )
    raise DataError(
        f"Could not download '{symbol}' from Yahoo Finance (offline, or the ticker "
        "does not exist); check the symbol and your connection, or use a bundled "
        "sample or upload a CSV."
    )


# --------------------------------------------------------------------------------
# Tracking data
# --------------------------------------------------------------------------------


def read_tracking_csv(
    source: CsvSource,
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
    table = _CsvText.open(source)
    columns = table.names
    if isinstance(features, str):
        features = (features,)
    if not features:
        raise DataError(
            "No feature columns were chosen; choose at least one numeric column "
            "such as X."
        )
    feature_columns = [_match_column(columns, f, "Feature column") for f in features]
    feature_columns = list(dict.fromkeys(feature_columns))
    if id_column is not None:
        id_col: str | None = _match_column(columns, id_column, "ID column")
        if id_col in feature_columns:
            raise DataError(
                f"Column '{id_col}' cannot be both the ID column and a feature; "
                "choose different columns."
            )
    else:
        id_col = _find_named(columns, ID_COLUMNS, exclude=feature_columns)
    if order_column is not None:
        order_col: str | None = _match_column(columns, order_column, "Order column")
        if order_col == id_col or order_col in feature_columns:
            raise DataError(
                f"Column '{order_col}' cannot be the order column because it is "
                "already the ID or a feature; choose another order column or none."
            )
    else:
        order_col = _find_named(
            columns,
            ORDER_COLUMNS,
            exclude=[*feature_columns, *([id_col] if id_col else [])],
        )

    frame = table.read(as_text=[id_col] if id_col else [])
    if frame.empty:
        raise DataError(
            "The file has a header row but no data rows; add rows of data below "
            "the header."
        )
    notes = list(table.notes)
    display_name = name or table.name

    needed = [*feature_columns, *([order_col] if order_col else [])]
    converted = _numeric_columns(table, frame, needed)
    data: dict[str, pd.Series] = {}
    for column in feature_columns:
        values, n_bad = converted[column]
        original = frame[column]
        if original.notna().sum() == 0:
            raise DataError(
                f"Feature column '{column}' has no values; choose another column."
            )
        if not _is_mostly_numbers(n_bad, original):
            example = original.dropna().iloc[0]
            raise DataError(
                f"Feature column '{column}' is not numeric (e.g. '{example}'); "
                "choose columns that hold numbers, such as X and Y."
            )
        if n_bad:
            notes.append(
                f"Column '{column}': {_plural(n_bad, 'value')} that "
                f"{'is' if n_bad == 1 else 'are'} not a number "
                f"{'was' if n_bad == 1 else 'were'} treated as missing."
            )
        data[column] = values

    if id_col is None:
        id_col = "ID"
        single = Path(display_name).stem or "track"
        ids = pd.Series(single, index=frame.index, dtype=object)
        notes.append(
            f"No ID column was found (looked for {_unique_names(ID_COLUMNS)}); "
            f"the whole file is treated as one individual, '{single}'."
        )
    else:
        ids = frame[id_col].astype("str").str.strip().where(frame[id_col].notna())
        ids = ids.where(ids != "")
    keep = ids.notna().to_numpy()
    if not keep.all():
        notes.append(f"Dropped {_plural(int((~keep).sum()), 'row')} without an ID.")

    order_values: pd.Series | None = None
    if order_col is not None:
        values, n_bad = converted[order_col]
        original = frame[order_col]
        if pd.api.types.is_integer_dtype(original.dtype):
            order_values = original  # keep frame numbers as integers
        elif _is_mostly_numbers(n_bad, original):
            order_values = values
        else:
            parsed = _parse_dates(original, named=True)
            if parsed is None:
                raise DataError(
                    f"Order column '{order_col}' holds neither numbers nor dates; "
                    "choose a numeric column such as frame or t, or none."
                )
            order_values = parsed[0]
        no_order = order_values.isna().to_numpy() & keep
        if no_order.any():
            notes.append(
                f"Dropped {_plural(int(no_order.sum()), 'row')} without a value in "
                f"'{order_col}'."
            )
            keep &= ~no_order

    positions = np.flatnonzero(keep)
    if positions.size == 0:
        raise DataError(
            "No rows are left after dropping rows without an ID or order value; "
            "check the ID and order columns."
        )
    id_values = ids.to_numpy(dtype=object)[positions]
    codes, _ = pd.factorize(id_values, sort=False)
    grouped = np.argsort(codes, kind="stable")
    if order_values is not None:
        order_array = order_values.to_numpy()[positions]
        key = order_array
        if np.issubdtype(key.dtype, np.datetime64):
            key = key.astype("datetime64[ns]").astype("int64")
        permutation = np.lexsort((key, codes))
        if not np.array_equal(permutation, grouped):
            notes.append(
                f"Sorted the rows of each individual by '{order_col}' (they were "
                "not in order)."
            )
    else:
        permutation = grouped
    rows = positions[permutation]

    result = pd.DataFrame(
        {id_col: pd.array(id_values[permutation].astype(str), dtype="str")}
    )
    if order_col is not None and order_values is not None:
        result[order_col] = order_values.to_numpy()[rows]
    for column in feature_columns:
        result[column] = data[column].to_numpy(dtype="float64")[rows]
    missing = int(result[feature_columns].isna().any(axis=1).sum())
    if missing:
        notes.append(
            f"{_plural(missing, 'row')} with a missing coordinate; gaps inside a "
            "track are interpolated, and rows missing at a track's start or end "
            "are left out."
        )
    return TrackingData(
        frame=result,
        id_column=id_col,
        features=tuple(feature_columns),
        order_column=order_col,
        name=display_name,
        notes=tuple(notes),
    )


def list_columns(source: CsvSource) -> list[str]:
    """Return the column names of a CSV file (after sniffing the separator).

    Only the beginning of a file on disk is read. An open file's position is
    restored when possible.

    Args:
        source: A path, the file's bytes, or an open binary file.

    Returns:
        Column names as :func:`read_tracking_csv` and :func:`read_price_csv`
        see them.

    Raises:
        DataError: If the file is empty or not text.
    """
    table = _CsvText.open(source, limit=_HEAD_BYTES)
    try:
        head = pd.read_csv(
            io.StringIO(table.text),
            sep=table.sep,
            dtype=str,
            nrows=200,
            skipinitialspace=True,
            index_col=False,
        )
    except (pd.errors.ParserError, ValueError):
        return list(table.names)
    head.columns = table.names
    return [
        c for c in table.names if not (_UNNAMED.fullmatch(c) and head[c].isna().all())
    ]


# --------------------------------------------------------------------------------
# Bundled samples
# --------------------------------------------------------------------------------

SAMPLES: dict[str, str] = {
    "mastercard": (
        "MasterCard (MA) daily share prices, 2006-05-25 to 2021-10-11, from Yahoo "
        "Finance via Kaggle."
    ),
    "fly": (
        "Six fruit flies in narrow chambers (IDOC tracker), X/Y in pixels at about "
        "13.7 frames per second, 16,404 rows each (GPL-3)."
    ),
    "locust": (
        "Five desert locusts in a 60 cm arena (TRex tracker), X/Y in cm at 5 frames "
        "per second, 2,845 rows each (CC BY 4.0)."
    ),
}
PRICE_SAMPLES: tuple[str, ...] = ("mastercard",)
TRACKING_SAMPLES: tuple[str, ...] = ("fly", "locust")
_SAMPLE_FILES: dict[str, str] = {
    "mastercard": "mastercard_stock_history.csv",
    "fly": "fly_tracking_idoc_6flies.csv",
    "locust": "locust_tracking_trex_5locusts.csv",
}
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _sample_key(name: str) -> str:
    key = str(name).strip().lower()
    if key not in _SAMPLE_FILES:
        raise DataError(f"Unknown sample '{name}'; choose one of {', '.join(SAMPLES)}.")
    return key


def sample_path(name: str) -> Path:
    """Return the path of a bundled sample's CSV file.

    Args:
        name: One of :data:`SAMPLES` (case-insensitive).

    Returns:
        Path inside the ``data/`` folder beside the package.

    Raises:
        DataError: If the name is unknown.
    """
    return DATA_DIR / _SAMPLE_FILES[_sample_key(name)]


@functools.cache
def _parsed_sample(key: str) -> PriceData | TrackingData:
    path = DATA_DIR / _SAMPLE_FILES[key]
    if key in PRICE_SAMPLES:
        return read_price_csv(path, name=key)
    return read_tracking_csv(path, name=key)


def load_sample(name: str) -> PriceData | TrackingData:
    """Load a bundled sample.

    The file is parsed once per process; every call returns a fresh object with
    its own copy of the frame, so changes to it do not affect later calls.

    Args:
        name: ``"mastercard"`` (prices), ``"fly"`` or ``"locust"`` (tracks).

    Returns:
        :class:`PriceData` for price samples, :class:`TrackingData` for tracks.

    Raises:
        DataError: If the name is unknown.
    """
    parsed = _parsed_sample(_sample_key(name))
    return replace(parsed, frame=parsed.frame.copy())
