"""The dashboard, driven headless with Streamlit's AppTest.

Models are tiny (4 units, window 5, 1 epoch) so every training takes seconds.
Fits run on the process-wide engine's workers, which keep finished results, so
tests that count fits use a seed no other test uses.
"""

import re
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from forecasting.analysis.compare import BASELINE_LABELS
from forecasting.cli.commands import compare_data as cli_compare
from forecasting.cli.main import build_parser
from forecasting.prep.windows import split_series
from forecasting.settings.config import MODEL_LABELS

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 240


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def tiny(at: AppTest, prefix: str, **values) -> AppTest:
    """Set the tests' one tiny setting on the page's form, then ``values``.

    Without XLA: a worker's first fit of a setting then traces in about 1.2 s
    instead of 3.5 to 6 s. The XLA path has tests of its own (test_fastpath,
    test_compile_cache, the command line's pinned numbers, the browser tests).
    """
    settings = {"units": 4, "window": 5, "epochs": 1, "batch_size": 64}
    settings["jit_compile"] = False
    settings.update(values)
    for name, value in settings.items():
        widget = at.get_by_key(f"{prefix}_{name}")
        widget.set_value(value)
    return at


def train(at: AppTest) -> AppTest:
    at.form_submit_button[0].click()
    return at.run(timeout=TIMEOUT)


def metrics_tables(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if "RMSE" in d.value.columns]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def last_record(at: AppTest, page: str):
    runs = at.session_state["_runs"][page]
    return next(reversed(runs.values()))


def check_rows(at: AppTest, page: str, models: list[str]) -> pd.DataFrame:
    """The metrics table has one row per selected model, then one per baseline."""
    table = metrics_tables(at)[0]
    baselines = last_record(at, page).comparison.baselines
    labels = [MODEL_LABELS[k] for k in models]
    assert list(table.index) == labels + [BASELINE_LABELS[k] for k in baselines]
    assert "Persistence (naive)" in table.index
    assert {"RMSE", "MAE", "MAPE %", "Fit time (s)", "Parameters"} <= set(table)
    assert table.loc[labels, "Parameters"].notna().all()
    return table


def price_csv(with_gap: bool = False) -> bytes:
    dates = pd.bdate_range("2019-01-01", "2020-12-31")
    t = np.arange(len(dates))
    close = 50 + 0.02 * t + np.sin(t / 7)
    if with_gap:
        close[100:103] = np.nan
    frame = pd.DataFrame(
        {"Date": dates.strftime("%Y-%m-%d"), "Close": close, "Volume": 1000 + t}
    )
    return frame.to_csv(index=False).encode()


# That the server process never imports TensorFlow, on every page and through a
# training, is checked on a real server: tests/e2e/test_e2e_classroom.py.


