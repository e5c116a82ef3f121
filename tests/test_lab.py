"""Tests for analysis.lab, the random-walk sample and analysis.history.

Nothing here trains: comparisons are built by hand from known forecasts.
"""

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from forecasting import metrics
from forecasting.analysis import lab
from forecasting.analysis.compare import (
    Comparison,
    ModelRun,
    Transfer,
    metrics_table,
    naive_baselines,
)
from forecasting.analysis.history import (
    RunEntry,
    config_settings,
    history_csv,
    history_frame,
    settings_difference,
    settings_summary,
)
from forecasting.data import DATA_DIR, load_sample, series_frame
from forecasting.data.synthetic import random_walk_csv, random_walk_frame
from forecasting.prep.windows import prepare_windows, split_series
from forecasting.settings.config import ExperimentConfig, SplitConfig, TrainConfig
from forecasting.settings.presets import PRESETS

# A small series and its persistence forecast (the value before each row; -1 is
# the last training value): forecast[t] = actual[t - 1].
ACTUAL = np.array([0.0, 1.0, 3.0, 2.0, 5.0, 4.0, 7.0])
PERSISTENCE = np.array([-1.0, 0.0, 1.0, 3.0, 2.0, 5.0, 4.0])


# --------------------------------------------------------------------------------
# Skill
# --------------------------------------------------------------------------------


def test_skill_is_one_minus_the_rmse_ratio():
    assert lab.skill(2.0, 4.0) == 0.5
    assert lab.skill(4.0, 4.0) == 0.0
    assert lab.skill(6.0, 4.0) == -0.5
    assert lab.skill(0.0, 4.0) == 1.0


def test_skill_is_nan_when_undefined():
    assert math.isnan(lab.skill(1.0, 0.0))  # persistence perfect
    assert math.isnan(lab.skill(0.0, 0.0))
    assert math.isnan(lab.skill(float("nan"), 1.0))  # diverged model
    assert math.isnan(lab.skill(1.0, float("inf")))


def test_skill_refuses_a_negative_rmse():
    with pytest.raises(ValueError, match=r"^rmse_model must be at least 0, got -1.0$"):
        lab.skill(-1.0, 2.0)
    with pytest.raises(ValueError, match=r"^rmse_persistence must be at least 0, got"):
        lab.skill(1.0, -2.0)


def test_a_forecast_that_is_the_series_shifted_by_one_has_skill_0_and_lag_plus_1():
    rmse = metrics.rmse(ACTUAL, PERSISTENCE)
    assert rmse == pytest.approx(math.sqrt(26 / 7))  # squared errors 1,1,4,1,9,1,9
    assert lab.skill(rmse, metrics.rmse(ACTUAL, PERSISTENCE)) == 0.0
    assert lab.best_lag(ACTUAL, PERSISTENCE) == 1
    assert lab.lag_correlations(ACTUAL, PERSISTENCE)[1] == pytest.approx(1.0)


# --------------------------------------------------------------------------------
# Lag
# --------------------------------------------------------------------------------


def test_lag_correlations_by_hand():
    # Changes: actual [1, 2, -1, 3, -1, 3], persistence [1, 1, 2, -1, 3, -1].
    scores = lab.lag_correlations(ACTUAL, PERSISTENCE, lags=[-1, 0, 1])
    assert list(scores) == [-1, 0, 1]
    # Lag 0: centred x = [1, 1, 7, -11, 13, -11] / 6, y = [-1, 5, -13, 11, -13, 11] / 6
    assert scores[0] == pytest.approx(-498 / math.sqrt(462 * 606))
    # Lag -1: x = [1, 1, 2, -1, 3] (mean 6/5), y = [2, -1, 3, -1, 3] (mean 6/5)
    # centred * 5: x = [-1, -1, 4, -11, 9], y = [4, -11, 9, -11, 9]
    assert scores[-1] == pytest.approx((-4 + 11 + 36 + 121 + 81) / math.sqrt(220 * 420))
    assert scores[1] == pytest.approx(1.0)


