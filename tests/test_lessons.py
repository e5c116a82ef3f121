"""The lessons beside the results (ui/views/lab.py) and the shifted-series overlay.

Nothing here trains or runs a page: comparisons are built by hand from known
forecasts ("lstm" repeats the last value, "gru" is the real series plus an
offset), so skill, lag and the paired numbers are known exactly.
"""

import math

import numpy as np
import pandas as pd
import pytest

from forecasting import charts
from forecasting.analysis import lab
from forecasting.analysis.compare import (
    Comparison,
    ModelRun,
    metrics_table,
    naive_baselines,
)
from forecasting.data import as_track
from forecasting.prep.windows import prepare_windows, split_series
from forecasting.settings.config import ExperimentConfig, SplitConfig, TrainConfig
from ui.views import lab as lessons
from ui.views.tables import metrics_display, style_metrics


def hand_comparison(seeds: int = 1, models: tuple[str, ...] = ("lstm", "gru")):
    """A 2019 -> 2020 price comparison whose "models" are known forecasts."""
    rng = np.random.default_rng(5)
    index = pd.bdate_range("2019-01-01", "2020-12-31", name="Date")
    frame = pd.DataFrame(
        {"High": 100 + np.cumsum(rng.normal(size=len(index)))}, index=index
    )
    config = ExperimentConfig(
        columns=("High",),
        split=SplitConfig.by_years(2019, 2019),
        window=5,
        models=models,
        train=TrainConfig(seeds=seeds),
    )
    split = split_series(frame, config.columns, config.split)
    baselines = naive_baselines(split, config.window)
    offsets = 0.1 * np.arange(1, seeds + 1)
    known = {
        "lstm": np.stack([baselines["persistence"]] * seeds),
        "gru": np.stack([split.test + o for o in offsets]),
    }
    predictions = {k: known[k] for k in models}
    runs = {k: ModelRun(k, v, []) for k, v in predictions.items()}
    table = metrics_table(split.test, predictions, baselines)
    windows = prepare_windows(split, config.window)
    return Comparison(config, windows, runs, baselines, table)


def hand_track_comparison(models: tuple[str, ...] = ("gru",)) -> Comparison:
    """A 2-D circle track, 200 rows to train and 100 to test, with known forecasts.

    "gru" repeats the last position (a copy), "lstm" is the real path plus 0.1.
    """
    rng = np.random.default_rng(3)
    t = np.arange(300) / 15
    frame = as_track(
        pd.DataFrame(
            {
                "X": 50 + 20 * np.cos(t) + rng.normal(0, 0.3, 300),
                "Y": 20 + 5 * np.sin(t) + rng.normal(0, 0.3, 300),
            }
        )
    )
    config = ExperimentConfig(
        columns=("X", "Y"),
        split=SplitConfig.by_rows(200, 100),
        window=5,
        models=models,
    )
    split = split_series(frame, config.columns, config.split)
    baselines = naive_baselines(split, config.window)
    known = {"gru": baselines["persistence"][None], "lstm": split.test[None] + 0.1}
    predictions = {k: known[k] for k in models}
    runs = {k: ModelRun(k, v, []) for k, v in predictions.items()}
    table = metrics_table(split.test, predictions, baselines, with_euclidean=True)
    windows = prepare_windows(split, config.window)
    return Comparison(config, windows, runs, baselines, table)


# --------------------------------------------------------------------------------
# Skill and Best lag in the metrics table
# --------------------------------------------------------------------------------


