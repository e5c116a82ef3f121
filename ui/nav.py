"""Make sure every page runs inside ``app.py``'s navigation.

Because the page files live in a folder named ``pages/``, Streamlit starts in its
old multipage mode: until some session has run ``st.navigation``, a visitor who
opens a page's address directly (a bookmark to ``/learn`` right after the server
started) gets that page file run on its own, without ``app.py``'s page setup and
navigation. :func:`require_app` notices this and hands over to ``app.py``, which
then opens the page that was asked for (:func:`forward`). The browser would still
show the old mode's automatic menu from that first run, so Streamlit's menu is
turned off (``client.showSidebarNavigation = false`` in ``.streamlit/config.toml``)
and ``app.py`` draws its own with ``st.page_link``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.navigation.page import StreamlitPage

_WANTED = "_wanted_page"
_SEEN = "_app_seen"
_local = threading.local()


@contextmanager
def inside_app() -> Iterator[None]:
    """Mark the current script run as going through ``app.py`` (wrap ``run()``)."""
    _local.inside = True
    try:
        yield
    finally:
        _local.inside = False


def require_app(url_path: str) -> None:
    """Hand over to ``app.py`` if this session has not been through it yet.

    Only a session's first run is handed over: later runs of a session that has
    seen ``app.py`` are left alone, so a click is never lost to a page switch
    (Streamlit's test runner, for one, runs page files directly after the first
    run).

    Args:
        url_path: The page's address in the navigation (``""`` for the default
            page), so ``app.py`` can open it again.
    """
    if getattr(_local, "inside", False) or st.session_state.get(_SEEN):
        return
    st.session_state[_WANTED] = url_path
    try:
        st.switch_page("app.py", query_params=st.query_params.to_dict())
    except StreamlitAPIException:
        # The page file is the main script (e.g. a test runs it alone): go on.
        st.session_state.pop(_WANTED, None)


def forward(current: StreamlitPage, pages: Sequence[StreamlitPage]) -> None:
    """Open the page a visitor asked for before :func:`require_app` handed over."""
    st.session_state[_SEEN] = True
    wanted = st.session_state.pop(_WANTED, None)
    if wanted is None or wanted == current.url_path:
        return
    for page in pages:
        if page.url_path == wanted:
            # Keep a shared link's settings (ui/forms/sharing.py) on the way.
            st.switch_page(page, query_params=st.query_params.to_dict())
