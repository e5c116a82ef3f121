"""Browser tests: one Streamlit server and one headless Chromium for the session.

The server is started once (``streamlit run app.py`` on a free port, with the
Yahoo cache in a temporary folder) and stopped with its whole process group at
the end, by ``bench/server.py``, the benches' helper. Chromium is Debian's
(``/usr/bin/chromium``, or ``CHROMIUM_PATH``), driven by Python playwright;
nothing is ever downloaded (never run ``playwright install``). Each test gets a
fresh browser context, hence a fresh Streamlit session.

Without Chromium or playwright the tests are skipped with a hint on how to install
them, except when ``CI=true``: there a missing browser fails the run.

Every test leaves a full-page screenshot in ``tests/e2e/screenshots/<test>.png``
(git-ignored); when a test fails, the screenshot is taken at the moment of the
failure and its path is printed with the failure.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.server import Server, start

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
INSTALL_HINT = (
    "install Debian's Chromium with `apt-get install -y chromium` (or point "
    "CHROMIUM_PATH at a Chromium binary) and playwright with "
    "`pip install -r requirements-dev.txt`; never run `playwright install`"
)

SERVER_START_SECONDS = 90
"""How long the Streamlit server may take to answer its health check."""
UI_TIMEOUT_MS = 30_000
"""Default wait for anything on the page (page loads, reruns, widgets)."""
TRAIN_TIMEOUT_MS = 120_000
"""Wait for a training run to finish (includes the first TensorFlow import)."""
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 16_000


def in_ci() -> bool:
    """Whether the ``CI`` environment variable says we run in CI."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _browser_problem() -> str | None:
    """Why the browser tests cannot run here, or ``None`` if they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium was not found at {CHROMIUM}"
    return None


# --------------------------------------------------------------------------------
# The Streamlit server
# --------------------------------------------------------------------------------


class AppServer:
    """The session's ``streamlit run app.py`` (a :class:`bench.server.Server`).

    Its attributes and methods are the server's (``url``, ``process``,
    ``log_path``, ``log_size()``, ``log_since()``, ...), plus :attr:`visited`.
    """

    def __init__(self, server: Server):
        self.server = server
        self.visited = False
        """Whether a browser has opened the app yet (see test_e2e_navigation)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, name)


