"""RNN Forecast Explorer: compare LSTM, GRU and SimpleRNN forecasts in the browser.

Run with ``streamlit run app.py``. This file only sets up the page and the
navigation; each page lives in ``pages/`` and the shared parts in ``ui/``.
Nothing here imports TensorFlow: the worker processes load it, started in the
background at the first page view.
"""

from __future__ import annotations

import streamlit as st

from ui import nav
from ui.running import jobs, sessions

st.set_page_config(
    page_title="RNN Forecast Explorer",
    page_icon=":material/monitoring:",
    layout="wide",
)

PAGES = [
    st.Page(
        "pages/price.py",
        title="Price forecasting",
        icon=":material/show_chart:",
        default=True,
    ),
    st.Page(
        "pages/tracking.py",
        title="Tracking forecasting",
        icon=":material/route:",
        url_path="tracking",
    ),
    st.Page(
        "pages/learn.py",
        title="Learn: how RNNs work",
        icon=":material/school:",
        url_path="learn",
    ),
]

# The menu is drawn below with st.page_link; Streamlit's own menu is off
# (client.showSidebarNavigation = false), see ui/nav.py for why.
page = st.navigation(PAGES, position="hidden")
nav.forward(page, PAGES)
with st.sidebar:
    for item in PAGES:
        st.page_link(item)
    jobs.sidebar_note(page.url_path or "price")
    st.divider()
    st.caption(
        "**RNN Forecast Explorer** trains LSTM, GRU and SimpleRNN networks side by "
        "side on the same data and compares their forecasts with a naive baseline. "
        "Everything runs on this computer; the bundled samples work offline."
    )
sessions.warm_engine()  # workers import TensorFlow while the student reads
with nav.inside_app():
    page.run()
