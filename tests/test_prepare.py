"""Idle workers compile ahead, and a job goes where its setting is compiled.

Real worker processes with TensorFlow and tiny fits (no mock): the numbers must
not depend on where a job ran or on what its worker compiled before.
"""

from __future__ import annotations

import time
from dataclasses import replace

import jobs_for_tests
import numpy as np
import pandas as pd
from jobs_for_tests import SleepJob

from forecasting.analysis.compare import plan_comparison
from forecasting.runtime.engine import Engine
from forecasting.runtime.workers import LocalBackend, cores, pick_worker, remember
from forecasting.settings.config import (
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


def test_a_job_goes_to_a_worker_that_has_its_setting_then_to_a_fresh_one():
    class W:
        def __init__(self, *keys):
            self.compiled = list(keys)

    fresh, busy_elsewhere, has_it = W(), W("b", "c"), W("a")
    assert pick_worker([busy_elsewhere, fresh, has_it], "a") is has_it
    assert pick_worker([busy_elsewhere, fresh], "a") is fresh
    keys = ["a", "b"]
    remember(keys, "a")
    assert keys == ["b", "a"]
    remember(keys, None)
    assert keys == ["b", "a"]


def test_idle_workers_prepare_and_results_do_not_change():
    engine = Engine(LocalBackend(workers=3, threads=1))
    plain = Engine(LocalBackend(workers=1, threads=1, prepare=False))
    try:
        backend = engine.backend
        assert wait_for(lambda: backend.ready_workers() == 3)
        key = fit_first(engine)
        # One worker ran it and stays free; the others compile it ahead, as many
        # at once as there are spare cores (nothing runs now), until one worker
        # more than an owner can hold (3 regular workers + 1) has it: all 3.
        holders = 1 + min(2, cores())
        assert wait_for(lambda: backend._holders(key) == holders)
        assert wait_for(lambda: not any(w.preparing for w in backend._workers))
        second = job_with_seed(2)
        ticket = engine.submit(second, "b")
        result = engine.gather([ticket])[0]
        alone = plain.gather([plain.submit(second, "b")])[0]
        np.testing.assert_array_equal(result.predictions, alone.predictions)
        assert result.history == alone.history
    finally:
        engine.shutdown()
        plain.shutdown()


def test_no_compile_ahead_while_running_jobs_take_every_core():
    busy = cores()
    engine = Engine(LocalBackend(workers=busy + 2, threads=1))
    try:
        backend = engine.backend
        assert wait_for(lambda: backend.ready_workers() == busy + 2)
        sleepers = [
            engine.submit(SleepJob(f"core-{i}", steps=200, pause=0.1), f"s{i}")
            for i in range(busy)
        ]
        key = fit_first(engine)
        time.sleep(1.0)  # the engine's loop runs every 0.1 s at most
        assert backend._holders(key) == 1
        assert not any(w.preparing for w in backend._workers)
        engine.gather(sleepers)
        assert wait_for(lambda: backend._holders(key) > 1)
    finally:
        engine.shutdown()


def test_a_setting_is_compiled_ahead_on_one_worker_more_than_an_owner_holds():
    # 1 regular worker + 3 surge: an owner holds at most 1, so 2 holders suffice.
    engine = Engine(LocalBackend(workers=1, surge=3, threads=1))
    try:
        backend = engine.backend
        # Two owners make a class, for whom the surge workers start ahead.
        engine.gather([engine.submit(SleepJob(f"hi-{o}"), o) for o in ("x", "y")])
        assert wait_for(lambda: backend.ready_workers() == 4)
        key = fit_first(engine)
        assert wait_for(lambda: backend._holders(key) == 2)
        assert wait_for(lambda: not any(w.preparing for w in backend._workers))
        time.sleep(0.5)
        assert backend._holders(key) == 2
    finally:
        engine.shutdown()


def test_no_compile_ahead_starts_in_the_gap_between_a_students_runs():
    """A run pressed at once after the last one finds every worker free."""
    from forecasting.runtime.workers import PREPARE_AFTER_S

    engine = Engine(LocalBackend(workers=2, threads=1))
    try:
        backend = engine.backend
        assert wait_for(lambda: backend.ready_workers() == 2)
        key = fit_first(engine)
        ended, gap = time.monotonic(), 1.5  # a student pressing again at once
        assert gap < PREPARE_AFTER_S
        while time.monotonic() - ended < gap:
            assert not any(w.preparing for w in backend._workers)
            time.sleep(0.05)
        assert wait_for(lambda: backend._holders(key) == 2)  # later, it does
    finally:
        engine.shutdown()
