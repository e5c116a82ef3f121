"""Intervals, error by horizon and the walk-forward backtest on the app's pages.

Headless AppTest with tiny models (4 units, window 5, 1 epoch). The numbers on
screen are checked against :mod:`forecasting.analysis.intervals`, ``horizon``
and ``backtest`` applied to the stored
comparison; the small helpers of :mod:`ui.views.intervals`, ``horizon`` and
``backtest`` against hand-made cases.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from forecasting.analysis.backtest import backtest_frame, refit_seconds, run_backtest
from forecasting.analysis.horizon import comparison_horizon_errors
from forecasting.analysis.intervals import Interval, model_intervals
from forecasting.prep.budget import describe_seconds
from tests.test_app import (
    TIMEOUT,
    errors,
    last_record,
    new_app,
    no_exception,
    tiny,
    tracking_app,
    train,
)
from ui.views.backtest import fold_wins
from ui.views.horizon import useful_steps
from ui.views.intervals import coverage_text

# --------------------------------------------------------------------------------
# The helpers, on cases small enough to check by hand
# --------------------------------------------------------------------------------


def interval(method: str, widths: list[float], coverage: float | None) -> Interval:
    width = np.array(widths)
    rows = np.zeros((3, len(widths)))
    return Interval(0.8, method, width, rows - width, rows + width, 25, coverage)


def test_coverage_text_gives_width_reached_and_nominal():
    text = coverage_text(interval("coordinate", [1.2345], 0.764), "gru", ("High",))
    assert text == (
        "**GRU**: the 80% interval (± 1.234 High) held 76.4% of the real test "
        "values (nominal 80%), calibrated on 25 training rows."
    )
    text = coverage_text(interval("distance", [2.5, 2.5], 0.9), "lstm", ("X", "Y"))
    assert "(a radius of 2.500) held 90.0% of the real test positions" in text


def test_useful_steps_counts_the_first_steps_below_every_baseline():
    errors = {
        "gru": np.array([0.5, 0.9, 2.0, 0.1]),  # below the best baseline twice
        "lstm": np.array([3.0, 0.1, 0.1, 0.1]),  # worse at step 1
        "simple_rnn": np.array([0.1, 0.1, 0.1, 0.1]),  # always better
        "persistence": np.array([1.0, 1.0, 1.0, 1.0]),
        "linear_ar": np.array([2.0, 2.0, 1.5, 0.5]),
    }
    assert useful_steps(errors) == {"gru": 2, "lstm": 0, "simple_rnn": 4}


def test_fold_wins_compares_the_best_model_with_the_best_baseline():
    backtest = {
        "folds": [
            {"models": {"gru": {"rmse": 1.0}, "persistence": {"rmse": 2.0}}},
            {"models": {"gru": {"rmse": 3.0}, "persistence": {"rmse": 2.0}}},
            {"models": {"gru": {"rmse": None}, "persistence": {"rmse": 2.0}}},
        ]
    }
    assert fold_wins(backtest, "rmse") == (1, 3)


# --------------------------------------------------------------------------------
# The price page
# --------------------------------------------------------------------------------


def spec_array(value) -> np.ndarray:
    """An array from Plotly's JSON (a list, or base64 with dtype and shape)."""
    if not isinstance(value, dict):
        return np.asarray(value, dtype=np.float64)
    data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    shape = [int(n) for n in str(value.get("shape", len(data))).split(",")]
    return data.reshape(shape)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def figure_named(at: AppTest, title: str) -> dict:
    found = [f for f in figures(at) if title in f["layout"]["title"]["text"]]
    assert found, [f["layout"]["title"]["text"] for f in figures(at)]
    return found[-1]


def trace_names(fig: dict) -> list[str]:
    return [trace["name"] for trace in fig["data"]]


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption])


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    at.session_state[key] = label
    return at.run(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def price_app() -> AppTest:
    """GRU with two seeds and a 20-day free run, trained once for the module."""
    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["gru"])
    tiny(at, "price", seed=2101, seeds=2, rollout=20)
    train(at)
    no_exception(at)
    assert not errors(at)
    return at


def test_price_interval_band_with_seeds_and_the_coverage_reached(price_app):
    at = price_app
    comparison = last_record(at, "price").comparison
    fig = figure_named(at, "one-step forecast with its interval")
    assert trace_names(fig) == [
        "GRU seeds (min-max) (low)",
        "GRU seeds (min-max)",
        "GRU 80% interval (low)",
        "GRU 80% interval",
        "Real",
        "GRU",
    ]
    expected = model_intervals(comparison, 0.8)["gru"]
    np.testing.assert_allclose(
        spec_array(fig["data"][3]["y"]), expected.upper[:, 0], rtol=1e-9
    )
    shown = texts(at)
    assert f"held {expected.coverage:.1%} of the real test values (nominal 80%)" in (
        shown
    )
    # Early stopping is off: the calibration rows were trained on.
    assert any("too narrow" in w.value for w in at.warning)

    at.radio(key="price_eval_coverage").set_value(0.95).run(timeout=TIMEOUT)
    no_exception(at)
    wide = model_intervals(comparison, 0.95)["gru"]
    assert "GRU 95% interval" in trace_names(figure_named(at, "with its interval"))
    assert f"held {wide.coverage:.1%} of the real test values (nominal 95%)" in (
        texts(at)
    )
    assert wide.half_width[0] >= expected.half_width[0]


