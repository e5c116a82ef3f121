"""The run history's pure parts: adding and dropping runs, the tables, the charts.

Nothing trains: the comparison is made by hand from known forecasts.
"""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from forecasting.analysis.compare import (
    Comparison,
    ModelRun,
    metrics_table,
    naive_baselines,
)
from forecasting.analysis.history import RunEntry
from forecasting.prep.windows import prepare_windows, split_series
from forecasting.settings.config import ExperimentConfig, SplitConfig, TrainConfig
from ui.views.history import (
    MAX_RUNS,
    History,
    HistoryRun,
    Snapshot,
    add_run,
    changes,
    difference_frame,
    dropped_note,
    history_display,
    run_figure,
    run_settings,
    snapshot,
    value_text,
)


def metrics(rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"rmse": list(rows.values()), "kind": list(rows)})


def entry(run_id: str, minute: int, **settings) -> RunEntry:
    return RunEntry(
        run_id,
        datetime(2026, 12, 1, 10, minute, 5),
        {"data": "mastercard", "window": 5, "epochs": 1, **settings},
        metrics({"gru": 2.0, "persistence": 1.5, "linear_ar": 1.75}),
    )


EMPTY = Snapshot(
    columns=("High",),
    track=False,
    test_index=pd.RangeIndex(0),
    test=np.zeros((0, 1)),
    predictions={},
    baselines={},
    context_index=pd.RangeIndex(0),
    context=np.zeros((0, 1)),
)


def history_run(key: str, history: History) -> HistoryRun:
    return HistoryRun(key, entry(history.next_id(), 0), "MasterCard sample", EMPTY)


def test_runs_are_numbered_added_once_per_key_and_the_oldest_dropped():
    history = History()
    assert add_run(history, history_run("a", history), limit=3)
    assert not add_run(history, history_run("a", history), limit=3)
    for key in "bcde":
        assert add_run(history, history_run(key, history), limit=3)
    assert [run.entry.id for run in history.runs] == ["run-3", "run-4", "run-5"]
    assert [run.key for run in history.runs] == ["c", "d", "e"]
    assert history.dropped == ["run-1", "run-2"]
    assert history.next_id() == "run-6"
    assert history.get("run-4").key == "d"
    assert history.find("a") is None  # dropped: training it again adds a row
    with pytest.raises(KeyError, match="run-1"):
        history.get("run-1")
    with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
        add_run(history, history_run("f", history), limit=0)


def test_the_note_names_the_dropped_runs():
    history = History()
    assert dropped_note(history) == ""
    history.dropped = ["run-1"]
    assert dropped_note(history, 20) == (
        "The history keeps the last 20 runs of this page: the run was dropped "
        "(run-1); the CSV has the runs listed here."
    )
    history.dropped = ["run-1", "run-2", "run-3"]
    assert "the 3 oldest runs were dropped (run-1 to run-3)" in dropped_note(history)
    assert MAX_RUNS == 20


def test_settings_as_text():
    assert value_text(None) == "—"
    assert value_text(["lstm", "gru"]) == "lstm/gru"
    assert value_text(0.001) == "0.001"
    assert value_text(True) == "on"
    assert value_text(False) == "off"
    assert value_text(60) == "60"


def test_the_difference_of_two_runs_and_what_changed_run_by_run():
    first, second = entry("run-1", 0), entry("run-2", 1, epochs=2)
    third = entry("run-3", 2, epochs=2, models=["gru", "lstm"])
    diff = difference_frame(first, second)
    assert diff.to_dict("index") == {"epochs": {"run-1": "1", "run-2": "2"}}
    assert difference_frame(first, first).empty
    assert difference_frame(first, third).to_dict("index") == {
        "epochs": {"run-1": "1", "run-3": "2"},
        "models": {"run-1": "—", "run-3": "gru/lstm"},
    }
    assert changes([first, second, third, third]) == [
        "—",
        "epochs 1 → 2",
        "models — → gru/lstm",
        "nothing",
    ]
    assert changes([]) == []


