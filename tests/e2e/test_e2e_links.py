"""Shareable setups in a real browser: a link opens the same settings elsewhere."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

import pytest
from conftest import RUN_COUNTER, UI_TIMEOUT_MS, VIEWPORT, App

pytestmark = pytest.mark.browser

MODELS = "Models to compare"
TRAINING_YEARS = "Training years (inclusive)"
SHARE = "Copy link to this setup"


def fresh_browser(browser: Any, app_server: Any) -> tuple[Any, App]:
    """A new browser context: another student, with no session of the app yet."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RUN_COUNTER)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.e2e_errors = []
    page.on("pageerror", lambda err: page.e2e_errors.append(str(err)))
    return context, App(page, app_server)


def chosen(app: App, label: str) -> list[str]:
    """The tags of the multiselect labelled ``label``."""
    select = app.page.locator('[data-testid="stMultiSelect"]').filter(
        has=app.page.get_by_text(label, exact=True)
    )
    return select.locator("[data-tag] [title]").all_inner_texts()


def number(app: App, label: str) -> str:
    return app.page.get_by_role("spinbutton", name=label, exact=True).input_value()


def years(app: App) -> list[int]:
    slider = app.page.locator('[data-testid="stSlider"]').filter(
        has=app.page.get_by_text(TRAINING_YEARS, exact=True)
    )
    thumbs = slider.locator('input[type="range"]')
    return [int(thumbs.nth(i).input_value()) for i in (0, 1)]


def shared_link(app: App) -> str:
    """Open the *Copy link to this setup* box and read the address in it."""
    box = app.page.locator('[data-testid="stExpander"]').filter(has_text=SHARE)
    box.get_by_text(SHARE).click()
    code = box.locator("code")
    code.wait_for()
    return code.inner_text().strip()


def wait_for_address(app: App, part: str) -> None:
    app.page.wait_for_function(
        "part => window.location.search.includes(part)", arg=part, polling=100
    )


def test_a_shared_price_link_opens_the_same_setup_in_a_fresh_browser(
    app: App, browser: Any, app_server: Any
) -> None:
    """A teacher's link restores models, epochs and split; a change travels too."""
    app.open("/?models=lstm,gru&epochs=3&train_start_year=2018&train_end_year=2019")
    app.page.get_by_role("heading", name="Price forecasting").wait_for()
    assert chosen(app, MODELS) == ["LSTM", "GRU"]
    assert number(app, "Epochs") == "3"
    assert years(app) == [2018, 2019]

    app.range_slider(TRAINING_YEARS, 2017, 2019)
    wait_for_address(app, "train_start_year=2017")
    link = shared_link(app)
    # The same address as the browser's (which writes the comma as %2C).
    assert link == unquote(app.page.url), (link, app.page.url)
    assert link.startswith(app_server.url + "/?")
    assert re.search(r"[?&]epochs=3(&|$)", link), link
    app.assert_clean()

    context, student = fresh_browser(browser, app_server)
    try:
        student.open(link.removeprefix(app_server.url))
        student.page.get_by_role("heading", name="Price forecasting").wait_for()
        assert chosen(student, MODELS) == ["LSTM", "GRU"]
        assert number(student, "Epochs") == "3"
        assert years(student) == [2017, 2019]
        assert student.alerts("Warning").count() == 0
        assert shared_link(student) == link
        student.assert_clean()
    finally:
        context.close()


def test_a_tracking_link_opens_the_individual_and_free_run(
    browser: Any, app_server: Any
) -> None:
    """A link straight to the tracking page, with a bad value among good ones."""
    context, student = fresh_browser(browser, app_server)
    try:
        student.open("/tracking?individual=Fly_2&rollout=0&epochs=abc&units=8")
        student.page.get_by_role("heading", name="Tracking forecasting").wait_for()
        individual = student.page.get_by_role("combobox", name="Individual", exact=True)
        assert individual.input_value().startswith("Fly_2"), individual.input_value()
        assert number(student, "Free-run horizon (steps)") == "0"
        assert number(student, "Units per layer") == "8"
        assert number(student, "Epochs") == "50"
        warning = student.alerts("Warning")
        assert warning.count() == 1
        assert "epochs value 'abc'" in warning.inner_text()
        wait_for_address(student, "individual=Fly_2")
        assert "epochs" not in student.page.url
        student.assert_clean()
    finally:
        context.close()


def test_a_hostile_link_value_shows_as_text_with_no_link_or_image(
    browser: Any, app_server: Any
) -> None:
    """Markdown in a link's value is shown as it is, to every student who opens it."""
    hostile = "**Teacher:** [sign in](http://evil/) ![](http://evil/t.png)"
    context, student = fresh_browser(browser, app_server)
    try:
        student.open("/?epochs=" + quote(hostile, safe=""))
        student.page.get_by_role("heading", name="Price forecasting").wait_for()
        warning = student.alerts("Warning")
        assert warning.count() == 1
        assert f"epochs value '{hostile}' cannot be used" in warning.inner_text()
        assert warning.locator("a, img, strong").count() == 0
        student.assert_clean()
    finally:
        context.close()
