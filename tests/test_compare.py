from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecasting.analysis.compare import (
    apply_to,
    linear_autoregression,
    rollout_error,
    run_comparison,
)
from forecasting.data import DataError
from forecasting.settings.config import (
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)


def test_comparison_rows_and_alignment(price_frame, tiny_config):
    result = run_comparison(price_frame, tiny_config)
    assert list(result.runs) == ["lstm", "gru", "simple_rnn"]
    table = result.metrics
    assert list(table.index) == [
        "LSTM",
        "GRU",
        "SimpleRNN",
        "Persistence (naive)",
        "Linear autoregression",
    ]
    assert list(table.columns) == [
        "rmse",
        "mae",
        "mape",
        "fit_seconds",
        "params",
        "epochs",
        "seeds",
        "kind",
    ]
    assert table.loc["LSTM", "params"] > 0
    assert np.isnan(table.loc["Persistence (naive)", "params"])
    frame = result.predictions_frame()
    test_rows = price_frame.loc["2020"]
    assert list(frame.index) == list(test_rows.index)
    np.testing.assert_allclose(frame["real"], test_rows["High"])
    assert list(frame.columns) == [
        "real",
        "LSTM",
        "GRU",
        "SimpleRNN",
        "Persistence (naive)",
        "Linear autoregression",
    ]
    # The metrics are the ones of the aligned predictions, in original units.
    err = frame["GRU"] - frame["real"]
    assert table.loc["GRU", "rmse"] == pytest.approx(float(np.sqrt(np.mean(err**2))))
    persistence = frame["Persistence (naive)"].to_numpy()
    assert persistence[0] == pytest.approx(price_frame.loc["2019", "High"].iloc[-1])
    np.testing.assert_allclose(persistence[1:], test_rows["High"].to_numpy()[:-1])


def test_tracks_comparison_with_rollout_and_transfer(track_frame):
    config = ExperimentConfig(
        columns=("X", "Y"),
        split=SplitConfig.by_rows(200, 60),
        window=5,  # the tiny setting of the tracking page's tests
        models=("gru",),
        model=ModelConfig(units=4),
        train=TrainConfig(epochs=1, batch_size=64, jit_compile=False),
    )
    result = run_comparison(track_frame, config, rollout_steps=30)
    table = result.metrics
    assert list(table.index) == [
        "GRU",
        "Persistence (naive)",
        "Linear autoregression",
        "Constant velocity (naive)",
    ]
    assert "euclidean" in table.columns
    assert result.runs["gru"].rollout.shape == (30, 2)
    errors = rollout_error(result)
    assert set(errors) == {"gru"} and errors["gru"] > 0
    frame = result.predictions_frame()
    assert list(frame.columns[:4]) == ["real X", "real Y", "GRU X", "GRU Y"]
    other = track_frame.iloc[::-1].reset_index(drop=True)
    transfer = apply_to(result, other)
    assert transfer.predictions["gru"].shape == (60, 2)
    assert transfer.rollouts["gru"].shape == (30, 2)
    np.testing.assert_allclose(transfer.split.test, other.to_numpy()[200:260])
    assert list(transfer.metrics.index) == list(table.index)


def test_data_that_does_not_fit_the_config(price_frame, tiny_config):
    with pytest.raises(DataError, match=r"The window \(600 rows\) must be shorter"):
        run_comparison(price_frame, replace(tiny_config, window=600))


def test_linear_autoregression_is_exact_on_a_linear_series():
    from forecasting.prep.windows import split_series

    frame = pd.DataFrame({"v": 3.0 + 2.0 * np.arange(50)})
    split = split_series(frame, ("v",), SplitConfig.by_rows(40, 10))
    np.testing.assert_allclose(linear_autoregression(split, 5), split.test, rtol=1e-9)


def test_several_seeds_give_mean_and_spread(price_frame, tiny_config):
    config = replace(
        tiny_config, models=("gru",), train=replace(tiny_config.train, seeds=3)
    )
    ticks = []
    result = run_comparison(
        price_frame, config, progress=lambda k, e, n, logs: ticks.append((e, n, logs))
    )
    run = result.runs["gru"]
    assert run.seed_predictions.shape == (3, len(result.actual), 1)
    assert [t.kind for t in run.trains] == ["gru"] * 3
    assert not np.allclose(run.seed_predictions[0], run.seed_predictions[1])
    np.testing.assert_allclose(run.predictions, run.seed_predictions.mean(axis=0))
    # The seeds train as separate jobs (at once on several workers): each one
    # reports its epoch 1 of 1, tagged with its seed.
    assert [(e, n) for e, n, _ in ticks] == [(1, 1)] * 3
    assert sorted(logs["seed"] for _, _, logs in ticks) == [1.0, 2.0, 3.0]
    row = result.metrics.loc["GRU"]
    per_seed = [
        float(np.sqrt(np.mean((p - result.actual) ** 2))) for p in run.seed_predictions
    ]
    assert row["rmse"] == pytest.approx(np.mean(per_seed))
    assert row["rmse_std"] == pytest.approx(np.std(per_seed, ddof=1))
    assert row["seeds"] == 3


def test_difference_target_is_integrated_back_to_levels(price_frame, tiny_config):
    config = replace(tiny_config, models=("lstm",), target="diff")
    result = run_comparison(price_frame, config, rollout_steps=5)
    windows = result.windows
    assert windows.target == "diff"
    # The models saw changes: the scaler was fitted on training differences.
    diffs = np.diff(result.split.train, axis=0)
    assert windows.scaler.data_max_[0] == pytest.approx(diffs.max())
    # A perfect change forecast integrates back to the real levels exactly.
    real_changes = np.diff(
        np.concatenate([result.split.train[-1:], result.actual]), axis=0
    )
    previous = np.concatenate([result.split.train[-1:], result.actual[:-1]])
    levels = windows.one_step_levels(windows.scale(real_changes), previous)
    np.testing.assert_allclose(levels, result.actual, rtol=1e-5)
    path = windows.rollout_levels(
        windows.scale(real_changes[:5]), result.split.train[-1]
    )
    np.testing.assert_allclose(path, result.actual[:5], rtol=1e-5)
    # And the comparison's forecasts are levels near the real ones.
    assert result.runs["lstm"].predictions.shape == result.actual.shape
    assert result.metrics.loc["LSTM", "mape"] < 20
