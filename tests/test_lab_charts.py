"""The figures of the lab views: traces, names, values."""

import numpy as np
import pandas as pd

from forecasting.charts.lab import band_figure, fold_error_figure, horizon_error_figure

BACKTEST = {
    "k": 2,
    "refit": False,
    "folds": [
        {
            "train_end": 19,
            "test_start": 20,
            "test_end": 23,
            "models": {"persistence": {"rmse": 1.0}, "gru": {"rmse": 0.5}},
        },
        {
            "train_end": 23,
            "test_start": 24,
            "test_end": 27,
            "models": {"persistence": {"rmse": 2.0}, "gru": {"rmse": 3.0}},
        },
    ],
}


def test_fold_error_figure_has_models_first_then_baselines():
    fig = fold_error_figure(BACKTEST)
    assert [t.name for t in fig.data] == ["GRU", "Persistence (naive)"]
    assert list(fig.data[0].x) == ["Fold 1", "Fold 2"]
    assert list(fig.data[0].y) == [0.5, 3.0]
    assert list(fig.data[1].y) == [1.0, 2.0]
    assert fig.data[1].line.dash == "dot"
    assert list(fig.data[0].customdata) == ["20 .. 23", "24 .. 27"]
    assert fig.layout.yaxis.title.text == "RMSE"


def test_horizon_error_figure_counts_steps_from_one():
    fig = horizon_error_figure(
        {"constant_velocity": [0.1, 0.4], "lstm": [0.2, 0.3], "persistence": [1, 2]}
    )
    assert [t.name for t in fig.data] == [
        "LSTM",
        "Constant velocity (naive)",
        "Persistence (naive)",
    ]
    assert list(fig.data[0].x) == [1, 2]
    assert list(fig.data[2].y) == [1.0, 2.0]
    assert fig.layout.xaxis.title.text == "Steps ahead"


def test_band_figure_fills_between_the_bounds():
    index = pd.RangeIndex(3)
    actual = np.array([[1.0], [2.0], [3.0]])
    fig = band_figure(
        index,
        actual,
        actual + 0.5,
        "gru",
        lower=actual - 1,
        upper=actual + 2,
        seed_low=actual,
        seed_high=actual + 1,
        nominal=0.8,
    )
    names = [t.name for t in fig.data]
    assert names == [
        "GRU seeds (min-max) (low)",
        "GRU seeds (min-max)",
        "GRU 80% interval (low)",
        "GRU 80% interval",
        "Real",
        "GRU",
    ]
    assert fig.data[3].fill == "tonexty" and list(fig.data[2].y) == [0.0, 1.0, 2.0]
    assert list(fig.data[3].y) == [3.0, 4.0, 5.0]
    assert fig.data[0].showlegend is False
    assert fig.data[3].fillcolor == "rgba(214, 39, 40, 0.15)"  # GRU's red
    plain = band_figure(index, actual, actual, "lstm")
    assert [t.name for t in plain.data] == ["Real", "LSTM"]
