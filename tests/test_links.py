"""Shareable setups: the page address <-> widget values, pure functions only."""

import datetime as dt
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from forecasting import data as core
from forecasting.settings.config import (
    MODEL_KINDS,
    TRACKS_DEFAULT,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)
from forecasting.settings.presets import PRESETS
from ui.forms import links, widgets
from ui.forms.link_params import page_address, query_string

ROOT = Path(__file__).resolve().parent.parent
MASTERCARD = core.load_sample("mastercard")
FLY = core.load_sample("fly")


def price_values(config: ExperimentConfig, sample: str = "mastercard") -> dict:
    """The price page's widget values for a config (as a preset fills them)."""
    values = {
        "price_source": "Bundled sample",
        "price_sample": sample,
        "price_columns": list(config.columns),
        "price_years": (2016, 2020),
        "price_test_end": links.UNTIL_END,
        "price_fraction": 0.8,
    }
    split = config.split
    if split.method == "years":
        values["price_method"] = "Calendar years"
        values["price_years"] = (split.train_start_year, split.train_end_year)
        values["price_test_end"] = split.test_end_year or links.UNTIL_END
    else:
        values["price_method"] = "Share of rows"
        values["price_fraction"] = split.train_fraction
    return values | widgets.form_values("price", config)


def tracking_values(
    config: ExperimentConfig, sample: str, individual: str, rollout: int
) -> dict:
    values = {
        "trk_source": "Bundled sample",
        "trk_sample": sample,
        "trk_individual": individual,
        "trk_columns": list(config.columns),
        "trk_train_rows": config.split.train_rows,
        "trk_test_rows": config.split.test_rows,
        "trk_rollout": rollout,
    }
    return values | widgets.form_values("trk", config)


def open_price_link(values: dict, data) -> tuple[dict, dict, list[str]]:
    """Make the link of these widget values, open it: (params, widgets, warnings)."""
    params = links.price_link(values, data)
    setup, warnings = links.parse_price(params, data)
    return params, links.price_widget_values(setup, data), warnings


def open_tracking_link(values: dict, data) -> tuple[dict, dict, list[str]]:
    params = links.tracking_link(values, data)
    setup, warnings = links.parse_tracking(params, data)
    return params, links.tracking_widget_values(setup, data), warnings


def price_config(values: dict) -> ExperimentConfig:
    """The config the price page builds from its widget values."""
    form = {name: values[f"price_{name}"] for name in (*widgets.FORM_SETTINGS, "scale")}
    choices = widgets.choices_from_form(form)
    if values["price_method"] == "Calendar years":
        start, end = values["price_years"]
        test_end = values["price_test_end"]
        split = SplitConfig.by_years(
            start, end, None if test_end == links.UNTIL_END else test_end
        )
    else:
        split = SplitConfig.by_fraction(values["price_fraction"])
    return choices.experiment(tuple(values["price_columns"]), split)


def tracking_config(values: dict) -> ExperimentConfig:
    form = {name: values[f"trk_{name}"] for name in (*widgets.FORM_SETTINGS, "scale")}
    split = SplitConfig.by_rows(values["trk_train_rows"], values["trk_test_rows"])
    choices = widgets.choices_from_form(form)
    return choices.experiment(tuple(values["trk_columns"]), split)


# --------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------


def test_the_defaults_make_an_empty_link_and_an_empty_link_gives_the_defaults():
    price = links.price_widget_values(links.price_defaults(MASTERCARD), MASTERCARD)
    assert links.price_link(price, MASTERCARD) == {}
    assert links.parse_price({}, MASTERCARD) == (links.price_defaults(MASTERCARD), [])
    assert price_config(price) == ExperimentConfig()
    track = links.tracking_widget_values(links.tracking_defaults(FLY), FLY)
    assert links.tracking_link(track, FLY) == {}
    assert links.parse_tracking({}, FLY) == (links.tracking_defaults(FLY), [])
    assert tracking_config(track) == TRACKS_DEFAULT == PRESETS["fly-gru"].config


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_survives_the_link(name):
    preset = PRESETS[name]
    if preset.command == "compare":
        data = core.load_sample(preset.sample)
        values = price_values(preset.config, preset.sample)
        params, restored, warnings = open_price_link(values, data)
        assert price_config(restored) == preset.config
        assert restored["price_sample"] == preset.sample
    else:
        data = core.load_sample(preset.sample)
        values = tracking_values(
            preset.config, preset.sample, preset.individual, preset.rollout
        )
        params, restored, warnings = open_tracking_link(values, data)
        assert tracking_config(restored) == preset.config
        assert restored["trk_individual"] == preset.individual
        assert restored["trk_rollout"] == preset.rollout
    assert warnings == []
    assert {k: restored[k] for k in values} == values


