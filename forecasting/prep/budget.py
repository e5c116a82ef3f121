"""How much work a comparison is, and the limits a teacher sets on it.

:func:`estimate_seconds` says roughly how many seconds of one CPU core's work a
set of fits takes; the engine uses it for queue waits, the form shows it, and
:func:`check_budget` refuses a run over the per-run budget before anything is
queued, naming the setting to lower. :func:`check_memory` refuses windows that
would not fit in memory before they are allocated.

Limits come from the environment: ``FORECASTING_BUDGET_SECONDS`` (seconds of
work per run; the app's default is :data:`APP_BUDGET_SECONDS`, the command line
has none unless the variable is set) and ``FORECASTING_MEMORY_MB`` (the windows of
one run; default :data:`MEMORY_MB`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import replace

from forecasting.data import DataError
from forecasting.settings.config import ExperimentConfig, ModelConfig, TrainConfig

APP_BUDGET_SECONDS = 600.0
"""The app's default per-run budget: ten minutes of one core's work."""

MEMORY_MB = 2048
"""Default memory allowed for the windows of one run, in MB."""

MAX_ROLLOUT_STEPS = 20_000
"""Longest free run (steps) a run may ask for."""

# Rough cost of one epoch over 72,000 window steps (1,200 windows of 60 steps) at
# batch 32: a fixed part per batch plus a part that grows with units squared, and
# the build + compile time per fit. At the tutorial's 125 units the sum is the
# latest BENCHMARKS.md run (section 1, 2 cores, XLA: seconds per epoch after
# compiling, and the model's wall time minus its 50 epochs for the build and
# compile), which trained the three models in 78.3 s. How the epoch splits into
# the two parts comes from an older run_comparison measurement at 32 and 125
# units (a busy 2-core machine, 6 epochs), so smaller models are extrapolated.
_PER_EPOCH_BASE = {"lstm": 0.159, "gru": 0.108, "simple_rnn": 0.054}
_PER_EPOCH_UNITS2 = {"lstm": 3.13e-5, "gru": 2.41e-5, "simple_rnn": 0.93e-5}
_COMPILE_SECONDS = {"lstm": 5.8, "gru": 4.0, "simple_rnn": 1.8}


class BudgetError(ValueError):
    """A run is over the per-run budget; the message names what to lower."""


def _one_fit(
    kind: str, n_windows: int, window: int, model: ModelConfig, train: TrainConfig
) -> float:
    steps = max(n_windows, 1) * window / 72_000
    per_batch = _PER_EPOCH_BASE[kind] * 32 / train.batch_size
    work = _PER_EPOCH_UNITS2[kind] * model.units**2 * model.layers
    return train.epochs * steps * (per_batch + work)


def fit_seconds(kind: str, n_windows: int, config: ExperimentConfig) -> float:
    """Estimated seconds of one fit (one kind, one seed), compilation included."""
    fit = _one_fit(kind, n_windows, config.window, config.model, config.train)
    return _COMPILE_SECONDS[kind] + fit


def estimate_seconds(
    models: Sequence[str],
    n_windows: int,
    window: int,
    model: ModelConfig,
    train: TrainConfig,
) -> float:
    """Roughly how many seconds training takes on a 2-core CPU (the benchmark's).

    Args:
        models: Model kinds to train.
        n_windows: Training windows (training rows minus the window).
        window: Steps per window.
        model: Architecture.
        train: Fitting settings (epochs, batch size and seeds matter).

    Returns:
        Seconds, including 2-6 s per model kind to build and compile (further
        seeds reuse the compiled step).
    """
    total = 0.0
    for kind in models:
        fit = _one_fit(kind, n_windows, window, model, train)
        total += _COMPILE_SECONDS[kind] + fit * train.seeds
    return total


def describe_seconds(seconds: float) -> str:
    """Format a duration for people: ``"about 40 s"``, ``"about 3 min"``."""
    if seconds < 60:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    minutes = seconds / 60
    if minutes < 10:
        return f"about {minutes:.1f} min".replace(".0 min", " min")
    if minutes < 120:
        return f"about {minutes:.0f} min"
    hours = minutes / 60
    return f"about {hours:.0f} h" if hours < 48 else f"about {hours / 24:.0f} days"


def _env_number(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {raw!r}")
    return value


def budget_seconds(default: float | None = None) -> float | None:
    """The per-run budget: ``FORECASTING_BUDGET_SECONDS``, else ``default``."""
    return _env_number("FORECASTING_BUDGET_SECONDS", default)


def memory_bytes() -> float:
    """Memory allowed for one run's windows: ``FORECASTING_MEMORY_MB`` in bytes."""
    return float(_env_number("FORECASTING_MEMORY_MB", MEMORY_MB)) * 1e6


def _largest_fitting(
    config: ExperimentConfig, n_windows: int, budget: float, name: str
) -> int | None:
    """The largest value of one setting (others fixed) that fits the budget."""
    current = {
        "epochs": config.train.epochs,
        "seeds": config.train.seeds,
        "units": config.model.units,
    }[name]
    for value in sorted({max(1, int(current * f)) for f in _FRACTIONS}, reverse=True):
        if value >= current:
            continue
        trial = _with(config, name, value)
        seconds = estimate_seconds(
            trial.models, n_windows, trial.window, trial.model, trial.train
        )
        if seconds <= budget:
            return value
    return None


_FRACTIONS = [1 / 2**k for k in range(1, 14)] + [0.75, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1]


def _with(config: ExperimentConfig, name: str, value: int) -> ExperimentConfig:
    if name == "units":
        return replace(config, model=replace(config.model, units=value))
    return replace(config, train=replace(config.train, **{name: value}))


def _combined_advice(config: ExperimentConfig, n_windows: int, budget: float) -> str:
    """No one setting is enough: one seed, at most the tutorial's units, then epochs."""
    changes, trial = [], config
    units = ModelConfig().units
    if trial.train.seeds > 1:
        trial = _with(trial, "seeds", 1)
        changes.append("the seeds to 1")
    if trial.model.units > units:
        trial = _with(trial, "units", units)
        changes.append(f"the units to {units}")
    epochs = _largest_fitting(trial, n_windows, budget, "epochs")
    if epochs is None:
        return "train fewer models, or use a shorter window or fewer training rows"
    changes.append(f"the epochs to {epochs}")
    return "lower " + ", ".join(changes[:-1]) + " and " + changes[-1]


def check_budget(
    config: ExperimentConfig, n_windows: int, budget: float | None
) -> float:
    """Refuse a run whose estimated work is over the budget.

    Args:
        config: The run's settings.
        n_windows: Training windows.
        budget: Seconds of work allowed; ``None`` for no limit.

    Returns:
        The estimated seconds of work.

    Raises:
        BudgetError: Over the budget; the message says which setting to lower
            and to what.
    """
    seconds = estimate_seconds(
        config.models, n_windows, config.window, config.model, config.train
    )
    if budget is None or seconds <= budget:
        return seconds
    hints = []
    for name in ("epochs", "seeds", "units"):
        value = _largest_fitting(config, n_windows, budget, name)
        if value is not None:
            hints.append(f"{name} to {value}")
    advice = (
        f"lower the {' or the '.join(hints)}"
        if hints
        else _combined_advice(config, n_windows, budget)
    )
    raise BudgetError(
        f"This run needs {describe_seconds(seconds)} of training, more than the "
        f"{describe_seconds(budget).removeprefix('about ')} this server allows per "
        f"run; {advice}."
    )


def check_memory(n_samples: int, window: int, n_features: int) -> None:
    """Refuse windows that would take more memory than one run may use.

    Windows are float32 ``(samples, window, features)``, 4 bytes per value, and
    the worker that trains on them holds a second copy inside TensorFlow, so a
    run needs about 8 bytes per window value.

    Raises:
        DataError: If they would not fit, saying how big they are and what to do.
    """
    needed = 8.0 * n_samples * window * n_features
    limit = memory_bytes()
    if needed <= limit:
        return
    fitting = max(2, int(limit / (8.0 * max(n_samples, 1) * n_features)))
    raise DataError(
        f"The windows would need about {_size(needed)} of memory "
        f"({n_samples:,} windows x {window:,} steps x {n_features} feature(s)), "
        f"more than the {_size(limit)} one run may use; choose a window of "
        f"at most about {fitting:,} steps or fewer rows."
    )


def _size(n_bytes: float) -> str:
    """``"9.3 GB"`` or ``"1.4 MB"``."""
    if n_bytes >= 1e9:
        return f"{n_bytes / 1e9:.1f} GB"
    return f"{n_bytes / 1e6:.1f} MB"


def check_rollout(steps: int) -> None:
    """Refuse a free run longer than :data:`MAX_ROLLOUT_STEPS` or negative.

    Raises:
        ValueError: Naming the value and the bounds.
    """
    if not 0 <= steps <= MAX_ROLLOUT_STEPS:
        raise ValueError(
            f"rollout must be between 0 and {MAX_ROLLOUT_STEPS:,} steps, got {steps}"
        )
