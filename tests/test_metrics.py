import numpy as np
import pytest
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    root_mean_squared_error,
)

from forecasting import metrics


@pytest.fixture
def pair():
    rng = np.random.default_rng(11)
    y = rng.uniform(5, 50, size=(40, 2))
    return y, y + rng.normal(0, 2, size=y.shape)


def test_metrics_equal_scikit_learn(pair):
    y, p = pair
    assert metrics.rmse(y, p) == pytest.approx(
        root_mean_squared_error(y.ravel(), p.ravel())
    )
    assert metrics.mae(y, p) == pytest.approx(mean_absolute_error(y.ravel(), p.ravel()))
    assert metrics.mape(y, p) == pytest.approx(
        100 * mean_absolute_percentage_error(y.ravel(), p.ravel())
    )


def test_mape_skips_zero_targets():
    assert metrics.mape(np.array([0.0, 10.0]), np.array([5.0, 11.0])) == pytest.approx(
        10.0
    )
    assert np.isnan(metrics.mape(np.zeros(3), np.ones(3)))


def test_euclidean_is_mean_row_distance():
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    p = np.array([[3.0, 4.0], [1.0, 1.0]])
    assert metrics.euclidean(y, p) == pytest.approx(2.5)


def test_score_keys():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert set(metrics.score(y, y)) == {"rmse", "mae", "mape"}
    assert metrics.score(y, y, with_euclidean=True)["euclidean"] == 0


def test_persistence_uses_the_previous_real_value():
    test = np.array([[10.0], [11.0], [13.0]])
    np.testing.assert_array_equal(
        metrics.persistence(np.array([9.0]), test), [[9], [10], [11]]
    )


def test_constant_velocity_continues_the_last_step():
    before = np.array([[0.0, 0.0], [1.0, 2.0]])
    test = np.array([[2.0, 4.0], [4.0, 4.0], [5.0, 5.0]])
    np.testing.assert_array_equal(
        metrics.constant_velocity(before, test), [[2, 4], [3, 6], [6, 4]]
    )


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        metrics.rmse(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="must not be empty"):
        metrics.mae(np.zeros(0), np.zeros(0))


def test_a_non_finite_rmse_gets_a_note_naming_the_models():
    from forecasting.metrics import non_finite_note

    assert non_finite_note({"GRU": 1.5, "Persistence (naive)": 0.2}) is None
    note = non_finite_note({"GRU": float("inf"), "Linear": float("nan"), "P": 1.0})
    assert note.startswith("The RMSE of GRU, Linear is not a finite number: ")
    huge = np.array([1.0, 1e308])
    assert non_finite_note({"GRU": metrics.rmse(huge, -huge)}) is not None
