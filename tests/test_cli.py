import json
import subprocess
import sys
from pathlib import Path

import pytest

from forecasting.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--epochs", "1", "--units", "4", "--batch-size", "128"]


def test_compare_json_on_the_bundled_sample(capsys):
    code = main(
        [
            "compare",
            "--sample",
            "mastercard",
            "--train-years",
            "2019",
            "2020",
            "--window",
            "20",
            "--json",
            *TINY,
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    result = json.loads(captured.out)
    assert set(result["models"]) == {"lstm", "gru", "simple_rnn"}
    for entry in result["models"].values():
        assert set(entry) >= {"rmse", "mae", "mape", "fit_seconds", "params"}
        assert entry["rmse"] > 0 and entry["params"] > 0
    assert set(result["baseline"]) == {"persistence"}
    assert result["baseline"]["persistence"]["rmse"] > 0
    assert result["n_train"] == 505  # trading days in 2019 and 2020
    assert result["n_test"] == 195  # 2021-01-04 .. 2021-10-11
    assert "[LSTM] epoch 1/1 loss" in captured.err


def test_compare_table_without_json(capsys):
    code = main(
        [
            "compare",
            "--sample",
            "mastercard",
            "--train-fraction",
            "0.9",
            "--models",
            "gru",
            "--window",
            "10",
            *TINY,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "GRU" in out and "Persistence (naive)" in out and "rmse" in out


def test_tracks_json_with_rollout(capsys):
    code = main(
        [
            "tracks",
            "--sample",
            "locust",
            "--id",
            "Locust_5",
            "--train-rows",
            "300",
            "--test-rows",
            "100",
            "--window",
            "10",
            "--rollout",
            "50",
            "--json",
            *TINY,
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    gru = result["models"]["gru"]
    assert gru["euclidean"] > 0
    assert gru["rollout"]["steps"] == 50 and gru["rollout"]["euclidean"] > 0
    assert set(result["baseline"]) == {"persistence", "constant_velocity"}
    assert result["baseline"]["persistence"]["euclidean"] > 0
    assert (result["n_train"], result["n_test"]) == (300, 100)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (
            ["compare", "--sample", "mastercard", "--models", "transformer"],
            "model kind must be one of",
        ),
        (
            ["compare", "--sample", "mastercard", "--window", "5000"],
            "must be shorter than the training data",
        ),
        (
            ["compare", "--sample", "mastercard", "--train-years", "1990", "1995"],
            "No rows fall in the training years 1990-1995",
        ),
        (["compare", "--sample", "mastercard", "--column", "Price"], "Price"),
        (["tracks", "--sample", "fly", "--id", "Fly_99"], "Fly_99"),
        (["tracks", "--sample", "locust", "--train-rows", "5000"], "2845 usable rows but 6000"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(argv, match, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if not line.startswith("note:")]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert match in lines[0]


def test_usage_errors_are_one_line_too(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "error: one of the arguments --csv --sample --ticker is required"
    )
    assert "\n" not in err


def test_bad_file_in_a_real_process_has_no_traceback(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"\x00\x01\x02garbage\xff\xfe")
    proc = subprocess.run(
        [sys.executable, "-m", "forecasting", "compare", "--csv", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_offline_ticker_is_a_clear_error(monkeypatch, tmp_path, capsys):
    import yfinance

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'query1.finance.yahoo.com'")

    monkeypatch.setenv("RNN_FORECAST_CACHE", str(tmp_path))
    monkeypatch.setattr(yfinance, "download", offline)
    code = main(["compare", "--ticker", "MA", "--start", "2019-01-01"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "Yahoo Finance" in err
