"""Shareable setups in the app: a page opened with a link shows its settings.

Driven with Streamlit's AppTest: the query parameters are set before the first
run, as the browser sends them when a student opens the teacher's link. Nothing
is trained here.
"""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.forms import links
from ui.forms.link_params import query_string

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def open_link(params: dict[str, str], page: str | None = None) -> AppTest:
    """A new session opened with these query parameters (price page or ``page``)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.context["url"] = "http://school.example:8501/" + ("tracking" if page else "")
    if page is None:
        at.query_params.update(params)
        return at.run()
    at.run()
    at.query_params.update(params)
    return at.switch_page(page).run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def share_box(at: AppTest) -> str:
    (expander,) = [e for e in at.expander if e.label == "Copy link to this setup"]
    return expander.code[0].value


def test_a_price_link_restores_data_split_models_and_training():
    params = {
        "sample": "random_walk",  # its one column, Close, is the default
        "train_start_year": "2014",
        "train_end_year": "2018",
        "test_end_year": "2020",
        "models": "lstm,gru",
        "units": "16",
        "epochs": "3",
        "seeds": "3",
        "jit_compile": "false",
        "target": "diff",
    }  # in the order the page writes them
    at = open_link(params)
    no_exception(at)
    assert not at.warning and not at.error
    assert at.selectbox(key="price_sample").value == "random_walk"
    assert at.multiselect(key="price_columns").value == ["Close"]
    assert at.slider(key="price_years").value == (2014, 2018)
    assert at.selectbox(key="price_test_end").value == 2020
    assert at.multiselect(key="price_models").value == ["lstm", "gru"]
    assert at.number_input(key="price_epochs").value == 3
    assert at.number_input(key="price_units").value == 16
    assert at.number_input(key="price_seeds").value == 3
    assert at.radio(key="price_target").value == "diff"
    assert at.checkbox(key="price_jit_compile").value is False
    # The address stays the same link, and the copy box shows it in full.
    assert at.query_params == params
    assert share_box(at) == "http://school.example:8501/" + query_string(params)


def test_a_bad_link_warns_once_per_parameter_and_keeps_the_defaults():
    at = open_link(
        {"epochs": "abc", "models": "transformer", "columns": "Nope", "units": "8"}
    )
    no_exception(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 3, warnings
    for name in ("epochs", "models", "columns"):
        assert sum(w.startswith(f"The link's {name} value") for w in warnings) == 1
    assert at.number_input(key="price_epochs").value == 50
    assert at.multiselect(key="price_models").value == ["lstm", "gru", "simple_rnn"]
    assert at.multiselect(key="price_columns").value == ["High"]
    assert at.number_input(key="price_units").value == 8
    assert at.query_params == {"units": "8"}  # the address is cleaned up


def test_the_address_follows_the_settings_and_the_link_applies_once():
    at = open_link({"epochs": "3"})
    assert at.query_params == {"epochs": "3"}
    at.slider(key="price_years").set_value((2019, 2020)).run()
    no_exception(at)
    assert at.slider(key="price_years").value == (2019, 2020)
    assert at.number_input(key="price_epochs").value == 3
    assert at.query_params == {"train_start_year": "2019", "epochs": "3"}
    at.radio(key="price_method").set_value("Share of rows").run()
    assert at.query_params == {"split_method": "fraction", "epochs": "3"}


def test_a_default_page_has_a_bare_address():
    at = AppTest.from_file(APP, default_timeout=60).run()
    no_exception(at)
    assert at.query_params == {}
    assert share_box(at) == ""  # no browser address in AppTest, no parameters


def test_a_tracking_link_restores_the_individual_rows_and_free_run():
    params = {
        "individual": "Fly_3",
        "columns": "X",
        "train_rows": "600",
        "test_rows": "300",
        "rollout": "0",
        "models": "lstm",
        "window": "20",
    }
    at = open_link(params, "pages/tracking.py")
    no_exception(at)
    assert not at.warning and not at.error
    assert at.selectbox(key="trk_individual").value == "Fly_3"
    assert at.multiselect(key="trk_columns").value == ["X"]
    assert at.number_input(key="trk_train_rows").value == 600
    assert at.number_input(key="trk_test_rows").value == 300
    assert at.number_input(key="trk_rollout").value == 0
    assert at.multiselect(key="trk_models").value == ["lstm"]
    assert at.number_input(key="trk_window").value == 20
    assert at.query_params == params
    url = "http://school.example:8501/tracking" + query_string(params)
    assert share_box(at) == url


def test_an_upload_link_says_the_file_does_not_travel():
    at = open_link({"source": "upload", "epochs": "7"})
    no_exception(at)
    assert at.radio(key="price_source").value == "Upload a CSV"
    assert at.number_input(key="price_epochs").value == 7
    assert [i.value for i in at.info if i.value == links.UPLOAD_NOTE]
    (expander,) = [e for e in at.expander if e.label == "Copy link to this setup"]
    assert links.UPLOAD_NOTE in expander.caption[0].value


HOSTILE = "**Teacher:** [sign in](http://evil/) ![](http://evil/t.png)"
SHOWN = r"\*\*Teacher:\*\* \[sign in\](http\://evil/) !\[\](http\://evil/t.png)"
"""HOSTILE as the warning's Markdown: every link, image and bold mark escaped."""


def test_a_hostile_link_value_or_name_is_shown_as_plain_text_on_both_pages():
    for page, prefix in ((None, "price"), ("pages/tracking.py", "trk")):
        at = open_link({"epochs": HOSTILE, HOSTILE: "1"}, page)
        no_exception(at)
        value, name = sorted(w.value for w in at.warning)
        assert value == (
            f"The link's epochs value '{SHOWN}' cannot be used (it must be a whole "
            "number from 1 to 1000); the default '50' is used instead."
        )
        assert name == (
            f"The link's parameter '{SHOWN}' is not a setting of this page; it is "
            "ignored."
        )
        assert at.number_input(key=f"{prefix}_epochs").value == 50


def test_a_flood_of_a_link_value_is_cut_to_one_short_line():
    at = open_link({"epochs": "9" * 60_000})
    (warning,) = at.warning
    assert f"value '{'9' * 59}…' cannot be used" in warning.value
    assert len(warning.value) < 250


def test_a_window_longer_than_the_data_is_cut_with_a_warning():
    at = open_link({"window": "100000"})
    no_exception(at)
    (warning,) = at.warning
    longest = at.number_input(key="price_window").value
    assert 2 < longest < 100_000
    assert warning.value == (
        f"A window of 100000 steps does not fit this data; the form uses {longest}, "
        "the longest it allows."
    )
    at.run()  # the next run keeps the cut value and says nothing more
    assert not at.warning and at.number_input(key="price_window").value == longest
