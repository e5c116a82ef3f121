"""The run history on the price and tracking pages, driven headless with AppTest.

Tiny models (4 units, window 5, 1 or 2 epochs, GRU only) on one year of data;
seeds no other test uses, so the runs really train.
"""

import json
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest
from test_app import tiny

from forecasting.analysis.history import history_csv

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 240


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def tracking_app() -> AppTest:
    return new_app().switch_page("pages/tracking.py").run()


def trained(at: AppTest) -> AppTest:
    at.form_submit_button[0].click()
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.message for e in at.exception]
    assert not [e.value for e in at.error]
    return at


def metrics_tables(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if "RMSE" in d.value.columns]


def history_table(at: AppTest) -> pd.DataFrame:
    (table,) = [d.value for d in at.dataframe if "Best model" in d.value.columns]
    return table


def difference_tables(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if d.value.index.name == "setting"]


def trace_names(chart) -> list[str]:
    return [trace.get("name") for trace in json.loads(chart.proto.spec)["data"]]


def entries(at: AppTest, page: str):
    return [run.entry for run in at.session_state["_history"][page].runs]


def test_two_price_runs_in_the_history_table_csv_and_side_by_side():
    at = new_app()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["gru"])
    trained(tiny(at, "price", seed=2201))
    assert list(history_table(at).index) == ["run-1"]
    assert not difference_tables(at)
    assert any("Train again with other settings" in c.value for c in at.caption)
    assert "Run history (CSV)" in [b.label for b in at.download_button]

    trained(tiny(at, "price", seed=2201, epochs=2))
    table = history_table(at)
    assert list(table.index) == ["run-1", "run-2"]
    assert table["Changed"].tolist() == ["—", "epochs 1 → 2"]
    assert table["Best model"].tolist() == ["GRU", "GRU"]
    runs = entries(at, "price")
    rmse = [run.metrics.set_index("kind").loc["gru", "rmse"] for run in runs]
    assert table["RMSE GRU"].tolist() == rmse
    assert "epochs 1;" in table.loc["run-1", "Settings"]
    assert "epochs 2;" in table.loc["run-2", "Settings"]

    assert at.selectbox(key="price_history_a").value == "run-1"
    assert at.selectbox(key="price_history_b").value == "run-2"
    (diff,) = difference_tables(at)
    assert diff.to_dict("index") == {"epochs": {"run-1": "1", "run-2": "2"}}
    # The page's own metrics table, then run-1's and run-2's side by side.
    tables = metrics_tables(at)
    assert len(tables) == 3
    assert tables[1].loc["GRU", "RMSE"] == rmse[0]
    assert tables[2].loc["GRU", "RMSE"] == rmse[1]
    charts = at.get("plotly_chart")
    # series, forecast, residuals, loss, the open interval tab; the two runs
    assert len(charts) == 5 + 2

    csv = history_csv(runs).splitlines()
    assert csv[0].startswith(
        "id,time,settings,best_model,best_rmse,best_baseline,best_baseline_rmse,"
        "beats_baselines,rmse_gru,rmse_persistence"
    )
    assert [line.split(",")[0] for line in csv[1:]] == ["run-1", "run-2"]

    trained(at)  # the same settings again: no new row
    assert list(history_table(at).index) == ["run-1", "run-2"]

    at.selectbox(key="price_history_a").set_value("run-2").run()
    assert not at.exception
    assert any("Choose two different runs" in i.value for i in at.info)
    assert len(metrics_tables(at)) == 1


def test_tracking_runs_compare_their_free_runs_as_paths():
    at = tracking_app()
    at.selectbox(key="trk_individual").set_value("Fly_2")
    at.number_input(key="trk_train_rows").set_value(300)
    at.number_input(key="trk_test_rows").set_value(100)
    trained(tiny(at, "trk", seed=2202, rollout=0))
    trained(tiny(at, "trk", seed=2202, rollout=30))
    table = history_table(at)
    assert list(table.index) == ["run-1", "run-2"]
    assert table.loc["run-2", "Changed"] == "free_run 0 → 30"
    (diff,) = difference_tables(at)
    assert diff.to_dict("index") == {"free_run": {"run-1": "0", "run-2": "30"}}
    paths = [trace_names(chart) for chart in at.get("plotly_chart")]
    assert ["Train", "Test (real)", "Start of test", "GRU one-step"] in paths
    assert [
        "Train",
        "Test (real)",
        "Start of test",
        "GRU one-step",
        "GRU free run",
    ] in paths