def test_the_sign_of_the_lag():
    assert lab.best_lag(ACTUAL, ACTUAL) == 0  # a perfect forecast
    ahead = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 7.0, 6.0])  # forecast[t] = actual[t+1]
    assert lab.best_lag(ACTUAL, ahead) == -1
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=200))
    assert lab.best_lag(walk[3:], walk[:-3]) == 3  # three steps late


def test_a_tie_goes_to_the_lag_closest_to_zero_then_the_positive_one():
    alternating = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    scores = lab.lag_correlations(alternating, alternating)
    assert scores[0] == scores[2] == scores[-2] == pytest.approx(1.0)
    assert lab.best_lag(alternating, alternating) == 0
    late = np.concatenate([[1.0], alternating[:-1]])
    assert lab.best_lag(alternating, late) == 1  # +1 and -1 both correlate 1


def test_best_lag_is_none_when_no_correlation_is_defined():
    assert lab.best_lag(ACTUAL, np.full(7, 3.0)) is None  # constant forecast
    assert lab.best_lag(ACTUAL, np.full(7, np.nan)) is None  # diverged
    assert lab.best_lag(ACTUAL[:3], PERSISTENCE[:3]) is None  # 2 changes only
    scores = lab.lag_correlations(ACTUAL, PERSISTENCE, lags=[-5, 4, 5, 6])
    assert all(math.isnan(v) for v in scores.values())  # fewer than 3 pairs


def test_two_dimensional_tracks_average_the_coordinates():
    x, y = ACTUAL, np.array([2.0, 0.0, 1.0, 4.0, 3.0, 3.0, 6.0])
    actual = np.column_stack([x, y])
    forecast = np.column_stack([x, np.concatenate([[1.0], y[:-1]])])  # X right, Y late
    scores = lab.lag_correlations(actual, forecast)
    for k in (0, 1):
        assert scores[k] == pytest.approx(
            (
                lab.lag_correlations(x, forecast[:, 0])[k]
                + lab.lag_correlations(y, forecast[:, 1])[k]
            )
            / 2
        )
    both_late = np.vstack([[-1.0, 1.0], actual[:-1]])
    assert lab.best_lag(actual, both_late) == 1
    flat = np.column_stack([x, np.full(7, 5.0)])  # Y never moves: left out
    assert lab.lag_correlations(flat, np.vstack([[-1.0, 5.0], flat[:-1]]))[
        1
    ] == pytest.approx(1.0)