@pytest.fixture(scope="package")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Start ``streamlit run app.py`` once for the browser tests, stop it after.

    Package scope: the server and its two TensorFlow workers end with the last
    browser test, instead of holding memory and CPU through the rest of the run.
    """
    workdir = tmp_path_factory.mktemp("streamlit")
    cache = workdir / "yahoo-cache"
    cache.mkdir()
    env = {
        "RNN_FORECAST_CACHE": str(cache),
        # No spare worker: one student's two long jobs fill both workers, so the
        # next student waits (test_e2e_classroom), and the session imports
        # TensorFlow in two workers only.
        "FORECASTING_SURGE": "0",
    }
    try:
        server = start(
            ROOT,
            env,
            log_path=workdir / "streamlit.log",
            timeout_s=SERVER_START_SECONDS,
        )
    except RuntimeError as err:  # it exited or never answered; the log is in err
        pytest.fail(str(err), pytrace=False)
    try:
        yield AppServer(server)
    finally:
        server.stop()


# --------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the browser tests (skip if missing)."""
    problem = _browser_problem()
    if problem:
        message = f"Browser tests cannot run: {problem}; {INSTALL_HINT}."
        if in_ci():
            pytest.fail(f"{message} (CI=true: a missing browser is a failure)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


FIRST_TESTS = ("test_direct_url_first_visit",)
"""Tests that need the first visit to the fresh server; they run first."""


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run :data:`FIRST_TESTS` before every other test."""
    items.sort(key=lambda item: item.name not in FIRST_TESTS)  # stable sort


def _scenario_name(item: pytest.Item) -> str:
    name = item.name.removeprefix("test_")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def full_page_screenshot(page: Any, path: Path) -> Path:
    """Save the whole app (not only the viewport) as a PNG.

    Streamlit scrolls inside its main element, so Playwright's ``full_page`` only
    sees one screen; the viewport is made as tall as the content for the shot.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or VIEWPORT
    measure = """() => Math.max(
        document.documentElement.scrollHeight,
        ...Array.from(document.querySelectorAll('[data-testid="stMain"]'),
                      el => el.scrollHeight))"""
    try:
        for _ in range(2):  # the layout may grow once more after resizing
            height = min(int(page.evaluate(measure)), MAX_SCREENSHOT_HEIGHT)
            if height <= (page.viewport_size or size)["height"]:
                break
            page.set_viewport_size({"width": size["width"], "height": height})
            page.wait_for_timeout(400)  # let Plotly redraw at the new size
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        with contextlib.suppress(Exception):
            page.set_viewport_size(size)
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """On a failure, screenshot the page now and name the file in the report."""
    report = yield
    page = getattr(item, "_e2e_page", None)
    if report.failed and report.when in ("setup", "call") and page is not None:
        path = SCREENSHOTS / f"{_scenario_name(item)}.png"
        try:
            full_page_screenshot(page, path)
            note = f"screenshot of the page at the failure: {path}"
        except Exception as err:  # the page may be gone
            note = f"no screenshot ({type(err).__name__}: {err})"
        item._e2e_screenshot = path
        report.sections.append(("e2e screenshot", note))
        app = getattr(item, "funcargs", {}).get("app")
        if isinstance(app, App):
            log = app.server.log_since(app.log_start).strip()
            report.sections.append(
                ("streamlit log during the test", log[-4000:] or "(empty)")
            )
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None:  # also in the one-line summary of -ra
            with contextlib.suppress(Exception):
                crash.message = f"{crash.message} [{note}]"
    return report


RUN_COUNTER = """(() => {
    window.__e2eRuns = 0;
    new MutationObserver(records => {
        for (const record of records) {
            if (record.target.getAttribute('data-test-script-state') === 'running') {
                window.__e2eRuns += 1;
            }
        }
    }).observe(document, {
        subtree: true, attributes: true, attributeFilter: ['data-test-script-state'],
    });
})();"""
"""Counts script runs: Streamlit marks its app element while a run is going on."""


@pytest.fixture
def page(browser: Any, app_server: AppServer, request: pytest.FixtureRequest):
    """A new browser context and page per test, screenshotted at the end."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    # The data grid's "Download as CSV" would open the File System Access save
    # dialog, which a headless browser cannot answer; without the API Streamlit
    # falls back to an ordinary download.
    context.add_init_script(
        "try { delete window.showSaveFilePicker } catch (e) {}"
        "window.showSaveFilePicker = undefined;"
    )
    context.add_init_script(RUN_COUNTER)
    context.set_default_timeout(UI_TIMEOUT_MS)
    new_page = context.new_page()
    new_page.e2e_errors = []
    new_page.on("pageerror", lambda err: new_page.e2e_errors.append(str(err)))
    request.node._e2e_page = new_page
    try:
        yield new_page
        if getattr(request.node, "_e2e_screenshot", None) is None:
            path = SCREENSHOTS / f"{_scenario_name(request.node)}.png"
            full_page_screenshot(new_page, path)
    finally:
        request.node._e2e_page = None
        context.close()


# --------------------------------------------------------------------------------
# Driving the app
# --------------------------------------------------------------------------------


class App:
    """Helpers to drive the Streamlit app by label text and ``data-testid``."""

    def __init__(self, page: Any, server: AppServer):
        self.page = page
        self.server = server
        self.log_start = server.log_size()

    # -- page state ------------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        """Load a URL of the app and wait for its script to finish."""
        self.server.visited = True
        with self.rerun():
            self.page.goto(self.server.url + path)

    def open_page(self, title: str) -> None:
        """Open the app at its start URL, then a page through the sidebar link."""
        self.open("/")
        link = self.page.locator('[data-testid="stSidebar"]').get_by_role(
            "link", name=re.compile(re.escape(title))
        )
        with self.rerun():
            link.click()

    def sidebar_nav(self) -> list[str]:
        """Texts of the sidebar's page links (icon names stripped).

        Both Streamlit's own page menu and ``st.page_link`` entries count.
        """
        links = self.page.locator('[data-testid="stSidebar"] a')
        links.first.wait_for()
        return [text.split("\n")[-1].strip() for text in links.all_inner_texts()]

    @contextlib.contextmanager
    def rerun(
        self, timeout_ms: int = UI_TIMEOUT_MS, start_timeout_ms: int = 5_000
    ) -> Iterator[None]:
        """Wait for the script run that the action in the ``with`` block starts.

        The page counts every switch of the app to "running" (see
        :data:`RUN_COUNTER`); after the action we wait for the count to grow (at
        most ``start_timeout_ms``: an action may start no run), then for the
        app to be idle and connected, and for every element to be drawn.
        """
        before = self.page.evaluate("() => window.__e2eRuns || 0")
        yield
        with contextlib.suppress(Exception):  # no run started: nothing to wait for
            self.page.wait_for_function(
                "n => (window.__e2eRuns || 0) > n",
                arg=before,
                timeout=start_timeout_ms,
                polling=50,
            )
        self.page.locator(
            '[data-testid="stApp"][data-test-script-state="notRunning"]'
            '[data-test-connection-state="CONNECTED"]'
        ).wait_for(timeout=timeout_ms)
        # Widgets whose code is still loading show grey placeholders.
        self.page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stSkeleton\"]')",
            timeout=timeout_ms,
            polling=100,
        )

    def main(self) -> Any:
        return self.page.locator('[data-testid="stMain"]')

    def alerts(self, kind: str = "Error") -> Any:
        """Alert boxes of one kind (``Error``, ``Info``, ``Warning``, ``Success``)."""
        return self.page.locator(
            f'[data-testid="stAlert"]:has([data-testid="stAlertContent{kind}"])'
        )

    def assert_clean(self) -> None:
        """No traceback: not on the page, not in an exception box, not in the log."""
        exceptions = self.page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, (
            "the page shows an exception: " + exceptions.first.inner_text()[:2000]
        )
        assert "Traceback" not in self.page.content(), "the page shows a traceback"
        log = self.server.log_since(self.log_start)
        assert "Traceback" not in log, (
            "the server logged a traceback during this test:\n" + log[-4000:]
        )
        assert not self.page.e2e_errors, f"JavaScript errors: {self.page.e2e_errors}"

    # -- widgets ---------------------------------------------------------------------

    def radio(self, label: str, option: str) -> None:
        """Choose ``option`` of the radio group labelled ``label`` (reruns)."""
        group = self.page.get_by_role("radiogroup", name=label)
        with self.rerun():
            group.get_by_text(option, exact=True).click()

    def number(self, label: str, value: float, rerun: bool = False) -> None:
        """Type a value into a number input and leave it (commits the value)."""
        box = self.page.get_by_role("spinbutton", name=label, exact=True)
        with self.rerun() if rerun else contextlib.nullcontext():
            box.fill(str(value))
            box.press("Tab")
        assert float(box.input_value()) == float(value), (
            f"{label!r} shows {box.input_value()}, not {value}"
        )

    def checkbox(self, label: str, checked: bool) -> None:
        """Tick or clear the checkbox labelled ``label`` (in a form: no rerun)."""
        box = self.page.get_by_role("checkbox", name=label, exact=True)
        if box.is_checked() != checked:
            self.page.get_by_text(label, exact=True).click()
        assert box.is_checked() == checked, f"{label!r} is not {checked}"

    def select(self, label: str, option: str | re.Pattern, rerun: bool = True) -> None:
        """Choose an option of the select box labelled ``label``."""
        box = self.page.get_by_role("combobox", name=label, exact=True)
        box.click()
        with self.rerun() if rerun else contextlib.nullcontext():
            self.page.get_by_role("option", name=option).first.click()

    def keep_only(self, label: str, keep: list[str]) -> None:
        """In the multiselect labelled ``label``, remove every tag not in ``keep``."""
        select = self.page.locator('[data-testid="stMultiSelect"]').filter(
            has=self.page.get_by_text(label, exact=True)
        )
        for tag in select.locator("[data-tag] [title]").all_inner_texts():
            if tag not in keep:
                select.get_by_role("button", name=f"Remove {tag}").click()
        chosen = select.locator("[data-tag] [title]").all_inner_texts()
        assert sorted(chosen) == sorted(keep), f"{label!r} still holds {chosen}"

    def range_slider(self, label: str, start: int, end: int) -> None:
        """Move the two thumbs of a range slider with the keyboard."""
        slider = self.page.locator('[data-testid="stSlider"]').filter(
            has=self.page.get_by_text(label, exact=True)
        )
        thumbs = slider.locator('input[type="range"]')
        # Move the start first when it goes up, the end first when it goes down.
        order = [(0, start), (1, end)]
        if start < int(thumbs.nth(0).input_value()):
            order.reverse()
        for index, target in order:
            thumb = thumbs.nth(index)
            for _ in range(100):
                value = int(thumb.input_value())
                if value == target:
                    break
                thumb.focus()
                with self.rerun():
                    thumb.press("ArrowRight" if value < target else "ArrowLeft")
        values = [int(thumbs.nth(i).input_value()) for i in (0, 1)]
        assert values == [start, end], f"{label!r} shows {values}"

    def upload(self, label: str, path: Path) -> None:
        """Give a file to the uploader labelled ``label`` (the real file input)."""
        uploader = self.page.locator('[data-testid="stFileUploader"]').filter(
            has=self.page.get_by_text(label, exact=True)
        )
        with self.rerun():
            uploader.locator('input[type="file"]').set_input_files(str(path))
        # The file's chip shows the upload; long names are shortened on screen,
        # the full name is in its title and aria-label.
        name = path.name.replace('"', '\\"')
        uploader.locator(f'[title="{name}"], [aria-label^="{name},"]').first.wait_for()

    def train(self, timeout_ms: int = TRAIN_TIMEOUT_MS) -> None:
        """Press the form's submit button (Train) and wait for the run to end."""
        button = self.page.locator('[data-testid="stFormSubmitButton"] button')
        assert button.count() == 1, "expected exactly one form submit button"
        with self.rerun(timeout_ms=timeout_ms):
            button.click()

    # -- charts and tables -----------------------------------------------------------

    def chart_traces(self) -> list[list[dict[str, Any]]]:
        """Every Plotly chart's traces: name, visibility and number of points."""
        return self.page.evaluate(
            """() => Array.from(document.querySelectorAll('.js-plotly-plot'), gd =>
                (gd.data || []).map((t, i) => {
                    // _fullData holds the decoded arrays (data may be base64).
                    const full = (gd._fullData || []).find(f => f.index === i);
                    const x = full && full.x;
                    return {
                        name: t.name,
                        visible: t.visible === undefined ? true : t.visible,
                        points: x && x.length !== undefined ? x.length : null,
                    };
                })
            )"""
        )

    def wait_for_chart(
        self, names: list[str], timeout_ms: int = TRAIN_TIMEOUT_MS
    ) -> list[dict[str, Any]]:
        """Wait for a Plotly chart holding traces with all ``names``; return it."""
        self.page.wait_for_function(
            """names => Array.from(document.querySelectorAll('.js-plotly-plot'))
                .some(gd => names.every(
                    n => (gd.data || []).some(t => t.name === n)))""",
            arg=names,
            timeout=timeout_ms,
            polling=250,
        )
        for traces in self.chart_traces():
            if all(any(t["name"] == n for t in traces) for n in names):
                return traces
        raise AssertionError(f"no chart with traces {names}")

    def dataframe_csv(self, frame: Any) -> list[dict[str, str]]:
        """Rows of an ``st.dataframe`` through its own "Download as CSV" button.

        The data grid draws on a canvas, so its cells are not in the DOM; its
        toolbar's CSV export is what the user would get.
        """
        # The toolbar is in the DOM but only shown on hover, half over the grid
        # and under the app's sticky header when scrolled; a mouse click there
        # is flaky, so the button is clicked from script (same handler).
        button = frame.get_by_role("button", name="Download as CSV")
        button.wait_for(state="attached")
        with self.page.expect_download() as info:
            button.evaluate("b => b.click()")
        text = Path(info.value.path()).read_text(encoding="utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def app(page: Any, app_server: AppServer) -> App:
    """Helpers bound to this test's page."""
    return App(page, app_server)
