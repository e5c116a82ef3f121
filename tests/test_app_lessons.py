"""The lessons beside the results (ui/views/lab.py), driven headless with AppTest.

Two kinds of test: the lessons drawn on their own for comparisons built by hand
(known forecasts, nothing trains: exact sentences and traces), and the pages
trained with tiny settings (4 units, window 5, 1 epoch), including the
random-walk control preset, where the copy warning must appear.

The tiny control test asserts the warning for the linear autoregression, which
the copy check includes (see ``ui.views.lab.CHECKED_BASELINES``): a least-squares
fit on a random walk learns "tomorrow = today" whatever the seed, while a tiny
one-epoch network is simply bad (skill about -8, best lag 0) and is not named.
One slower test (about 45 s) trains the preset's *Quick demo* (32 units, 10
epochs), where both networks have learned to copy and are named.
"""

import base64
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest
from test_app import (
    check_rows,
    errors,
    last_record,
    metrics_tables,
    new_app,
    no_exception,
    tiny,
    tracking_app,
    train,
)
from test_lessons import hand_comparison, hand_track_comparison

from forecasting import charts
from forecasting.analysis import lab
from ui.views import lab as lessons

COPIES = "mostly copies the last value"


def lessons_page(comparison, fig, feature) -> None:
    """The lessons and the copy check of one comparison, as a page of their own."""
    import plotly.graph_objects as go
    import streamlit as st

    from ui.views import lab as lessons

    lessons.show_lessons(comparison)
    # A copy: the page is rerun with the same arguments, the overlay must not pile up.
    shown = lessons.copy_check(comparison, go.Figure(fig), "copy_overlay", feature)
    st.plotly_chart(shown)


def run_lessons(comparison, fig=None, feature=0) -> AppTest:
    fig = fig if fig is not None else go.Figure()
    at = AppTest.from_function(
        lessons_page, args=(comparison, fig, feature), default_timeout=30
    )
    return at.run()


def chart_traces(at: AppTest, index: int = -1) -> list[dict]:
    """The traces of a drawn chart as Plotly's JSON dicts."""
    return json.loads(at.get("plotly_chart")[index].proto.spec)["data"]


def spec_array(value) -> np.ndarray:
    """An array from Plotly's JSON (a list, or base64 with its dtype)."""
    if not isinstance(value, dict):
        return np.asarray(value, dtype=np.float64)
    return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])


