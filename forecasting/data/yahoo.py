"""Daily prices from Yahoo Finance, with an offline cache.

:func:`load_ticker` downloads with yfinance (an optional dependency, imported
only when a ticker is asked for) and saves each download as CSV. When Yahoo
cannot be reached, the cached download whose dates cover the request is served,
with a note saying how old it is.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.data.prices import PriceData, finish_prices, read_price_csv
from forecasting.settings.errors import DataError

_TICKER = re.compile(r"\^?[A-Z0-9][A-Z0-9.=^-]{0,19}")

_PRICE_FIELDS = {"open", "high", "low", "close", "adj close", "volume"}


def _default_cache_dir() -> Path:
    configured = os.environ.get("RNN_FORECAST_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "rnn-forecast-explorer" / "yahoo"


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


def _symbol(symbol: str) -> str:
    """Upper-case a ticker and check that it is shaped like one Yahoo symbol."""
    cleaned = (symbol or "").strip().upper()
    if not cleaned:
        raise DataError(
            "No ticker symbol was given; type a Yahoo Finance symbol such as 'MA' "
            "or 'AAPL'."
        )
    if not _TICKER.fullmatch(cleaned):
        shown = cleaned if len(cleaned) <= 24 else cleaned[:21] + "..."
        raise DataError(
            f"'{shown}' is not one ticker symbol; type a single Yahoo Finance "
            "symbol of at most 20 letters, digits and . - ^ = such as 'MA' or "
            "'BRK-B'."
        )
    return cleaned


def _cache_file(folder: Path, symbol: str, start: str | None, end: str | None) -> Path:
    return folder / f"{symbol}_{start or 'earliest'}_{end or 'latest'}.csv"


def _download(symbol: str, start: str | None, end: str | None) -> pd.DataFrame | None:
    """Ask yfinance; None when it is missing, fails or returns nothing.

    Raises:
        ImportError: If yfinance is not installed.
    """
    import yfinance  # optional dependency, imported only when needed

    options: dict[str, object] = {
        "start": start,
        "end": end,
        "progress": False,
        "auto_adjust": True,
        "multi_level_index": False,
    }
    if start is None:
        # Without start and end, yfinance returns only the last month.
        options["period"] = "max"
    session = _plain_session_if_tensorflow_loaded()
    if session is not None:
        options["session"] = session
    try:
        raw = yfinance.download(symbol, **options)
    except Exception:  # network, HTTP and parsing errors alike
        return None
    if raw is None or not len(raw):
        return None
    frame = _yahoo_frame(raw, symbol)
    return frame if len(frame) and frame.shape[1] else None


def _save(prices: PriceData, path: Path) -> None:
    """Write the cache file atomically; a read-only disk is not an error."""
    partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        prices.frame.to_csv(partial, index_label="Date")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)


def _covered(
    path: Path, symbol: str, start: str | None, end: str | None
) -> PriceData | None:
    """The cached prices in ``path`` within [start, end), if they cover start.

    A cache covers the start when it was asked for the same start, or holds a
    row on or before it (a later first row may only mean that older prices were
    not asked for). Its end may fall short of ``end``: the caller says how old
    it is.
    """
    cached_start = path.stem[len(symbol) + 1 :].split("_")[0]
    cached_start = None if cached_start == "earliest" else cached_start
    if cached_start != start and (start is None or (cached_start or "") > start):
        return None
    try:
        prices = read_price_csv(path, name=symbol)
    except DataError:
        return None
    index = prices.frame.index
    if cached_start != start and index[0] > pd.Timestamp(start):
        return None
    keep = np.ones(len(index), dtype=bool)
    if start is not None:
        keep &= index >= pd.Timestamp(start)
    if end is not None:
        keep &= index < pd.Timestamp(end)
    if keep.sum() < 2:
        return None
    return replace(prices, frame=prices.frame[keep])


def _from_cache(
    folder: Path, symbol: str, start: str | None, end: str | None
) -> tuple[PriceData, Path] | None:
    """The cached download that covers the request and reaches furthest."""
    best: tuple[PriceData, Path] | None = None
    for path in sorted(folder.glob(f"{symbol}_*_*.csv")):
        if path.stem.count("_") != 2:  # symbols have no "_"
            continue
        prices = _covered(path, symbol, start, end)
        if prices is None:
            continue
        last = prices.frame.index[-1]
        if best is None or (last, path.stat().st_mtime) > (
            best[0].frame.index[-1],
            best[1].stat().st_mtime,
        ):
            best = (prices, path)
    return best


def _age_note(path: Path, prices: PriceData, missing_package: bool) -> str:
    fetched = datetime.fromtimestamp(path.stat().st_mtime).date()
    days = (date.today() - fetched).days
    age = "today" if days <= 0 else ("1 day ago" if days == 1 else f"{days} days ago")
    reason = (
        "The yfinance package is not installed"
        if missing_package
        else "Yahoo Finance could not be reached"
    )
    return (
        f"{reason}; using the copy cached on {fetched:%Y-%m-%d} ({age}), with "
        f"prices up to {prices.frame.index[-1]:%Y-%m-%d}."
    )


def _dates(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """The start and end days, checked: valid dates, the start before the end."""
    start_day, end_day = _day(start, "Start date"), _day(end, "End date")
    if start_day and end_day and start_day >= end_day:
        raise DataError(
            f"Start date {start_day} is not before end date {end_day}; choose a "
            "start date before the end date."
        )
    return start_day, end_day


def _fresh(
    folder: Path, symbol: str, start_day: str | None, end_day: str | None
) -> tuple[PriceData | None, bool]:
    """Download the prices and cache them.

    Returns:
        ``(prices, missing_package)``: ``prices`` is ``None`` when the download
        failed or gave no usable prices; ``missing_package`` says whether
        yfinance is not installed.
    """
    missing_package = False
    try:
        frame = _download(symbol, start_day, end_day)
    except ImportError:
        frame, missing_package = None, True
    if frame is not None:
        try:
            prices = finish_prices(frame, symbol, [])
        except DataError:
            pass
        else:
            _save(prices, _cache_file(folder, symbol, start_day, end_day))
            return prices, missing_package
    return None, missing_package


def load_ticker(
    symbol: str,
    start: str | None = None,
    end: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> PriceData:
    """Download daily prices from Yahoo Finance, with an offline cache.

    Every successful download is saved as CSV in ``cache_dir`` (default: the
    ``RNN_FORECAST_CACHE`` environment variable, else
    ``~/.cache/rnn-forecast-explorer/yahoo``), named after symbol, start and end.
    When Yahoo cannot be reached or returns nothing, the cached download that
    covers the requested start and reaches furthest is served, cut to the
    requested dates, with a note saying when it was fetched.

    Args:
        symbol: Yahoo Finance ticker, e.g. ``"MA"`` (upper-cased): at most 20
            letters, digits and ``. - ^ =``.
        start: First date (``YYYY-MM-DD``); None downloads the whole history.
        end: End date (exclusive, as in yfinance); None means up to today.
        cache_dir: Folder for the cached CSV files.

    Returns:
        Prices adjusted for splits and dividends (``auto_adjust=True``), named
        after the symbol.

    Raises:
        DataError: If the symbol or dates are invalid, or the download fails and
            no cached download covers the request.
    """
    symbol = _symbol(symbol)
    start_day, end_day = _dates(start, end)
    folder = Path(cache_dir).expanduser() if cache_dir else _default_cache_dir()
    prices, missing_package = _fresh(folder, symbol, start_day, end_day)
    if prices is not None:
        return prices
    cached = _from_cache(folder, symbol, start_day, end_day)
    if cached is not None:
        prices, path = cached
        note = _age_note(path, prices, missing_package)
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
