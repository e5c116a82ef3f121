"""The same jobs on a real local Ray (no mock): a comparison, a sweep, an error.

Ray starts once for this module, the way ``--engine ray`` starts it without
``RAY_ADDRESS``, and is shut down after it; the results must equal those of the
local worker processes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.analysis.compare import run_comparison
from forecasting.analysis.sweep import run_sweep
from forecasting.data import DataError, load_sample, series_frame
from forecasting.nn.jobs import FitJob
from forecasting.prep.windows import split_series
from forecasting.runtime.engine import Engine
from forecasting.runtime.service import get_engine
from forecasting.settings.config import (
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)

ray = pytest.importorskip("ray", reason="the ray engine needs `pip install ray`")

CONFIG = ExperimentConfig(
    split=SplitConfig.by_years(2019, 2020),
    window=5,
    models=("gru", "simple_rnn"),
    model=ModelConfig(units=4),
    train=TrainConfig(epochs=2, batch_size=64, seed=31, jit_compile=False),
)


@pytest.fixture(scope="module")
def ray_engine():
    from forecasting.runtime.ray_backend import RayBackend

    engine = Engine(RayBackend(workers=2))  # starts a local Ray (no RAY_ADDRESS)
    assert ray.is_initialized()
    yield engine
    engine.shutdown()
    ray.shutdown()


def test_a_comparison_on_ray_equals_the_local_workers(ray_engine):
    frame, _ = series_frame(load_sample("mastercard"), ("High",))
    frame = frame.loc["2019":]
    seen = []
    on_ray = run_comparison(
        frame, CONFIG, progress=lambda *a: seen.append(a[0]), engine=ray_engine
    )
    local = run_comparison(frame, CONFIG, engine=get_engine())
    assert list(on_ray.metrics.index) == list(local.metrics.index)
    for kind in CONFIG.models:
        np.testing.assert_allclose(
            on_ray.runs[kind].predictions, local.runs[kind].predictions, rtol=1e-5
        )
    assert sorted(set(seen)) == ["gru", "simple_rnn"]  # progress came back


def test_a_sweep_runs_on_ray(ray_engine, tmp_path):
    config = ExperimentConfig(
        columns=("X", "Y"),
        split=SplitConfig.by_rows(120, 40),
        window=5,
        models=("gru",),
        model=ModelConfig(units=3),
        train=TrainConfig(epochs=1, batch_size=64, seed=5, seeds=2, jit_compile=False),
    )
    rows = run_sweep(
        load_sample("fly"), ["Fly_1", "Fly_2"], config, tmp_path / "s.csv", ray_engine
    )
    fits = rows[rows["model"] == "gru"]
    assert len(fits) == 4
    assert sorted(zip(fits["id"], fits["seed"], strict=True)) == [
        ("Fly_1", 5),
        ("Fly_1", 6),
        ("Fly_2", 5),
        ("Fly_2", 6),
    ]
    assert fits["euclidean"].notna().all()


def test_a_job_error_on_ray_keeps_its_sentence(ray_engine):
    frame = pd.DataFrame({"v": np.sin(np.arange(11.0))})
    split = split_series(frame, ("v",), SplitConfig.by_rows(8, 3))  # 3 windows
    config = ExperimentConfig(
        columns=("v",),
        window=5,
        model=ModelConfig(units=2),
        train=TrainConfig(epochs=1, early_stopping=True, validation_fraction=0.5),
    )
    job = FitJob("gru", 1, config, split)
    with pytest.raises(DataError, match="Early stopping needs a validation tail"):
        from forecasting.runtime.service import run_jobs

        run_jobs([job], engine=ray_engine)