def forecast_names(at: AppTest) -> list[str]:
    """Trace names of the price page's forecast chart (found by its title)."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    (forecast,) = [
        spec["data"]
        for spec in specs
        if "one-step-ahead predictions" in spec["layout"]["title"]["text"]
    ]
    return [t["name"] for t in forecast]


def copy_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if COPIES in w.value]


# --------------------------------------------------------------------------------
# The lessons of hand-made comparisons (nothing trains)
# --------------------------------------------------------------------------------


def test_a_copy_is_named_and_the_toggle_overlays_the_shifted_series():
    comparison = hand_comparison()
    split = comparison.split
    fig = charts.forecast_figure(split.test_index, split.test, {"LSTM": split.test})
    at = run_lessons(comparison, fig)
    no_exception(at)
    (warning,) = copy_warnings(at)
    assert warning.startswith(
        "LSTM mostly copies the last value: its forecast moves one step after the "
        "real series (best lag +1) and it is no better than persistence "
        "(skill +0.000)."
    )
    assert "GRU" not in warning
    names = [t["name"] for t in chart_traces(at)]
    assert charts.SHIFTED_NAME not in names  # off until asked for
    at.toggle(key="copy_overlay").set_value(True).run()
    at.run()  # a second rerun: still one overlay
    traces = chart_traces(at)
    shifted = [t for t in traces if t["name"] == charts.SHIFTED_NAME]
    assert len(shifted) == 1 and len(traces) == 3
    y = spec_array(shifted[0]["y"])
    assert y[0] == float(split.train[-1, 0])
    np.testing.assert_array_equal(y[1:], split.test[:-1, 0])
    assert at.session_state["_keep_copy_overlay"] is True  # kept across pages


def test_the_explanations_and_the_sentence_for_fewer_than_three_seeds():
    at = run_lessons(hand_comparison(seeds=2))
    no_exception(at)
    labels = [e.label for e in at.expander]
    assert labels == ["Is it only copying yesterday? How to read Skill and Best lag"]
    assert at.markdown[0].value == lessons.SKILL_HELP
    assert lessons.FEW_SEEDS.format(n=3) in [c.value for c in at.caption]


def test_three_seeds_show_the_paired_table_and_the_verdict():
    comparison = hand_comparison(seeds=3)
    (pair,) = lab.comparison_paired(comparison)
    at = run_lessons(comparison)
    no_exception(at)
    assert at.expander[1].label == "Beyond seed noise? The models compared over 3 seeds"
    (table,) = [d.value for d in at.dataframe]
    assert list(table.columns) == list(lessons.PAIRED_COLUMNS)
    assert table.iloc[0, :2].tolist() == ["LSTM", "GRU"]
    assert table.iloc[0, 2] == pytest.approx(pair["mean_diff"])
    assert f"- {pair['verdict']}" in [m.value for m in at.markdown]
    assert pair["verdict"].startswith("GRU has a lower error than LSTM")
    assert lessons.PAIRED_HELP in [c.value for c in at.caption]


def test_three_seeds_of_one_model_have_nothing_to_pair():
    at = run_lessons(hand_comparison(seeds=3, models=("gru",)))
    no_exception(at)
    assert not at.dataframe
    assert [i.value for i in at.info] == [
        "Choose two or more models to compare them seed by seed."
    ]


def test_a_track_gets_one_shifted_trace_per_coordinate_panel():
    comparison = hand_track_comparison(("gru",))
    split = comparison.split
    fig = charts.coordinates_figure(
        split.train_index, split.train, split.test_index, split.test
    )
    at = run_lessons(comparison, fig, feature=None)
    (warning,) = copy_warnings(at)
    assert warning.startswith("GRU mostly copies the last value")
    at.toggle(key="copy_overlay").set_value(True).run()
    no_exception(at)
    shifted = [t for t in chart_traces(at) if t["name"] == charts.SHIFTED_NAME]
    assert [t["yaxis"] for t in shifted] == ["y", "y2"]
    assert [t["showlegend"] for t in shifted] == [True, False]
    assert spec_array(shifted[1]["y"])[0] == float(split.train[-1, 1])


def test_no_copy_no_warning_and_no_toggle():
    at = run_lessons(hand_track_comparison(("lstm",)), feature=None)
    no_exception(at)
    assert not copy_warnings(at) and not at.toggle


# --------------------------------------------------------------------------------
# The pages, trained with tiny settings
# --------------------------------------------------------------------------------


def test_the_random_walk_control_flags_the_copy_on_the_price_page():
    at = new_app()
    at.selectbox(key="price_preset").set_value("random-walk-control")
    at.button(key="price_preset_use").click().run()
    no_exception(at)
    assert any(c.value.startswith("A control experiment:") for c in at.caption)
    tiny(at, "price", seed=1701)
    train(at)
    no_exception(at)
    assert not errors(at)
    table = check_rows(at, "price", ["lstm", "gru"])
    assert {"Skill", "Best lag"} <= set(table)
    assert table.loc["Persistence (naive)", "Skill"] == 0.0
    assert table.loc["Persistence (naive)", "Best lag"] == "+1"
    values = lab.skill_and_lag(last_record(at, "price").comparison)
    assert values["linear_ar"]["best_lag"] == 1
    assert values["linear_ar"]["skill"] <= 0
    assert table.loc["Linear autoregression", "Best lag"] == "+1"
    (warning,) = copy_warnings(at)
    assert "Linear autoregression mostly copies the last value" in warning
    assert charts.SHIFTED_NAME not in forecast_names(at)
    at.toggle(key="price_copy_overlay").set_value(True).run()
    no_exception(at)
    assert forecast_names(at)[-1] == charts.SHIFTED_NAME


def test_three_seeds_on_the_price_page_show_the_paired_comparison():
    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["lstm", "gru"])
    tiny(at, "price", seed=1801, seeds=3)
    train(at)
    no_exception(at)
    assert not errors(at)
    check_rows(at, "price", ["lstm", "gru"])
    pairs = lab.comparison_paired(last_record(at, "price").comparison)
    (table,) = [d.value for d in at.dataframe if "Model A" in d.value.columns]
    assert table.iloc[0, :2].tolist() == ["LSTM", "GRU"]
    assert f"- {pairs[0]['verdict']}" in [m.value for m in at.markdown]


def test_the_tracking_table_has_skill_and_best_lag():
    at = tracking_app()
    at.number_input(key="trk_train_rows").set_value(300)
    at.number_input(key="trk_test_rows").set_value(100)
    tiny(at, "trk", seed=1901, rollout=0)
    train(at)
    no_exception(at)
    assert not errors(at)
    table = check_rows(at, "tracking", ["gru"])
    assert {"Skill", "Best lag", "Mean distance"} <= set(table)
    values = lab.skill_and_lag(last_record(at, "tracking").comparison)
    assert table.loc["Constant velocity (naive)", "Skill"] == pytest.approx(
        values["constant_velocity"]["skill"]
    )
    labels = [e.label for e in at.expander]
    assert "Is it only copying yesterday? How to read Skill and Best lag" in labels
    assert len(metrics_tables(at)) == 1


@pytest.mark.slow
def test_the_control_quick_demo_flags_both_networks():
    """The preset's *Quick demo* (32 units, 10 epochs): the networks copy too."""
    at = new_app()
    at.selectbox(key="price_preset").set_value("random-walk-control")
    at.button(key="price_preset_use").click().run()
    at.button(key="price_preset_quick").click().run()
    train(at)
    no_exception(at)
    assert not errors(at)
    values = lab.skill_and_lag(last_record(at, "price").comparison)
    assert [values[k]["best_lag"] for k in ("lstm", "gru")] == [1, 1]
    assert values["lstm"]["skill"] <= 0 and values["gru"]["skill"] <= 0
    (warning,) = copy_warnings(at)
    assert warning.startswith("LSTM mostly copies the last value")
    assert "GRU mostly copies the last value" in warning
