"""Price page in a real browser: the bundled sample and a CSV upload.

A broken upload's error and the Yahoo-offline sentence are checked headless
in tests/test_app.py (test_bad_upload_..., test_offline_ticker_...): the
browser adds nothing to them that the valid upload here does not show.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.browser

MODEL_LABELS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}
SOURCE = "Where do the prices come from?"
MODELS = "Models to compare"
TRAINING_YEARS = "Training years (inclusive)"
UPLOADER = "Price CSV file"
TINY = {  # a model that trains in a few seconds
    "Units per layer": 4,
    "Window (past steps per prediction)": 20,
    "Epochs": 1,
}


def tiny_settings(app) -> None:
    """The tiny setting, without XLA: its first fit traces about 3x faster."""
    for label, value in TINY.items():
        app.number(label, value)
    app.checkbox("Compile with XLA", False)


def results_caption(app, data_label: str) -> str:
    """The line under the Results heading: data, settings and training time."""
    app.main().get_by_role("heading", name="Results", exact=True).wait_for()
    caption = (
        app.main()
        .locator('[data-testid="stCaptionContainer"]')
        .filter(has_text=data_label)
    )
    assert caption.count() >= 1, f"no caption names {data_label!r}"
    return caption.first.inner_text()


def check_forecast_chart(app, models: list[str]) -> list[dict]:
    """The forecast chart: the real series once and one trace per trained model."""
    traces = app.wait_for_chart(["Real", *models])
    names = [t["name"] for t in traces]
    assert names.count("Real") == 1, names
    for model in models:
        assert names.count(model) == 1, f"{model}: {names}"
    others = set(MODEL_LABELS.values()) - set(models)
    assert not others & set(names), f"untrained models drawn: {names}"
    real = next(t for t in traces if t["name"] == "Real")
    assert real["points"] and real["points"] > 0, real
    for trace in traces:
        if trace["name"] in models:
            assert trace["points"] == real["points"], (
                f"{trace['name']} has {trace['points']} points, "
                f"the real test series {real['points']}"
            )
    return traces


def check_metrics_table(app, models: list[str]) -> None:
    """The metrics table: one row per model and baseline, finite errors."""
    table = app.main().locator(
        'xpath=//h3[contains(normalize-space(), "Results")]'
        '/following::*[@data-testid="stDataFrame"][1]'
    )
    rows = app.dataframe_csv(table)
    by_name = {next(iter(row.values())): row for row in rows}
    for model in models:
        assert model in by_name, f"no row for {model}: {list(by_name)}"
        rmse = float(by_name[model]["RMSE"])
        assert math.isfinite(rmse) and rmse > 0, by_name[model]
    baselines = [name for name in by_name if name not in models]
    assert any("Persistence" in name for name in baselines), list(by_name)
    assert app.main().get_by_text(re.compile(r"Best model by RMSE")).count() == 1


def test_price_sample_tiny_models(app) -> None:
    """Train LSTM, GRU and SimpleRNN on 2019-2020 of the sample; see the results."""
    app.open("/")
    app.page.get_by_role("heading", name="Price forecasting").wait_for()
    app.range_slider(TRAINING_YEARS, 2019, 2020)
    split = app.main().get_by_text(re.compile(r"^Training: [\d,]+ rows"))
    assert "(2019-01-" in split.inner_text(), split.inner_text()
    models = list(MODEL_LABELS.values())
    app.keep_only(MODELS, models)
    tiny_settings(app)

    app.train()

    check_forecast_chart(app, models)
    check_metrics_table(app, models)
    caption = results_caption(app, "Mastercard sample")
    assert "train 2019-2020" in caption, caption
    assert "4 units" in caption and "window 20" in caption, caption
    assert app.alerts("Error").count() == 0
    app.assert_clean()


def write_prices(path: Path) -> Path:
    """Three years (2018-2020) of business days: Date, Open, High, Low, Close."""
    rng = np.random.default_rng(11)
    index = pd.bdate_range("2018-01-01", "2020-12-31", name="Date")
    close = 50 + np.cumsum(rng.normal(0.05, 0.8, len(index)))
    frame = pd.DataFrame(
        {
            "Open": close + rng.normal(0, 0.3, len(index)),
            "High": close + 1 + rng.random(len(index)),
            "Low": close - 1 - rng.random(len(index)),
            "Close": close,
        },
        index=index,
    ).round(3)
    frame.to_csv(path, date_format="%Y-%m-%d")
    return path


def test_price_upload_csv(app, tmp_path: Path) -> None:
    """Upload a small valid CSV through the file chooser and train one GRU."""
    csv_path = write_prices(tmp_path / "e2e_prices.csv")
    rows = len(pd.read_csv(csv_path))
    app.open("/")
    app.radio(SOURCE, "Upload a CSV")
    app.upload(UPLOADER, csv_path)
    metric = app.page.locator('[data-testid="stMetric"]').filter(has_text="Rows")
    assert metric.locator('[data-testid="stMetricValue"]').inner_text() == f"{rows:,}"
    split = app.main().get_by_text(re.compile(r"^Training: [\d,]+ rows"))
    assert "(2018-01-01 to 2019-12-31)" in split.inner_text(), split.inner_text()
    app.keep_only(MODELS, ["GRU"])
    tiny_settings(app)

    app.train()

    check_forecast_chart(app, ["GRU"])
    caption = results_caption(app, "e2e_prices.csv")
    assert "GRU" in caption and "4 units" in caption, caption
    assert app.alerts("Error").count() == 0
    app.assert_clean()