def test_price_page_defaults_are_the_tutorial_settings():
    at = new_app()
    no_exception(at)
    assert not errors(at)
    assert at.multiselect(key="price_columns").value == ["High"]
    assert at.slider(key="price_years").value == (2016, 2020)
    assert at.multiselect(key="price_models").value == ["lstm", "gru", "simple_rnn"]
    values = {
        name: at.get_by_key(f"price_{name}").value
        for name in ("window", "units", "epochs", "batch_size", "seed")
    }
    assert values == {
        "window": 60,
        "units": 125,
        "epochs": 50,
        "batch_size": 32,
        "seed": 455,
    }
    assert at.selectbox(key="price_optimizer").value == "rmsprop"
    assert at.number_input(key="price_learning_rate").value == pytest.approx(0.001)
    assert any("Estimated training time" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 1  # the series with its split


# --------------------------------------------------------------------------------
# Price page
# --------------------------------------------------------------------------------


def test_price_sample_trains_and_same_settings_do_not_retrain():
    from ui.running import jobs as runner

    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    tiny(at, "price", seed=1001)
    before = runner.engine().launched
    train(at)
    no_exception(at)
    assert not errors(at)
    assert runner.engine().launched == before + 3  # one fit per model kind
    check_rows(at, "price", ["lstm", "gru", "simple_rnn"])
    # series, forecast, residuals, loss, and the open tab of "Beyond one test
    # score" (the prediction interval band)
    assert len(at.get("plotly_chart")) == 5
    # predictions, metrics, 3 models, the run history
    assert len(at.download_button) == 2 + 3 + 1

    train(at)  # same settings again: served from the kept results
    no_exception(at)
    assert runner.engine().launched == before + 3
    assert any("shown from the cache" in c.value for c in at.caption)
    check_rows(at, "price", ["lstm", "gru", "simple_rnn"])

    at.slider(key="price_view_context").set_value(50).run()  # display option
    assert runner.engine().launched == before + 3
    assert len(metrics_tables(at)) == 1

    at.multiselect(key="price_models").set_value(["gru"])
    train(at)  # GRU alone with the same settings: the same fit, not trained again
    assert runner.engine().launched == before + 3
    check_rows(at, "price", ["gru"])
    # Other settings train once (epochs: the compiled step of 1 epoch serves) ...
    at.number_input(key="price_epochs").set_value(2)
    train(at)
    assert runner.engine().launched == before + 4
    at.number_input(key="price_epochs").set_value(1)
    at.multiselect(key="price_models").set_value(["lstm", "gru", "simple_rnn"])
    train(at)  # ... and going back to earlier ones is instant
    assert runner.engine().launched == before + 4
    check_rows(at, "price", ["lstm", "gru", "simple_rnn"])
    assert not errors(at)


def test_results_survive_navigation_and_feed_the_learn_page():
    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["gru"])
    tiny(at, "price", seed=1101, epochs=2)  # 2: not the tiny or the default value
    train(at)
    check_rows(at, "price", ["gru"])

    at.switch_page("pages/learn.py").run()
    no_exception(at)
    learn_tables = [d.value for d in at.dataframe if "RMSE vs real" in d.value]
    assert list(learn_tables[0].index) == ["GRU", "Persistence (naive)"]

    at.switch_page("pages/price.py").run()
    no_exception(at)
    assert at.number_input(key="price_epochs").value == 2  # settings kept
    assert at.slider(key="price_years").value == (2020, 2020)
    check_rows(at, "price", ["gru"])  # results kept, shown as current
    assert all("have changed since" not in i.value for i in at.info)

    at.slider(key="price_years").set_value((2019, 2020)).run()  # not trained yet
    no_exception(at)
    assert any("have changed since" in i.value for i in at.info)
    check_rows(at, "price", ["gru"])  # the last results stay on screen


def test_tracking_rows_survive_a_page_change():
    at = new_app().switch_page("pages/tracking.py").run()
    at.number_input(key="trk_train_rows").set_value(700).run()
    at.number_input(key="trk_test_rows").set_value(90).run()
    at.switch_page("pages/learn.py").run()
    at.switch_page("pages/tracking.py").run()
    no_exception(at)
    assert at.number_input(key="trk_train_rows").value == 700
    assert at.number_input(key="trk_test_rows").value == 90


def test_csv_upload_trains_one_model_on_two_columns():
    at = new_app()
    at.radio(key="price_source").set_value("Upload a CSV").run()
    at.file_uploader(key="price_upload").set_value(
        ("prices.csv", price_csv(), "text/csv")
    )
    at.run()
    no_exception(at)
    assert not errors(at)
    assert at.multiselect(key="price_columns").value == ["Close"]
    assert at.slider(key="price_years").value == (2019, 2019)
    at.multiselect(key="price_columns").set_value(["Close", "Volume"])
    at.multiselect(key="price_models").set_value(["simple_rnn"])
    tiny(at, "price", seed=1201, jit_compile=False)
    train(at)
    no_exception(at)
    assert not errors(at)
    check_rows(at, "price", ["simple_rnn"])
    record = last_record(at, "price")
    assert record.comparison.config.columns == ("Close", "Volume")
    assert record.comparison.config.train.jit_compile is False
    texts = [e.value for e in [*at.caption, *at.markdown, *at.subheader]]
    assert any("XLA off" in text for text in texts), texts
    assert record.data_label == "prices.csv"
    assert at.selectbox(key="price_view_column").value == "Close"


def test_gaps_in_an_upload_are_filled_and_reported():
    at = new_app()
    at.radio(key="price_source").set_value("Upload a CSV").run()
    at.file_uploader(key="price_upload").set_value(
        ("gaps.csv", price_csv(with_gap=True), "text/csv")
    )
    at.run()
    no_exception(at)
    assert not errors(at)
    assert any("3 missing values" in i.value for i in at.info)


