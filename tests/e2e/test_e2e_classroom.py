"""Two students on one server: a place in line, Cancel, and no TensorFlow in it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import RUN_COUNTER, UI_TIMEOUT_MS, VIEWPORT, App

pytestmark = pytest.mark.browser

LONG = {"Units per layer": 32, "Window (past steps per prediction)": 20, "Epochs": 400}
# One epoch of A's GRU: its worker has that step compiled, so B trains at once.
SHORT = {**LONG, "Epochs": 1}
TINY = {"Units per layer": 4, "Window (past steps per prediction)": 20, "Epochs": 1}


def settings(app: App, values: dict[str, int], seed: int, xla: bool = False) -> None:
    app.range_slider("Training years (inclusive)", 2019, 2020)
    for label, value in {**values, "Seed": seed}.items():
        app.number(label, value)
    app.checkbox("Compile with XLA", xla)


def press_train(app: App) -> None:
    """Press Train without waiting for the training to end."""
    app.page.locator('[data-testid="stFormSubmitButton"] button').click()


def sidebar(app: App, title: str) -> None:
    """Go to a page through the sidebar menu (a reload would be a new session)."""
    link = app.page.locator('[data-testid="stSidebar"]').get_by_role(
        "link", name=re.compile(re.escape(title))
    )
    link.click()


def board(app: App):
    return app.main().locator('[data-testid="stAlert"]').filter(has_text="fits done")


def student(browser, app_server) -> tuple[Any, App]:
    """Another browser context: another student (its own Streamlit session)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RUN_COUNTER)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.e2e_errors = []
    page.on("pageerror", lambda err: page.e2e_errors.append(str(err)))
    return context, App(page, app_server)


def start_long(app: App, models: list[str], seed: int) -> None:
    settings(app, LONG, seed=seed)
    app.keep_only("Models to compare", models)
    press_train(app)
    app.page.get_by_text(re.compile(r"epoch \d+/400")).first.wait_for(timeout=120_000)


def cancel(app: App) -> None:
    with app.rerun(timeout_ms=60_000):
        app.page.get_by_role("button", name="Cancel training").click()
    app.alerts("Info").filter(has_text="Training cancelled.").wait_for()


def test_a_waiting_student_sees_a_place_in_line_and_cancel_frees_it(
    app: App, browser, app_server
) -> None:
    # A's two long jobs hold both workers (the server has no spare one), so B
    # waits for a free worker.
    app.open("/")
    start_long(app, ["LSTM", "GRU"], seed=2101)
    b_context, other = student(browser, app_server)
    try:
        other.open("/")
        settings(other, SHORT, seed=2102)
        other.keep_only("Models to compare", ["GRU"])
        press_train(other)
        waiting = board(other).filter(has_text=re.compile(r"place \d+ in line"))
        waiting.wait_for(timeout=60_000)
        other.page.screenshot(path=str(_shot("second_student_waiting")), full_page=True)
        # While it waits, the student's page still reacts: the Learn page opens.
        sidebar(other, "Learn")
        other.page.get_by_role("heading", name="Learn", exact=False).first.wait_for()

        # A cancels: A's jobs stop and B trains.
        cancel(app)
        assert app.main().get_by_role("heading", name="Results").count() == 0
        sidebar(other, "Price forecasting")  # the same session: its jobs are kept
        other.page.get_by_text("the results are below").wait_for(timeout=120_000)
        other.assert_clean()
    except Exception:
        other.page.screenshot(
            path=str(_shot("second_student_at_failure")), full_page=True
        )
        raise
    finally:
        b_context.close()
    app.assert_clean()


def test_the_server_process_never_loads_tensorflow(app: App, app_server) -> None:
    app.open("/")
    settings(app, TINY, seed=2103, xla=True)  # the default path, in a browser
    app.keep_only("Models to compare", ["SimpleRNN"])
    app.train()
    app.page.get_by_text("the results are below").wait_for()
    for title in ("Tracking", "Learn"):  # every page, with a result to show
        sidebar(app, title)
        app.main().get_by_role("heading", name=title, exact=False).first.wait_for()
    maps = Path(f"/proc/{app_server.process.pid}/maps").read_text()
    assert "tensorflow" not in maps.lower(), "the server process mapped TensorFlow"
    children = Path(f"/proc/{app_server.process.pid}/task").glob("*/children")
    workers = [pid for f in children for pid in f.read_text().split()]
    assert workers, "no worker processes under the server"
    loaded = [
        pid
        for pid in workers
        if "tensorflow" in Path(f"/proc/{pid}/maps").read_text().lower()
    ]
    assert loaded, "no worker has TensorFlow: who trained?"


def _shot(name: str) -> Path:
    folder = Path(__file__).resolve().parent / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder / f"{name}.png"
