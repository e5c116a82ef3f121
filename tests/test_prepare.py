"""Idle workers compile ahead, and a job goes where its setting is compiled.

Real worker processes with TensorFlow and tiny fits (no mock): the numbers must
not depend on where a job ran or on what its worker compiled before. When they
compile ahead, and where a job goes, is tests/test_policy.py's (rule 5).
"""

from __future__ import annotations

from dataclasses import replace

import jobs_for_tests
import numpy as np
import pandas as pd

from forecasting.analysis.compare import plan_comparison
from forecasting.runtime.engine import Engine
from forecasting.runtime.local import LocalBackend
from forecasting.runtime.workers import cores
from forecasting.settings.config import (
    WORKER_INITIALIZER,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)

CONFIG = ExperimentConfig(
    columns=("y",),
    split=SplitConfig.by_rows(120, 30),
    window=5,
    models=("gru",),
    model=ModelConfig(units=3),
    train=TrainConfig(epochs=2, batch_size=32, seed=3),
)


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": 100 + np.cumsum(rng.normal(size=150))})


def job_with_seed(seed: int):
    config = replace(CONFIG, train=replace(CONFIG.train, seed=seed))
    return plan_comparison(frame(), config).jobs[0]


def wait_for(predicate):
    return jobs_for_tests.wait_for(predicate, timeout=120.0)  # workers import TF


def fit_first(engine: Engine) -> str:
    """Run the seed-1 job for owner "a" and return its compile key."""
    first = job_with_seed(1)
    engine.gather([engine.submit(first, "a")])
    return first.compile_key()


def test_the_compile_key_ignores_seed_and_epochs_only():
    first, other_seed = job_with_seed(1), job_with_seed(2)
    assert first.key() != other_seed.key()
    assert first.compile_key() == other_seed.compile_key()
    longer = replace(
        first, config=replace(CONFIG, train=replace(CONFIG.train, epochs=9))
    )
    assert longer.compile_key() == first.compile_key()
    wider = replace(first, config=replace(CONFIG, model=ModelConfig(units=4)))
    assert wider.compile_key() != first.compile_key()


def test_idle_workers_prepare_and_results_do_not_change(seed_2_alone):
    engine = Engine(LocalBackend(workers=3, threads=1, initializer=WORKER_INITIALIZER))
    try:
        backend = engine.backend
        assert wait_for(lambda: backend.ready_workers() == 3)
        key = fit_first(engine)
        # One worker ran it and stays free; the others compile it ahead, as many
        # at once as there are spare cores (nothing runs now), until one worker
        # more than an owner can hold (3 regular workers + 1) has it: all 3.
        holders = 1 + min(2, cores())
        assert wait_for(lambda: backend.holders(key) == holders)
        assert wait_for(lambda: not any(w.preparing for w in backend._workers))
        ticket = engine.submit(job_with_seed(2), "b")
        result = engine.gather([ticket])[0]
    finally:
        engine.shutdown()
    alone = seed_2_alone[0]  # a fresh worker that compiled nothing ahead
    np.testing.assert_array_equal(result.predictions, alone.predictions)
    assert result.history == alone.history
