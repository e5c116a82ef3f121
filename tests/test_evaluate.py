"""Intervals, error by horizon and walk-forward folds on cases computed by hand.

Everything above the last section trains nothing: comparisons are assembled from
hand-made fit results on a straight-line series (row ``t`` has the value ``t``).
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecasting.analysis.backtest import (
    assemble_backtest,
    backtest_frame,
    plan_backtest,
    refit_seconds,
    walk_forward_folds,
)
from forecasting.analysis.compare import assemble, plan_comparison
from forecasting.analysis.horizon import (
    baseline_free_runs,
    check_horizon,
    comparison_horizon_errors,
    horizon_errors,
)
from forecasting.analysis.intervals import (
    check_coverage,
    conformal_interval,
    conformal_quantile,
    model_intervals,
    predictions_with_bounds,
    seed_band,
)
from forecasting.cli.lab import check_lab_settings
from forecasting.nn.jobs import FitResult
from forecasting.prep.windows import Split
from forecasting.settings.config import ExperimentConfig, SplitConfig, TrainConfig

# ------------------------------------------------------------- conformal


@pytest.mark.parametrize(
    ("coverage", "expected"), [(0.5, 5.0), (0.7, 7.0), (0.8, 8.0), (0.9, 9.0)]
)
def test_conformal_quantile_is_the_ceil_n_plus_1_rank(coverage, expected):
    # n = 9 errors 1..9 (signs dropped): rank ceil(10 * coverage).
    residuals = [3, -1, 9, -4, 5, 2, -8, 7, -6]
    assert conformal_quantile(residuals, coverage) == expected


def test_conformal_quantile_needs_enough_errors():
    # 0.95 needs (n + 1) * 0.95 <= n, i.e. n >= 19.
    with pytest.raises(ValueError, match="coverage 0.95 needs at least 19"):
        conformal_quantile(np.arange(9), 0.95)
    assert conformal_quantile(np.arange(1, 20), 0.95) == 19.0
    with pytest.raises(ValueError, match="got 0"):
        conformal_quantile([], 0.5)


@pytest.mark.parametrize("bad", [0, 1, 1.0, 80, -0.2, True, "0.8"])
def test_coverage_outside_0_1_is_refused_by_value(bad):
    with pytest.raises(ValueError, match="coverage must be between 0 and 1"):
        check_coverage(bad)


def test_interval_bounds_and_coverage_reached():
    errors = np.arange(1.0, 10.0)  # calibration errors 1..9: half-width 8 at 80%
    interval = conformal_interval(
        np.zeros(9), -errors, [10.0, 20.0], 0.8, actual=[15.0, 29.0]
    )
    assert interval.half_width.tolist() == [8.0]
    assert interval.lower.ravel().tolist() == [2.0, 12.0]
    assert interval.upper.ravel().tolist() == [18.0, 28.0]
    assert interval.coverage == 0.5  # 15 is inside, 29 is not
    assert interval.n_calibration == 9 and interval.nominal == 0.8


def test_interval_per_coordinate_and_on_the_distance():
    cal_true = np.array([[3.0, 4.0], [6.0, 8.0], [0.0, 1.0], [0.0, 2.0]])
    cal_pred = np.zeros((4, 2))
    forecast, actual = np.zeros((1, 2)), np.array([[3.0, 5.0]])
    # n = 4, 60%: rank ceil(5 * 0.6) = 3. Columns: x 0,0,3,6 -> 3; y 1,2,4,8 -> 4.
    by_column = conformal_interval(cal_true, cal_pred, forecast, 0.6, actual=actual)
    assert by_column.half_width.tolist() == [3.0, 4.0]
    assert by_column.coverage == 0.5  # x = 3 inside, y = 5 outside
    # Distances 5, 10, 1, 2 -> sorted 1, 2, 5, 10 -> radius 5; |(3, 5)| > 5.
    disc = conformal_interval(cal_true, cal_pred, forecast, 0.6, "distance", actual)
    assert disc.half_width.tolist() == [5.0, 5.0]
    assert disc.coverage == 0.0
    inside = conformal_interval(cal_true, cal_pred, forecast, 0.6, "distance", [[3, 4]])
    assert inside.coverage == 1.0


def test_interval_refuses_a_bad_method_and_shapes():
    with pytest.raises(ValueError, match="method must be one of"):
        conformal_interval(np.zeros(3), np.zeros(3), [1.0], 0.5, method="box")
    with pytest.raises(ValueError, match="differ in shape"):
        conformal_interval(np.zeros(3), np.zeros(4), [1.0], 0.5)


def test_seed_band_is_min_and_max_over_seeds():
    low, high = seed_band(np.array([[[1.0], [3.0]], [[2.0], [0.0]]]))
    assert low.ravel().tolist() == [1.0, 0.0]
    assert high.ravel().tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match="seeds, rows, features"):
        seed_band(np.zeros((2, 3)))


# --------------------------------------------------------------- horizon


def test_horizon_errors_are_distances_per_step():
    assert horizon_errors([[0, 0], [3, 4]], np.zeros((2, 2))).tolist() == [0.0, 5.0]
    assert horizon_errors([1, 2, 3], [1, 1, 1]).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="same non-empty shape"):
        horizon_errors([1, 2], [1, 2, 3])


def test_baseline_free_runs_come_from_the_forecasters():
    line = np.arange(1.0, 31.0)[:, None]  # a straight line: AR continues it
    index = pd.RangeIndex(30)
    split = Split(line[:20], line[20:], index[:20], index[20:], ("y",))
    runs = baseline_free_runs(split, 2, 3)
    assert set(runs) == {"persistence", "linear_ar"}
    assert runs["persistence"].ravel().tolist() == [20, 20, 20]
    np.testing.assert_allclose(runs["linear_ar"].ravel(), [21, 22, 23], atol=1e-9)
    track = replace(
        split,
        train=np.c_[line, 2 * line][:20],
        test=np.c_[line, 2 * line][20:],
        columns=("x", "y"),
        track=True,
    )
    runs = baseline_free_runs(track, 3, 2)
    assert runs["constant_velocity"].tolist() == [[21, 42], [22, 44]]


@pytest.mark.parametrize("bad", [0, 9, 2.5, True])
def test_horizon_must_fit_the_test_rows(bad):
    with pytest.raises(ValueError, match="horizon must be"):
        check_horizon(bad, 8)


# ----------------------------------------------------------- walk-forward


def _split(n_train: int, n_test: int) -> Split:
    values = np.arange(float(n_train + n_test))[:, None]
    index = pd.RangeIndex(n_train + n_test)
    return Split(
        values[:n_train], values[n_train:], index[:n_train], index[n_train:], ("v",)
    )


def test_folds_expand_the_training_rows():
    folds = walk_forward_folds(_split(10, 7), 3)
    assert [len(f.train) for f in folds] == [10, 12, 14]
    assert [f.test.ravel().tolist() for f in folds] == [
        [10, 11],
        [12, 13],
        [14, 15, 16],  # the last fold takes the remainder
    ]
    assert folds[2].train_index[-1] == 13 and folds[2].test_index[0] == 14


@pytest.mark.parametrize(
    ("k", "match"),
    [(4, "backtest folds 4 is too many for the 7 test rows"), (0, "got 0")],
)
def test_too_many_folds_are_refused_by_value(k, match):
    with pytest.raises(ValueError, match=match):
        walk_forward_folds(_split(10, 7), k)


# ------------------------------------- comparisons assembled by hand (no TF)

LINE = pd.DataFrame({"v": np.arange(28.0)})
CONFIG = ExperimentConfig(
    columns=("v",),
    split=SplitConfig.by_rows(20, 8),
    window=3,
    models=("gru",),
    train=TrainConfig(epochs=1, seeds=2, seed=5),
)
OFFSETS = np.arange(8.0)[:, None]  # the forecast misses test row i by i


def _fit(seed: int, test: np.ndarray, train: np.ndarray) -> FitResult:
    calibration = train[-4:] + np.array([[1.0], [-2.0], [3.0], [-4.0]])
    return FitResult(
        kind="gru",
        seed=seed,
        predictions=test + OFFSETS,
        rollout=test[:5] + 0.5,
        history={"loss": [1.0]},
        fit_seconds=1.0,
        params=10,
        epochs_run=1,
        best_epoch=1,
        calibration=calibration,
    )


@pytest.fixture
def line_comparison():
    plan = plan_comparison(LINE, CONFIG, rollout_steps=5)
    split = plan.windows.split
    return assemble(
        plan, [_fit(job.seed, split.test, split.train) for job in plan.jobs]
    )


def test_model_intervals_use_the_calibration_tail(line_comparison):
    # Calibration errors 1, 2, 3, 4 (n = 4): 60% -> rank 3 -> half-width 3.
    interval = model_intervals(line_comparison, 0.6)["gru"]
    assert interval.half_width.tolist() == [3.0]
    assert interval.coverage == 0.5  # test misses 0..7: 0, 1, 2, 3 are inside
    assert interval.held_out is False  # no early stopping: the fit saw the tail
    frame = predictions_with_bounds(line_comparison, {"gru": interval})
    assert list(frame.columns[:4]) == ["real", "GRU", "GRU low", "GRU high"]
    assert (frame["GRU high"] - frame["GRU"]).tolist() == [3.0] * 8


def test_horizon_errors_of_models_and_baselines(line_comparison):
    errors = comparison_horizon_errors(line_comparison, 4)
    assert errors["gru"].tolist() == [0.5] * 4
    assert errors["persistence"].tolist() == [1.0, 2.0, 3.0, 4.0]  # 19 held
    np.testing.assert_allclose(errors["linear_ar"], 0, atol=1e-9)
    with pytest.raises(ValueError, match="horizon 6 needs free runs of at least 6"):
        comparison_horizon_errors(line_comparison, 6)


def test_backtest_without_refit_slices_the_forecasts(line_comparison):
    plan = plan_backtest(line_comparison, 2)
    assert plan.jobs == () and plan.estimate_seconds == 0
    result = assemble_backtest(plan, line_comparison)
    first, second = result["folds"]
    assert (first["train_end"], first["test_start"], first["test_end"]) == (19, 20, 23)
    assert (second["train_end"], second["test_start"], second["test_end"]) == (
        23,
        24,
        27,
    )
    # Misses 0..3 in fold 1 and 4..7 in fold 2; persistence misses 1 everywhere.
    assert first["models"]["gru"]["rmse"] == pytest.approx(np.sqrt(14 / 4))
    assert second["models"]["gru"]["mae"] == pytest.approx(5.5)
    assert first["models"]["persistence"]["rmse"] == pytest.approx(1.0)
    assert second["models"]["linear_ar"]["rmse"] == pytest.approx(0, abs=1e-9)
    table = backtest_frame(result)
    assert table.loc[2, "test"] == "24 .. 27"
    assert table.loc[1, "persistence"] == pytest.approx(1.0)


def test_backtest_with_refit_trains_each_later_fold(line_comparison):
    plan = plan_backtest(line_comparison, 3, refit=True)
    # Folds 2 and 3, two seeds each; fold 1 reuses the comparison's fits.
    assert [(job.seed, len(job.split.train)) for job in plan.jobs] == [
        (5, 22),
        (6, 22),
        (5, 24),
        (6, 24),
    ]
    assert plan.estimate_seconds == pytest.approx(sum(j.estimate for j in plan.jobs))
    split = line_comparison.split
    assert refit_seconds(split, CONFIG, 3) == pytest.approx(plan.estimate_seconds)
    refits = [
        FitResult("gru", job.seed, job.split.test + 2.0, None, {}, 0.0, 1, 1, 1)
        for job in plan.jobs
    ]
    result = assemble_backtest(plan, line_comparison, refits)
    assert [f["models"]["gru"]["rmse"] for f in result["folds"][1:]] == [2.0, 2.0]
    assert result["folds"][0]["models"]["gru"]["mae"] == pytest.approx(0.5)
    assert result["refit"] is True and result["k"] == 3


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"coverage": 1.5}, "coverage must be between 0 and 1 .*got 1.5"),
        ({"horizon": 11}, "horizon must be between 1 and the 10 test rows, got 11"),
        ({"folds": 6}, "backtest folds 6 is too many for the 10 test rows"),
        ({"refit": True}, "refit needs a backtest"),
    ],
)
def test_lab_settings_are_checked_by_value(settings, match):
    with pytest.raises(ValueError, match=match):
        check_lab_settings(10, **settings)
    check_lab_settings(10, coverage=0.9, horizon=10, folds=5, refit=True)


# ------------------------------------------------ a real fit (TensorFlow)


@pytest.mark.parametrize("target", ["level", "diff"])
def test_a_fit_forecasts_its_calibration_tail(price_frame, tiny_config, target):
    from dataclasses import replace

    from forecasting.nn.jobs import ApplyJob, FitJob
    from forecasting.prep.windows import prepare_windows, split_series

    config = replace(tiny_config, target=target)
    split = split_series(price_frame, config.columns, config.split)
    windows = prepare_windows(split, config.window, config.scale_range, target)
    fit = FitJob("gru", 1, config, split).run(lambda payload: None)
    n_cal = round(0.1 * len(windows.x_train))  # the validation tail's size
    assert fit.calibration.shape == (n_cal, 1)
    # The same model, loaded from its file, on the last n_cal training windows.
    job = ApplyJob(
        "gru", 1, fit.model_file, windows.x_train[-n_cal:], windows.x_train[0]
    )
    outputs, _ = job.run(lambda payload: None)
    previous = split.train[-n_cal - 1 : -1]  # the level before each tail row
    expected = windows.one_step_levels(outputs, previous)
    np.testing.assert_allclose(fit.calibration, expected, rtol=1e-5)
