"""Load price histories and animal tracks from CSV files, Yahoo Finance or samples.

Two kinds of data feed the forecasting models:

* **Prices** (:class:`PriceData`): one row per date, numeric columns such as Open,
  High, Low, Close and Volume. Read with :func:`read_price_csv`, downloaded with
  :func:`load_ticker`, or loaded from the bundled ``mastercard`` sample.
* **Tracks** (:class:`TrackingData`): a long table with one row per individual and
  time step, an ID column and coordinate columns (X, Y by default). Read with
  :func:`read_tracking_csv` or loaded from the bundled ``fly`` and ``locust`` samples.

:func:`series_frame` turns either into the gap-free frame that is split into
training and test rows; the command line, the dashboard and the benchmarks all
build their frames with it.

The package is split by subject: ``text`` (bytes, encodings, separator, header),
``values`` (numbers and dates), ``prices``, ``tracks``, ``yahoo``, ``samples``
and ``frames``. Both CSV readers share one reader that copes with files people
really have: comma, semicolon or tab separators, a UTF-8 byte order mark, CRLF
line endings, Latin-1 / Windows-1252 text, decimal commas (``12,5``), thousands
separators (``"7,380,500"`` or ``1.234,56``) and dates written as ISO (also with
a time and UTC offset), ``M/D/YYYY``, ``DD.MM.YYYY`` or with month names.

Every problem with the input raises :class:`DataError`, whose message is one
sentence saying what is wrong and what to do about it, ready to show to the user.
Fixes that were applied silently (sorting, dropped duplicates, dropped columns)
are listed in the ``notes`` of the result.

The frames inside the returned objects are owned by the caller: each call returns
fresh objects (samples are parsed once and copied on every call), so mutating them
does not affect later calls. This package never imports Streamlit or TensorFlow.
"""

from forecasting.data.frames import as_track, is_track, series_frame
from forecasting.data.prices import PriceData, read_price_csv
from forecasting.data.samples import (
    DATA_DIR,
    PRICE_SAMPLES,
    SAMPLES,
    TRACKING_SAMPLES,
    load_sample,
    sample_path,
)
from forecasting.data.text import CsvSource, list_columns
from forecasting.data.tracks import (
    DEFAULT_FEATURES,
    ID_COLUMNS,
    ORDER_COLUMNS,
    Track,
    TrackingData,
    read_tracking_csv,
)
from forecasting.data.values import DATE_COLUMNS, numeric_column_names
from forecasting.data.yahoo import load_ticker
from forecasting.settings.errors import DataError

__all__ = [
    "DATA_DIR",
    "DATE_COLUMNS",
    "DEFAULT_FEATURES",
    "ID_COLUMNS",
    "ORDER_COLUMNS",
    "PRICE_SAMPLES",
    "SAMPLES",
    "TRACKING_SAMPLES",
    "CsvSource",
    "DataError",
    "PriceData",
    "Track",
    "TrackingData",
    "as_track",
    "is_track",
    "list_columns",
    "load_sample",
    "load_ticker",
    "numeric_column_names",
    "read_price_csv",
    "read_tracking_csv",
    "sample_path",
    "series_frame",
]
