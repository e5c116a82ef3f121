from dataclasses import replace

import numpy as np
import pytest

from forecasting.data import DataError
from forecasting.nn.predict import predict_one_step
from forecasting.nn.training import train_model, validation_split
from forecasting.settings.config import MODEL_KINDS, ModelConfig, TrainConfig


@pytest.fixture
def series_windows():
    rng = np.random.default_rng(5)
    t = np.arange(220)
    values = (0.5 + 0.4 * np.sin(t / 6) + rng.normal(0, 0.02, 220)).astype(np.float32)
    from forecasting.prep.windows import make_windows

    return make_windows(values, 12)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_each_kind_trains_one_epoch(kind, series_windows):
    x, y = series_windows
    calls = []
    result = train_model(
        kind,
        x,
        y,
        ModelConfig(units=6),
        TrainConfig(epochs=1, batch_size=32, jit_compile=False),
        progress=lambda *args: calls.append(args),
    )
    assert result.kind == kind
    assert result.epochs_run == 1
    assert len(result.history["loss"]) == 1
    assert np.isfinite(result.history["loss"][0])
    assert result.params == result.model.count_params() > 0
    assert result.fit_seconds > 0
    assert calls == [(kind, 1, 1, {"loss": pytest.approx(result.history["loss"][0])})]
    assert predict_one_step(result.model, x[:5]).shape == (5, 1)


def test_same_seed_same_predictions_other_seed_other_predictions(series_windows):
    x, y = series_windows
    model_config = ModelConfig(units=6, dropout=0.1)

    def fit(seed):
        config = TrainConfig(
            epochs=2, batch_size=16, seed=seed, optimizer="adam", jit_compile=False
        )
        return predict_one_step(
            train_model("lstm", x, y, model_config, config).model, x
        )

    first, again, other = fit(3), fit(3), fit(4)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_validation_tail_is_cut_from_the_end_of_training():
    x = np.arange(20, dtype=np.float32).reshape(10, 2, 1)
    y = np.arange(10, dtype=np.float32).reshape(10, 1)
    x_fit, y_fit, x_val, y_val = validation_split(x, y, 0.2)
    np.testing.assert_array_equal(y_fit[:, 0], np.arange(8))
    np.testing.assert_array_equal(y_val[:, 0], [8, 9])
    np.testing.assert_array_equal(x_val, x[8:])
    with pytest.raises(
        DataError, match=r"only 2 training windows exist; turn early stopping off"
    ):
        validation_split(x[:2], y[:2], 0.2)


def test_early_stopping_stops_and_keeps_the_best_weights():
    # Pure noise: nothing generalises, so the validation loss stops improving soon.
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(200, 5, 1)).astype(np.float32)
    y = rng.uniform(size=(200, 1)).astype(np.float32)
    config = TrainConfig(
        epochs=40,
        batch_size=16,
        early_stopping=True,
        patience=2,
        learning_rate=0.05,
        optimizer="adam",
        jit_compile=False,
    )
    seen = []
    result = train_model(
        "simple_rnn",
        x,
        y,
        ModelConfig(units=16),
        config,
        progress=lambda k, e, n, logs: seen.append(logs),
    )
    assert result.epochs_run < 40
    assert len(result.history["val_loss"]) == len(seen) == result.epochs_run
    assert all("val_loss" in logs for logs in seen)
    best = int(np.argmin(result.history["val_loss"])) + 1
    assert result.best_epoch == best
    # The kept weights are the best epoch's: their loss on the tail is the minimum.
    x_val, y_val = x[-20:], y[-20:]
    val_loss = float(np.mean((predict_one_step(result.model, x_val) - y_val) ** 2))
    assert val_loss == pytest.approx(min(result.history["val_loss"]), rel=1e-4)


def test_xla_off_trains_too(series_windows):
    x, y = series_windows
    result = train_model(
        "gru", x, y, ModelConfig(units=4), TrainConfig(epochs=1, jit_compile=False)
    )
    assert result.epochs_run == 1


def test_fast_path_matches_plain_keras_fit(series_windows):
    """XLA and one graph call per epoch train the same model as a plain fit."""
    import keras

    from forecasting.nn.models import build_model

    x, y = series_windows
    config = TrainConfig(epochs=3, batch_size=32, seed=11)
    fast = train_model("gru", x, y, ModelConfig(units=6), config)
    keras.utils.set_random_seed(11)
    plain = build_model("gru", x.shape[1], 1, units=6)
    plain.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001), loss="mse")
    history = plain.fit(x, y, epochs=3, batch_size=32, verbose=0)
    np.testing.assert_allclose(fast.history["loss"], history.history["loss"], rtol=1e-4)
    np.testing.assert_allclose(
        predict_one_step(fast.model, x), plain.predict(x, verbose=0), atol=1e-4
    )


def test_training_leaves_no_traced_graph_behind(series_windows):
    from tensorflow.python.framework import ops

    def entries():
        return sum(
            n.startswith("CustomGradient-") for n in ops._gradient_registry._registry
        )

    x, y = series_windows
    train_model("lstm", x, y, ModelConfig(units=4), TrainConfig(epochs=1))
    before = entries()
    train_model("lstm", x, y, ModelConfig(units=4), TrainConfig(epochs=1))
    assert entries() == before


def test_a_reused_trainer_gives_the_numbers_of_a_fresh_one(series_windows):
    """Fits share one compiled trainer per setting, without sharing any state."""
    from forecasting.nn import fastpath

    x, y = series_windows
    model_config = ModelConfig(units=6, layers=2, dropout=0.2)
    config = TrainConfig(
        epochs=3, batch_size=16, seed=21, optimizer="adam", jit_compile=False
    )

    def fit(train_config):
        result = train_model("gru", x, y, model_config, train_config)
        return result.history["loss"], predict_one_step(result.model, x)

    fastpath.clear_caches()
    fresh_loss, fresh = fit(config)
    assert len(fastpath._TRAINERS) == 1
    trainer = next(iter(fastpath._TRAINERS.values()))[0]
    fit(replace(config, epochs=2, seed=22))
    again_loss, again = fit(config)
    assert len(fastpath._TRAINERS) == 1
    assert next(iter(fastpath._TRAINERS.values()))[0] is trainer  # built once
    np.testing.assert_array_equal(again_loss, fresh_loss)
    np.testing.assert_array_equal(again, fresh)


def test_trained_models_are_independent_of_the_trainer(series_windows):
    x, y = series_windows
    config = TrainConfig(epochs=1, batch_size=32, seed=1)
    first = train_model("simple_rnn", x, y, ModelConfig(units=5), config)
    before = predict_one_step(first.model, x)
    train_model("simple_rnn", x, y, ModelConfig(units=5), TrainConfig(epochs=2, seed=2))
    np.testing.assert_array_equal(predict_one_step(first.model, x), before)
