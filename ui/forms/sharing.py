"""A page's settings in its address: apply a shared link, keep the address current.

:func:`restore` and :func:`share` are the two calls of a training page (made by
:mod:`ui.flow`). The first, before any widget is drawn, applies the link the
session was opened with (once); the second keeps the address up to date and
draws the *Copy link to this setup* control. The setups themselves (parsers,
defaults, checks and widget values) are pure, in :mod:`ui.forms.links`. An
invalid value in a link gives one warning sentence naming the parameter, and
that setting keeps its default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import streamlit as st

from forecasting import data as core
from forecasting.data.outputs import markdown_text
from ui.forms import loaders, state
from ui.forms.link_params import page_address
from ui.forms.links import (
    FORM_NOTE,
    PRICE_SOURCES,
    TRACK_SOURCES,
    UPLOAD_NOTE,
    parse_price,
    parse_tracking,
    price_link,
    price_widget_values,
    tracking_link,
    tracking_widget_values,
)

_DONE = "_link_done_"


def _load(setup: Mapping[str, Any]) -> Any:
    """The data a link's source names (cached loaders), or ``None``."""
    try:
        if setup["source"] == "sample":
            return loaders.sample(setup["sample"])
        if setup["source"] == "ticker":
            end = setup["end"] or dt.date.today()
            return loaders.ticker(
                setup["ticker"], setup["start"].isoformat(), end.isoformat()
            )
    except core.DataError:
        return None  # the page shows the loader's error itself
    return None


def restore(page: str) -> None:
    """Apply the link this page was opened with (call before any widget).

    Runs once per page and session: later runs, and visits after going to
    another page, keep the student's own changes.

    Args:
        page: ``"price"`` or ``"tracking"``.
    """
    if st.session_state.get(_DONE + page):
        return
    st.session_state[_DONE + page] = True
    params = st.query_params.to_dict()
    if not params:
        return
    parse = parse_price if page == "price" else parse_tracking
    to_widgets = price_widget_values if page == "price" else tracking_widget_values
    first, _ = parse(params, None)
    data = _load(first)
    setup, warnings = parse(params, data)
    values = to_widgets(setup, data)
    if page == "price" and setup["source"] == "ticker":
        values["price_ticker_request"] = (
            setup["ticker"],
            setup["start"].isoformat(),
            values["price_end"].isoformat(),
        )
    state.reset(values)
    for warning in warnings:
        st.warning(markdown_text(warning), icon=":material/link_off:")
    if setup["source"] == "upload":
        st.info(UPLOAD_NOTE, icon=":material/upload_file:")


def share(page: str, data: Any) -> None:
    """Keep the address in step with the settings; draw *Copy link to this setup*.

    Args:
        page: ``"price"`` or ``"tracking"``.
        data: The page's loaded data, or ``None``.
    """
    values = st.session_state.to_dict()
    if page == "price":
        params = price_link(values, data)
        upload = values.get("price_source") == PRICE_SOURCES["upload"]
    else:
        params = tracking_link(values, data)
        upload = values.get("trk_source") == TRACK_SOURCES["upload"]
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    with st.expander("Copy link to this setup", icon=":material/link:"):
        st.code(
            page_address(st.context.url, params),
            language=None,
            wrap_lines=True,
        )
        st.caption(
            "Send this address to your class: everyone who opens it gets the same "
            f"data, split, models and settings. {FORM_NOTE}"
            + (f" {UPLOAD_NOTE}" if upload else "")
        )
