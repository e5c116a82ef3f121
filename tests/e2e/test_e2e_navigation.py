"""Navigation in a real browser: the sidebar and direct links to pages.

``test_direct_url_first_visit`` guards a bug found with these tests: because
the page files live in a folder named ``pages/``, Streamlit runs them on their
own (old multipage mode) until some session has run ``app.py``'s
``st.navigation``, so a bookmark to ``/learn`` opened first after a restart got
the bare page: no page setup, a sidebar listing the file names. It must be the
first visit to a fresh server, so conftest.py runs it before every other test.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = ["Price forecasting", "Tracking forecasting", "Learn: how RNNs work"]


def test_sidebar_lists_the_pages(app) -> None:
    """The start page shows the app's three pages and its sidebar note."""
    app.open("/")
    assert app.sidebar_nav() == PAGES
    assert "RNN Forecast Explorer" in app.page.title()
    app.assert_clean()


def test_direct_url_first_visit(app, app_server) -> None:
    """A bookmarked /learn link, opened first after a restart, is the real app."""
    if app_server.visited:
        pytest.skip(
            "needs the first visit to a fresh server: run the whole browser "
            "suite, or this test alone"
        )
    app.open("/learn")
    app.page.get_by_role("heading", name="Learn", exact=False).first.wait_for()
    assert app.sidebar_nav() == PAGES, f"sidebar lists {app.sidebar_nav()}"
    assert "RNN Forecast Explorer" in app.page.title(), app.page.title()
    assert app.page.url.endswith("/learn"), app.page.url
    app.page.get_by_role("heading", name="Learn", exact=False).first.wait_for()
    app.assert_clean()