def test_lag_shapes_must_match():
    with pytest.raises(ValueError, match=r"^actual and forecast must have the same"):
        lab.best_lag(ACTUAL, ACTUAL[:-1])
    with pytest.raises(ValueError, match=r"^actual must have shape \(samples,\)"):
        lab.best_lag(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


def test_lag_verdict_only_for_a_copy_of_the_last_value():
    assert lab.lag_verdict("LSTM", 1, -0.031) == (
        "LSTM mostly copies the last value: its forecast moves one step after the "
        "real series (best lag +1) and it is no better than persistence "
        "(skill -0.031)."
    )
    assert lab.lag_verdict("GRU", 1, 0.0) is not None
    assert lab.lag_verdict("GRU", 1, 0.2) is None  # has skill
    assert lab.lag_verdict("GRU", 0, -0.5) is None  # worse, but not a copy
    assert lab.lag_verdict("GRU", 1, float("nan")) is None
    assert lab.lag_verdict("GRU", None, -1.0) is None
    assert lab.copies_last_value(1, -0.1) and not lab.copies_last_value(2, -0.1)


# --------------------------------------------------------------------------------
# Paired comparison over seeds
# --------------------------------------------------------------------------------

T_2 = 4.302652729749462  # t(0.975, 2 degrees of freedom), tables: 4.303
T_4 = 2.7764451051977934  # t(0.975, 4), tables: 2.776


def test_paired_difference_not_distinguishable():
    # Differences 0.5, 1.0, 1.5: mean 1, sd 0.5, half-width 4.3027 * 0.5 / sqrt(3)
    (pair,) = lab.paired_comparison({"lstm": [1.0, 2.0, 3.0], "gru": [0.5, 1.0, 1.5]})
    half = T_2 * 0.5 / math.sqrt(3)
    assert (pair["a"], pair["b"]) == ("lstm", "gru")
    assert pair["mean_diff"] == pytest.approx(1.0)
    assert pair["ci_low"] == pytest.approx(1.0 - half)  # -0.242
    assert pair["ci_high"] == pytest.approx(1.0 + half)  # 2.242
    assert pair["verdict"] == (
        "LSTM and GRU are not distinguishable with 3 seeds (RMSE difference "
        "+1.000, 95% interval -0.242 to 2.242)."
    )


def test_paired_difference_names_the_lower_error():
    lstm = [2.0, 2.1, 1.9, 2.0, 2.0]
    gru = [1.0, 1.0, 1.0, 1.0, 1.0]
    # Differences 1, 1.1, 0.9, 1, 1: mean 1, sd sqrt(0.02 / 4)
    half = T_4 * math.sqrt(0.005) / math.sqrt(5)  # 0.0878
    (pair,) = lab.paired_comparison({"lstm": lstm, "gru": gru})
    assert pair["ci_low"] == pytest.approx(1.0 - half)
    assert pair["ci_high"] == pytest.approx(1.0 + half)
    assert pair["verdict"] == (
        "GRU has a lower error than LSTM (by 1.000, 95% interval 0.912 to 1.088, "
        "5 seeds)."
    )
    (swapped,) = lab.paired_comparison({"gru": gru, "lstm": lstm})
    assert swapped["mean_diff"] == pytest.approx(-1.0)
    assert swapped["ci_high"] == pytest.approx(-1.0 + half)
    assert swapped["verdict"] == pair["verdict"]


def test_every_pair_in_order_with_labels_and_level():
    pairs = lab.paired_comparison(
        {"lstm": [1, 2, 3], "gru": [1, 2, 3], "x": [2, 3, 4]},
        labels={"x": "Mine"},
        confidence=0.8,
    )
    assert [(p["a"], p["b"]) for p in pairs] == [
        ("lstm", "gru"),
        ("lstm", "x"),
        ("gru", "x"),
    ]
    same = pairs[0]
    assert (same["mean_diff"], same["ci_low"], same["ci_high"]) == (0.0, 0.0, 0.0)
    assert same["verdict"].startswith("LSTM and GRU are not distinguishable with 3")
    assert "80% interval" in same["verdict"]
    assert pairs[2]["verdict"] == (
        "GRU has a lower error than Mine (by 1.000, 80% interval 1.000 to 1.000, "
        "3 seeds)."
    )


def test_a_diverged_seed_cannot_be_compared():
    (pair,) = lab.paired_comparison({"lstm": [1, np.nan, 3], "gru": [1, 2, 3]})
    assert math.isnan(pair["mean_diff"]) and math.isnan(pair["ci_low"])
    assert pair["verdict"] == (
        "LSTM and GRU cannot be compared: some seeds have no finite RMSE (the "
        "training diverged)."
    )


def test_paired_comparison_needs_three_equal_seed_lists():
    with pytest.raises(
        ValueError,
        match=r"^seeds must be at least 3 for a paired comparison, got 2 for lstm$",
    ):
        lab.paired_comparison({"lstm": [1, 2], "gru": [1, 2]})
    with pytest.raises(
        ValueError, match=r"^every model needs the same seeds, got lstm 3, gru 4$"
    ):
        lab.paired_comparison({"lstm": [1, 2, 3], "gru": [1, 2, 3, 4]})
    with pytest.raises(
        ValueError, match=r"^confidence must be between 0 and 1, got 95"
    ):
        lab.paired_comparison({"lstm": [1, 2, 3]}, confidence=95)
    assert lab.paired_comparison({"lstm": [1, 2, 3]}) == []


# --------------------------------------------------------------------------------
# On a comparison (built by hand, nothing trained)
# --------------------------------------------------------------------------------


def hand_comparison(seeds: int) -> Comparison:
    """A comparison on the 2018-2020 price frame whose "models" are known forecasts.

    "lstm" is persistence itself on every seed; "gru" is the real series plus a
    seed-dependent offset (lag 0, skill above 0).
    """
    rng = np.random.default_rng(5)
    index = pd.bdate_range("2019-01-01", "2020-12-31", name="Date")
    frame = pd.DataFrame(
        {"High": 100 + np.cumsum(rng.normal(size=len(index)))}, index=index
    )
    config = ExperimentConfig(
        columns=("High",),
        split=SplitConfig.by_years(2019, 2019),
        window=5,
        models=("lstm", "gru"),
        train=TrainConfig(seeds=seeds),
    )
    split = split_series(frame, config.columns, config.split)
    windows = prepare_windows(split, config.window)
    baselines = naive_baselines(split, config.window)
    test = split.test
    offsets = 0.1 * np.arange(1, seeds + 1)
    predictions = {
        "lstm": np.stack([baselines["persistence"]] * seeds),
        "gru": np.stack([test + o for o in offsets]),
    }
    runs = {k: ModelRun(k, v, []) for k, v in predictions.items()}
    table = metrics_table(test, predictions, baselines)
    return Comparison(config, windows, runs, baselines, table)


def test_skill_and_lag_of_a_comparison():
    comparison = hand_comparison(seeds=1)
    values = lab.skill_and_lag(comparison)
    assert list(values) == ["lstm", "gru", "persistence", "linear_ar"]
    assert values["lstm"] == {"skill": 0.0, "best_lag": 1}
    assert values["persistence"] == {"skill": 0.0, "best_lag": 1}
    persistence_rmse = comparison.metrics.loc["Persistence (naive)", "rmse"]
    assert values["gru"]["skill"] == pytest.approx(1 - 0.1 / persistence_rmse)
    assert values["gru"]["best_lag"] == 0
    assert lab.report_lines(comparison) == [
        "LSTM mostly copies the last value: its forecast moves one step after the "
        "real series (best lag +1) and it is no better than persistence "
        "(skill +0.000)."
    ]
    shown = lab.with_skill_columns(comparison.metrics, values)
    assert list(shown.columns[:5]) == ["rmse", "mae", "mape", "skill", "best_lag"]
    assert shown.loc["GRU", "best_lag"] == 0.0
    assert "skill" not in comparison.metrics  # a copy


def test_skill_and_lag_of_a_transfer_use_the_other_series_persistence():
    comparison = hand_comparison(seeds=1)
    split = comparison.split  # stands in for the other individual's split
    copy = comparison.baselines["persistence"]
    transfer = Transfer(
        split,
        {"lstm": copy, "gru": split.test + 0.1},
        {},
        comparison.metrics,
        dict(comparison.baselines),
    )
    values = lab.transfer_skill_and_lag(transfer)
    assert values["lstm"] == {"skill": 0.0, "best_lag": 1}
    assert values["persistence"] == {"skill": 0.0, "best_lag": 1}
    assert values["gru"]["best_lag"] == 0
    persistence_rmse = comparison.metrics.loc["Persistence (naive)", "rmse"]
    assert values["gru"]["skill"] == pytest.approx(1 - 0.1 / persistence_rmse)


def test_paired_of_a_comparison_uses_each_seeds_rmse():
    comparison = hand_comparison(seeds=3)
    assert lab.seed_rmse(comparison)["gru"] == pytest.approx([0.1, 0.2, 0.3])
    (pair,) = lab.comparison_paired(comparison)
    persistence_rmse = metrics.rmse(
        comparison.actual, comparison.baselines["persistence"]
    )
    assert pair["mean_diff"] == pytest.approx(persistence_rmse - 0.2)
    half = T_2 * 0.1 / math.sqrt(3)  # differences p-0.1, p-0.2, p-0.3: sd 0.1
    assert pair["ci_high"] - pair["ci_low"] == pytest.approx(2 * half)
    assert pair["verdict"].startswith("GRU has a lower error than LSTM (by ")
    assert lab.report_lines(comparison)[-1] == pair["verdict"]
    with pytest.raises(ValueError, match=r"got 2 for lstm$"):
        lab.comparison_paired(hand_comparison(seeds=2))


def test_skill_and_lag_needs_persistence():
    with pytest.raises(ValueError, match=r"^rmse needs a 'persistence' entry"):
        lab.forecast_skill_and_lag(ACTUAL, {"gru": ACTUAL}, {"gru": 0.0})


# --------------------------------------------------------------------------------
# The random-walk control sample
# --------------------------------------------------------------------------------


def test_the_bundled_random_walk_is_what_the_generator_writes():
    frame = random_walk_frame()
    shipped = (DATA_DIR / "random_walk.csv").read_text(encoding="utf-8")
    assert random_walk_csv(frame) == shipped
    assert shipped.splitlines()[:2] == ["Date,Close", "2012-06-04,100.0000"]
    assert shipped.splitlines()[-1] == "2021-12-31,105.2504"
    assert len(frame) == 2500 and (frame["Close"] > 0).all()
    returns = np.diff(np.log(frame["Close"].to_numpy()))
    assert returns.std() == pytest.approx(0.015, rel=0.05)
    assert abs(np.corrcoef(returns[1:], returns[:-1])[0, 1]) < 0.05


def test_random_walk_generator_checks_its_values():
    with pytest.raises(ValueError, match=r"^days must be at least 2, got 1$"):
        random_walk_frame(days=1)
    with pytest.raises(ValueError, match=r"^volatility must be above 0, got 0"):
        random_walk_frame(volatility=0)
    with pytest.raises(ValueError, match=r"^start_price must be above 0, got -1"):
        random_walk_frame(start_price=-1)
    small = random_walk_frame(days=5, seed=1, end="2024-01-05")
    assert list(small.index.strftime("%Y-%m-%d")) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
    ]


