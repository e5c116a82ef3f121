"""Tracking page in a real browser: another fly, a tiny GRU, the path chart."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

INDIVIDUAL = "Fly_3"  # the page starts on the first fly, Fly_1
TRAIN_ROWS, TEST_ROWS, FREE_RUN = 300, 100, 50


def test_tracking_other_individual_gru(app) -> None:
    """Pick Fly_3, train one tiny GRU with a free run, see its trajectory."""
    app.open_page("Tracking forecasting")
    app.page.get_by_role("heading", name="Tracking forecasting").wait_for()
    assert app.page.url.endswith("/tracking"), app.page.url
    individual = app.page.get_by_role("combobox", name="Individual", exact=True)
    assert not individual.input_value().startswith(INDIVIDUAL), "already chosen"
    app.select("Individual", re.compile(rf"^{INDIVIDUAL}\b"))
    assert individual.input_value().startswith(INDIVIDUAL), individual.input_value()
    app.number("Training rows", TRAIN_ROWS, rerun=True)
    app.number("Test rows", TEST_ROWS, rerun=True)
    preview = app.wait_for_chart(["Train", "Test (real)"], timeout_ms=30_000)
    assert {t["name"]: t["points"] for t in preview}["Test (real)"] == TEST_ROWS
    models = app.page.locator('[data-testid="stMultiSelect"]').filter(
        has=app.page.get_by_text("Models to compare", exact=True)
    )
    assert models.locator("[data-tag] [title]").all_inner_texts() == ["GRU"]
    app.number("Units per layer", 4)
    app.number("Window (past steps per prediction)", 20)
    app.number("Epochs", 1)
    app.number("Free-run horizon (steps)", FREE_RUN)
    app.checkbox("Compile with XLA", False)

    app.train()

    traces = app.wait_for_chart(["GRU one-step", "GRU free run"])
    points = {t["name"]: t["points"] for t in traces}
    assert set(points) == {
        "Train",
        "Test (real)",
        "Start of test",
        "GRU one-step",
        "GRU free run",
    }, points
    assert points["Test (real)"] == TEST_ROWS, points
    assert points["GRU one-step"] == TEST_ROWS, points
    assert points["GRU free run"] == FREE_RUN, points
    caption = (
        app.main()
        .locator('[data-testid="stCaptionContainer"]')
        .filter(has_text=f"Fly sample · {INDIVIDUAL}")
    )
    assert caption.count() == 1, "no results caption names the individual"
    text = caption.inner_text()
    assert "GRU" in text and "4 units" in text and f"free run {FREE_RUN}" in text
    assert app.page.get_by_role("tab", name="Trajectory").count() == 1
    assert app.alerts("Error").count() == 0
    app.assert_clean()
