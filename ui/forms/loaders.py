"""Data loading, cached with ``st.cache_data`` (keyed by the function's arguments).

Every loader raises :class:`forecasting.data.DataError` for bad input; Streamlit
does not cache exceptions, so a fixed file or a restored connection is picked up
on the next try.
"""

from __future__ import annotations

import streamlit as st

from forecasting import data as core

_LOADING = "Loading data…"


@st.cache_data(show_spinner=_LOADING, max_entries=8)
def sample(name: str) -> core.PriceData | core.TrackingData:
    """Load a bundled sample (``"mastercard"``, ``"fly"`` or ``"locust"``)."""
    return core.load_sample(name)


@st.cache_data(show_spinner="Reading the CSV file…", max_entries=8)
def price_csv(content: bytes, name: str) -> core.PriceData:
    """Read an uploaded price CSV from its bytes."""
    return core.read_price_csv(content, name=name)


@st.cache_data(show_spinner="Reading the CSV file…", max_entries=8)
def tracking_csv(
    content: bytes,
    name: str,
    id_column: str | None,
    features: tuple[str, ...],
    order_column: str | None,
) -> core.TrackingData:
    """Read an uploaded tracking CSV from its bytes with the chosen columns."""
    return core.read_tracking_csv(
        content,
        id_column=id_column,
        features=features,
        order_column=order_column,
        name=name,
    )


@st.cache_data(show_spinner=False, max_entries=16)
def csv_columns(content: bytes) -> list[str]:
    """Return the column names of an uploaded CSV."""
    return core.list_columns(content)


@st.cache_data(show_spinner=False, max_entries=16)
def numeric_columns(content: bytes) -> list[str]:
    """Guess which columns of an uploaded CSV hold numbers, from its first rows.

    Only used to pre-select coordinate columns; returns ``[]`` if the head of the
    file cannot be read.
    """
    return core.numeric_column_names(content)


@st.cache_data(show_spinner="Downloading from Yahoo Finance…", ttl=3600)
def ticker(symbol: str, start: str | None, end: str | None) -> core.PriceData:
    """Download daily prices of a ticker (cached for an hour)."""
    return core.load_ticker(symbol, start, end)
