import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from forecasting import charts


@pytest.fixture
def dates() -> pd.DatetimeIndex:
    return pd.bdate_range("2020-01-01", periods=60, name="Date")


@pytest.fixture
def prices(dates) -> pd.DataFrame:
    t = np.arange(len(dates))
    return pd.DataFrame({"High": 100 + t, "Low": 90 + t}, index=dates)


def names(fig: go.Figure) -> list[str]:
    return [trace.name for trace in fig.data]


def test_model_colors_are_stable_and_distinct():
    assert charts.model_color("GRU") == charts.model_color("gru")
    colors = {charts.model_color(k) for k in ("lstm", "gru", "simple_rnn")}
    assert len(colors) == 3
    assert charts.model_color("Something else") == charts.model_color("Something else")


def test_series_figure_colours_train_and_test_periods(prices, dates):
    train, test = dates[:40], dates[40:55]
    fig = charts.series_figure(prices, ["High"], train, test, title="MA")
    assert names(fig) == ["High · train", "High · test", "High · not used"]
    for trace in fig.data:
        assert len(trace.y) == len(prices)  # gaps, not shorter traces
    y_train, y_test, y_unused = (np.asarray(t.y, dtype=float) for t in fig.data)
    assert np.isfinite(y_train).sum() == 40
    assert np.isfinite(y_test).sum() == 15
    assert np.isfinite(y_unused).sum() == 5
    assert fig.data[0].line.color != fig.data[1].line.color
    assert fig.layout.xaxis.rangeslider.visible is True
    assert [s.type for s in fig.layout.shapes] == ["rect", "rect"]


def test_series_figure_without_split_and_several_columns(prices):
    fig = charts.series_figure(prices, ["High", "Low"])
    assert names(fig) == ["High", "Low"]
    assert len(fig.layout.shapes) == 0


def test_forecast_figure_overlays_models_on_real(dates):
    test_index = dates[40:]
    actual = np.arange(20.0)[:, None]
    predictions = {"LSTM": actual + 1, "GRU": actual - 1}
    baselines = {"Persistence (naive)": actual, "Linear autoregression": actual}
    fig = charts.forecast_figure(
        test_index,
        actual,
        predictions,
        baselines,
        context_index=dates[30:40],
        context=np.ones((10, 1)),
        title="t",
        y_title="High",
    )
    assert names(fig) == [
        "Training (last rows)",
        "Real",
        "LSTM",
        "GRU",
        "Persistence (naive)",
        "Linear autoregression",
    ]
    assert len(fig.data[0].x) == 10
    assert all(len(trace.y) == 20 for trace in fig.data[1:])
    assert fig.data[2].line.color == charts.model_color("LSTM")
    assert [t.visible for t in fig.data[4:]] == ["legendonly", "legendonly"]
    assert fig.data[4].line.dash != fig.data[5].line.dash
    assert fig.layout.hovermode == "x unified"
    assert fig.layout.xaxis.rangeslider.visible is True
    assert fig.layout.yaxis.title.text == "High"


def test_forecast_figure_picks_the_feature_and_skips_slider_for_rows():
    index = pd.RangeIndex(100, 110)
    actual = np.column_stack([np.zeros(10), np.ones(10)])
    fig = charts.forecast_figure(index, actual, {"GRU": actual}, feature=1)
    assert names(fig) == ["Real", "GRU"]
    assert list(fig.data[0].y) == [1.0] * 10
    assert not fig.layout.xaxis.rangeslider.visible


def test_residuals_figure_one_panel_per_model(dates):
    actual = np.arange(5.0)
    fig = charts.residuals_figure(
        dates[:5], actual, {"LSTM": actual + 2, "SimpleRNN": actual - 1}
    )
    assert names(fig) == ["LSTM", "SimpleRNN"]
    assert list(fig.data[0].y) == [2.0] * 5
    assert list(fig.data[1].y) == [-1.0] * 5
    assert fig.data[0].yaxis == "y" and fig.data[1].yaxis == "y2"
    assert [a.text for a in fig.layout.annotations] == ["LSTM", "SimpleRNN"]
    assert len(fig.layout.shapes) == 2  # a zero line per panel


def test_loss_figure_solid_loss_and_dashed_val_loss():
    fig = charts.loss_figure(
        {
            "LSTM": {"loss": [0.3, 0.2, 0.1], "val_loss": [0.4, 0.3, 0.35]},
            "GRU": {"loss": [0.5, 0.25]},
        }
    )
    assert names(fig) == ["LSTM loss", "LSTM val loss", "GRU loss"]
    assert list(fig.data[0].x) == [1, 2, 3]
    assert fig.data[1].line.dash == "dash"
    assert fig.data[0].line.color == fig.data[1].line.color
    assert fig.layout.yaxis.type == "log"