def test_the_metrics_table_gains_skill_and_best_lag_before_the_fit_time():
    comparison = hand_comparison()
    table = lessons.metrics_with_skill(comparison)
    shown = metrics_display(table)
    assert list(shown.columns) == [
        "RMSE",
        "MAE",
        "MAPE %",
        "Skill",
        "Best lag",
        "Fit time (s)",
        "Parameters",
        "Epochs",
    ]
    assert list(shown.index) == [
        "LSTM",
        "GRU",
        "Persistence (naive)",
        "Linear autoregression",
    ]
    persistence_rmse = table.loc["Persistence (naive)", "rmse"]
    assert shown.loc["LSTM", "Skill"] == 0.0
    assert shown.loc["GRU", "Skill"] == pytest.approx(1 - 0.1 / persistence_rmse)
    assert shown.loc["Persistence (naive)", "Skill"] == 0.0
    assert shown["Best lag"].tolist()[:3] == [1.0, 0.0, 1.0]
    data = style_metrics(shown).data
    assert data["Best lag"].tolist()[:3] == ["+1", "+0", "+1"]  # text, signed
    assert data["Skill"].dtype == float  # a number: sortable
    assert "skill" not in comparison.metrics  # the comparison is not changed


def test_a_diverged_model_has_no_skill_and_no_lag():
    comparison = hand_comparison()
    comparison.runs["gru"].seed_predictions[:] = np.nan
    comparison.metrics.loc["GRU", ["rmse", "mae", "mape"]] = np.nan
    shown = metrics_display(lessons.metrics_with_skill(comparison))
    assert math.isnan(shown.loc["GRU", "Skill"])
    assert style_metrics(shown).data.loc["GRU", "Best lag"] == "—"


# --------------------------------------------------------------------------------
# Which forecasts "only copy yesterday"
# --------------------------------------------------------------------------------


def test_the_copy_check_looks_at_the_networks_and_the_autoregression():
    assert lessons.checked_labels(hand_comparison()) == {
        "lstm": "LSTM",
        "gru": "GRU",
        "linear_ar": "Linear autoregression",
    }


def test_on_a_track_constant_velocity_is_not_checked():
    comparison = hand_track_comparison(("gru", "lstm"))
    assert "constant_velocity" in comparison.baselines
    assert lessons.checked_labels(comparison) == {
        "gru": "GRU",
        "lstm": "LSTM",
        "linear_ar": "Linear autoregression",
    }
    lines = lessons.copy_sentences(
        lab.skill_and_lag(comparison), lessons.checked_labels(comparison)
    )
    # The autoregression follows the circle with real skill: only the copy is named.
    assert [line.split(" mostly")[0] for line in lines] == ["GRU"]


def test_one_sentence_per_copying_forecast_in_the_order_given():
    values = {
        "lstm": {"skill": -0.25, "best_lag": 1},
        "gru": {"skill": 0.1, "best_lag": 1},  # lag +1 but real skill
        "simple_rnn": {"skill": -0.5, "best_lag": 0},  # bad, but not late
        "linear_ar": {"skill": 0.0, "best_lag": 1},
        "persistence": {"skill": 0.0, "best_lag": 1},  # not asked about
    }
    labels = {
        "linear_ar": "Linear autoregression",
        "lstm": "LSTM",
        "gru": "GRU",
        "simple_rnn": "SimpleRNN",
        "missing": "Missing",
    }
    assert lessons.copy_sentences(values, labels) == [
        "Linear autoregression mostly copies the last value: its forecast moves one "
        "step after the real series (best lag +1) and it is no better than "
        "persistence (skill +0.000).",
        "LSTM mostly copies the last value: its forecast moves one step after the "
        "real series (best lag +1) and it is no better than persistence "
        "(skill -0.250).",
    ]
    assert lessons.copy_sentences(values, {"gru": "GRU"}) == []


def test_the_hand_made_copy_is_named_and_the_offset_model_is_not():
    comparison = hand_comparison()
    lines = lessons.copy_sentences(
        lab.skill_and_lag(comparison), lessons.checked_labels(comparison)
    )
    assert lines[0].startswith("LSTM mostly copies the last value")
    assert not any(line.startswith("GRU") for line in lines)


# --------------------------------------------------------------------------------
# The real series shifted by one step
# --------------------------------------------------------------------------------

