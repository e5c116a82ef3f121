"""Daily prices from Yahoo Finance, with an offline cache.

:func:`load_ticker` downloads with yfinance (an optional dependency, imported
only when a ticker is asked for) and saves each download as CSV, used when Yahoo
cannot be reached.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.data.prices import PriceData, finish_prices, read_price_csv
from forecasting.errors import DataError

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
            prices = finish_prices(frame, symbol, [])
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