def test_the_lag_detector_flags_the_baselines_on_the_random_walk():
    preset = PRESETS["random-walk-control"]
    data = load_sample(preset.sample)
    assert data.name == "random_walk" and data.default_column() == "Close"
    frame, notes = series_frame(data, preset.config.columns)
    assert notes == []
    split = split_series(frame, preset.config.columns, preset.config.split)
    assert (len(split.train), len(split.test)) == (1305, 261)  # 2016-2020, 2021
    baselines = naive_baselines(split, preset.config.window)
    rmse = {k: metrics.rmse(split.test, v) for k, v in baselines.items()}
    values = lab.forecast_skill_and_lag(split.test, baselines, rmse)
    assert values["persistence"] == {"skill": 0.0, "best_lag": 1}
    # The linear autoregression learns "tomorrow = today": no skill, one step late.
    assert values["linear_ar"]["best_lag"] == 1
    assert -0.05 < values["linear_ar"]["skill"] <= 0
    assert lab.lag_verdict("Linear autoregression", 1, values["linear_ar"]["skill"])


# --------------------------------------------------------------------------------
# Run history
# --------------------------------------------------------------------------------


def table(rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"rmse": list(rows.values()), "kind": list(rows)})


def test_history_frame_one_row_per_run():
    first = RunEntry(
        "run-1",
        datetime(2026, 12, 1, 9, 40),
        {"data": "mastercard", "window": 60, "models": ["lstm", "gru"], "lr": 0.001},
        table({"lstm": 7.5, "gru": 5.5, "persistence": 4.0, "linear_ar": 4.2}),
    )
    second = RunEntry(
        "run-2",
        datetime(2026, 12, 1, 9, 50),
        {"data": "random_walk", "window": 20, "models": ["simple_rnn"], "note": None},
        table({"simple_rnn": 1.5, "persistence": 1.8, "linear_ar": np.nan}),
    )
    frame = history_frame([first, second])
    assert list(frame.columns) == [
        "id",
        "time",
        "settings",
        "best_model",
        "best_rmse",
        "best_baseline",
        "best_baseline_rmse",
        "beats_baselines",
        "rmse_lstm",
        "rmse_gru",
        "rmse_simple_rnn",
        "rmse_persistence",
        "rmse_linear_ar",
    ]
    assert frame["settings"].tolist() == [
        "data mastercard; window 60; models lstm/gru; lr 0.001",
        "data random_walk; window 20; models simple_rnn",
    ]
    assert frame["best_model"].tolist() == ["gru", "simple_rnn"]
    assert frame["best_rmse"].tolist() == [5.5, 1.5]
    assert frame["best_baseline"].tolist() == ["persistence", "persistence"]
    assert frame["beats_baselines"].tolist() == [False, True]
    assert math.isnan(frame.loc[1, "rmse_lstm"])
    assert frame.loc[0, "time"] == pd.Timestamp("2026-12-01 09:40")
    assert history_csv([first, second]).splitlines() == [
        "id,time,settings,best_model,best_rmse,best_baseline,best_baseline_rmse,"
        "beats_baselines,rmse_lstm,rmse_gru,rmse_simple_rnn,rmse_persistence,"
        "rmse_linear_ar",
        "run-1,2026-12-01T09:40:00,data mastercard; window 60; models lstm/gru; lr "
        "0.001,gru,5.5,persistence,4.0,False,7.5,5.5,,4.0,4.2",
        "run-2,2026-12-01T09:50:00,data random_walk; window 20; models simple_rnn,"
        "simple_rnn,1.5,persistence,1.8,True,,,1.5,1.8,",
    ]


