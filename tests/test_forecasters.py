"""The forecaster interface: one contract for the baselines and the networks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.analysis.compare import free_runs, run_comparison
from forecasting.data import as_track, is_track, read_tracking_csv, series_frame
from forecasting.forecasters import (
    BASELINE_KINDS,
    ConstantVelocity,
    LinearAutoregression,
    NetworkForecaster,
    Persistence,
    display_name,
    fit_baselines,
    make_forecaster,
)
from forecasting.prep.windows import split_series
from forecasting.settings.config import (
    MODEL_KINDS,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)

CONFIG = ExperimentConfig(
    columns=("X", "Y"),
    split=SplitConfig.by_rows(200, 60),
    window=10,
    models=("gru",),
    model=ModelConfig(units=4),
    train=TrainConfig(epochs=1, seed=11, jit_compile=False),
)


def tiny_split(rows: list[list[float]], n_train: int):
    """A track split of hand-written rows: the first ``n_train`` rows train."""
    frame = as_track(pd.DataFrame(rows, columns=["X", "Y"][: len(rows[0])]))
    return split_series(
        frame,
        tuple(frame.columns),
        SplitConfig.by_rows(n_train, len(rows) - n_train),
    )


# Exact values on series small enough to compute by hand ------------------------------


def test_persistence_free_run_repeats_the_last_training_row():
    split = tiny_split([[0, 0], [1, 2], [3, 5], [9, 9]], 3)
    persistence = Persistence().fit(split)
    np.testing.assert_array_equal(
        persistence.free_run(split, 3), [[3, 5], [3, 5], [3, 5]]
    )
    np.testing.assert_array_equal(persistence.one_step(split), [[3, 5]])


def test_constant_velocity_free_run_extends_the_last_step():
    split = tiny_split([[0, 0], [1, 2], [3, 5], [9, 9]], 3)  # last step (+2, +3)
    velocity = ConstantVelocity().fit(split)
    np.testing.assert_array_equal(
        velocity.free_run(split, 3), [[5, 8], [7, 11], [9, 14]]
    )
    np.testing.assert_array_equal(velocity.one_step(split), [[5, 8]])


def test_linear_autoregression_free_run_is_recursive():
    # x[t+1] = 2 x[t] exactly: window 1 learns slope 2, intercept 0.
    split = tiny_split([[1.0], [2.0], [4.0], [8.0], [16.0], [32.0], [64.0]], 5)
    ar = LinearAutoregression(window=1).fit(split)
    np.testing.assert_allclose(ar.free_run(split, 3), [[32], [64], [128]], rtol=1e-9)
    np.testing.assert_allclose(ar.one_step(split), [[32], [64]], rtol=1e-9)


def test_linear_autoregression_free_run_continues_a_line():
    frame = pd.DataFrame({"v": 3.0 + 2.0 * np.arange(50)})
    split = split_series(frame, ("v",), SplitConfig.by_rows(40, 10))
    ar = LinearAutoregression(window=5).fit(split)
    np.testing.assert_allclose(ar.free_run(split, 4), [[83], [85], [87], [89]])


def test_baselines_follow_the_data():
    track = tiny_split([[0, 0], [1, 2], [3, 5], [9, 9]], 3)
    assert list(fit_baselines(track, 1)) == [
        "persistence",
        "linear_ar",
        "constant_velocity",
    ]
    prices = split_series(
        pd.DataFrame({"Close": [1.0, 2.0, 3.0, 5.0], "Volume": [9.0, 8, 7, 6]}),
        ("Close", "Volume"),
        SplitConfig.by_rows(3, 1),
    )
    assert not prices.track and prices.n_features == 2
    assert list(fit_baselines(prices, 1)) == ["persistence", "linear_ar"]


def test_a_frame_from_tracking_data_is_a_track():
    data = read_tracking_csv(b"ID,X,Y\nA,0,0\nA,1,1\nA,2,2\nA,3,3\n")
    frame, _ = series_frame(data, ["X", "Y"], "A")
    assert is_track(frame)
    split = split_series(frame, ("X", "Y"), SplitConfig.by_rows(3, 1))
    assert split.track
    assert not is_track(pd.DataFrame({"X": [1.0]}))


def test_labels_are_looked_up_by_kind():
    assert display_name("gru") == "GRU"
    assert display_name("persistence") == "Persistence (naive)"
    assert Persistence().label == "Persistence (naive)"


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="kind must be one of .*got 'arima'"):
        make_forecaster("arima", CONFIG)
    with pytest.raises(ValueError, match="got 'persistence'"):
        NetworkForecaster("persistence", CONFIG)


def test_a_bad_free_run_length_and_other_features_are_refused():
    split = tiny_split([[0, 0], [1, 2], [3, 5], [9, 9]], 3)
    persistence = Persistence().fit(split)
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        persistence.free_run(split, 0)
    one_column = tiny_split([[0.0], [1.0], [2.0]], 2)
    with pytest.raises(ValueError, match="fitted on 2 feature"):
        persistence.one_step(one_column)


def test_the_interface_imports_no_tensorflow():
    code = (
        "import sys, forecasting.forecasters, forecasting.analysis.compare; "
        "bad = {'streamlit', 'tensorflow', 'keras'} & set(sys.modules); "
        "print(sorted(bad))"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
    )
    assert result.stdout.strip() == "[]", result.stderr


# One contract for every kind (the networks train one epoch on a worker) -----------


@pytest.mark.parametrize("kind", [*BASELINE_KINDS, *MODEL_KINDS])
def test_every_forecaster_keeps_the_contract(kind, track_frame):
    split = split_series(track_frame, CONFIG.columns, CONFIG.split)
    n_test, steps = len(split.test), 7
    forecaster = make_forecaster(kind, CONFIG, seed=11)
    assert forecaster.kind == kind and not forecaster.fitted
    with pytest.raises(RuntimeError, match="is not fitted; call fit"):
        forecaster.one_step(split)
    with pytest.raises(RuntimeError, match="is not fitted; call fit"):
        forecaster.free_run(split, steps)
    assert forecaster.fit(split) is forecaster and forecaster.fitted
    one = forecaster.one_step(split)
    path = forecaster.free_run(split, steps)
    assert one.shape == (n_test, 2) and path.shape == (steps, 2)
    assert np.isfinite(one).all() and np.isfinite(path).all()
    # The first free step and the first one-step forecast see the same rows.
    np.testing.assert_allclose(path[0], one[0], rtol=1e-4)
    # A shorter run is the start of a longer one.
    np.testing.assert_allclose(forecaster.free_run(split, 3), path[:3], rtol=1e-5)
    # The same kind, seed and data give the same forecasts.
    again = make_forecaster(kind, CONFIG, seed=11).fit(split)
    np.testing.assert_array_equal(again.one_step(split), one)
    np.testing.assert_allclose(again.free_run(split, steps), path, rtol=1e-6)


def test_free_runs_of_a_comparison_cover_models_and_baselines(track_frame):
    comparison = run_comparison(track_frame, CONFIG, rollout_steps=5)
    runs = free_runs(comparison, 5)
    assert list(runs) == ["gru", "persistence", "linear_ar", "constant_velocity"]
    assert all(path.shape == (5, 2) for path in runs.values())
    # The models' own free run is reused; the baselines are their forecasters'.
    np.testing.assert_array_equal(runs["gru"], comparison.runs["gru"].rollout)
    last = comparison.split.train[-1]
    np.testing.assert_array_equal(runs["persistence"], np.tile(last, (5, 1)))
    # A longer run than the comparison made runs on a worker and starts the same.
    longer = free_runs(comparison, 8)
    np.testing.assert_allclose(longer["gru"][:5], runs["gru"], rtol=1e-5)
    assert longer["constant_velocity"].shape == (8, 2)