def test_gap_upload_trains_on_the_same_frame_as_the_cli(gap_csv):
    at = new_app()
    at.radio(key="price_source").set_value("Upload a CSV").run()
    at.file_uploader(key="price_upload").set_value(
        ("gap.csv", gap_csv.read_bytes(), "text/csv")
    )
    at.run()
    at.multiselect(key="price_columns").set_value(["Close"])
    at.multiselect(key="price_models").set_value(["gru"])
    tiny(at, "price", seed=3, jit_compile=False)
    train(at)
    no_exception(at)
    assert not errors(at)
    filled = "- Column Close: 3 missing values inside the series filled by linear"
    assert any(filled in i.value for i in at.info), [i.value for i in at.info]
    comparison = last_record(at, "price").comparison
    args = build_parser().parse_args(["compare", "--csv", str(gap_csv)])
    cli_frame = cli_compare(args)[0]  # the frame the CLI trains on
    expected = split_series(
        cli_frame, comparison.config.columns, comparison.config.split
    )
    np.testing.assert_array_equal(comparison.split.train, expected.train)
    np.testing.assert_array_equal(comparison.split.test, expected.test)
    assert comparison.split.train_index.equals(expected.train_index)
    assert not np.isnan(comparison.split.train).any()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary", r"not a text CSV|binary"),
        (np.random.default_rng(5).bytes(4096), r"not a text CSV|binary"),
        (b"", r"."),
        (b"just one line of text", r"."),
        (b"Date,Open,High,Low,Close\n", r"no data rows|no rows"),
    ],
    ids=["png", "random-bytes", "empty", "one-line", "header-only"],
)
def test_bad_upload_shows_an_error_and_the_page_stays_usable(content, expected):
    at = new_app()
    at.radio(key="price_source").set_value("Upload a CSV").run()
    at.file_uploader(key="price_upload").set_value(("bad.csv", content, "text/csv"))
    at.run()
    no_exception(at)
    assert len(errors(at)) == 1
    assert errors(at)[0].endswith(".")
    assert re.search(expected, errors(at)[0], re.IGNORECASE), errors(at)[0]
    assert not at.metric  # no data shown
    # step 2 (what to forecast) is not shown, so the numbering does not skip it
    assert [h.value for h in at.header] == ["1 · Data", "2 · Models and training"]
    train(at)  # the form still works and says what is missing
    no_exception(at)
    assert any("No data is loaded" in e for e in errors(at))


def test_bad_settings_show_one_sentence_errors():
    at = new_app()
    at.slider(key="price_years").set_value((2021, 2021)).run()
    assert any("No rows are left to test on after 2021" in e for e in errors(at))

    at.slider(key="price_years").set_value((2020, 2020))
    tiny(at, "price", window=600)
    train(at)
    no_exception(at)
    assert any("window (600 rows) must be shorter" in e for e in errors(at))

    tiny(at, "price")
    at.multiselect(key="price_models").set_value([])
    train(at)
    no_exception(at)
    assert any("No model is selected" in e for e in errors(at))

    at.multiselect(key="price_columns").set_value([]).run()
    no_exception(at)
    assert any("No column is chosen" in e for e in errors(at))


def test_settings_over_the_budget_are_refused_before_anything_is_queued():
    from ui.running import jobs as runner

    at = new_app()
    at.slider(key="price_years").set_value((2016, 2020))
    tiny(at, "price", units=1024, epochs=1000, window=60, seeds=20)
    before = runner.engine().launched
    train(at)
    no_exception(at)
    refusal = [e for e in errors(at) if "more than the 10 min this server" in e]
    assert refusal, errors(at)
    assert "lower the seeds to 1, the units to 125 and the epochs to" in refusal[0]
    assert "_pending_price" not in at.session_state
    assert runner.engine().launched == before
    assert at.form_submit_button  # the page stays usable


def test_windows_over_the_memory_limit_are_refused_with_a_sentence(monkeypatch):
    from ui.running import jobs as runner

    monkeypatch.setenv("FORECASTING_MEMORY_MB", "0.1")  # 100 kB for the windows
    at = new_app()
    at.slider(key="price_years").set_value((2016, 2020))
    tiny(at, "price", window=60)
    before = runner.engine().launched
    train(at)
    no_exception(at)
    refusal = [e for e in errors(at) if "MB of memory" in e]
    assert refusal and "choose a window of at most about" in refusal[0], errors(at)
    assert runner.engine().launched == before