def test_history_of_nothing_and_of_a_diverged_run():
    assert history_frame([]).empty
    assert history_csv([]).startswith("id,time,settings,best_model,")
    diverged = RunEntry(
        "x", datetime(2026, 1, 1), {}, table({"gru": np.nan, "persistence": 2.0})
    )
    row = history_frame([diverged]).iloc[0]
    assert row["best_model"] is None and math.isnan(row["best_rmse"])
    assert not row["beats_baselines"] and row["settings"] == ""


def test_config_settings_and_their_difference():
    preset = PRESETS["random-walk-control"]
    settings = config_settings(preset.config, preset.sample)
    assert settings_summary(settings) == (
        "data random_walk; columns Close; split train 2016-2020, test 2021 onward; "
        "window 60; target level; models lstm/gru; units 50; layers 1; dropout 0; "
        "optimizer rmsprop; learning_rate 0.001; epochs 20; batch_size 32; seed 455; "
        "seeds 1"
    )
    other = config_settings(PRESETS["mastercard-lstm-vs-gru"].config, "mastercard")
    assert settings_difference(settings, other) == {
        "data": ("random_walk", "mastercard"),
        "columns": (["Close"], ["High"]),
        "units": (50, 125),
        "epochs": (20, 50),
    }
    assert settings_difference({"a": 1}, {"b": 2}) == {"a": (1, None), "b": (None, 2)}


