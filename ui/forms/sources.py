"""Pick and preview the data: bundled samples, CSV uploads and Yahoo tickers.

Each picker draws its widgets, loads through the cached loaders in
:mod:`ui.forms.loaders` and returns the data, or ``None`` after telling the student
(with ``st.info`` or ``st.error``) what to do next. An uploaded file is kept in
the session, so it is still there after a visit to another page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from forecasting import data as core
from forecasting.data.outputs import markdown_name, markdown_text
from forecasting.prep.windows import Split
from forecasting.settings.config import SplitConfig
from ui.forms import loaders, state

PRICE_SOURCES = ("Bundled sample", "Upload a CSV", "Yahoo Finance ticker")
TRACK_SOURCES = ("Bundled sample", "Upload a CSV")
NO_ID = "(none: the whole file is one individual)"
FILE_ORDER = "(file order)"
UPLOAD_TYPES = ["csv", "txt", "tsv"]


@dataclass(frozen=True)
class Selection:
    """What a page's data step chose: the series to train on and its split.

    Attributes:
        columns: The columns to forecast (empty when none is chosen).
        split_config: How to split train and test, or ``None``.
        frame: The series ``(rows, columns)``, or ``None`` if it did not load.
        split: The train and test parts, or ``None`` if the split failed.
        data_key: Names the data (and individual) in the training cache key.
        label: The data's name in the results' heading.
        individual: The tracked individual, or ``None`` on the price page.
        extras: Kept with the run (:attr:`ui.running.runs.RunRecord.extras`).
        n_train: Training rows, for the time estimate.
        max_window: The largest window the training form offers.
    """

    columns: tuple[str, ...] = ()
    split_config: SplitConfig | None = None
    frame: pd.DataFrame | None = None
    split: Split | None = None
    data_key: str | None = None
    label: str = ""
    individual: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    n_train: int = 0
    max_window: int = 0


def _kept_upload(key: str) -> tuple[str, bytes] | None:
    """Return ``(name, bytes)`` of the file in uploader ``key``, or the kept one."""
    uploaded = st.session_state.get(key)
    if uploaded is not None:
        kept = (uploaded.name, uploaded.getvalue())
        st.session_state[f"{key}_kept"] = kept
        return kept
    return st.session_state.get(f"{key}_kept")


def _forget_upload(key: str) -> None:
    """Uploader callback: drop the kept copy when the student removes the file."""
    if st.session_state.get(key) is None:
        st.session_state.pop(f"{key}_kept", None)


def _upload(key: str, label: str, help_text: str) -> tuple[str, bytes] | None:
    st.file_uploader(
        label,
        type=UPLOAD_TYPES,
        key=key,
        on_change=_forget_upload,
        args=(key,),
        help=help_text,
    )
    kept = _kept_upload(key)
    if kept is not None and st.session_state.get(key) is None:
        name = markdown_name(kept[0])
        st.caption(f"Using the file uploaded earlier: **{name}**.")
    return kept


def data_label(name: str) -> str:
    """How to name a data set in headings: ``"Mastercard sample"`` or the file."""
    return f"{sample_title(name)} sample" if name in core.SAMPLES else name


def sample_title(name: str) -> str:
    """A sample's name for people: ``"Random Walk"`` for ``"random_walk"``."""
    return name.replace("_", " ").title()


def show_notes(notes: Sequence[str]) -> None:
    """Show the loader's remarks (fixes applied to the data) as one info box."""
    if notes:
        st.info("\n".join(f"- {markdown_text(note)}" for note in notes))


# --------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------


def price_source() -> core.PriceData | None:
    """Draw the price data picker and return the loaded prices (or ``None``)."""
    state.keep(
        {
            "price_sample": core.PRICE_SAMPLES[0],
            "price_symbol": "MA",
            "price_start": dt.date(2006, 1, 1),
            "price_end": dt.date.today(),
        }
    )
    state.keep_choice("price_source", PRICE_SOURCES, PRICE_SOURCES[0])
    source = st.radio(
        "Where do the prices come from?",
        PRICE_SOURCES,
        key="price_source",
        horizontal=True,
    )
    try:
        if source == PRICE_SOURCES[0]:
            return _sample("price_sample", core.PRICE_SAMPLES, "mastercard")
        if source == PRICE_SOURCES[1]:
            kept = _upload(
                "price_upload",
                "Price CSV file",
                "One row per day: a Date column and numeric columns such as Open, "
                "High, Low, Close, Volume.",
            )
            if kept is None:
                st.info(
                    "Upload a CSV file with a **Date** column and price columns such "
                    "as **High** or **Close** (comma, semicolon or tab separated)."
                )
                return None
            return loaders.price_csv(kept[1], kept[0])
        return _ticker()
    except core.DataError as err:
        st.error(markdown_text(err))
        return None