INDEX = pd.bdate_range("2021-01-04", periods=4, name="Date")
ACTUAL = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0], [3.0, 30.0]])


def test_the_shifted_series_is_the_persistence_forecast_of_the_chart():
    fig = charts.forecast_figure(INDEX, ACTUAL, {"LSTM": ACTUAL + 1}, feature=1)
    same = charts.add_shifted_real(fig, INDEX, ACTUAL, previous=5.0, feature=1)
    assert same is fig
    names = [trace.name for trace in fig.data]
    assert names == ["Real", "LSTM", charts.SHIFTED_NAME]
    shifted = fig.data[-1]
    assert list(shifted.y) == [5.0, 10.0, 20.0, 40.0]
    assert list(shifted.x) == list(INDEX)
    assert shifted.line.dash == "dash" and shifted.showlegend


def test_without_a_previous_value_the_first_row_is_empty():
    fig = charts.add_shifted_real(
        charts.forecast_figure(INDEX, ACTUAL[:, 0], {}), INDEX, ACTUAL[:, 0]
    )
    assert math.isnan(fig.data[-1].y[0]) and list(fig.data[-1].y[1:]) == [1, 2, 4]


def test_one_shifted_trace_per_panel_of_the_coordinates_figure():
    fig = charts.coordinates_figure(
        pd.RangeIndex(0, 2), ACTUAL[:2], pd.RangeIndex(2, 6), ACTUAL, columns=("X", "Y")
    )
    for j in (0, 1):
        charts.add_shifted_real(
            fig,
            pd.RangeIndex(2, 6),
            ACTUAL,
            previous=0.0,
            feature=j,
            row=j + 1,
            showlegend=j == 0,
        )
    first, second = fig.data[-2:]
    assert (first.name, second.name) == (charts.SHIFTED_NAME, charts.SHIFTED_NAME)
    assert (first.yaxis, second.yaxis) == ("y", "y2")
    assert list(second.y) == [0.0, 10.0, 20.0, 40.0]
    assert (first.showlegend, second.showlegend) == (True, False)
    assert first.legendgroup == second.legendgroup


# --------------------------------------------------------------------------------
# Beyond seed noise: the paired table
# --------------------------------------------------------------------------------


def test_the_paired_table_of_known_pairs():
    pairs = [
        {"a": "lstm", "b": "gru", "mean_diff": 0.5, "ci_low": -0.25, "ci_high": 1.25},
        {
            "a": "lstm",
            "b": "simple_rnn",
            "mean_diff": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
        },
    ]
    frame = lessons.paired_frame(pairs, {"lstm": "LSTM", "gru": "GRU"})
    assert list(frame.columns) == list(lessons.PAIRED_COLUMNS)
    assert frame.iloc[0].tolist() == ["LSTM", "GRU", 0.5, "-0.250 to +1.250"]
    assert frame.iloc[1, :2].tolist() == ["LSTM", "simple_rnn"]  # no label: the kind
    assert math.isnan(frame.iloc[1, 2]) and frame.iloc[1, 3] == "—"
    assert lessons.paired_frame([], {}).columns.tolist() == list(lessons.PAIRED_COLUMNS)


def test_the_paired_table_of_a_hand_made_comparison():
    comparison = hand_comparison(seeds=3)
    (pair,) = lab.comparison_paired(comparison)
    frame = lessons.paired_frame([pair], {"lstm": "LSTM", "gru": "GRU"})
    persistence_rmse = comparison.metrics.loc["Persistence (naive)", "rmse"]
    assert frame.iloc[0, :2].tolist() == ["LSTM", "GRU"]
    assert frame.iloc[0, 2] == pytest.approx(persistence_rmse - 0.2)
    low, high = pair["ci_low"], pair["ci_high"]
    assert frame.iloc[0, 3] == f"{low:+,.3f} to {high:+,.3f}"
