import numpy as np
import pytest

from forecasting.nn.predict import free_run, free_run_reference, predict_one_step
from forecasting.nn.training import train_model
from forecasting.prep.windows import make_windows
from forecasting.settings.config import ModelConfig, TrainConfig


@pytest.fixture(scope="module")
def track_model():
    rng = np.random.default_rng(2)
    t = np.arange(200) / 8
    values = np.c_[0.5 + 0.3 * np.cos(t), 0.5 + 0.3 * np.sin(t)] + rng.normal(
        0, 0.01, (200, 2)
    )
    x, y = make_windows(values.astype(np.float32), 10)
    train = TrainConfig(epochs=2, seed=9, jit_compile=False)  # the model is the point
    return train_model("gru", x, y, ModelConfig(units=8), train).model, x


@pytest.fixture(scope="module")
def reference(track_model):
    """25 steps of the model's free run, one Keras predict per step (slow, once)."""
    model, x = track_model
    return free_run_reference(model, x[0], 25)


def test_one_step_is_one_prediction_per_window(track_model):
    model, x = track_model
    out = predict_one_step(model, x)
    assert out.shape == (len(x), 2)
    np.testing.assert_allclose(
        out[:3], model.predict(x[:3], verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("jit", [True, False])
def test_free_run_equals_step_by_step_predictions(track_model, reference, jit):
    model, x = track_model
    fast = free_run(model, x[0], 25, jit_compile=jit)
    assert fast.shape == (25, 2)
    np.testing.assert_allclose(fast, reference, atol=1e-5)


def test_batched_free_run_equals_single_runs(track_model):
    model, x = track_model
    batch = free_run(model, x[[0, 50, 100]], 15)
    assert batch.shape == (3, 15, 2)
    for row, start in zip(batch, x[[0, 50, 100]], strict=True):
        np.testing.assert_allclose(row, free_run(model, start, 15), atol=1e-5)


def test_free_run_errors(track_model):
    model, x = track_model
    with pytest.raises(ValueError, match=r"steps must be a positive integer, got 0"):
        free_run(model, x[0], 0)
    with pytest.raises(ValueError, match=r"start must be \(window, features\)"):
        free_run(model, x[0, 0], 5)


@pytest.mark.parametrize("jit", [True, False])
def test_free_run_does_not_keep_the_model_alive(jit):
    import gc
    import weakref

    from forecasting.nn.models import build_model

    model = build_model("gru", 5, 2, units=4)
    start = np.zeros((5, 2), dtype=np.float32)
    assert free_run(model, start, 3, jit_compile=jit).shape == (3, 2)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None, "free_run's cache kept a deleted model alive"


def test_models_of_one_architecture_share_the_compiled_loop(track_model, reference):
    """A second model reuses the traced loop and still gets its own forecast."""
    import keras

    from forecasting.nn.fastpath import _ROLLOUTS

    model, x = track_model
    free_run(model, x[0], 20)
    compiled = len(_ROLLOUTS)
    other = keras.models.clone_model(model)
    other.set_weights([w * 0.5 for w in model.get_weights()])
    mine, theirs = free_run(model, x[0], 20), free_run(other, x[0], 20)
    assert len(_ROLLOUTS) == compiled
    np.testing.assert_allclose(theirs, free_run_reference(other, x[0], 20), atol=1e-5)
    np.testing.assert_allclose(mine, reference[:20], atol=1e-5)
    assert not np.allclose(mine, theirs, atol=1e-3)
