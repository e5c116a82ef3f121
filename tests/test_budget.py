"""The teacher's limits: the per-run budget, the memory check and the free run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecasting.data import DataError
from forecasting.prep.budget import (
    BudgetError,
    check_budget,
    check_memory,
    check_rollout,
    describe_seconds,
    estimate_seconds,
    fit_seconds,
)
from forecasting.prep.windows import prepare_windows, split_series
from forecasting.settings.config import (
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)

TUTORIAL = ExperimentConfig()


def test_the_tutorial_estimate_is_the_benchmarked_78_seconds():
    # 1,199 training windows of 60 steps, three kinds, 125 units, 50 epochs.
    seconds = estimate_seconds(
        TUTORIAL.models, 1199, 60, TUTORIAL.model, TUTORIAL.train
    )
    assert seconds == pytest.approx(78.3, rel=0.02)
    per_fit = sum(fit_seconds(k, 1199, TUTORIAL) for k in TUTORIAL.models)
    assert per_fit == pytest.approx(seconds)


def test_a_run_within_the_budget_passes_and_returns_its_estimate():
    assert check_budget(TUTORIAL, 1199, 600) == pytest.approx(78.3, rel=0.02)
    assert check_budget(TUTORIAL, 1199, None) > 0  # no limit (the CLI's default)


def test_over_the_budget_names_the_settings_to_lower():
    huge = replace(
        TUTORIAL,
        model=ModelConfig(units=1024),
        train=TrainConfig(epochs=1000, seeds=20),
    )
    with pytest.raises(BudgetError, match="more than the 10 min this server") as err:
        check_budget(huge, 1199, 600)
    message = str(err.value)
    assert message.startswith("This run needs about 16 days of training")
    # No single setting is enough: one seed, 125 units and then the epochs.
    assert "lower the seeds to 1, the units to 125 and the epochs to " in message
    epochs = int(message.split("the epochs to ")[1].rstrip("."))
    fits = replace(huge, model=ModelConfig(), train=TrainConfig(epochs=epochs))
    check_budget(fits, 1199, 600)  # the suggestion really fits


def test_over_the_budget_by_one_setting_names_it_and_a_value_that_fits():
    long = replace(TUTORIAL, train=TrainConfig(epochs=1000))
    with pytest.raises(BudgetError, match="lower the epochs to ") as err:
        check_budget(long, 1199, 600)
    epochs = int(str(err.value).split("lower the epochs to ")[1].split(" ")[0])
    check_budget(replace(long, train=TrainConfig(epochs=epochs)), 1199, 600)


def test_describe_seconds_reads_like_a_person():
    assert describe_seconds(42) == "about 40 s"
    assert describe_seconds(150) == "about 2.5 min"
    assert describe_seconds(3 * 3600) == "about 3 h"
    assert describe_seconds(5 * 86400) == "about 5 days"


def test_windows_over_the_memory_budget_are_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("FORECASTING_MEMORY_MB", "1")
    with pytest.raises(DataError, match=r"would need about 20.0 GB of memory") as err:
        check_memory(49_999, 50_000, 1)
    assert "choose a window of at most about" in str(err.value)
    frame = pd.DataFrame({"v": np.arange(100_000, dtype=float)})
    split = split_series(frame, ("v",), SplitConfig.by_rows(90_000, 10_000))
    with pytest.raises(DataError, match="more than the 1.0 MB one run may use"):
        prepare_windows(split, 50_000)


def test_the_default_memory_budget_lets_the_tutorial_through():
    check_memory(1199 + 195, 60, 1)


def test_bad_limits_in_the_environment_say_so(monkeypatch):
    from forecasting.prep.budget import budget_seconds

    monkeypatch.setenv("FORECASTING_BUDGET_SECONDS", "lots")
    with pytest.raises(ValueError, match="FORECASTING_BUDGET_SECONDS must be a num"):
        budget_seconds(600)
    monkeypatch.setenv("FORECASTING_BUDGET_SECONDS", "120")
    assert budget_seconds(600) == 120.0
    monkeypatch.delenv("FORECASTING_BUDGET_SECONDS")
    assert budget_seconds(None) is None


def test_free_run_horizon_has_bounds():
    check_rollout(0)
    check_rollout(20_000)
    with pytest.raises(ValueError, match="rollout must be between 0 and 20,000"):
        check_rollout(20_001)
    with pytest.raises(ValueError, match="got -1"):
        check_rollout(-1)
