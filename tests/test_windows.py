import numpy as np
import pandas as pd
import pytest

from forecasting.data import DataError
from forecasting.prep.windows import make_windows, prepare_windows, split_series
from forecasting.settings.config import SplitConfig


def test_make_windows_exact_values_one_feature():
    x, y = make_windows(np.arange(6), 3)
    assert x.shape == (3, 3, 1)
    assert y.shape == (3, 1)
    np.testing.assert_array_equal(x[..., 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y[:, 0], [3, 4, 5])


def test_make_windows_exact_values_two_features():
    values = np.arange(10).reshape(5, 2)  # rows [0,1], [2,3], ...
    x, y = make_windows(values, 2)
    assert x.shape == (3, 2, 2)
    np.testing.assert_array_equal(x[0], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(x[2], [[4, 5], [6, 7]])
    np.testing.assert_array_equal(y, [[4, 5], [6, 7], [8, 9]])


def test_make_windows_matches_the_tutorial_loop():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(500, 3))
    x, y = make_windows(values, 60)
    loop_x = np.array([values[i - 60 : i] for i in range(60, 500)])
    loop_y = np.array([values[i] for i in range(60, 500)])
    np.testing.assert_array_equal(x, loop_x)
    np.testing.assert_array_equal(y, loop_y)
    assert x.flags["C_CONTIGUOUS"]


def test_make_windows_returns_copies():
    values = np.arange(5.0)
    x, _ = make_windows(values, 2)
    x[0, 0, 0] = 99
    assert values[0] == 0


@pytest.mark.parametrize(
    ("window", "match"),
    [
        (5, r"window must be shorter than the series \(5 rows\), got 5"),
        (0, r"window must be a positive integer, got 0"),
        (2.0, r"window must be a positive integer, got 2.0"),
    ],
)
def test_make_windows_errors(window, match):
    with pytest.raises(ValueError, match=match):
        make_windows(np.arange(5), window)


def test_split_by_years(price_frame):
    split = split_series(price_frame, ("High",), SplitConfig.by_years(2018, 2019))
    assert split.train_index.year.min() == 2018
    assert split.train_index.year.max() == 2019
    assert set(split.test_index.year) == {2020}
    assert len(split.train) + len(split.test) == len(price_frame)
    assert split.train.shape[1] == 1


def test_split_by_years_with_test_end(price_frame):
    split = split_series(
        price_frame, ("High", "Close"), SplitConfig.by_years(2018, 2018, 2019)
    )
    assert set(split.test_index.year) == {2019}
    assert split.train.shape[1] == 2
    assert split.columns == ("High", "Close")


def test_split_by_fraction_and_rows(price_frame):
    split = split_series(price_frame, ("High",), SplitConfig.by_fraction(0.8))
    assert len(split.train) == int(len(price_frame) * 0.8)
    assert split.test_index[0] > split.train_index[-1]
    rows = split_series(price_frame, ("High",), SplitConfig.by_rows(100, 50))
    np.testing.assert_array_equal(
        rows.train[:, 0], price_frame["High"].to_numpy()[:100]
    )
    np.testing.assert_array_equal(
        rows.test[:, 0], price_frame["High"].to_numpy()[100:150]
    )


@pytest.mark.parametrize(
    ("split", "match"),
    [
        (
            SplitConfig.by_years(2030, 2031),
            r"No rows fall in the training years 2030-2031; the data covers 2018-2020",
        ),
        (
            SplitConfig.by_years(2018, 2020),
            r"No rows are left to test on after 2020; the data covers 2018-2020",
        ),
        (
            SplitConfig.by_rows(700, 100),
            r"has 784 rows but 800 are needed \(train 700 \+ test 100\)",
        ),
    ],
)
def test_split_errors(price_frame, split, match):
    with pytest.raises(DataError, match=match):
        split_series(price_frame, ("High",), split)


def test_split_errors_on_column_and_missing_values(price_frame):
    with pytest.raises(
        DataError, match=r"Column 'Open' is not in the data; choose one of High, Close"
    ):
        split_series(price_frame, ("Open",), SplitConfig.by_years(2018, 2019))
    holes = price_frame.copy()
    holes.iloc[5, 0] = np.nan
    with pytest.raises(DataError, match=r"Column 'High' has missing values"):
        split_series(holes, ("High",), SplitConfig.by_years(2018, 2019))
    plain = price_frame.reset_index(drop=True)
    with pytest.raises(DataError, match=r"A split by years needs dates"):
        split_series(plain, ("High",), SplitConfig.by_years(2018, 2019))


def test_scaler_is_fit_on_training_rows_only():
    # The test period holds values far outside the training range: if the scaler
    # had seen them, the training data would not span exactly 0..1.
    frame = pd.DataFrame({"v": np.r_[np.arange(10.0), 1000.0, 2000.0]})
    split = split_series(frame, ("v",), SplitConfig.by_rows(10, 2))
    windows = prepare_windows(split, 3)
    assert windows.scaler.data_min_[0] == 0
    assert windows.scaler.data_max_[0] == 9
    seen = np.r_[windows.x_train.ravel(), windows.y_train.ravel()]
    assert seen.min() == 0 and seen.max() == 1
    np.testing.assert_allclose(windows.y_test[:, 0], [1000 / 9, 2000 / 9], rtol=1e-6)


def test_test_windows_reach_back_into_training():
    frame = pd.DataFrame({"v": np.arange(20.0)})
    split = split_series(frame, ("v",), SplitConfig.by_rows(15, 5))
    windows = prepare_windows(split, 4, scale_range=(0, 14))  # scaled == original here
    assert windows.x_test.shape == (5, 4, 1)
    assert windows.x_train.shape == (11, 4, 1)
    np.testing.assert_allclose(windows.x_test[0, :, 0], [11, 12, 13, 14])
    np.testing.assert_allclose(windows.y_test[:, 0], [15, 16, 17, 18, 19])
    np.testing.assert_allclose(windows.inverse(windows.y_test), split.test)
    assert windows.x_train.dtype == np.float32


def test_window_not_shorter_than_training_data():
    frame = pd.DataFrame({"v": np.arange(20.0)})
    split = split_series(frame, ("v",), SplitConfig.by_rows(10, 5))
    with pytest.raises(
        DataError,
        match=r"The window \(10 rows\) must be shorter than the training data "
        r"\(10 rows\)",
    ):
        prepare_windows(split, 10)


def test_scale_range_minus_one_to_one():
    frame = pd.DataFrame({"v": np.arange(20.0)})
    split = split_series(frame, ("v",), SplitConfig.by_rows(10, 10))
    windows = prepare_windows(split, 3, scale_range=(-1, 1))
    seen = np.r_[windows.x_train.ravel(), windows.y_train.ravel()]
    assert seen.min() == -1 and seen.max() == 1