def test_a_setup_that_changes_every_form_setting_survives_the_link():
    config = ExperimentConfig(
        columns=("Open", "Stock Splits"),
        split=SplitConfig.by_years(2010, 2014, 2017),
        window=33,
        scale_range=(-1.0, 1.0),
        models=("lstm", "simple_rnn"),
        model=ModelConfig(units=7, layers=3, dropout=0.15),
        train=TrainConfig(
            optimizer="sgd",
            learning_rate=0.0123,
            epochs=7,
            batch_size=64,
            seed=99,
            early_stopping=True,
            patience=9,
            jit_compile=False,
            seeds=3,
        ),
        target="diff",
    )
    values = price_values(config)
    params, restored, warnings = open_price_link(values, MASTERCARD)
    assert warnings == []
    assert price_config(restored) == config
    assert {k: restored[k] for k in values} == values
    # Every training setting but the scale's top (1 in both ranges) is written.
    assert set(links.TRAINING_NAMES) - set(params) == {"scale_high"}
    assert params["models"] == "lstm,simple_rnn"
    assert params["early_stopping"] == "true" and params["jit_compile"] == "false"
    assert params["learning_rate"] == "0.0123" and params["scale_low"] == "-1.0"
    assert params["train_start_year"] == "2010" and params["test_end_year"] == "2017"


def test_a_link_holds_only_what_differs_from_the_defaults():
    values = price_values(
        ExperimentConfig(models=("lstm", "gru"), train=TrainConfig(epochs=3))
    )
    params = links.price_link(values, MASTERCARD)
    assert params == {"models": "lstm,gru", "epochs": "3"}
    assert query_string(params) == "?models=lstm,gru&epochs=3"
    assert query_string({}) == ""


def test_a_query_string_reads_back_as_the_same_parameters():
    values = price_values(ExperimentConfig(columns=("Stock Splits", "High")))
    params = links.price_link(values, MASTERCARD)
    assert params == {"columns": "Stock Splits,High"}
    query = urlsplit(query_string(params)).query
    assert dict(parse_qsl(query, keep_blank_values=True)) == params


def test_a_fraction_split_and_the_control_sample():
    config = PRESETS["netflix-simple-rnn"].config
    values = price_values(config, "random_walk") | {"price_columns": ["Close"]}
    params, restored, warnings = open_price_link(
        values, core.load_sample("random_walk")
    )
    assert warnings == []
    assert params["sample"] == "random_walk" and params["split_method"] == "fraction"
    assert "train_fraction" not in params  # 0.8 is the default
    assert "train_start_year" not in params
    assert restored["price_method"] == "Share of rows"


def test_a_ticker_link_always_names_its_dates():
    values = price_values(ExperimentConfig()) | {
        "price_source": "Yahoo Finance ticker",
        "price_symbol": "nflx",
        "price_start": dt.date(2015, 1, 1),
        "price_end": dt.date(2020, 12, 31),
    }
    params = links.price_link(values, None)
    assert params == {
        "source": "ticker",
        "ticker": "NFLX",
        "start": "2015-01-01",
        "end": "2020-12-31",
    }
    setup, warnings = links.parse_price(params, None)
    restored = links.price_widget_values(setup, None)
    assert warnings == []
    assert restored["price_source"] == "Yahoo Finance ticker"
    assert restored["price_symbol"] == "NFLX"
    assert restored["price_start"] == dt.date(2015, 1, 1)
    assert restored["price_end"] == dt.date(2020, 12, 31)
    assert "price_columns" not in restored  # set once the prices are downloaded


def test_an_upload_link_keeps_the_training_settings_only():
    values = price_values(ExperimentConfig(columns=("Open",), window=30)) | {
        "price_source": "Upload a CSV"
    }
    params = links.price_link(values, None)
    assert params == {"source": "upload", "window": "30"}
    setup, warnings = links.parse_price(params | {"columns": "Open"}, None)
    assert warnings == []  # the columns cannot apply before the upload: skipped
    assert links.price_widget_values(setup, None)["price_source"] == "Upload a CSV"
    track = tracking_values(PRESETS["fly-gru"].config, "fly", "Fly_3", 50) | {
        "trk_source": "Upload a CSV"
    }
    assert links.tracking_link(track, None) == {"source": "upload", "rollout": "50"}