def test_offline_ticker_shows_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("RNN_FORECAST_CACHE", str(tmp_path))
    at = new_app()
    at.radio(key="price_source").set_value("Yahoo Finance ticker").run()
    at.text_input(key="price_symbol").set_value("ZZZQX")
    at.button(key="price_download").click().run(timeout=120)
    no_exception(at)
    (error,) = errors(at)
    assert "Yahoo Finance" in error
    assert "sample" in error and "CSV" in error, error  # where else to get prices
    assert not at.metric  # no data shown
    assert at.form_submit_button  # the rest of the page is still there


def _away_while_training() -> None:
    """A page that queues a tiny fit, then (in later runs) follows it."""
    from dataclasses import replace

    import streamlit as st
    from test_prepare import CONFIG, frame

    from ui.running import jobs as runner

    if st.session_state.pop("press_train", False):
        config = replace(CONFIG, train=replace(CONFIG.train, seed=1321))
        meta = {"key": "away", "data_label": "walk", "summary": "tiny"}
        runner.start_training("away", frame(), config, meta)
        st.stop()  # the student opens another page before the fit ends
    runner.follow_and_store("away")


def test_a_student_back_after_the_fit_ended_is_told_it_trained():
    from jobs_for_tests import wait_for

    from ui.running import jobs as runner

    at = AppTest.from_function(_away_while_training, default_timeout=60)
    at.session_state["press_train"] = True
    at.run()
    tickets = at.session_state["_pending_away"].tickets
    jobs = runner.engine()
    assert wait_for(lambda: all(jobs.status(t).state == "done" for t in tickets), 180)
    at.run()  # back on the page: the jobs ended while it was away
    no_exception(at)
    assert any("the results are below" in s.value for s in at.success)
    assert at.session_state["_runs"]["away"]["away"].seconds > 0


def test_a_session_waits_its_turn_and_says_its_place_in_line():
    from jobs_for_tests import SleepJob, wait_for

    from ui.running import jobs as runner
    from ui.running import progress

    engine = runner.engine()
    # Spare (surge) workers, if FORECASTING_SURGE asks for any (the tests' engine
    # has none: conftest.py), start one by one after the regular ones while two
    # sessions are connected: s1 and s2 send signs of life until all are ready.
    engine.gather([engine.submit(SleepJob(f"hello-{o}"), o) for o in ("s1", "s2")])
    backend = engine.backend

    def every_worker_ready() -> bool:
        engine.heartbeat("s1")
        engine.heartbeat("s2")
        return backend.ready_workers() == backend.capacity

    assert wait_for(every_worker_ready, 180)
    # Another student's long jobs (20 s, over Policy.spare_wait_s) hold the regular
    # workers, and a third student's any spare ones, when this one
    # presses Train.
    surge = engine.backend.surge
    others = []
    for owner, count in (
        ("another-student", engine.backend.capacity - surge),
        ("third-student", surge),
    ):
        jobs = [
            engine.submit(SleepJob(f"{owner}-{i}", steps=200, pause=0.1), owner)
            for i in range(count)
        ]
        deadline = time.monotonic() + 30
        while any(engine.status(t).state != "running" for t in jobs):
            assert time.monotonic() < deadline, "the workers did not take the jobs"
            time.sleep(0.05)
        others += jobs
    shown = progress.SHOWN["waiting"]
    trained = threading.Event()

    def free_the_workers_once_the_place_is_shown() -> None:
        wait_for(lambda: progress.SHOWN["waiting"] > shown or trained.is_set(), 120)
        engine.cancel(others)  # the point is seen: no need to wait 20 s

    freer = threading.Thread(target=free_the_workers_once_the_place_is_shown)
    freer.start()
    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["gru"])
    tiny(at, "price", seed=1301)
    train(at)
    trained.set()
    freer.join()
    no_exception(at)
    assert not errors(at)
    assert progress.SHOWN["waiting"] > shown  # it showed its place in line ...
    check_rows(at, "price", ["gru"])  # ... and then trained


