"""The settings <-> config mapping, the summary line and the form's pure helpers.

Nothing here trains or imports TensorFlow; the form helpers of ``ui.forms.widgets`` are
plain functions of widget values.
"""

from dataclasses import replace

import pytest

from forecasting.cli.main import main
from forecasting.cli.parser import build_parser, flag_settings
from forecasting.settings.config import (
    MODEL_KINDS,
    TRACKS_DEFAULT,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)
from forecasting.settings.names import (
    DEFAULT_SETTINGS,
    SETTING_NAMES,
    config_from_settings,
    settings_from_config,
)
from forecasting.settings.presets import PRESETS
from ui.forms import widgets

CONFIGS = {
    "defaults": ExperimentConfig(),
    "tracks defaults": TRACKS_DEFAULT,
    **{name: preset.config for name, preset in PRESETS.items()},
    "every extra": ExperimentConfig(
        columns=("Open", "Close"),
        split=SplitConfig.by_years(2010, 2015, 2017),
        window=7,
        scale_range=(-1.0, 1.0),
        models=("simple_rnn", "lstm"),
        model=ModelConfig(units=3, layers=2, dropout=0.25),
        train=TrainConfig(
            optimizer="sgd",
            learning_rate=0.05,
            epochs=4,
            batch_size=8,
            seed=7,
            early_stopping=True,
            patience=2,
            validation_fraction=0.2,
            jit_compile=False,
            seeds=3,
        ),
        target="diff",
    ),
}


# --------------------------------------------------------------------------------
# Settings <-> config
# --------------------------------------------------------------------------------


def test_the_setting_names_are_flat_and_stable():
    assert SETTING_NAMES == (
        "columns",
        "split_method",
        "train_start_year",
        "train_end_year",
        "test_end_year",
        "train_fraction",
        "train_rows",
        "test_rows",
        "window",
        "scale_low",
        "scale_high",
        "models",
        "units",
        "layers",
        "dropout",
        "optimizer",
        "learning_rate",
        "epochs",
        "batch_size",
        "seed",
        "early_stopping",
        "patience",
        "validation_fraction",
        "jit_compile",
        "seeds",
        "target",
    )


@pytest.mark.parametrize("name", list(CONFIGS))
def test_settings_round_trip(name):
    config = CONFIGS[name]
    settings = settings_from_config(config)
    assert list(settings) == list(SETTING_NAMES)
    assert config_from_settings(settings) == config


@pytest.mark.parametrize("name", list(CONFIGS))
def test_setting_values_are_plain_scalars_or_lists_of_strings(name):
    for key, value in settings_from_config(CONFIGS[name]).items():
        if isinstance(value, list):
            assert value and all(isinstance(v, str) for v in value), key
        else:
            assert value is None or isinstance(value, (str, int, float)), key


def test_default_settings_are_the_tutorials():
    assert DEFAULT_SETTINGS["window"] == 60
    assert DEFAULT_SETTINGS["units"] == 125
    assert DEFAULT_SETTINGS["learning_rate"] == 0.001
    assert DEFAULT_SETTINGS["epochs"] == 50
    assert DEFAULT_SETTINGS["batch_size"] == 32
    assert DEFAULT_SETTINGS["seed"] == 455
    assert config_from_settings({}) == ExperimentConfig()
    with pytest.raises(TypeError):
        DEFAULT_SETTINGS["epochs"] = 1  # type: ignore[index]


def test_missing_settings_come_from_the_base():
    base = PRESETS["stacked-lstm"].config
    config = config_from_settings({"epochs": 3, "columns": ["Close"]}, base)
    assert config == replace(
        base, columns=("Close",), train=replace(base.train, epochs=3)
    )


def test_split_settings_change_the_method():
    config = config_from_settings({"split_method": "fraction", "train_fraction": 0.7})
    assert config.split == SplitConfig.by_fraction(0.7)
    rows = config_from_settings({"split_method": "rows", "train_rows": 30})
    assert rows.split == SplitConfig.by_rows(30, 1000)


def test_scale_settings_are_the_two_ends_of_the_range():
    config = config_from_settings({"scale_low": -1, "scale_high": 1})
    assert config.scale_range == (-1.0, 1.0)


def test_an_unknown_setting_is_named():
    with pytest.raises(
        ValueError, match=r"unknown setting 'epoch'; the settings are columns, "
    ):
        config_from_settings({"epoch": 3})


def test_a_bad_value_names_the_setting_and_the_value():
    with pytest.raises(ValueError, match=r"epochs must be an integer .* got 0"):
        config_from_settings({"epochs": 0})
    with pytest.raises(ValueError, match=r"scale_range must be \(low, high\)"):
        config_from_settings({"scale_low": 1.0})
    with pytest.raises(ValueError, match=r"columns must be a non-empty tuple"):
        config_from_settings({"columns": "High"})


# --------------------------------------------------------------------------------
# The command line's flags are settings
# --------------------------------------------------------------------------------


def _flags(*argv: str) -> dict:
    return flag_settings(build_parser().parse_args(list(argv)))


def test_flags_become_settings():
    assert _flags("compare") == {}
    assert _flags("compare", "--lr", "0.01", "--train-years", "2010", "2015") == {
        "learning_rate": 0.01,
        "split_method": "years",
        "train_start_year": 2010,
        "train_end_year": 2015,
    }
    assert _flags("compare", "--train-fraction", "0.7", "--scale-range", "-1", "1") == {
        "train_fraction": 0.7,
        "split_method": "fraction",
        "scale_low": -1.0,
        "scale_high": 1.0,
    }
    assert _flags("compare", "--test-end-year", "2022") == {
        "test_end_year": 2022,
        "split_method": "years",
    }
    assert _flags("tracks", "--train-rows", "300", "--no-xla", "--early-stopping") == {
        "train_rows": 300,
        "jit_compile": False,
        "early_stopping": True,
        "split_method": "rows",
    }