def test_a_tracking_link_names_the_individual_and_rows():
    config = replace(
        PRESETS["fly-gru"].config,
        columns=("Y",),
        split=SplitConfig.by_rows(500, 200),
        models=("lstm", "gru"),
    )
    values = tracking_values(config, "fly", "Fly_4", 0)
    params, restored, warnings = open_tracking_link(values, FLY)
    assert params == {
        "individual": "Fly_4",
        "columns": "Y",
        "train_rows": "500",
        "test_rows": "200",
        "rollout": "0",
        "models": "lstm,gru",
    }
    assert warnings == []
    assert tracking_config(restored) == config
    assert restored["trk_data_key"] == FLY.fingerprint()


# --------------------------------------------------------------------------------
# Bad links
# --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("epochs", "abc"),
        ("epochs", "0"),
        ("models", "lstm,transformer"),
        ("models", "gru,gru"),
        ("columns", "Nope"),
        ("units", "5000"),
        ("dropout", "nan"),
        ("batch_size", "33"),
        ("optimizer", "adagrad"),
        ("early_stopping", "maybe"),
        ("target", "ratio"),
        ("sample", "bitcoin"),
        ("source", "ftp"),
        ("start", "2020-13-01"),
        ("train_start_year", "1999"),
        ("split_method", "rows"),
    ],
)
def test_a_bad_value_gives_one_sentence_and_keeps_the_default(name, text):
    defaults = links.price_defaults(MASTERCARD)
    setup, warnings = links.parse_price({name: text, "seed": "12"}, MASTERCARD)
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"The link's {name} value {text!r} cannot be used")
    assert warnings[0].endswith("is used instead.")
    assert setup[name] == defaults[name]
    assert setup["seed"] == 12  # the good values of the link still apply


def test_unknown_parameters_and_conflicts_are_named():
    setup, warnings = links.parse_price(
        {
            "epochz": "3",
            "train_start_year": "2019",
            "train_end_year": "2017",
            "scale_low": "0.5",
            "embed": "true",
        },
        MASTERCARD,
    )
    assert warnings == [
        "The link's parameter 'epochz' is not a setting of this page; it is ignored.",
        "The link's train_start_year 2019 is after its train_end_year 2017; the "
        "default training years are used instead.",
        "The link's scale_low and scale_high (0.5 to 1) are not a range the page "
        "offers (0 to 1 or -1 to 1); the default is used instead.",
    ]
    assert (setup["train_start_year"], setup["train_end_year"]) == (2016, 2020)
    assert (setup["scale_low"], setup["scale_high"]) == (0.0, 1.0)


def test_training_settings_that_do_not_fit_together_fall_back_together():
    setup, warnings = links.parse_price(
        {"seed": str(2**31 - 1), "seeds": "3", "epochs": "4"}, MASTERCARD
    )
    assert len(warnings) == 1 and "seed + seeds - 1" in warnings[0]
    assert (setup["seed"], setup["seeds"], setup["epochs"]) == (455, 1, 50)


def test_tracking_link_refuses_an_unknown_individual_and_rows_out_of_range():
    setup, warnings = links.parse_tracking(
        {"individual": "Fly_9", "train_rows": "999999", "rollout": "-1"}, FLY
    )
    assert [w.split(" value")[0] for w in warnings] == [
        "The link's individual",
        "The link's train_rows",
        "The link's rollout",
    ]
    assert setup["individual"] == "Fly_1" and setup["train_rows"] == 2000
    assert setup["rollout"] == links.FREE_RUN


def test_an_empty_model_list_round_trips():
    values = price_values(ExperimentConfig()) | {"price_models": []}
    params, restored, warnings = open_price_link(values, MASTERCARD)
    assert params == {"models": ""} and warnings == []
    assert restored["price_models"] == []
    assert links.parse_price({}, MASTERCARD)[0]["models"] == list(MODEL_KINDS)


def test_the_page_address_joins_the_browser_address_and_the_parameters():
    params = {"epochs": "3"}
    assert page_address(None, params) == "?epochs=3"
    assert page_address("http://h:8501", params) == "http://h:8501/?epochs=3"
    assert page_address("https://h/app/tracking", {}) == "https://h/app/tracking"
    assert page_address("http://h:8501/", {}) == "http://h:8501/"


def test_the_price_free_run_travels_in_the_link():
    values = price_values(ExperimentConfig()) | {"price_rollout": 30}
    params = links.price_link(values, None)
    assert params == {"rollout": "30"}
    setup, warnings = links.parse_price(params, None)
    assert warnings == []
    assert links.price_widget_values(setup, None)["price_rollout"] == 30
    assert "rollout" not in links.price_link(price_values(ExperimentConfig()), None)
    _, warnings = links.parse_price({"rollout": "-4"}, None)
    assert len(warnings) == 1 and "rollout" in warnings[0]


def test_the_link_parsers_import_without_streamlit():
    # A fresh interpreter: this test process has imported Streamlit already.
    code = "import sys, ui.forms.link_params; print('streamlit' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"
