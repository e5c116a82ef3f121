"""Learn page in a real browser: equations and the parameter table."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# Keras' counts for 4 units and 1 input feature, with the dense output layer
# (4 * 1 + 1): SimpleRNN 1 * (4 * 5 + 4), GRU 3 * (4 * 5 + 2 * 4), LSTM 4 * (4 * 5 + 4).
EXPECTED_4_UNITS = {"SimpleRNN": 29, "GRU": 89, "LSTM": 101}


def test_learn_page_renders(app) -> None:
    """Equations are typeset; the parameter table follows the Units input."""
    app.open_page("Learn")
    app.page.get_by_role("heading", name="Learn", exact=False).first.wait_for()
    assert app.page.url.endswith("/learn"), app.page.url

    equations = app.main().locator(".katex-display, .katex")
    assert equations.count() >= 4, f"only {equations.count()} typeset equations"
    assert app.main().locator(".katex-error").count() == 0, "a formula did not parse"
    for cell in ("SimpleRNN", "LSTM", "GRU"):
        assert app.page.get_by_role("tab", name=cell, exact=True).count() == 1

    app.number("Units", 4, rerun=True)
    table = app.main().locator('[data-testid="stDataFrame"]').first
    rows = app.dataframe_csv(table)
    counts = {next(iter(row.values())): int(row["parameters"]) for row in rows}
    assert counts == EXPECTED_4_UNITS, counts
    chart = app.wait_for_chart(["parameters"], timeout_ms=30_000)
    assert len(chart) == 1
    app.assert_clean()