def test_cli_help_shows_the_configs_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for text in (
        "past steps per window (60)",
        "units per layer (125)",
        "learning rate (0.001)",
        "epochs (50)",
        "batch size (32)",
        "random seed (455)",
        "inclusive (2016 2020)",
        "(lstm gru simple_rnn)",
    ):
        assert text in help_text
    with pytest.raises(SystemExit):
        main(["tracks", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for text in ("training rows (2000)", "test rows (1000)", "simple_rnn (gru)"):
        assert text in help_text


# --------------------------------------------------------------------------------
# One summary line per config
# --------------------------------------------------------------------------------


def test_the_summary_line_of_the_defaults():
    assert ExperimentConfig().describe() == (
        "High · train 2016-2020, test 2021 onward · window 60 · LSTM, GRU, "
        "SimpleRNN · 125 units · 50 epochs · RMSprop lr 0.001 · batch 32 · seed 455"
    )


def test_the_summary_line_names_every_change_from_the_quiet_defaults():
    assert CONFIGS["every extra"].describe() == (
        "Open, Close · train 2010-2015, test 2016-2017 · window 7 · SimpleRNN, LSTM "
        "· 3 units × 2 layers · 4 epochs · SGD lr 0.05 · batch 8 · seed 7 · "
        "dropout 0.25 · early stopping (patience 2) · 3 seeds · learns differences "
        "· scaled to -1..1 · XLA off"
    )


def test_a_preset_is_its_sample_and_its_configs_summary():
    fly = PRESETS["fly-gru"]
    assert fly.describe() == (
        f"fly: {fly.config.describe()} · free run 1000 steps · then applied to Fly_2"
    )


# --------------------------------------------------------------------------------
# The form's values
# --------------------------------------------------------------------------------


def _unprefixed(values: dict, prefix: str) -> dict:
    return {key.removeprefix(f"{prefix}_"): value for key, value in values.items()}


def test_form_defaults_are_the_tutorials():
    values = widgets.defaults("price", MODEL_KINDS)
    assert sorted(values) == sorted(widgets.keys("price"))
    assert values == {
        "price_models": ["lstm", "gru", "simple_rnn"],
        "price_window": 60,
        "price_units": 125,
        "price_layers": 1,
        "price_dropout": 0.0,
        "price_optimizer": "rmsprop",
        "price_learning_rate": 0.001,
        "price_epochs": 50,
        "price_batch_size": 32,
        "price_seed": 455,
        "price_early_stopping": False,
        "price_patience": 5,
        "price_seeds": 1,
        "price_jit_compile": True,
        "price_target": "level",
        "price_scale": "0 to 1",
    }
    assert widgets.defaults("trk", TRACKS_DEFAULT.models)["trk_models"] == ["gru"]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_through_the_form(name):
    config = PRESETS[name].config
    values = _unprefixed(widgets.form_values("p", config), "p")
    choices = widgets.choices_from_form(values)
    assert choices.error is None
    assert choices.models == config.models
    assert choices.experiment(config.columns, config.split) == config


def test_form_values_are_of_the_widgets_types():
    config = replace(
        ExperimentConfig(), train=TrainConfig(learning_rate=1), scale_range=(0, 1)
    )
    values = widgets.form_values("p", config)
    assert isinstance(values["p_learning_rate"], float)
    assert isinstance(values["p_dropout"], float)
    assert values["p_scale"] == "0 to 1"


def test_the_form_keeps_the_canonical_model_order_and_casts_numbers():
    values = _unprefixed(widgets.defaults("p", ("gru", "lstm")), "p")
    values.update(units=7.0, seed=3.0, scale="-1 to 1")
    choices = widgets.choices_from_form(values)
    assert choices.models == ("lstm", "gru")
    assert choices.config.model.units == 7 and isinstance(
        choices.config.model.units, int
    )
    assert choices.config.train.seed == 3
    assert choices.config.scale_range == (-1.0, 1.0)


def test_the_form_explains_what_cannot_be_used():
    values = _unprefixed(widgets.defaults("p", MODEL_KINDS), "p")
    none = widgets.choices_from_form({**values, "models": []})
    assert none.error == widgets.NO_MODELS_MESSAGE and none.models == ()
    with pytest.raises(ValueError, match="No model is selected"):
        none.experiment(("High",), SplitConfig())
    bad = widgets.choices_from_form({**values, "patience": 0})
    assert bad.config is None
    assert bad.error == "patience must be an integer between 1 and 1000, got 0"


def test_scale_labels():
    assert widgets.scale_label((-1.0, 1.0)) == "-1 to 1"
    assert widgets.scale_label((0.0, 1.0)) == "0 to 1"
    assert widgets.scale_label((0.0, 2.0)) == "0 to 1"  # not offered: the default


# --------------------------------------------------------------------------------
# Time estimates
# --------------------------------------------------------------------------------


def test_estimate_texts():
    config = ExperimentConfig()
    assert widgets.estimate_text(config, 1259) == "about 1.3 min"
    gru = replace(config, models=("gru",))
    assert widgets.estimate_text(gru, 2000) == "about 45 s"
    assert widgets.preset_hint_text(gru, 2000) == "about 45 s for GRU"
    caption = widgets.estimate_caption(gru, 2000)
    assert caption.startswith(":material/timer: Estimated training time: **about 45")
    assert "training the same settings again is instant" in caption
