from dataclasses import replace

import pytest

from forecasting.data import PRICE_SAMPLES, TRACKING_SAMPLES, load_sample
from forecasting.settings.presets import PRESETS, get_preset


def test_the_five_tutorial_presets_and_the_control():
    assert list(PRESETS) == [
        "mastercard-lstm-vs-gru",
        "fly-gru",
        "stacked-lstm",
        "stacked-simple-rnn",
        "netflix-simple-rnn",
        "random-walk-control",
    ]
    mc = PRESETS["mastercard-lstm-vs-gru"].config
    assert (mc.columns, mc.window, mc.models) == (("High",), 60, ("lstm", "gru"))
    assert (mc.split.train_start_year, mc.split.train_end_year) == (2016, 2020)
    assert (mc.train.optimizer, mc.train.epochs, mc.train.seed) == ("rmsprop", 50, 455)
    fly = PRESETS["fly-gru"]
    assert (fly.config.split.train_rows, fly.config.split.test_rows) == (2000, 1000)
    assert fly.rollout == 1000 and fly.config.columns == ("X", "Y")
    lstm = PRESETS["stacked-lstm"].config
    assert (lstm.model.layers, lstm.model.units, lstm.model.dropout) == (4, 50, 0.2)
    assert (lstm.train.optimizer, lstm.train.epochs, lstm.columns) == (
        "adam",
        100,
        ("Open",),
    )
    rnn = PRESETS["stacked-simple-rnn"].config
    assert (rnn.window, rnn.scale_range, rnn.models) == (
        50,
        (-1.0, 1.0),
        ("simple_rnn",),
    )
    nflx = PRESETS["netflix-simple-rnn"].config
    assert (nflx.model.layers, nflx.model.units, nflx.window) == (3, 20, 100)
    assert nflx.split.method == "fraction" and nflx.split.train_fraction == 0.8
    control = PRESETS["random-walk-control"]
    assert (control.sample, control.command) == ("random_walk", "compare")
    assert (control.config.columns, control.config.models) == (
        ("Close",),
        ("lstm", "gru"),
    )
    assert control.reported == {}


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_fits_its_bundled_sample(name):
    preset = PRESETS[name]
    samples = PRICE_SAMPLES if preset.command == "compare" else TRACKING_SAMPLES
    assert preset.sample in samples
    data = load_sample(preset.sample)
    if preset.command == "compare":
        assert set(preset.config.columns) <= set(data.columns)
    else:
        needed = preset.config.split.train_rows + preset.config.split.test_rows
        assert data.track(preset.individual, min_rows=needed).values.shape[1] == 2
        assert preset.transfer_to in data.ids()
    assert preset.describe()


def test_describe_names_the_difference_target_only_when_set():
    preset = PRESETS["mastercard-lstm-vs-gru"]
    assert "differences" not in preset.describe()
    diff = replace(preset, config=replace(preset.config, target="diff"))
    assert diff.describe() == (
        "mastercard: High · train 2016-2020, test 2021 onward · window 60 · LSTM, "
        "GRU · 125 units · 50 epochs · RMSprop lr 0.001 · batch 32 · seed 455 · "
        "learns differences"
    )


def test_unknown_preset_lists_the_names():
    with pytest.raises(
        ValueError, match=r"preset must be one of mastercard-lstm-vs-gru, "
    ):
        get_preset("lstm")
