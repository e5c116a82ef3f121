"""Small seeded fixtures shared by the tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The workers' compile cache (forecasting.runtime.compile_cache): one folder
# for this test run, shared by its workers and servers, not the user's.
os.environ.setdefault(
    "FORECASTING_COMPILE_CACHE", tempfile.mkdtemp(prefix="forecasting-xla-")
)
# No spare worker: the app's sessions and the CLI's commands then share one
# engine of two workers in this process, instead of two engines and eight
# TensorFlow imports. Each worker traces every setting it meets (about 6 s a
# miss), so a third worker cost CPU without saving time: app and CLI tests
# 250 s with two workers against 350 s with a spare, 2026-12-07.
os.environ.setdefault("FORECASTING_SURGE", "0")

import numpy as np
import pandas as pd
import pytest

from forecasting.data import as_track
from forecasting.settings.config import (
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)


@pytest.fixture
def price_frame() -> pd.DataFrame:
    """Three years of business days (2018-2020) with a noisy, trending sine."""
    rng = np.random.default_rng(7)
    index = pd.bdate_range("2018-01-01", "2020-12-31", name="Date")
    t = np.arange(len(index))
    high = 100 + 0.05 * t + 5 * np.sin(t / 10) + rng.normal(0, 0.5, len(t))
    return pd.DataFrame({"High": high, "Close": high - 1.0}, index=index)


@pytest.fixture
def track_frame() -> pd.DataFrame:
    """A 2-D path of 300 rows: a noisy circle, marked as a track."""
    rng = np.random.default_rng(3)
    t = np.arange(300) / 15
    return as_track(
        pd.DataFrame(
            {
                "X": 50 + 20 * np.cos(t) + rng.normal(0, 0.3, 300),
                "Y": 20 + 5 * np.sin(t) + rng.normal(0, 0.3, 300),
            }
        )
    )


# The one tiny setting of the tests that train only to get "a trained model": the
# app tests' tiny() (test_app.py) sets the same. A worker compiles a training step
# once per shape (window, features, units, batch size) into the run's shared
# compile cache, so tests that share it reuse one compiled step per model kind.
TINY_WINDOW = 5
TINY_UNITS = 4
TINY_BATCH = 64


@pytest.fixture
def tiny_config() -> ExperimentConfig:
    """Train 2018-2019, test 2020, the tiny setting (window 5, 4 units), 1 epoch.

    Without XLA, as the app tests' tiny(): a worker traces a new setting in
    about 1.2 s instead of 3.5 to 6 s.
    """
    return ExperimentConfig(
        columns=("High",),
        split=SplitConfig.by_years(2018, 2019),
        window=TINY_WINDOW,
        model=ModelConfig(units=TINY_UNITS),
        train=TrainConfig(epochs=1, batch_size=TINY_BATCH, seed=1, jit_compile=False),
    )


@pytest.fixture
def gap_csv(tmp_path) -> Path:
    """Two years of business days whose Close column has a 3-row gap."""
    dates = pd.bdate_range("2019-01-01", "2020-12-31")
    t = np.arange(len(dates))
    close = 50 + 0.02 * t + np.sin(t / 7)
    close[100:103] = np.nan
    frame = pd.DataFrame(
        {"Date": dates.strftime("%Y-%m-%d"), "Close": close, "Volume": 1000 + t}
    )
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def seed_2_alone(tmp_path_factory):
    """Seed 2's tiny GRU fit (test_prepare's job) in a fresh one-worker engine.

    The worker compiles ahead nothing and writes its compiled step to a compile
    cache of its own. Shared by test_compile_cache (a fresh worker loads that
    step) and test_prepare (a prepared worker gives the same numbers), so the
    reference costs one TensorFlow import, not two.

    Returns:
        ``(result, folder, written)``: the fit's result, the cache folder, and
        the modification time of each file written there (name -> ns).
    """
    from jobs_for_tests import fit_in_a_fresh_worker
    from test_prepare import job_with_seed

    folder = tmp_path_factory.mktemp("xla")
    result = fit_in_a_fresh_worker(job_with_seed(2), folder)
    written = {f.name: f.stat().st_mtime_ns for f in folder.glob("*.pb")}
    return result, folder, written
