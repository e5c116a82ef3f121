"""The command line's --intervals, --horizon, --backtest and --predictions."""

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.cli.main import main

TINY = ["--epochs", "1", "--units", "4", "--batch-size", "128", "--no-xla"]
MASTERCARD = ["compare", "--sample", "mastercard", "--train-years", "2019", "2020"]


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--intervals", "80"], "coverage must be between 0 and 1 (e.g. 0.8"),
        (["--intervals", "0"], "got 0.0"),
        (["--horizon", "0"], "horizon must be between 1 and the 195 test rows"),
        (["--horizon", "196"], "got 196"),
        (["--backtest", "98"], "backtest folds 98 is too many for the 195 test rows"),
        (["--backtest", "0"], "backtest folds must be a whole number"),
        (["--refit"], "refit needs a backtest"),
    ],
)
def test_bad_lab_values_exit_2_before_training(flags, match, capsys):
    code = main([*MASTERCARD, *flags, *TINY])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("note:")]
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert match in lines[0]
    assert "epoch" not in err  # nothing trained


def test_refits_over_the_budget_are_refused_first(monkeypatch, capsys):
    monkeypatch.setenv("FORECASTING_BUDGET_SECONDS", "20")
    code = main([*MASTERCARD, "--models", "gru", "--backtest", "5", "--refit"])
    err = capsys.readouterr().err
    assert code == 2
    assert "note: the backtest refits every network on 4 more folds" in err
    assert "error: The backtest refits need" in err and "epoch" not in err


def test_compare_with_intervals_horizon_and_backtest(tmp_path, capsys):
    csv = tmp_path / "predictions.csv"
    code = main(
        [
            *MASTERCARD,
            "--window",
            "20",
            "--models",
            "gru",
            "--intervals",
            "0.8",
            "--horizon",
            "10",
            "--backtest",
            "3",
            "--predictions",
            str(csv),
            "--json",
            *TINY,
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    interval = result["models"]["gru"]["interval"]
    assert interval["nominal"] == 0.8 and 0 <= interval["coverage"] <= 1
    assert interval["method"] == "coordinate"
    # The validation tail: round(0.1 * (505 - 20) windows) = round(48.5) = 48.
    assert interval["calibration_rows"] == 48
    assert interval["calibration_held_out"] is False  # no --early-stopping
    for entry in (result["models"]["gru"], *result["baseline"].values()):
        assert len(entry["horizon_errors"]) == 10
    frame = pd.read_csv(csv, index_col="Date")
    first = frame.iloc[0]
    # Persistence one step ahead = the last training value: the same error.
    assert result["baseline"]["persistence"]["horizon_errors"][0] == pytest.approx(
        abs(first["real"] - first["Persistence (naive)"])
    )
    width = (frame["GRU high"] - frame["GRU"]).to_numpy()
    np.testing.assert_allclose(width, interval["half_width"][0])
    inside = (frame["real"] >= frame["GRU low"]) & (frame["real"] <= frame["GRU high"])
    assert inside.mean() == pytest.approx(interval["coverage"])
    folds = result["backtest"]["folds"]
    assert result["backtest"]["refit"] is False and len(folds) == 3
    assert (folds[0]["train_end"], folds[0]["test_start"]) == (
        "2020-12-31",
        "2021-01-04",
    )
    assert [f["n_test"] for f in folds] == [65, 65, 65]
    assert [f["n_train"] for f in folds] == [505, 570, 635]
    assert set(folds[0]["models"]) == {"gru", "persistence", "linear_ar"}
    assert all(f["models"]["gru"]["rmse"] > 0 for f in folds)


def test_backtest_with_refits_and_the_table(capsys):
    code = main(
        [*MASTERCARD, "--window", "10", "--models", "gru", "--backtest", "2"]
        + ["--refit", "--intervals", "0.8", "--horizon", "5", *TINY]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "note: the backtest refits every network on 1 more folds" in captured.err
    assert captured.err.count("[GRU] epoch 1/1") == 2  # the comparison + fold 2
    out = captured.out
    assert "GRU: 80% interval" in out and "of the test period" in out
    assert "Free-run error by steps ahead:" in out
    assert "Walk-forward backtest, RMSE per fold (networks refitted):" in out


def test_tracks_with_a_distance_interval_and_horizon(capsys):
    code = main(
        ["tracks", "--sample", "locust", "--id", "Locust_5", "--train-rows", "300"]
        + ["--test-rows", "100", "--window", "10", "--models", "gru"]
        + ["--intervals", "0.9", "--horizon", "20", "--rollout", "5", "--json"]
        + TINY
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    gru = result["models"]["gru"]
    assert gru["interval"]["method"] == "distance"
    assert gru["interval"]["half_width"][0] == gru["interval"]["half_width"][1]
    assert len(gru["horizon_errors"]) == 20
    assert len(result["baseline"]["constant_velocity"]["horizon_errors"]) == 20
    assert gru["rollout"]["steps"] == 20  # the longer of --rollout and --horizon