def test_trainings_of_two_sessions_at_once_equal_fits_in_this_process():
    from forecasting.analysis.compare import plan_comparison, run_comparison
    from forecasting.data import load_sample
    from forecasting.settings.config import (
        ExperimentConfig,
        ModelConfig,
        SplitConfig,
        TrainConfig,
    )

    frame = load_sample("mastercard").frame.loc["2019":]
    configs = [
        ExperimentConfig(
            split=SplitConfig.by_years(2019, 2020),
            window=5,
            models=("gru",),
            model=ModelConfig(units=4),
            train=TrainConfig(epochs=2, batch_size=64, seed=seed),
        )
        for seed in (1311, 1312)
    ]
    here = [
        plan_comparison(frame, c).jobs[0].run(lambda payload: None).predictions
        for c in configs
    ]
    together: dict[int, np.ndarray] = {}

    def session(i: int) -> None:
        result = run_comparison(frame, configs[i], owner=f"session-{i}")
        together[i] = result.runs["gru"].predictions

    threads = [threading.Thread(target=session, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in (0, 1):
        np.testing.assert_allclose(together[i], here[i], rtol=1e-5)


# --------------------------------------------------------------------------------
# Tracking page
# --------------------------------------------------------------------------------


def tracking_app() -> AppTest:
    at = new_app()
    return at.switch_page("pages/tracking.py").run()


def test_tracking_sample_with_id_selection_free_run_and_transfer():
    at = tracking_app()
    no_exception(at)
    assert at.multiselect(key="trk_models").value == ["gru"]
    assert at.multiselect(key="trk_columns").value == ["X", "Y"]
    options = at.selectbox(key="trk_individual").options
    assert options[0] == "Fly_1 (16,404 rows)"
    at.selectbox(key="trk_individual").set_value("Fly_2")
    at.number_input(key="trk_train_rows").set_value(300)
    at.number_input(key="trk_test_rows").set_value(100)
    tiny(at, "trk", seed=1401, rollout=50)
    train(at)
    no_exception(at)
    assert not errors(at)
    table = check_rows(at, "tracking", ["gru"])
    assert {"Mean distance", "Free-run distance"} <= set(table)
    record = last_record(at, "tracking")
    assert record.extras["individual"] == "Fly_2"
    assert record.comparison.runs["gru"].rollout.shape == (50, 2)
    assert "Fly_2" in record.data_label

    at.selectbox(key="trk_other").set_value("Fly_3")
    at.button(key="trk_apply").click().run(timeout=TIMEOUT)
    no_exception(at)
    assert not errors(at)
    tables = metrics_tables(at)
    assert len(tables) == 2
    assert list(tables[1].index) == list(table.index)
    moved = tables[1]
    assert moved.loc["Persistence (naive)", "Skill"] == 0
    assert moved.loc["Persistence (naive)", "Best lag"] == "+1"


def test_tracking_individual_with_too_few_rows_shows_an_error():
    at = tracking_app()
    at.selectbox(key="trk_sample").set_value("locust").run()
    no_exception(at)
    at.number_input(key="trk_train_rows").set_value(2500)
    at.number_input(key="trk_test_rows").set_value(1000).run()
    no_exception(at)
    assert any("2845 usable rows but 3500 are needed" in e for e in errors(at))
    train(at)
    no_exception(at)
    assert any("do not fit together" in e for e in errors(at))


def test_tracking_upload_where_the_id_column_must_be_chosen():
    rows = []
    for animal, phase in (("ant-a", 0.0), ("ant-b", 1.0)):
        for step in range(120):
            angle = step / 10 + phase
            rows.append((animal, step, 10 + 5 * np.cos(angle), 5 * np.sin(angle)))
    content = pd.DataFrame(rows, columns=["animal_name", "step", "x_pos", "y_pos"])
    at = tracking_app()
    at.radio(key="trk_source").set_value("Upload a CSV").run()
    at.file_uploader(key="trk_upload").set_value(
        ("ants.csv", content.to_csv(index=False).encode(), "text/csv")
    )
    at.run()
    no_exception(at)
    assert any("No ID column was recognised" in w.value for w in at.warning)
    assert at.multiselect(key="trk_features").value == ["x_pos", "y_pos"]
    at.selectbox(key="trk_id_column").set_value("animal_name").run()
    no_exception(at)
    assert at.selectbox(key="trk_individual").options == [
        "ant-a (120 rows)",
        "ant-b (120 rows)",
    ]
    at.number_input(key="trk_train_rows").set_value(80)
    at.number_input(key="trk_test_rows").set_value(30)
    tiny(at, "trk", seed=1501, rollout=10)
    train(at)
    no_exception(at)
    assert not errors(at)
    check_rows(at, "tracking", ["gru"])


# --------------------------------------------------------------------------------
# Learn page
# --------------------------------------------------------------------------------


def test_learn_page_counts_match_keras():
    at = new_app().switch_page("pages/learn.py").run()
    no_exception(at)
    at.number_input(key="learn_units").set_value(8).run()
    counts = at.dataframe[0].value["parameters"].to_dict()
    assert counts == {"LSTM": 329, "GRU": 273, "SimpleRNN": 89}
    at.button(key="learn_check").click().run(timeout=TIMEOUT)
    no_exception(at)
    labels = [e.label for e in at.expander]
    assert sum("✅" in label for label in labels) == 3, labels


# --------------------------------------------------------------------------------
# Tutorial presets, seeds and the difference target
# --------------------------------------------------------------------------------


def test_tutorial_preset_fills_every_setting():
    from forecasting.settings.presets import PRESETS

    at = new_app()
    at.selectbox(key="price_preset").set_value("stacked-simple-rnn")
    at.button(key="price_preset_use").click().run()
    no_exception(at)
    assert not errors(at)
    preset = PRESETS["stacked-simple-rnn"].config
    assert at.multiselect(key="price_columns").value == ["Open"]
    assert at.slider(key="price_years").value == (2016, 2020)
    assert at.multiselect(key="price_models").value == ["simple_rnn"]
    assert at.number_input(key="price_units").value == 50
    assert at.number_input(key="price_layers").value == 4
    assert at.slider(key="price_dropout").value == pytest.approx(0.2)
    assert at.selectbox(key="price_optimizer").value == "adam"
    assert at.number_input(key="price_window").value == preset.window
    assert at.selectbox(key="price_scale").value == "-1 to 1"
    at.button(key="price_preset_quick").click().run()
    assert at.number_input(key="price_units").value == 32
    assert at.number_input(key="price_epochs").value == 10
    assert at.number_input(key="price_layers").value == 4  # the rest is kept


def test_random_walk_control_preset_picks_the_control_sample():
    at = new_app()
    at.selectbox(key="price_preset").set_value("random-walk-control")
    at.button(key="price_preset_use").click().run()
    no_exception(at)
    assert not errors(at)
    assert at.selectbox(key="price_sample").value == "random_walk"
    assert (
        at.selectbox(key="price_sample")
        .options[1]
        .startswith("Random Walk: A made-up share price (control)")
    )
    assert at.multiselect(key="price_columns").value == ["Close"]
    assert at.multiselect(key="price_models").value == ["lstm", "gru"]
    assert at.slider(key="price_years").value == (2016, 2020)


def test_tracking_preset_selects_the_fly_and_free_run():
    at = tracking_app()
    at.radio(key="trk_source").set_value("Upload a CSV").run()
    at.button(key="trk_preset_use").click().run()
    no_exception(at)
    assert at.radio(key="trk_source").value == "Bundled sample"
    assert at.selectbox(key="trk_individual").value == "Fly_1"
    assert at.number_input(key="trk_train_rows").value == 2000
    assert at.number_input(key="trk_rollout").value == 1000
    assert at.multiselect(key="trk_models").value == ["gru"]


def test_several_seeds_and_difference_target_train():
    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["gru"])
    at.radio(key="price_target").set_value("diff")
    tiny(at, "price", seed=1601, seeds=2)
    train(at)
    no_exception(at)
    assert not errors(at)
    table = check_rows(at, "price", ["gru"])
    assert {"RMSE sd", "Seeds"} <= set(table)
    assert table.loc["GRU", "Seeds"] == "2"
    config = last_record(at, "price").comparison.config
    assert config.target == "diff" and config.train.seeds == 2


# --------------------------------------------------------------------------------
# Navigation
# --------------------------------------------------------------------------------


def test_app_draws_its_own_page_menu():
    at = new_app()
    links = [e for e in at.sidebar if getattr(e, "type", "") == "page_link"]
    labels = [link.proto.label for link in links]
    assert labels == [
        "Price forecasting",
        "Tracking forecasting",
        "Learn: how RNNs work",
    ]


def test_a_page_file_run_on_its_own_still_renders():
    at = AppTest.from_file(str(ROOT / "pages" / "learn.py"), default_timeout=60).run()
    no_exception(at)
    assert at.title[0].value.startswith("Learn")