def test_cli_json_and_report_of_a_hand_made_comparison(capsys):
    from forecasting.cli.report import print_report, to_json

    result = to_json(hand_comparison(seeds=3))
    assert result["models"]["lstm"]["best_lag"] == 1
    assert result["models"]["lstm"]["skill"] == pytest.approx(0.0)
    assert result["models"]["gru"]["best_lag"] == 0
    assert result["baseline"]["persistence"] == {
        **result["baseline"]["persistence"],
        "skill": 0.0,
        "best_lag": 1,
    }
    (pair,) = result["paired"]
    assert set(pair) == {"a", "b", "mean_diff", "ci_low", "ci_high", "verdict"}
    assert pair["verdict"].startswith("GRU has a lower error than LSTM")
    assert "paired" not in to_json(hand_comparison(seeds=1))
    print_report(hand_comparison(seeds=3), "hand", None, None)
    out = capsys.readouterr().out
    assert "skill" in out and "best_lag" in out
    assert "LSTM mostly copies the last value" in out
    assert "GRU has a lower error than LSTM" in out


def test_the_cli_offers_the_random_walk_sample_and_preset():
    from forecasting.cli.parser import build_parser

    args = build_parser().parse_args(["compare", "--sample", "random_walk"])
    assert args.sample == "random_walk"
    args = build_parser().parse_args(["compare", "--preset", "random-walk-control"])
    assert args.preset == "random-walk-control"