def test_the_history_table_with_display_names():
    first = entry("run-1", 0)
    second = RunEntry(
        "run-2",
        datetime(2026, 12, 1, 10, 9, 30),
        {"data": "mastercard", "window": 5, "epochs": 2},
        metrics({"lstm": 1.0, "gru": np.nan, "persistence": 1.5}),
    )
    shown = history_display([first, second])
    assert list(shown.index) == ["run-1", "run-2"]
    assert shown.index.name == "Run"
    assert list(shown.columns) == [
        "Time",
        "Changed",
        "Best model",
        "Best model RMSE",
        "Best baseline",
        "Best baseline RMSE",
        "Beats baselines",
        "RMSE GRU",
        "RMSE LSTM",
        "RMSE Persistence (naive)",
        "RMSE Linear autoregression",
        "Settings",
    ]
    assert shown["Time"].tolist() == ["10:00:05", "10:09:30"]
    assert shown["Changed"].tolist() == ["—", "epochs 1 → 2"]
    assert shown["Best model"].tolist() == ["GRU", "LSTM"]
    assert shown["Best model RMSE"].tolist() == [2.0, 1.0]
    assert shown["Best baseline"].tolist() == ["Persistence (naive)"] * 2
    assert shown["Beats baselines"].tolist() == [False, True]
    assert np.isnan(shown.loc["run-2", "RMSE Linear autoregression"])
    assert shown.loc["run-2", "Settings"] == "data mastercard; window 5; epochs 2"
    assert history_display([]).empty


def test_run_settings_add_scale_early_stopping_and_the_free_run():
    config = ExperimentConfig(window=5, train=TrainConfig(epochs=3))
    settings = run_settings(config, "MasterCard sample")
    assert settings["data"] == "MasterCard sample"
    assert settings["epochs"] == 3
    assert list(settings)[-3:] == ["scale_range", "early_stopping", "patience"]
    assert settings["scale_range"] == [0.0, 1.0]
    assert settings["early_stopping"] is False and settings["patience"] is None
    stopped = ExperimentConfig(train=TrainConfig(early_stopping=True, patience=4))
    on = run_settings(stopped, "Fly · Fly_2", rollout_steps=50)
    assert (on["early_stopping"], on["patience"], on["free_run"]) == (True, 4, 50)


def hand_comparison() -> Comparison:
    """A 40-row price series; "gru" forecasts the real test rows plus 0.5."""
    index = pd.bdate_range("2020-01-01", periods=40, name="Date")
    frame = pd.DataFrame({"High": np.arange(40.0) + 100}, index=index)
    config = ExperimentConfig(
        columns=("High",),
        split=SplitConfig.by_fraction(0.75),
        window=5,
        models=("gru",),
    )
    split = split_series(frame, config.columns, config.split)
    baselines = naive_baselines(split, config.window)
    predictions = {"gru": np.stack([split.test + 0.5])}
    runs = {"gru": ModelRun("gru", predictions["gru"], [])}
    table = metrics_table(split.test, predictions, baselines)
    windows = prepare_windows(split, config.window)
    return Comparison(config, windows, runs, baselines, table)


def test_the_snapshot_keeps_the_test_period_and_a_little_context():
    comparison = hand_comparison()
    snap = snapshot(comparison, context_rows=4)
    assert snap.columns == ("High",) and not snap.track
    assert snap.test.shape == (10, 1)
    np.testing.assert_array_equal(snap.test[:, 0], np.arange(130.0, 140.0))
    np.testing.assert_array_equal(snap.predictions["gru"][:, 0], snap.test[:, 0] + 0.5)
    assert set(snap.baselines) == set(comparison.baselines)
    np.testing.assert_array_equal(snap.context[:, 0], [126.0, 127.0, 128.0, 129.0])
    assert list(snap.context_index) == list(comparison.split.train_index[-4:])
    assert snap.rollouts == {}
    fig = run_figure(snap, "run-1: test period")
    names = [trace.name for trace in fig.data]
    assert names[:3] == ["Training (last rows)", "Real", "GRU"]
    assert "Persistence (naive)" in names
    np.testing.assert_array_equal(fig.data[2].y, snap.test[:, 0] + 0.5)
    assert fig.layout.title.text == "run-1: test period"


def test_a_two_dimensional_track_is_drawn_as_a_path():
    steps = np.arange(6.0)
    snap = Snapshot(
        columns=("X", "Y"),
        track=True,
        test_index=pd.RangeIndex(4, 10),
        test=np.column_stack([steps, steps]),
        predictions={"gru": np.column_stack([steps, steps + 1])},
        baselines={},
        context_index=pd.RangeIndex(0, 4),
        context=np.zeros((4, 2)),
        rollouts={"gru": np.ones((3, 2))},
    )
    names = [trace.name for trace in run_figure(snap, "t").data]
    assert names == [
        "Train",
        "Test (real)",
        "Start of test",
        "GRU one-step",
        "GRU free run",
    ]