def test_trajectory_figure_has_equal_axis_scales():
    train = np.column_stack([np.arange(30.0), np.zeros(30)])
    test = np.column_stack([np.arange(30.0, 40.0), np.ones(10)])
    fig = charts.trajectory_figure(
        train,
        test,
        {"GRU": test + 0.1},
        {"GRU": np.zeros((25, 2))},
        columns=("X", "Y"),
    )
    assert names(fig) == [
        "Train",
        "Test (real)",
        "Start of test",
        "GRU one-step",
        "GRU free run",
    ]
    assert len(fig.data[0].x) == 30 and len(fig.data[1].x) == 10
    assert len(fig.data[3].x) == 10 and len(fig.data[4].x) == 25
    assert fig.data[4].line.dash == "dash"
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.yaxis.scaleratio == 1
    assert fig.layout.xaxis.title.text == "X"
    assert fig.layout.yaxis.title.text == "Y"


def test_trajectory_height_follows_the_aspect_ratio():
    wide = np.column_stack([np.arange(100.0), np.zeros(100)])
    wide[0, 1] = 5.0
    square = np.column_stack([np.arange(100.0), np.arange(100.0)])
    low = charts.trajectory_figure(wide, wide[:10]).layout.height
    high = charts.trajectory_figure(square, square[:10]).layout.height
    assert 320 <= low < high <= 700


def test_coordinates_figure_panels_and_free_run_past_the_test():
    train_index = pd.RangeIndex(0, 50)
    test_index = pd.RangeIndex(50, 60)
    train = np.zeros((50, 2))
    test = np.ones((10, 2))
    fig = charts.coordinates_figure(
        train_index,
        train,
        test_index,
        test,
        {"GRU": test},
        {"GRU": np.ones((15, 2))},
        columns=("X", "Y"),
        context_rows=20,
    )
    per_panel = ["Train", "Test (real)", "GRU one-step", "GRU free run"]
    assert names(fig) == per_panel * 2
    assert [t.showlegend for t in fig.data] == [True] * 4 + [False] * 4
    assert len(fig.data[0].x) == 20  # only the last training rows
    assert list(fig.data[3].x) == list(range(50, 65))  # continues past the test
    assert fig.data[4].yaxis == "y2"
    assert fig.layout.hovermode == "x unified"


def test_continue_index_for_dates_and_numbers(dates):
    assert list(charts.continue_index(dates[:5], 3)) == list(dates[:3])
    longer = charts.continue_index(dates[:3], 5)
    assert len(longer) == 5 and longer[-1] > dates[2]
    rows = charts.continue_index(pd.Index([481, 482, 483]), 5)
    assert list(rows) == [481, 482, 483, 484, 485]


def test_parameters_figure_one_bar_per_model():
    fig = charts.parameters_figure({"LSTM": 63626, "GRU": 48126, "SimpleRNN": 16001})
    assert len(fig.data) == 1
    assert list(fig.data[0].x) == ["LSTM", "GRU", "SimpleRNN"]
    assert list(fig.data[0].y) == [63626, 48126, 16001]
    assert fig.data[0].text[0] == "63,626"


def test_builders_return_new_figures_and_import_no_streamlit():
    import ast
    from pathlib import Path

    fig_a = charts.loss_figure({"GRU": {"loss": [1.0]}})
    fig_b = charts.loss_figure({"GRU": {"loss": [1.0]}})
    assert fig_a is not fig_b
    tree = ast.parse(Path(charts.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"streamlit", "tensorflow", "keras"}


def test_a_diverged_model_gets_a_sentence_not_a_crash():
    import numpy as np
    import pandas as pd

    from ui.views.compare import verdict_lines

    rmse = pd.Series(
        [np.nan, 6.0, 5.3, 5.7],
        index=["LSTM", "GRU", "Persistence (naive)", "Linear autoregression"],
    )
    lines = verdict_lines(rmse, np.array([True, True, False, False]))
    assert lines[0].startswith("Best model by RMSE: **GRU** (6.000), which does")
    assert "**Persistence (naive)** (5.300)" in lines[0]
    assert lines[1].startswith("**LSTM** diverged: the training loss became NaN")
    all_nan = pd.Series([np.nan, 5.3], index=["GRU", "Persistence (naive)"])
    assert verdict_lines(all_nan, np.array([True, False])) == [
        "**GRU** diverged: the training loss became NaN (not a number), so there "
        "is no forecast to score; lower the learning rate or choose another "
        "optimizer."
    ]
