"""Sweeps: individuals x models x seeds, one CSV row per fit, resumable."""

from __future__ import annotations

import pandas as pd

from forecasting.analysis.sweep import COLUMNS, run_sweep, summarize
from forecasting.data import load_sample
from forecasting.runtime.service import get_engine
from forecasting.settings.config import (
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)

CONFIG = ExperimentConfig(
    columns=("X", "Y"),
    split=SplitConfig.by_rows(120, 40),
    window=5,
    models=("gru",),
    model=ModelConfig(units=3),
    train=TrainConfig(epochs=1, batch_size=64, seed=7, seeds=2, jit_compile=False),
)


def test_a_sweep_writes_one_row_per_fit_and_skips_them_when_run_again(tmp_path):
    data = load_sample("fly")
    out = tmp_path / "sweep.csv"
    engine = get_engine()
    seen = []
    first = run_sweep(
        data, ["Fly_1"], CONFIG, out, engine, lambda r, d, t: seen.append((d, t))
    )
    assert list(first.columns) == list(COLUMNS)
    fits = first[first["model"] == "gru"]
    assert sorted(fits["seed"]) == [7, 8]
    assert set(first["model"]) == {
        "gru",
        "persistence",
        "linear_ar",
        "constant_velocity",
    }
    assert seen[-1] == (5, 5)  # 3 baselines + 2 fits

    # "Interrupted" after Fly_1: the re-run with both flies does only Fly_2.
    launched = engine.launched
    second = run_sweep(data, ["Fly_1", "Fly_2"], CONFIG, out, engine)
    assert len(second) == 10
    assert second.duplicated(["id", "model", "seed"]).sum() == 0
    assert engine.launched == launched + 2  # only Fly_2's two seeds trained
    again = run_sweep(data, ["Fly_1", "Fly_2"], CONFIG, out, engine)
    assert len(again) == 10 and engine.launched == launched + 2


def test_summary_is_mean_and_spread_per_model():
    rows = pd.DataFrame(
        {
            "id": ["a", "a", "b", "b"],
            "model": ["gru", "persistence", "gru", "persistence"],
            "seed": [1, None, 1, None],
            "rmse": [1.0, 2.0, 3.0, 2.0],
            "mae": [1.0, 1.0, 1.0, 1.0],
            "euclidean": [2.0, 4.0, 4.0, 4.0],
        }
    )
    table = summarize(rows)
    assert table.loc["gru", "fits"] == 2
    assert table.loc["gru", "rmse_mean"] == 2.0
    assert table.loc["gru", "rmse_std"] == pd.Series([1.0, 3.0]).std()
    assert table.loc["persistence", "euclidean_std"] == 0.0
