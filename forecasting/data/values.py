"""Numbers and dates written as text: which convention a file uses, then pandas.

Numbers: whether a column writes ``1,234.5`` (point decimals, comma thousands)
or ``1.234,5`` (comma decimals, point thousands) is decided from the cells that
can only be read one way (a semicolon separator breaks ties towards commas);
pandas' ``decimal`` and ``thousands`` options then read the column, with the
cells that fit neither convention read as missing and counted.

Dates: a column holds dates when enough cells are shaped like ISO, ``M/D/Y``,
``D.M.Y`` or month-name dates; ``pd.to_datetime(format="mixed")`` reads them,
day first for ``D.M.Y`` and for slashes when a first number is above 12. UTC
offsets are dropped so that times stay wall-clock times.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.data.text import HEAD_BYTES, CsvSource, CsvTable, join_names
from forecasting.settings.errors import DataError

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
"""Names of date columns, matched case-insensitively in this order."""

# --------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------

_EXPONENT = r"(?:[eE][+-]?\d+)?"
# "1,234,567.89" style (comma thousands, point decimals) and plain numbers.
_US_NUMBER = rf"[+-]?(?=[.\d])(?:[1-9]\d{{0,2}}(?:,\d{{3}})+|\d+)?(?:\.\d+)?{_EXPONENT}"
# "1.234.567,89" style (point thousands, comma decimals) and plain numbers.
_EU_NUMBER = rf"[+-]?(?=[,\d])(?:[1-9]\d{{0,2}}(?:\.\d{{3}})+|\d+)?(?:,\d+)?{_EXPONENT}"
_STYLES = {"us": (_US_NUMBER, ".", ","), "eu": (_EU_NUMBER, ",", ".")}


def _number_evidence(values: pd.Series) -> tuple[int, int]:
    """Count cells readable only as point-decimal and only as comma-decimal."""
    sample = pd.Series(values.dropna().head(1000).str.strip().unique(), dtype=object)
    us = sample.str.fullmatch(_US_NUMBER)
    eu = sample.str.fullmatch(_EU_NUMBER)
    return int((us & ~eu).sum()), int((eu & ~us).sum())


def _styles(texts: pd.DataFrame, sep: str) -> dict[str, str]:
    """Column -> ``"us"`` or ``"eu"``; undecided columns follow the whole file."""
    evidence = {c: _number_evidence(texts[c]) for c in texts.columns}
    total_us = sum(us for us, _ in evidence.values())
    total_eu = sum(eu for _, eu in evidence.values())
    comma_file = total_eu > total_us or (total_eu == total_us and sep == ";")
    default = "eu" if comma_file else "us"
    return {
        c: default if us == eu else ("eu" if eu > us else "us")
        for c, (us, eu) in evidence.items()
    }


def numeric_columns(
    table: CsvTable, texts: pd.DataFrame, columns: Sequence[str]
) -> dict[str, pd.Series]:
    """Read ``columns`` as numbers, in the decimal convention each one uses.

    Args:
        table: The CSV the columns come from (re-read with pandas' options).
        texts: The whole table as strings (:meth:`CsvTable.read_text`).
        columns: Columns to convert.

    Returns:
        Column -> ``float64`` (or ``int64``) series aligned with ``texts``; cells
        that are not numbers and infinities are NaN (see :func:`count_bad`).
    """
    styles = _styles(texts.loc[:, list(columns)], table.sep)
    result: dict[str, pd.Series] = {}
    for style in ("us", "eu"):
        chosen = [c for c in columns if styles[c] == style]
        if chosen:
            result.update(_read_style(table, texts, chosen, style))
    return {c: result[c] for c in columns}


def _read_style(
    table: CsvTable, texts: pd.DataFrame, columns: list[str], style: str
) -> dict[str, pd.Series]:
    """Read columns in one convention; cells that do not fit it become NaN."""
    pattern, decimal, thousands = _STYLES[style]
    rows = len(texts)
    numbers = table.read_numbers(columns, decimal, thousands, {}, rows)
    dirty = [c for c in columns if not pd.api.types.is_numeric_dtype(numbers[c])]
    if dirty:
        bad = {}
        for column in dirty:
            cells = pd.Series(texts[column].dropna().unique(), dtype=object)
            bad[column] = cells[~cells.str.strip().str.fullmatch(pattern)].tolist()
        again = table.read_numbers(dirty, decimal, thousands, bad, rows)
        numbers = numbers.assign(**{c: again[c] for c in dirty})
    result = {}
    for column in columns:
        values = numbers[column].set_axis(texts.index)
        if not pd.api.types.is_numeric_dtype(values.dtype):
            values = pd.to_numeric(values, errors="coerce")
        if pd.api.types.is_float_dtype(values.dtype):
            values = values.where(np.isfinite(values))
        result[column] = values
    return result


def numeric_column_names(source: CsvSource, rows: int = 200) -> list[str]:
    """Guess which columns of a CSV file hold numbers, from its first rows.

    Args:
        source: A path, the file's bytes, or an open binary file; only its
            beginning is read.
        rows: How many data rows to look at.

    Returns:
        The columns whose first ``rows`` cells are more than 90 % numbers, in
        file order; ``[]`` if the beginning of the file cannot be read.
    """
    try:
        table = CsvTable.open(source, limit=HEAD_BYTES)
        head = table.read_text(nrows=rows)
        numbers = numeric_columns(table, head, list(head.columns))
    except DataError:
        return []
    return [c for c, v in numbers.items() if len(v) and v.notna().mean() > 0.9]


def count_bad(numbers: pd.Series, original: pd.Series) -> int:
    """How many non-missing cells of ``original`` are not numbers."""
    return int((numbers.isna() & original.notna()).sum())


def mostly_numbers(n_bad: int, original: pd.Series) -> bool:
    """Whether at most half of a column's non-missing cells are not numbers."""
    present = int(original.notna().sum())
    return present > 0 and n_bad * 2 <= present


# --------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------

_TZ_SUFFIX = (
    r"^(?P<keep>.*\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
)
_TIME = r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_NUMERIC_DATE = (
    r"(?:\d{4}([-/.])\d{1,2}\1\d{1,2}"  # 2021-01-31, 2021/1/31, 2021.01.31
    r"|\d{4}-\d{1,2}"  # 2021-01
    r"|\d{1,2}([-/.])\d{1,2}\2\d{2}(?:\d{2})?)" + _TIME  # 1/31/2021, 31.01.21
)
_COMPACT_DATE = r"(?:1[89]|2[01])\d{2}[01]\d[0-3]\d"
_DAY_MONTH = r"^(\d{1,2})([-/.])(\d{1,2})[-/.]\d{2,4}\b"
# Share of non-missing values that must be dates: a column named like a date
# column may hold a stray footer such as 'Total'; any other column must be clean.
_MIN_DATE_SHARE = {True: 0.5, False: 0.9}
FIRST_DAY, LAST_DAY = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _date_shaped(text: pd.Series, named: bool) -> pd.Series:
    """Which cells look like dates (month names need a four-digit year)."""
    shaped = text.str.fullmatch(_NUMERIC_DATE)
    if named:
        shaped |= text.str.fullmatch(_COMPACT_DATE)
    worded = text.str.contains(r"[A-Za-z]{3}") & text.str.contains(r"\d{4}")
    return (shaped | worded).fillna(False).astype(bool)


def _day_first(text: pd.Series) -> tuple[bool, str | None]:
    """Whether D/M/Y dates are day first, and a note when that was a guess."""
    parts = text.str.extract(_DAY_MONTH).dropna()
    if parts.empty:
        return False, None
    if (parts[1] == ".").mean() > 0.5:
        return True, None
    first, second = parts[0].astype(int), parts[2].astype(int)
    if (first > 12).any() and not (second > 12).any():
        example = text[first[first > 12].index[0]]
        return True, (
            "Dates were read as day/month/year because values like "
            f"'{example}' cannot be month first."
        )
    return False, None


def parse_dates(values: pd.Series, named: bool) -> tuple[pd.Series, str | None] | None:
    """Parse a column as dates.

    Args:
        values: The column as strings (NaN where empty).
        named: Whether the column's name says it holds dates (allows the
            ambiguous ``YYYYMMDD`` form and a few non-dates such as a footer).

    Returns:
        ``(datetime64 series with NaT where unreadable, note or None)`` if at
        least 90 % (50 % for a named date column) of the non-missing values are
        dates, else None. Times are kept as wall-clock times; UTC offsets are
        dropped (so ``2021-01-04 00:00:00-05:00`` becomes 2021-01-04). Dates
        outside :data:`FIRST_DAY` .. :data:`LAST_DAY` are kept: see
        :func:`out_of_range`.
    """
    text = values.astype("str").str.strip().where(values.notna())
    present = int(text.notna().sum())
    if present == 0:
        return None
    text = text.str.replace(_TZ_SUFFIX, r"\g<keep>", regex=True, flags=re.I)
    shaped = _date_shaped(text, named)
    needed = max(1, int(np.ceil(_MIN_DATE_SHARE[named] * present)))
    if int(shaped.sum()) < needed:
        return None
    day_first, note = _day_first(text[shaped])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dates = pd.to_datetime(
                text.where(shaped), format="mixed", dayfirst=day_first, errors="coerce"
            )
        except (ValueError, TypeError, OverflowError):
            return None
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    if int(dates.notna().sum()) < needed:
        return None
    return dates, note


def out_of_range(dates: pd.Series) -> np.ndarray:
    """Mark dates outside :data:`FIRST_DAY` .. :data:`LAST_DAY`, e.g. ``0202-01-03``.

    pandas holds dates in nanoseconds, from 1677-09-22 to 2262-04-11.

    Returns:
        ``(rows,)`` boolean array.
    """
    return (dates.notna() & ((dates < FIRST_DAY) | (dates > LAST_DAY))).to_numpy()


def out_of_range_note(count: int, example: object) -> str:
    """The note for rows dropped because of a date pandas cannot hold."""
    rows = "1 row" if count == 1 else f"{count} rows"
    return (
        f"Dropped {rows} with a date before {FIRST_DAY:%Y-%m-%d} or after "
        f"{LAST_DAY:%Y-%m-%d} (e.g. '{example}'); check the year of such dates."
    )


def find_dates(frame: pd.DataFrame) -> tuple[str, pd.Series, str | None]:
    """Find the date column: by name (DATE_COLUMNS), else the first, else any.

    Args:
        frame: The table as strings.

    Returns:
        ``(column, dates, note or None)`` as from :func:`parse_dates`.

    Raises:
        DataError: If no column holds dates.
    """
    named: list[str] = []
    lowered = {c.lower(): c for c in frame.columns}
    for candidate in DATE_COLUMNS:
        column = lowered.get(candidate.lower())
        if column is not None and column not in named:
            named.append(column)
    others = [c for c in frame.columns if c not in named]
    for column in named + others:
        parsed = parse_dates(frame[column], named=column in named)
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
        f"No column holds dates (columns: {join_names(frame.columns)}); put the "
        "dates in the first column, written like 2021-01-31, 1/31/2021 or 31.01.2021."
    )
