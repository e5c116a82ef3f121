"""The fast path and the plain Keras fallback give the same numbers."""

import numpy as np
import pytest

from forecasting.nn import fastpath
from forecasting.nn.predict import free_run, predict_one_step
from forecasting.nn.training import train_model
from forecasting.prep.windows import make_windows
from forecasting.settings.config import ModelConfig, TrainConfig


@pytest.fixture(scope="module")
def track_windows():
    rng = np.random.default_rng(8)
    t = np.arange(160) / 7
    values = np.c_[0.5 + 0.3 * np.cos(t), 0.5 + 0.3 * np.sin(t)]
    values = values + rng.normal(0, 0.01, (160, 2))
    return make_windows(values.astype(np.float32), 8)


@pytest.mark.parametrize(
    ("value", "on"),
    [(None, True), ("1", True), ("", True), ("0", False), ("off", False)],
)
def test_the_switch_is_one_environment_variable(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv("FORECASTING_FAST_PATH", raising=False)
    else:
        monkeypatch.setenv("FORECASTING_FAST_PATH", value)
    assert fastpath.enabled() is on


def test_a_bad_switch_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("FORECASTING_FAST_PATH", "fast")
    with pytest.raises(
        ValueError, match=r"FORECASTING_FAST_PATH must be 1 .* or 0 .*, got 'fast'"
    ):
        fastpath.enabled()


def _train(monkeypatch, fast, x, y, train_config):
    monkeypatch.setenv("FORECASTING_FAST_PATH", "1" if fast else "0")
    fastpath.clear_caches()
    result = train_model("gru", x, y, ModelConfig(units=5, dropout=0.1), train_config)
    # The plain path leaves the fast path's cache empty: it really was plain.
    assert len(fastpath._TRAINERS) == (1 if fast else 0)
    return result, predict_one_step(result.model, x)


@pytest.mark.parametrize("jit", [True, False])
@pytest.mark.parametrize("early", [False, True])
def test_both_paths_train_the_same_model(monkeypatch, track_windows, jit, early):
    x, y = track_windows
    config = TrainConfig(
        epochs=8,
        batch_size=16,
        seed=13,
        optimizer="adam",
        learning_rate=0.2,
        jit_compile=jit,
        early_stopping=early,
        patience=1,
    )
    fast, fast_predictions = _train(monkeypatch, True, x, y, config)
    plain, plain_predictions = _train(monkeypatch, False, x, y, config)
    if early:  # stopped early and went back to an earlier epoch's weights
        assert fast.best_epoch < fast.epochs_run < 8
    assert fast.history.keys() == plain.history.keys()
    # Observed: identical losses and predictions (difference 0.0) on TF 2.21 CPU.
    for key, losses in fast.history.items():
        np.testing.assert_allclose(losses, plain.history[key], rtol=1e-6)
    assert (fast.epochs_run, fast.best_epoch) == (plain.epochs_run, plain.best_epoch)
    assert fast.params == plain.params
    np.testing.assert_allclose(fast_predictions, plain_predictions, atol=1e-6)


def quick(seed: int) -> TrainConfig:
    """One epoch without XLA, for tests whose point comes after the training."""
    return TrainConfig(epochs=1, seed=seed, jit_compile=False)


@pytest.mark.parametrize("jit", [True, False])
def test_both_paths_free_run_the_same(monkeypatch, track_windows, jit):
    x, y = track_windows
    model = train_model("lstm", x, y, ModelConfig(units=6), quick(seed=4)).model
    starts = x[[0, 40, 80]]
    monkeypatch.setenv("FORECASTING_FAST_PATH", "1")
    fast = free_run(model, starts, 30, jit_compile=jit)
    monkeypatch.setenv("FORECASTING_FAST_PATH", "0")
    fastpath.clear_caches()
    plain = free_run(model, starts, 30, jit_compile=jit)
    assert not fastpath._ROLLOUTS  # the plain loop compiled nothing
    assert fast.shape == plain.shape == (3, 30, 2)
    # Observed: max difference 8.6e-8 with XLA, 0.0 without.
    np.testing.assert_allclose(fast, plain, atol=1e-6)
    np.testing.assert_allclose(free_run(model, x[0], 30), plain[0], atol=1e-6)


def test_both_paths_predict_the_same_and_one_architecture_traces_once(
    monkeypatch, track_windows
):
    x, y = track_windows  # 152 windows: batches of 64, 64 and 24
    models = [
        train_model("gru", x, y, ModelConfig(units=5), quick(seed=s)) for s in (1, 2)
    ]
    monkeypatch.setenv("FORECASTING_FAST_PATH", "0")
    plain = [predict_one_step(m.model, x, batch_size=64) for m in models]
    monkeypatch.setenv("FORECASTING_FAST_PATH", "1")
    fastpath.clear_caches()
    fast = [predict_one_step(models[0].model, x, batch_size=64)]
    ((_, forward),) = fastpath._PREDICTORS.values()
    traces = forward.experimental_get_tracing_count()
    fast.append(predict_one_step(models[1].model, x, batch_size=64))
    assert len(fastpath._PREDICTORS) == 1  # the second model reused the first's
    assert forward.experimental_get_tracing_count() == traces  # ... without a trace
    assert not np.array_equal(plain[0], plain[1])  # two different models
    for got, want in zip(fast, plain, strict=True):
        assert got.shape == want.shape == (len(x), 2) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=1e-6)