def test_price_error_by_horizon_puts_models_and_baselines_on_one_chart(price_app):
    at = open_tab(price_app, "price_eval_tab", "Error by horizon")
    no_exception(at)
    comparison = last_record(at, "price").comparison
    assert comparison.rollout_steps == 20
    fig = figure_named(at, "Free-run error by days ahead")
    assert trace_names(fig) == [
        "GRU",
        "Persistence (naive)",
        "Linear autoregression",
    ]
    expected = comparison_horizon_errors(comparison, 20)
    for trace, kind in zip(
        fig["data"], ["gru", "persistence", "linear_ar"], strict=True
    ):
        np.testing.assert_array_equal(spec_array(trace["x"]), np.arange(1, 21))
        np.testing.assert_allclose(spec_array(trace["y"]), expected[kind], rtol=1e-9)
    assert "closer than" in texts(at)


def test_price_backtest_without_and_with_refits(price_app):
    from ui.running import jobs as runner

    at = open_tab(price_app, "price_eval_tab", "Walk-forward backtest")
    no_exception(at)
    at.number_input(key="price_eval_folds").set_value(3).run(timeout=TIMEOUT)
    no_exception(at)
    comparison = last_record(at, "price").comparison
    fig = figure_named(at, "Error per test fold")
    assert trace_names(fig) == ["GRU", "Persistence (naive)", "Linear autoregression"]
    expected = backtest_frame(run_backtest(comparison, 3))
    np.testing.assert_allclose(
        spec_array(fig["data"][0]["y"]), expected["gru"], rtol=1e-9
    )
    table = next(d.value for d in at.dataframe if "Test rows" in d.value.columns)
    assert len(table) == 3
    np.testing.assert_allclose(table["GRU"], expected["gru"], rtol=1e-9)
    assert "networks trained once" in texts(at)

    at.toggle(key="price_eval_refit").set_value(True).run(timeout=TIMEOUT)
    no_exception(at)
    seconds = refit_seconds(comparison.split, comparison.config, 3)
    assert any(
        "Refitting trains 4 more fit(s)" in c.value
        and describe_seconds(seconds) in c.value
        for c in at.caption
    )
    before = runner.engine().launched
    at.button(key="price_eval_run").click().run(timeout=TIMEOUT)
    no_exception(at)
    assert not errors(at)
    assert runner.engine().launched == before + 4  # 2 more folds x 2 seeds
    assert any("Refitted the networks on 2 more fold(s)" in s.value for s in at.success)
    assert "networks refitted on each fold" in texts(at)
    kept = last_record(at, "price").extras["backtests"][(3, True)]
    assert kept["refit"] and len(kept["folds"]) == 3
    refitted = figure_named(at, "Error per test fold")
    # Fold 1 trains on the training period in both: the comparison's own fits.
    assert spec_array(refitted["data"][0]["y"])[0] == pytest.approx(
        spec_array(fig["data"][0]["y"])[0]
    )


def test_refits_over_the_budget_are_refused_in_one_sentence(price_app, monkeypatch):
    at = open_tab(price_app, "price_eval_tab", "Walk-forward backtest")
    monkeypatch.setenv("FORECASTING_BUDGET_SECONDS", "0.001")
    at.number_input(key="price_eval_folds").set_value(2)
    at.toggle(key="price_eval_refit").set_value(True).run(timeout=TIMEOUT)
    no_exception(at)
    assert any("Refitting needs" in e and "fewer folds" in e for e in errors(at))
    assert all(b.key != "price_eval_run" for b in at.button)


def test_price_without_a_free_run_says_how_to_get_one():
    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["gru"])
    tiny(at, "price", seed=2201, early_stopping=True)
    train(at)
    no_exception(at)
    assert not errors(at)
    assert not any("too narrow" in w.value for w in at.warning)  # held out
    at = open_tab(at, "price_eval_tab", "Error by horizon")
    no_exception(at)
    assert any("trained without a free run" in i.value for i in at.info)


# --------------------------------------------------------------------------------
# The tracking page
# --------------------------------------------------------------------------------


def test_tracking_interval_is_a_radius_and_horizon_has_constant_velocity():
    at = tracking_app()
    at.number_input(key="trk_train_rows").set_value(300)
    at.number_input(key="trk_test_rows").set_value(100)
    tiny(at, "trk", seed=2301, rollout=30)
    train(at)
    no_exception(at)
    assert not errors(at)
    comparison = last_record(at, "tracking").comparison
    expected = model_intervals(comparison, 0.8, "distance")["gru"]
    assert expected.method == "distance"
    assert (
        f"(a radius of {expected.half_width[0]:,.3f}) held {expected.coverage:.1%} "
        "of the real test positions (nominal 80%)"
    ) in texts(at)
    fig = figure_named(at, "one-step forecast with its interval")
    assert trace_names(fig)[-2:] == ["Real", "GRU"]
    at.selectbox(key="trk_eval_column").set_value("Y").run(timeout=TIMEOUT)
    fig = figure_named(at, "Y: GRU one-step forecast")
    np.testing.assert_allclose(
        spec_array(fig["data"][-2]["y"]), comparison.actual[:, 1]
    )

    at = open_tab(at, "trk_eval_tab", "Error by horizon")
    no_exception(at)
    fig = figure_named(at, "Free-run error by steps ahead")
    names = trace_names(fig)
    assert names[0] == "GRU" and "Constant velocity (naive)" in names
    errors_by_kind = comparison_horizon_errors(comparison, 30)
    np.testing.assert_allclose(
        spec_array(fig["data"][0]["y"]), errors_by_kind["gru"], rtol=1e-9
    )

    at = open_tab(at, "trk_eval_tab", "Walk-forward backtest")
    no_exception(at)
    fig = figure_named(at, "Error per test fold")
    assert "Constant velocity (naive)" in trace_names(fig)
    assert fig["layout"]["yaxis"]["title"]["text"] == "Mean distance"