def _ticker() -> core.PriceData | None:
    symbol_col, start_col, end_col, button_col = st.columns([1, 1, 1, 1])
    symbol = symbol_col.text_input(
        "Ticker symbol", key="price_symbol", help="Yahoo Finance symbol, e.g. MA."
    )
    start = start_col.date_input(
        "From", key="price_start", min_value=dt.date(1970, 1, 1)
    )
    end = end_col.date_input("Until", key="price_end", min_value=dt.date(1970, 1, 2))
    button_col.markdown("&nbsp;")
    if button_col.button("Download prices", key="price_download", width="stretch"):
        st.session_state["price_ticker_request"] = (
            symbol.strip().upper(),
            start.isoformat() if start else None,
            end.isoformat() if end else None,
        )
    request = st.session_state.get("price_ticker_request")
    if request is None:
        st.info(
            "Type a ticker and press **Download prices** (needs an internet "
            "connection; the bundled sample works offline)."
        )
        return None
    return loaders.ticker(*request)


def price_preview(data: core.PriceData) -> None:
    """Rows, date range, notes and the first rows of a price history."""
    first, last = data.frame.index[0], data.frame.index[-1]
    a, b, c = st.columns(3)
    a.metric("Rows", f"{len(data.frame):,}")
    b.metric("From", f"{first:%Y-%m-%d}")
    c.metric("Until", f"{last:%Y-%m-%d}")
    show_notes(data.notes)
    with st.expander("First rows of the data"):
        st.dataframe(data.frame.head(10), width="stretch")


# --------------------------------------------------------------------------------
# Tracks
# --------------------------------------------------------------------------------


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _sample(
    key: str, samples: Sequence[str], default: str
) -> core.PriceData | core.TrackingData:
    """Draw the bundled-sample picker under ``key`` and load the chosen sample."""
    state.keep_choice(key, samples, default)
    name = st.selectbox(
        "Sample",
        samples,
        key=key,
        format_func=lambda n: f"{sample_title(n)}: {core.SAMPLES[n]}",
    )
    return loaders.sample(name)


def tracking_source() -> core.TrackingData | None:
    """Draw the tracking data picker and return the loaded tracks (or ``None``)."""
    state.keep({"trk_sample": "fly"})
    state.keep_choice("trk_source", TRACK_SOURCES, TRACK_SOURCES[0])
    source = st.radio(
        "Where do the tracks come from?",
        TRACK_SOURCES,
        key="trk_source",
        horizontal=True,
    )
    try:
        if source == TRACK_SOURCES[0]:
            return _sample("trk_sample", core.TRACKING_SAMPLES, "fly")
        kept = _upload(
            "trk_upload",
            "Tracking CSV file",
            "Long format: one row per individual and time step, with an ID column "
            "and coordinate columns such as X and Y.",
        )
        if kept is None:
            st.info(
                "Upload a CSV file in long format: an **ID** column naming the "
                "individual, coordinate columns such as **X** and **Y**, and "
                "optionally a **frame** or **time** column."
            )
            return None
        return _tracking_upload(*kept)
    except core.DataError as err:
        st.error(markdown_text(err))
        return None


def _tracking_upload(name: str, content: bytes) -> core.TrackingData | None:
    columns = loaders.csv_columns(content)
    detected_id = _find(columns, core.ID_COLUMNS)
    detected_order = _find(columns, core.ORDER_COLUMNS)
    default_xy = [c for c in (_find(columns, [f]) for f in core.DEFAULT_FEATURES) if c]
    if not default_xy:
        skip = {detected_id, detected_order}
        default_xy = [c for c in loaders.numeric_columns(content) if c not in skip][:2]
    id_options = [NO_ID, *columns]
    order_options = [FILE_ORDER, *columns]
    state.keep_choice("trk_id_column", id_options, detected_id or NO_ID)
    state.keep_choices("trk_features", columns, default_xy)
    state.keep_choice("trk_order_column", order_options, detected_order or FILE_ORDER)
    with st.expander("Columns of the file", expanded=detected_id is None):
        if detected_id is None:
            st.warning(
                "No ID column was recognised; choose the column that names the "
                "individual, or keep the whole file as one individual."
            )
        a, b, c = st.columns(3)
        id_column = a.selectbox("ID column", id_options, key="trk_id_column")
        features = b.multiselect("Coordinate columns", columns, key="trk_features")
        order = c.selectbox("Order column", order_options, key="trk_order_column")
    if not features:
        st.error(
            "No coordinate column is chosen; choose at least one numeric column "
            "such as X."
        )
        return None
    return loaders.tracking_csv(
        content,
        name,
        None if id_column == NO_ID else id_column,
        tuple(features),
        None if order == FILE_ORDER else order,
    )


def tracking_preview(data: core.TrackingData) -> None:
    """Individuals, rows, notes and the first rows of a tracking table."""
    counts = data.counts()
    a, b, c = st.columns(3)
    a.metric("Individuals", f"{len(counts):,}")
    b.metric("Rows", f"{int(counts.sum()):,}")
    c.metric("Coordinates", ", ".join(data.features))
    show_notes(data.notes)
    with st.expander("First rows of the data"):
        st.dataframe(data.frame.head(10), width="stretch", hide_index=True)
