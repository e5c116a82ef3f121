import numpy as np
import pytest

from forecasting.compare import apply_to, rollout_error, run_comparison
from forecasting.config import ExperimentConfig, ModelConfig, SplitConfig, TrainConfig
from forecasting.data import DataError


def test_comparison_rows_and_alignment(price_frame, tiny_config):
    done = []
    result = run_comparison(
        price_frame, tiny_config, on_model_done=lambda run: done.append(run.kind)
    )
    assert done == ["lstm", "gru", "simple_rnn"]
    table = result.metrics
    assert list(table.index) == ["LSTM", "GRU", "SimpleRNN", "Persistence (naive)"]
    assert list(table.columns) == [
        "rmse",
        "mae",
        "mape",
        "fit_seconds",
        "params",
        "epochs",
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
        window=10,
        models=("gru",),
        model=ModelConfig(units=6),
        train=TrainConfig(epochs=1),
    )
    result = run_comparison(track_frame, config, rollout_steps=30, tracks=True)
    table = result.metrics
    assert list(table.index) == [
        "GRU",
        "Persistence (naive)",
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
    from dataclasses import replace

    with pytest.raises(DataError, match=r"The window \(600 rows\) must be shorter"):
        run_comparison(price_frame, replace(tiny_config, window=600))
