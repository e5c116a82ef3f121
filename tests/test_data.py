"""Tests for forecasting.data: CSV readers, Yahoo loader, tracks and samples."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import data
from forecasting.data import (
    DataError,
    PriceData,
    TrackingData,
    list_columns,
    load_sample,
    load_ticker,
    numeric_column_names,
    read_price_csv,
    read_tracking_csv,
    sample_path,
    series_frame,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def dates(prices: PriceData) -> list[str]:
    return list(prices.frame.index.strftime("%Y-%m-%d"))


# --------------------------------------------------------------------------------
# Price CSVs people really have
# --------------------------------------------------------------------------------


def test_utf8_bom_and_crlf_iso_dates() -> None:
    raw = b"\xef\xbb\xbfDate,Open,Close\r\n2021-01-04,1.5,2.5\r\n2021-01-05,1.6,2.6\r\n"
    prices = read_price_csv(raw, name="bom")
    assert prices.name == "bom"
    assert prices.columns == ["Open", "Close"]
    assert dates(prices) == ["2021-01-04", "2021-01-05"]
    assert prices.frame.index.name == "Date"
    assert prices.frame.index.tz is None
    assert prices.frame["Close"].tolist() == [2.5, 2.6]
    assert all(dtype == np.float64 for dtype in prices.frame.dtypes)
    assert prices.notes == ()


def test_semicolon_decimal_comma_and_day_first_dots() -> None:
    raw = (
        "Datum;Eröffnung;Schluss;Volumen\n"
        "04.01.2021;1.234,56;12,5;1.000\n"
        "05.01.2021;1.240,00;13,25;2.500\n"
        "06.01.2021;1.250,10;14;3.000\n"
    ).encode()
    prices = read_price_csv(raw)
    assert dates(prices) == ["2021-01-04", "2021-01-05", "2021-01-06"]
    assert prices.frame["Eröffnung"].tolist() == [1234.56, 1240.0, 1250.1]
    assert prices.frame["Schluss"].tolist() == [12.5, 13.25, 14.0]
    assert prices.frame["Volumen"].tolist() == [1000.0, 2500.0, 3000.0]
    assert prices.default_column() == "Eröffnung"  # no High or Close: first column


def test_default_column_rule() -> None:
    index = pd.DatetimeIndex(["2021-01-04", "2021-01-05"], name="Date")
    frame = pd.DataFrame({"Open": [1.0, 2.0], "close": [1.0, 2.0]}, index=index)
    assert PriceData(frame, "x").default_column() == "close"
    frame["High"] = [3.0, 4.0]
    assert PriceData(frame, "x").default_column() == "High"
    assert PriceData(frame[["Open"]], "x").default_column() == "Open"


def test_tab_separated_keeps_adj_close() -> None:
    raw = b"Date\tClose\tAdj Close\n2021-01-04\t1.5\t1.4\n2021-01-05\t1.6\t1.5\n"
    prices = read_price_csv(raw)
    assert prices.columns == ["Close", "Adj Close"]
    assert prices.frame["Adj Close"].tolist() == [1.4, 1.5]


def test_month_first_slash_dates_and_quoted_thousands() -> None:
    # The classic Google course file: M/D/YYYY, quoted "7,380,500", no final newline.
    raw = (
        b"Date,Open,High,Low,Close,Volume\n"
        b'1/3/2012,325.25,332.83,324.97,663.59,"7,380,500"\n'
        b'1/4/2012,331.27,333.87,329.08,666.45,"5,749,400"\n'
        b'12/30/2016,782.75,782.78,770.41,771.82,"1,770,000"'
    )
    prices = read_price_csv(raw)
    assert dates(prices) == ["2012-01-03", "2012-01-04", "2016-12-30"]
    assert prices.frame["Volume"].tolist() == [7380500.0, 5749400.0, 1770000.0]
    assert prices.default_column() == "High"
    assert prices.years == (2012, 2016)


@pytest.mark.parametrize(
    ("raw", "expected", "example"),
    [
        (
            b"Date,Close\n24/12/2020,1\n25/12/2020,2\n",
            ["2020-12-24", "2020-12-25"],
            "24/12/2020",
        ),
        # '01/02/2020' alone could be January 2nd; '13/02/2020' says day first,
        # and then for the whole column.
        (
            b"When,Close\n01/02/2020,1\n13/02/2020,2\n",
            ["2020-02-01", "2020-02-13"],
            "13/02/2020",
        ),
    ],
)
def test_day_first_slash_dates_fall_back_with_note(
    raw: bytes, expected: list[str], example: str
) -> None:
    prices = read_price_csv(raw)
    assert dates(prices) == expected
    assert prices.notes == (
        f"Dates were read as day/month/year because values like '{example}' "
        "cannot be month first.",
    )


def test_yfinance_datetimes_with_utc_offsets_become_naive_dates() -> None:
    raw = (
        b"Date,Close\n"
        b"2021-01-04 00:00:00-05:00,1\n"
        b"2021-03-15 00:00:00-04:00,2\n"
        b"2021-03-16 00:00:00+09:00,3\n"
    )
    prices = read_price_csv(raw)
    assert dates(prices) == ["2021-01-04", "2021-03-15", "2021-03-16"]
    assert prices.frame.index.tz is None
    assert (prices.frame.index == prices.frame.index.normalize()).all()


def test_times_and_month_names_mixed_in_one_date_column() -> None:
    raw = (
        b"Date,Close\n"
        b"2021-01-04 10:30,1\n"
        b"2021-01-04 16:00,2\n"
        b"2021-01-05,3\n"
        b"Jan 6 2021,4\n"
    )
    prices = read_price_csv(raw)
    assert list(prices.frame.index.strftime("%Y-%m-%d %H:%M")) == [
        "2021-01-04 10:30",
        "2021-01-04 16:00",
        "2021-01-05 00:00",
        "2021-01-06 00:00",
    ]


def test_date_outside_pandas_range_drops_the_row_with_note() -> None:
    raw = b"Date,Close\n0202-01-03,1\n2021-01-04,2\n2021-01-05,3\n"
    prices = read_price_csv(raw)  # was: OutOfBoundsDatetime for the whole file
    assert prices.frame["Close"].to_dict() == {
        pd.Timestamp("2021-01-04"): 2.0,
        pd.Timestamp("2021-01-05"): 3.0,
    }
    assert prices.notes == (
        "Dropped 1 row with a date before 1677-09-22 or after 2262-04-11 (e.g. "
        "'0202-01-03'); check the year of such dates.",
    )


def test_tracking_order_date_outside_pandas_range_drops_the_row() -> None:
    raw = (
        b"ID,time,X\nA,2021-01-04 10:00,1\nA,0202-01-04 10:00,2\nA,2021-01-04 11:00,3\n"
    )
    tracks = read_tracking_csv(raw, features=("X",))
    assert tracks.track("A").values[:, 0].tolist() == [1.0, 3.0]
    assert tracks.notes == ("Dropped 1 row without a value in 'time'.",)


def test_a_word_among_decimal_comma_numbers_is_missing_with_note() -> None:
    raw = (
        b"Datum;Schluss;Volumen\n"
        b"04.01.2021;1.234,5;10\n"
        b"05.01.2021;kein Wert;20\n"
        b"06.01.2021;12,5;30\n"
    )
    prices = read_price_csv(raw)
    assert prices.frame["Schluss"].tolist()[::2] == [1234.5, 12.5]
    assert np.isnan(prices.frame["Schluss"].iloc[1])
    assert prices.notes[0] == (
        "Column 'Schluss': 1 value that is not a number was treated as missing."
    )


def test_unsorted_rows_are_sorted_with_note() -> None:
    prices = read_price_csv(b"Date,Close\n2021-01-06,3\n2021-01-04,1\n2021-01-05,2\n")
    assert dates(prices) == ["2021-01-04", "2021-01-05", "2021-01-06"]
    assert prices.frame["Close"].tolist() == [1.0, 2.0, 3.0]
    assert prices.notes == (
        "Sorted the rows by date (the file was not in date order).",
    )


def test_duplicate_dates_keep_last_row_with_note() -> None:
    raw = b"Date,Close\n2021-01-04,1\n2021-01-05,2\n2021-01-04,10\n2021-01-05,20\n"
    prices = read_price_csv(raw)
    assert dates(prices) == ["2021-01-04", "2021-01-05"]
    assert prices.frame["Close"].tolist() == [10.0, 20.0]
    assert "Dropped 2 duplicate dates (kept the last row of each)." in prices.notes
    assert prices.frame.index.is_unique


def test_non_numeric_column_dropped_with_note() -> None:
    raw = b"Date,Symbol,Close\n2021-01-04,MA,1\n2021-01-05,MA,2\n"
    prices = read_price_csv(raw)
    assert prices.columns == ["Close"]
    assert prices.notes == ("Dropped 1 non-numeric column: Symbol.",)


def test_all_missing_column_dropped_with_note() -> None:
    raw = b"Date,Close,Dividends\n2021-01-04,1,\n2021-01-05,2,\n"
    prices = read_price_csv(raw)
    assert prices.columns == ["Close"]
    assert prices.notes == ("Dropped 1 column without any values: Dividends.",)


def test_trailing_delimiters_leave_no_empty_column() -> None:
    prices = read_price_csv(b"Date,Close,\n2021-01-04,1,\n2021-01-05,2,\n")
    assert prices.columns == ["Close"]
    assert prices.notes == ()


def test_missing_values_are_kept_and_counted() -> None:
    raw = (
        b"Date,Open,Close\n"
        b"2021-01-04,,1\n"
        b"2021-01-05,2,\n"
        b"2021-01-07,4,4\n"
        b"2021-01-08,5,\n"
    )
    prices = read_price_csv(raw)
    assert prices.frame["Close"].isna().sum() == 2
    assert prices.notes == (
        "3 missing values (Open 1, Close 2); gaps are filled by linear "
        "interpolation when a column is used.",
    )
    close = prices.series("Close")
    # Interior gap filled linearly in time (1 day of 3 from 1 to 4 -> 2), the
    # trailing gap cannot be interpolated and is left out.
    assert close.tolist() == [1.0, 2.0, 4.0]
    assert close.name == "Close"
    assert list(close.index.strftime("%Y-%m-%d")) == [
        "2021-01-04",
        "2021-01-05",
        "2021-01-07",
    ]
    assert prices.series("open").tolist() == [2.0, 4.0, 5.0]


def test_rows_with_a_date_but_no_values_are_dropped() -> None:
    raw = b"Date,Open,Close\n2021-01-04,null,null\n2021-01-05,1,2\n2021-01-06,3,4\n"
    prices = read_price_csv(raw)
    assert dates(prices) == ["2021-01-05", "2021-01-06"]
    assert prices.notes == ("Dropped 1 row that has a date but no values.",)


def test_footer_row_without_a_date_is_dropped_with_note() -> None:
    raw = b"Date,Close\n2021-01-04,1\n2021-01-05,2\n2021-01-06,3\nTotal,6\n"
    prices = read_price_csv(raw)
    assert dates(prices) == ["2021-01-04", "2021-01-05", "2021-01-06"]
    assert prices.notes == ("Dropped 1 row without a readable date (e.g. 'Total').",)


def test_series_unknown_column_lists_columns() -> None:
    prices = read_price_csv(b"Date,Open,Close\n2021-01-04,1,2\n2021-01-05,3,4\n")
    with pytest.raises(DataError, match=r"^Column 'Volume' is not in the data; "):
        prices.series("Volume")
    with pytest.raises(DataError, match=r"choose one of: Open, Close\.$"):
        prices.series("Volume")


def test_series_of_all_missing_column_raises() -> None:
    index = pd.DatetimeIndex(["2021-01-04", "2021-01-05"], name="Date")
    frame = pd.DataFrame({"Close": [1.0, 2.0], "High": [np.nan, np.nan]}, index=index)
    with pytest.raises(DataError, match=r"^Column 'High' has no values; choose"):
        PriceData(frame, "x").series("High")


def test_latin1_fallback() -> None:
    raw = "Date;Schluß\n2021-01-04;1,5\n2021-01-05;2,5\n".encode("latin-1")
    prices = read_price_csv(raw)
    assert prices.columns == ["Schluß"]
    assert prices.frame["Schluß"].tolist() == [1.5, 2.5]
    assert prices.notes == (
        "The file is not UTF-8; it was read as Latin-1 (Windows-1252) text.",
    )


def test_date_column_found_by_name_anywhere_or_by_parsing_first_column() -> None:
    named = read_price_csv(b"Close,DATE\n1,2021-01-04\n2,2021-01-05\n")
    assert named.columns == ["Close"]
    assert dates(named) == ["2021-01-04", "2021-01-05"]
    unnamed = read_price_csv(b"When,Close\n2021-01-04,1\n2021-01-05,2\n")
    assert unnamed.columns == ["Close"]
    assert dates(unnamed) == ["2021-01-04", "2021-01-05"]


def test_sources_path_file_object_and_default_names(tmp_path: Path) -> None:
    raw = b"Date,Close\n2021-01-04,1\n2021-01-05,2\n"
    path = tmp_path / "prices.csv"
    path.write_bytes(raw)
    assert read_price_csv(path).name == "prices.csv"
    assert read_price_csv(str(path)).name == "prices.csv"
    upload = io.BytesIO(raw)
    upload.name = "upload.csv"
    assert read_price_csv(upload).name == "upload.csv"
    assert read_price_csv(raw).name == "uploaded CSV"


def test_fingerprint_is_stable_and_tracks_values() -> None:
    raw = b"Date,Close\n2021-01-04,1\n2021-01-05,2\n"
    first, second = read_price_csv(raw), read_price_csv(raw)
    assert first.fingerprint() == second.fingerprint()
    assert len(first.fingerprint()) == 16
    changed = read_price_csv(b"Date,Close\n2021-01-04,1\n2021-01-05,3\n")
    assert changed.fingerprint() != first.fingerprint()
    renamed = read_price_csv(b"Date,High\n2021-01-04,1\n2021-01-05,2\n")
    assert renamed.fingerprint() != first.fingerprint()


# --------------------------------------------------------------------------------
# Price CSV errors: one sentence, what is wrong and what to do
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"  \r\n\n"])
def test_empty_file(raw: bytes) -> None:
    with pytest.raises(DataError, match=r"^The file is empty; choose a CSV file"):
        read_price_csv(raw)


@pytest.mark.parametrize("raw", [b"Date,Close\n", b"\xef\xbb\xbfDate,Close\r\n\r\n"])
def test_header_only(raw: bytes) -> None:
    with pytest.raises(DataError, match=r"^The file has a header row but no data"):
        read_price_csv(raw)


@pytest.mark.parametrize(
    "raw",
    [
        bytes(range(256)) * 4,  # contains NUL bytes
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        bytes([1, 2, 3, 4, 5, 6, 7, 8, 0x81, 0x8D, 200, 250, 14, 15]) * 50,  # no NUL
    ],
)
def test_binary_input_is_not_text(raw: bytes) -> None:
    with pytest.raises(DataError, match=r"^The file is not a text CSV file"):
        read_price_csv(raw)


def test_no_column_parses_as_dates() -> None:
    with pytest.raises(
        DataError, match=r"^No column holds dates \(columns: Name, Close\); put"
    ):
        read_price_csv(b"Name,Close\nx,1\ny,2\n")


def test_named_date_column_that_does_not_parse() -> None:
    with pytest.raises(
        DataError, match=r"^Column 'Date' does not hold readable dates \(e\.g\. 'foo'\)"
    ):
        read_price_csv(b"Date,Close\nfoo,1\nbar,2\n")
    with pytest.raises(DataError, match=r"\(e\.g\. 'soon'\); write dates like"):
        read_price_csv(b"Date,Close\n2021-01-04,1\nsoon,2\nlater,3\n")


def test_no_numeric_column() -> None:
    with pytest.raises(DataError, match=r"^No column holds numbers \(columns: Date"):
        read_price_csv(b"Date,Name\n2021-01-04,a\n2021-01-05,b\n")


def test_only_column_entirely_missing() -> None:
    with pytest.raises(DataError, match=r"^Every numeric column is empty \(Close\)"):
        read_price_csv(b"Date,Close\n2021-01-04,\n2021-01-05,\n")


def test_too_few_rows() -> None:
    with pytest.raises(DataError, match=r"^The data has only 1 usable dated row; "):
        read_price_csv(b"Date,Close\n2021-01-04,1\n")
    with pytest.raises(DataError, match=r"only 1 usable dated row"):
        read_price_csv(b"Date,Close\n2021-01-04,1\n2021-01-04,2\n")  # duplicates


def test_missing_file() -> None:
    with pytest.raises(DataError, match=r"^File '.*nope\.csv' does not exist; check"):
        read_price_csv(Path("/nonexistent/nope.csv"))


def test_ragged_line() -> None:
    with pytest.raises(
        DataError, match=r"^Line 3 of the file has 4 fields but the header has 2; "
    ):
        read_price_csv(b"Date,Close\n2021-01-04,1\n2021-01-05,2,3,4\n")


def test_header_row_missing() -> None:
    with pytest.raises(DataError, match=r"^The first row looks like data, not column"):
        read_price_csv(b"2021-01-04,1\n2021-01-05,2\n")


# --------------------------------------------------------------------------------
# Yahoo Finance (only yfinance.download is faked)
# --------------------------------------------------------------------------------


def yahoo_frame(start: str = "2021-01-04", periods: int = 5) -> pd.DataFrame:
    """A frame shaped like yfinance 1.x download(multi_level_index=False)."""
    index = pd.bdate_range(start, periods=periods, name="Date")
    base = np.arange(periods, dtype="float64")
    frame = pd.DataFrame(
        {
            "Close": 100.0 + base,
            "High": 101.0 + base,
            "Low": 99.0 + base,
            "Open": 100.5 + base,
            "Volume": (1_000_000 + base * 1000).astype("int64"),
        },
        index=index,
    )
    frame.columns.name = "Price"
    return frame


@pytest.fixture
def yfinance_module():
    return pytest.importorskip("yfinance")


def test_load_ticker_downloads_and_caches(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[tuple, dict]] = []

    def fake_download(*args, **kwargs):
        calls.append((args, kwargs))
        return yahoo_frame()

    monkeypatch.setattr(yfinance_module, "download", fake_download)
    prices = load_ticker(" ma ", cache_dir=tmp_path)
    assert prices.name == "MA"
    assert prices.notes == ()
    assert prices.columns == ["Close", "High", "Low", "Open", "Volume"]
    assert len(prices.frame) == 5
    assert prices.frame.index.name == "Date"
    assert prices.frame.dtypes.eq(np.float64).all()
    assert prices.default_column() == "High"
    args, kwargs = calls[0]
    assert args == ("MA",)
    assert kwargs["progress"] is False
    assert kwargs["auto_adjust"] is True
    assert kwargs["multi_level_index"] is False
    assert kwargs["start"] is None and kwargs["end"] is None
    assert kwargs["period"] == "max"  # yfinance would return only a month otherwise
    cached = list(tmp_path.glob("*.csv"))
    assert [p.name for p in cached] == ["MA_earliest_latest.csv"]


def test_load_ticker_passes_dates(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict = {}

    def fake_download(symbol, **kwargs):
        seen.update(kwargs)
        return yahoo_frame()

    monkeypatch.setattr(yfinance_module, "download", fake_download)
    load_ticker("MA", start="2021-01-01", end="2021/02/01", cache_dir=tmp_path)
    assert seen["start"] == "2021-01-01"
    assert seen["end"] == "2021-02-01"
    assert "period" not in seen
    assert (tmp_path / "MA_2021-01-01_2021-02-01.csv").is_file()


def test_load_ticker_multiindex_and_timezone(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    frame = yahoo_frame()
    frame.index = frame.index.tz_localize("America/New_York")
    frame.columns = pd.MultiIndex.from_product(
        [list(frame.columns), ["MA"]], names=["Price", "Ticker"]
    )
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: frame)
    prices = load_ticker("MA", cache_dir=tmp_path)
    assert prices.columns == ["Close", "High", "Low", "Open", "Volume"]
    assert prices.frame.index.tz is None
    assert dates(prices)[0] == "2021-01-04"


def test_load_ticker_offline_uses_cache(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: yahoo_frame())
    online = load_ticker("MA", cache_dir=tmp_path)

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(yfinance_module, "download", offline)
    cached = load_ticker("MA", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(cached.frame, online.frame, check_freq=False)
    assert cached.fingerprint() == online.fingerprint()
    assert len(cached.notes) == 1
    assert cached.notes[0].startswith(
        "Yahoo Finance could not be reached; using the copy cached on 20"
    )

    # An empty result (yfinance's way of reporting most failures) also falls back.
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: pd.DataFrame())
    assert load_ticker("MA", cache_dir=tmp_path).notes == cached.notes


def test_load_ticker_default_cache_dir_from_environment(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RNN_FORECAST_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: yahoo_frame())
    load_ticker("MA")
    assert (tmp_path / "env-cache" / "MA_earliest_latest.csv").is_file()


@pytest.mark.parametrize("failure", ["raise", "empty", "none"])
def test_load_ticker_unreachable_without_cache(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failure: str
) -> None:
    def fake_download(*args, **kwargs):
        if failure == "raise":
            raise OSError("network unreachable")
        return pd.DataFrame() if failure == "empty" else None

    monkeypatch.setattr(yfinance_module, "download", fake_download)
    with pytest.raises(
        DataError,
        match=(
            r"^Could not download 'XYZ' from Yahoo Finance \(offline, or the ticker "
            r"does not exist\); check the symbol and your connection, or use a "
            r"bundled sample or upload a CSV\.$"
        ),
    ):
        load_ticker("xyz", cache_dir=tmp_path)


def test_load_ticker_does_not_mix_cache_keys(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: yahoo_frame())
    load_ticker("MA", cache_dir=tmp_path)
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(DataError, match=r"^Could not download 'MA' from Yahoo"):
        load_ticker("MA", start="2020-01-01", cache_dir=tmp_path)


def test_load_ticker_offline_serves_yesterdays_download_for_today(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The app asks for prices up to today: yesterday's download has another end
    # date in its name, and must still be found when Yahoo is out of reach today.
    today = pd.Timestamp.today().normalize()
    yesterday = today - pd.Timedelta(days=1)
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: yahoo_frame())
    online = load_ticker("MA", "2021-01-01", f"{yesterday:%Y-%m-%d}", tmp_path)
    [saved] = tmp_path.glob("*.csv")
    assert saved.name == f"MA_2021-01-01_{yesterday:%Y-%m-%d}.csv"
    noon = (yesterday + pd.Timedelta(hours=12)).timestamp()
    os.utime(saved, (noon, noon))
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: pd.DataFrame())
    offline = load_ticker("MA", "2021-01-01", f"{today:%Y-%m-%d}", tmp_path)
    assert offline.fingerprint() == online.fingerprint()
    assert offline.notes == (
        f"Yahoo Finance could not be reached; using the copy cached on "
        f"{yesterday:%Y-%m-%d} (1 day ago), with prices up to 2021-01-08.",
    )


def test_load_ticker_offline_cuts_a_longer_cached_range_to_the_request(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: yahoo_frame())
    load_ticker("MA", cache_dir=tmp_path)  # the whole history: 2021-01-04 .. 08
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: None)
    cut = load_ticker("MA", start="2021-01-05", end="2021-01-08", cache_dir=tmp_path)
    assert dates(cut) == ["2021-01-05", "2021-01-06", "2021-01-07"]
    assert cut.notes[0].endswith("(today), with prices up to 2021-01-07.")


@pytest.mark.parametrize(
    ("symbol", "shown"),
    [
        ("MA,AAPL", "MA,AAPL"),
        ("MA AAPL", "MA AAPL"),
        ("A" * 300, "A" * 21 + "..."),
        ("../etc", "../ETC"),
    ],
)
def test_load_ticker_accepts_only_one_ticker_shaped_symbol(
    yfinance_module,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    symbol: str,
    shown: str,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(yfinance_module, "download", lambda s, **k: calls.append(s))
    with pytest.raises(
        DataError,
        match=(
            rf"^'{re.escape(shown)}' is not one ticker symbol; type a single Yahoo "
            r"Finance symbol of at most 20 letters, digits and \. - \^ = such as "
            r"'MA' or 'BRK-B'\.$"
        ),
    ):
        load_ticker(symbol, cache_dir=tmp_path)
    assert calls == []  # nothing was downloaded
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("symbol", ["^GSPC", "BRK-B", "EURUSD=X", "0700.HK", "gc=f"])
def test_load_ticker_accepts_yahoo_symbol_shapes(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, symbol: str
) -> None:
    monkeypatch.setattr(yfinance_module, "download", lambda *a, **k: yahoo_frame())
    assert load_ticker(symbol, cache_dir=tmp_path).name == symbol.upper()


@pytest.mark.parametrize("symbol", ["", "   "])
def test_load_ticker_empty_symbol(symbol: str, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^No ticker symbol was given; type a Yahoo"):
        load_ticker(symbol, cache_dir=tmp_path)


def test_load_ticker_bad_dates(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^Start date 'soon' is not a date; write"):
        load_ticker("MA", start="soon", cache_dir=tmp_path)
    with pytest.raises(
        DataError, match=r"^Start date 2021-02-01 is not before end date 2021-01-01; "
    ):
        load_ticker("MA", start="2021-02-01", end="2021-01-01", cache_dir=tmp_path)


# --------------------------------------------------------------------------------
# Tracking CSVs
# --------------------------------------------------------------------------------

TRACKS = (
    b"ID,frame,t,X,Y,is_inferred\n"
    b"Fly_2,0,0.0,10,20,0\n"
    b"Fly_2,1,0.1,11,21,0\n"
    b"Fly_10,0,0.0,50,60,0\n"
    b"Fly_2,2,0.2,12,22,1\n"
    b"Fly_10,1,0.1,51,61,0\n"
)


def test_tracking_basic_layout() -> None:
    tracks = read_tracking_csv(TRACKS, name="flies")
    assert isinstance(tracks, TrackingData)
    assert tracks.id_column == "ID"
    assert tracks.order_column == "frame"
    assert tracks.features == ("X", "Y")
    assert tracks.name == "flies"
    assert tracks.ids() == ["Fly_2", "Fly_10"]  # first appearance
    counts = tracks.counts()
    assert counts.to_dict() == {"Fly_2": 3, "Fly_10": 2}
    assert list(counts.index) == tracks.ids()
    assert list(tracks.frame.columns) == ["ID", "frame", "X", "Y"]
    assert tracks.frame["ID"].tolist() == ["Fly_2"] * 3 + ["Fly_10"] * 2
    assert tracks.frame["X"].dtype == np.float64
    assert tracks.notes == ()
    track = tracks.track("Fly_10")
    assert track.individual == "Fly_10"
    assert track.values.tolist() == [[50.0, 60.0], [51.0, 61.0]]
    assert track.values.dtype == np.float64
    assert track.order.tolist() == [0, 1]
    assert track.n_interpolated == 0


def test_tracking_sorts_within_individual_by_order_column() -> None:
    raw = b"id,frame,x,y\nA,2,2,2\nB,0,9,9\nA,0,0,0\nA,1,1,1\n"
    tracks = read_tracking_csv(raw)
    assert tracks.ids() == ["A", "B"]
    assert tracks.track("A").values[:, 0].tolist() == [0.0, 1.0, 2.0]
    assert tracks.frame["frame"].tolist() == [0, 1, 2, 0]
    assert tracks.notes == (
        "Sorted the rows of each individual by 'frame' (they were not in order).",
    )


def test_tracking_numeric_ids_become_strings_and_keep_leading_zeros() -> None:
    tracks = read_tracking_csv(b"track,X,Y\n007,1,2\n007,2,3\n12,5,6\n")
    assert tracks.id_column == "track"
    assert tracks.ids() == ["007", "12"]
    assert tracks.order_column is None
    assert tracks.track("12").order.tolist() == [0]
    assert tracks.track(12).individual == "12"  # type: ignore[arg-type]


def test_tracking_user_chosen_columns_case_insensitive() -> None:
    tracks = read_tracking_csv(TRACKS, id_column="id", features=["x"], order_column="T")
    assert tracks.id_column == "ID"
    assert tracks.features == ("X",)
    assert tracks.order_column == "t"
    assert tracks.track("Fly_2").values.shape == (3, 1)


def test_tracking_semicolon_decimal_comma_shares_reader() -> None:
    raw = "ID;t;X;Y\nA;0,0;1,5;2,25\nA;0,5;1,75;2,5\n".encode("utf-8-sig")
    tracks = read_tracking_csv(raw)
    assert tracks.track("A").values.tolist() == [[1.5, 2.25], [1.75, 2.5]]
    assert tracks.track("A").order.tolist() == [0.0, 0.5]


def test_track_interpolates_inside_and_drops_edges() -> None:
    raw = (
        b"ID,frame,X,Y\n"
        b"A,0,,\n"  # leading missing row: dropped
        b"A,1,1,10\n"
        b"A,2,,\n"  # interpolated over frame numbers: frame 2 of 1..5
        b"A,5,5,50\n"
        b"A,6,6,\n"  # one coordinate missing: interpolated
        b"A,7,7,70\n"
        b"A,8,,80\n"  # trailing incomplete row: dropped
    )
    tracks = read_tracking_csv(raw)
    assert tracks.notes == (
        "4 rows with a missing coordinate; gaps inside a track are interpolated, "
        "and rows missing at a track's start or end are left out.",
    )
    track = tracks.track("A")
    assert track.order.tolist() == [1, 2, 5, 6, 7]
    assert track.values.tolist() == [
        [1.0, 10.0],
        [2.0, 20.0],
        [5.0, 50.0],
        [6.0, 60.0],
        [7.0, 70.0],
    ]
    assert track.n_interpolated == 2
    assert not np.isnan(track.values).any()
    assert tracks.frame["X"].isna().sum() == 3  # the frame itself is not modified


def test_track_unknown_individual_lists_valid_ids() -> None:
    tracks = read_tracking_csv(TRACKS)
    with pytest.raises(
        DataError,
        match=r"^Individual 'Fly_3' is not in the data; choose one of Fly_2, Fly_10\.$",
    ):
        tracks.track("Fly_3")


def test_track_too_few_rows_names_id_and_numbers() -> None:
    tracks = read_tracking_csv(TRACKS)
    with pytest.raises(
        DataError,
        match=(
            r"^Individual 'Fly_2' has 3 usable rows but 5 are needed; choose another "
            r"individual or fewer rows\.$"
        ),
    ):
        tracks.track("Fly_2", min_rows=5)
    assert tracks.track("Fly_2", min_rows=3).values.shape == (3, 2)


def test_track_without_any_complete_row() -> None:
    tracks = read_tracking_csv(b"ID,X,Y\nA,1,\nA,,2\nB,1,1\n")
    with pytest.raises(DataError, match=r"^Individual 'A' has no row with all of X, Y"):
        tracks.track("A")


def test_tracking_missing_feature_lists_columns() -> None:
    with pytest.raises(
        DataError,
        match=(
            r"^Feature column 'Z' is not in the data; choose one of: ID, frame, t, X, "
            r"Y, is_inferred\.$"
        ),
    ):
        read_tracking_csv(TRACKS, features=("X", "Z"))


def test_tracking_non_numeric_feature() -> None:
    with pytest.raises(DataError, match=r"^Feature column 'ID' is not numeric \(e"):
        read_tracking_csv(TRACKS, id_column="frame", features=("ID",))


def test_tracking_empty_feature() -> None:
    with pytest.raises(DataError, match=r"^Feature column 'Y' has no values; choose"):
        read_tracking_csv(b"ID,X,Y\nA,1,\nA,2,\n")


def test_tracking_missing_id_column_given() -> None:
    with pytest.raises(DataError, match=r"^ID column 'animal' is not in the data; "):
        read_tracking_csv(TRACKS, id_column="animal")


def test_tracking_without_id_column_is_one_individual() -> None:
    tracks = read_tracking_csv(b"frame,X,Y\n0,1,2\n1,2,3\n", name="mouse.csv")
    assert tracks.id_column == "ID"
    assert tracks.ids() == ["mouse"]
    assert tracks.notes[0].startswith("No ID column was found (looked for ID, track,")


def test_tracking_errors_shared_with_prices() -> None:
    with pytest.raises(DataError, match=r"^The file is empty"):
        read_tracking_csv(b"")
    with pytest.raises(DataError, match=r"^The file has a header row but no data"):
        read_tracking_csv(b"ID,X,Y\r\n")
    with pytest.raises(DataError, match=r"^The file is not a text CSV file"):
        read_tracking_csv(b"ID,X,Y\n\x00\x01\x02")


def test_tracking_fingerprint() -> None:
    first, second = read_tracking_csv(TRACKS), read_tracking_csv(TRACKS)
    assert first.fingerprint() == second.fingerprint()
    other = read_tracking_csv(TRACKS.replace(b"51,61", b"51,62"))
    assert other.fingerprint() != first.fingerprint()


def test_list_columns(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbfID;frame;X;Y;\r\nA;1;2,5;3;\r\n"
    assert list_columns(raw) == ["ID", "frame", "X", "Y"]
    path = tmp_path / "t.tsv"
    path.write_bytes(b"track\tx\ty\n1\t2\t3\n")
    assert list_columns(path) == ["track", "x", "y"]
    upload = io.BytesIO(TRACKS)
    assert list_columns(upload) == ["ID", "frame", "t", "X", "Y", "is_inferred"]
    assert read_tracking_csv(upload).ids() == ["Fly_2", "Fly_10"]  # still readable


def test_numeric_column_names_from_the_head_of_a_file() -> None:
    raw = b"animal;frame;posx;posy;note\nA;0;1,5;2,5;ok\nA;1;1,75;2,25;ok\n"
    assert numeric_column_names(raw) == ["frame", "posx", "posy"]
    assert numeric_column_names(TRACKS) == ["frame", "t", "X", "Y", "is_inferred"]
    assert numeric_column_names(b"\x00\x01\x02") == []  # not text: nothing


# --------------------------------------------------------------------------------
# The frame builder: the series that gets split
# --------------------------------------------------------------------------------

GAPS = b"Date,Open,Close\n2021-01-04,,1\n2021-01-05,2,\n2021-01-07,4,4\n2021-01-08,5,\n"


def test_series_frame_of_prices_fills_gaps_and_says_so() -> None:
    frame, notes = series_frame(read_price_csv(GAPS), ["close", "Open"])
    assert list(frame.columns) == ["Close", "Open"]  # the actual names
    assert frame.index.name == "Date"
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2021-01-05", "2021-01-07"]
    assert frame.to_numpy().tolist() == [[2.0, 2.0], [4.0, 4.0]]
    assert notes == [
        "Column Close: 1 missing value inside the series filled by linear "
        "interpolation.",
        "Column Close: 1 row without a value at the start or end left out.",
        "Column Open: 1 row without a value at the start or end left out.",
    ]


def test_series_frame_of_a_clean_price_column_has_no_notes() -> None:
    prices = load_sample("mastercard")
    frame, notes = series_frame(prices, ["High"])
    pd.testing.assert_series_equal(frame["High"], prices.frame["High"])
    assert notes == []


def test_series_frame_of_tracks_is_one_individual_by_its_order() -> None:
    raw = (
        b"ID,frame,X,Y\nA,0,,\nA,1,1,10\nA,2,,\nA,5,5,50\nA,8,,80\nB,0,7,8\nB,1,9,10\n"
    )
    tracks = read_tracking_csv(raw)
    frame, notes = series_frame(tracks, ["y"])
    assert list(frame.columns) == ["Y"]
    assert frame.index.name == "frame"
    assert frame.index.tolist() == [1, 2, 5]
    assert frame["Y"].tolist() == [10.0, 20.0, 50.0]
    assert notes == [
        "Individual A: 1 row with a missing coordinate filled by linear interpolation.",
        "Individual A: 2 rows without every coordinate at the start or end of "
        "the track left out.",
    ]
    frame, notes = series_frame(tracks, ["X", "Y"], "B", min_rows=2)
    assert frame.to_numpy().tolist() == [[7.0, 8.0], [9.0, 10.0]]
    assert notes == []
    with pytest.raises(DataError, match=r"^Individual 'B' has 2 usable rows but 3 "):
        series_frame(tracks, ["X"], "B", min_rows=3)
    with pytest.raises(DataError, match=r"^Coordinate column 'Z' is not in the da"):
        series_frame(tracks, ["Z"])


def test_series_frame_without_columns_or_with_an_unknown_one() -> None:
    prices = read_price_csv(GAPS)
    with pytest.raises(DataError, match=r"^No column is chosen; choose at least one"):
        series_frame(prices, [])
    with pytest.raises(DataError, match=r"^Column 'High' is not in the data; "):
        series_frame(prices, ["High"])
    with pytest.raises(ValueError, match=r"^individual is only for tracking data"):
        series_frame(prices, ["Close"], "A")


# --------------------------------------------------------------------------------
# Bundled samples and data folder
# --------------------------------------------------------------------------------


def test_sample_registry() -> None:
    assert set(data.SAMPLES) == {"mastercard", "random_walk", "fly", "locust"}
    assert data.PRICE_SAMPLES == ("mastercard", "random_walk")
    assert data.TRACKING_SAMPLES == ("fly", "locust")
    for name, description in data.SAMPLES.items():
        assert description and "\n" not in description
        assert sample_path(name).is_file()
        assert sample_path(name).parent == DATA_DIR


def test_unknown_sample() -> None:
    with pytest.raises(
        DataError,
        match=r"^Unknown sample 'google'; choose one of mastercard, random_walk, fly, ",
    ):
        load_sample("google")
    with pytest.raises(DataError, match=r"^Unknown sample 'x'"):
        sample_path("x")


def test_mastercard_sample() -> None:
    prices = load_sample("mastercard")
    assert isinstance(prices, PriceData)
    assert prices.name == "mastercard"
    assert len(prices.frame) == 3872
    assert dates(prices)[0] == "2006-05-25"
    assert dates(prices)[-1] == "2021-10-11"
    assert prices.years == (2006, 2021)
    assert prices.columns == [
        "Open",
        "High",
        "Low",
        "Close",
        "Volume",
        "Dividends",
        "Stock Splits",
    ]
    assert prices.default_column() == "High"
    assert prices.notes == ()
    assert prices.frame.loc["2006-05-25", "High"] == pytest.approx(4.283868673)
    assert prices.series("High").notna().all()


def test_random_walk_sample() -> None:
    prices = load_sample("random_walk")
    assert isinstance(prices, PriceData)
    assert prices.name == "random_walk" and prices.notes == ()
    assert prices.columns == ["Close"] and prices.default_column() == "Close"
    assert len(prices.frame) == 2500 and prices.years == (2012, 2021)
    assert dates(prices)[0] == "2012-06-04" and dates(prices)[-1] == "2021-12-31"
    assert prices.frame.loc["2012-06-05", "Close"] == 99.4537


def test_locust_sample_interpolates_its_64_missing_coordinates() -> None:
    tracks = load_sample("locust")
    assert isinstance(tracks, TrackingData)
    assert tracks.ids() == [f"Locust_{i}" for i in range(1, 6)]
    assert tracks.counts().tolist() == [2845] * 5
    assert tracks.order_column == "frame"
    assert tracks.frame[["X", "Y"]].isna().any(axis=1).sum() == 64
    interpolated = []
    for individual in tracks.ids():
        track = tracks.track(individual)
        assert track.values.shape == (2845, 2)  # all 64 gaps are interior
        assert not np.isnan(track.values).any()
        interpolated.append(track.n_interpolated)
    assert interpolated == [22, 16, 17, 9, 0]


def test_fly_sample() -> None:
    tracks = load_sample("fly")
    assert isinstance(tracks, TrackingData)
    assert tracks.ids() == [f"Fly_{i}" for i in range(1, 7)]
    assert tracks.counts().tolist() == [16404] * 6
    assert tracks.order_column == "frame"
    track = tracks.track("Fly_3", min_rows=3060)
    assert track.values.shape == (16404, 2)
    assert track.order[0] == 481 and track.order[-1] == 16884
    with pytest.raises(
        DataError,
        match=(
            r"^Individual 'Fly_3' has 16404 usable rows but 20000 are needed \(train "
            r"15000 \+ test 4940 \+ window 60\); choose another individual or fewer "
            r"rows\.$"
        ),
    ):
        tracks.track("Fly_3", 20000, needed_for="train 15000 + test 4940 + window 60")


def test_load_sample_returns_independent_copies() -> None:
    first = load_sample("mastercard")
    first.frame.iloc[0, 0] = -1.0
    assert load_sample("MasterCard").frame.iloc[0, 0] != -1.0


def test_data_folder_files_are_small_and_documented() -> None:
    files = [p for p in DATA_DIR.iterdir() if p.is_file()]
    assert files
    for path in files:
        assert path.stat().st_size < 3_000_000, path.name
    sources = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for path in DATA_DIR.glob("*.csv"):
        assert path.name in sources
    assert "GPL" in sources and "CC BY 4.0" in sources
    assert (DATA_DIR / "fly_tracking_idoc_6flies.csv").stat().st_size == 2_738_853


def test_module_imports_neither_streamlit_nor_tensorflow() -> None:
    code = (
        "import sys, forecasting.data; "
        "bad = {'streamlit', 'tensorflow', 'yfinance'} & set(sys.modules); "
        "sys.exit(1 if bad else 0)"
    )
    root = str(DATA_DIR.parent)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**os.environ, "PYTHONPATH": root},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_load_ticker_uses_a_plain_session_once_tensorflow_is_loaded(
    yfinance_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # After `import tensorflow`, curl_cffi's browser impersonation (yfinance's
    # default session) fails with "Impersonating chrome150 is not supported", so
    # the app would lose Yahoo after its first training. A requests session works.
    import sys
    import types

    import requests

    seen: list[dict] = []

    def fake_download(symbol, **kwargs):
        seen.append(kwargs)
        return yahoo_frame()

    monkeypatch.setattr(yfinance_module, "download", fake_download)
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    load_ticker("MA", cache_dir=tmp_path)
    assert "session" not in seen[-1]
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    load_ticker("MA", cache_dir=tmp_path)
    session = seen[-1]["session"]
    assert isinstance(session, requests.Session)
    assert "Mozilla" in session.headers["User-Agent"]
