"""Training controls shared by both forecasting pages, presets and a time estimate.

The controls live inside the page's ``st.form``, so moving a slider changes
nothing until the student presses the form's *Train* button. Each widget has a
key ``"<prefix>_<name>"``; :data:`TUTORIAL` holds the defaults (the original
tutorial's settings) and :data:`QUICK` a fast classroom preset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from forecasting.config import (
    MODEL_KINDS,
    MODEL_LABELS,
    OPTIMIZERS,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
)
from ui import state

TUTORIAL: dict[str, Any] = {
    "window": 60,
    "units": 125,
    "layers": 1,
    "dropout": 0.0,
    "optimizer": "rmsprop",
    "learning_rate": 0.001,
    "epochs": 50,
    "batch_size": 32,
    "seed": 455,
    "early_stopping": False,
    "patience": 5,
}
"""The original tutorial's settings (the defaults)."""

QUICK: dict[str, Any] = {**TUTORIAL, "units": 32, "epochs": 10}
"""A fast preset for a live demo: smaller layers and fewer epochs."""

OPTIMIZER_LABELS = {"rmsprop": "RMSprop", "adam": "Adam", "sgd": "SGD"}
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
NO_MODELS_MESSAGE = (
    "No model is selected; choose at least one of LSTM, GRU and SimpleRNN, then "
    "press Train."
)

# Rough cost of one epoch over 72,000 window steps (1,200 windows of 60 steps) at
# batch 32, measured on a 2-core laptop-class CPU: a fixed part per batch plus a
# part that grows with units squared, and the build + compile time per model.
_PER_EPOCH_BASE = {"lstm": 0.25, "gru": 0.15, "simple_rnn": 0.12}
_PER_EPOCH_UNITS2 = {"lstm": 8.0e-5, "gru": 5.8e-5, "simple_rnn": 1.2e-5}
_COMPILE_SECONDS = 5.0


@dataclass(frozen=True)
class TrainingChoices:
    """What the training controls returned.

    Attributes:
        models: Chosen model kinds, in the canonical order.
        window: Past steps per prediction.
        model: Architecture (may be ``None`` if the values were invalid).
        train: Fitting settings (may be ``None`` if the values were invalid).
        error: Why the settings cannot be used, or ``None``.
    """

    models: tuple[str, ...]
    window: int
    model: ModelConfig | None
    train: TrainConfig | None
    error: str | None = None


def defaults(prefix: str, models: Sequence[str]) -> dict[str, Any]:
    """Default widget values for a page (its key prefix and default models)."""
    values = {f"{prefix}_{k}": v for k, v in TUTORIAL.items()}
    values[f"{prefix}_models"] = list(models)
    return values


def keys(prefix: str) -> list[str]:
    """The widget keys that :func:`training_controls` draws for a page."""
    return [f"{prefix}_{k}" for k in (*TUTORIAL, "models")]


def _apply_preset(prefix: str, preset: dict[str, Any]) -> None:
    state.reset({f"{prefix}_{k}": v for k, v in preset.items()})


def preset_buttons(prefix: str, quick_hint: str, tutorial_hint: str) -> None:
    """Two buttons that fill the form with the quick or the tutorial settings."""
    left, right, _ = st.columns([1, 1, 2])
    left.button(
        "Quick demo settings",
        key=f"{prefix}_preset_quick",
        help=f"32 units, 10 epochs: {quick_hint}.",
        on_click=_apply_preset,
        args=(prefix, QUICK),
        width="stretch",
    )
    right.button(
        "Tutorial settings",
        key=f"{prefix}_preset_tutorial",
        help=f"The original tutorial: 125 units, 50 epochs: {tutorial_hint}.",
        on_click=_apply_preset,
        args=(prefix, TUTORIAL),
        width="stretch",
    )


def training_controls(prefix: str, max_window: int) -> TrainingChoices:
    """Draw the model and training widgets (call inside an ``st.form``).

    Args:
        prefix: Widget key prefix of the page.
        max_window: Largest window the data could allow.

    Returns:
        The choices; ``error`` says what to fix if they cannot be used.
    """
    k = f"{prefix}_"
    state.keep_choices(k + "models", MODEL_KINDS, ["gru"])
    state.keep_number(k + "window", 2, max(2, max_window), TUTORIAL["window"])
    state.keep_choice(k + "batch_size", BATCH_SIZES, TUTORIAL["batch_size"])
    state.keep_choice(k + "optimizer", OPTIMIZERS, TUTORIAL["optimizer"])
    models_col, train_col, input_col = st.columns(3)
    with models_col:
        st.markdown("**Models**")
        models = st.multiselect(
            "Models to compare",
            MODEL_KINDS,
            key=k + "models",
            format_func=MODEL_LABELS.get,
            help="Each chosen model is trained separately on the same data.",
        )
        units = st.number_input(
            "Units per layer",
            min_value=1,
            max_value=1024,
            step=1,
            key=k + "units",
            help="Size of the memory (hidden state) of each recurrent layer.",
        )
        layers = st.number_input(
            "Layers", min_value=1, max_value=4, step=1, key=k + "layers"
        )
        dropout = st.slider(
            "Dropout",
            min_value=0.0,
            max_value=0.5,
            step=0.05,
            key=k + "dropout",
            help="Share of units switched off at random while training (0 = none).",
        )
    with train_col:
        st.markdown("**Training**")
        epochs = st.number_input(
            "Epochs",
            min_value=1,
            max_value=1000,
            step=1,
            key=k + "epochs",
            help="Passes over the training data. More epochs take longer.",
        )
        batch_size = st.selectbox(
            "Batch size", BATCH_SIZES, key=k + "batch_size", help="Windows per step."
        )
        optimizer = st.selectbox(
            "Optimizer",
            OPTIMIZERS,
            key=k + "optimizer",
            format_func=OPTIMIZER_LABELS.get,
        )
        learning_rate = st.number_input(
            "Learning rate",
            min_value=0.00001,
            max_value=1.0,
            step=0.0005,
            format="%.5f",
            key=k + "learning_rate",
        )
    with input_col:
        st.markdown("**Input and repeatability**")
        window = st.number_input(
            "Window (past steps per prediction)",
            min_value=2,
            max_value=max(2, max_window),
            step=1,
            key=k + "window",
            help="How many past values the model sees to predict the next one.",
        )
        seed = st.number_input(
            "Seed",
            min_value=0,
            max_value=2**31 - 1,
            step=1,
            key=k + "seed",
            help="Same seed and settings give the same results.",
        )
        early = st.checkbox(
            "Early stopping",
            key=k + "early_stopping",
            help="Hold out the last 10% of the training windows; stop when their "
            "loss stops improving and keep the best weights.",
        )
        patience = st.number_input(
            "Patience (epochs)",
            min_value=1,
            max_value=100,
            step=1,
            key=k + "patience",
            help="Epochs without improvement before early stopping stops.",
        )
    chosen = tuple(kind for kind in MODEL_KINDS if kind in models)
    try:
        model = ModelConfig(
            units=int(units), layers=int(layers), dropout=float(dropout)
        )
        train = TrainConfig(
            optimizer=optimizer,
            learning_rate=float(learning_rate),
            epochs=int(epochs),
            batch_size=int(batch_size),
            seed=int(seed),
            early_stopping=bool(early),
            patience=int(patience),
        )
    except ValueError as err:
        return TrainingChoices(chosen, int(window), None, None, str(err))
    error = None if chosen else NO_MODELS_MESSAGE
    return TrainingChoices(chosen, int(window), model, train, error)


def estimate_seconds(
    models: Sequence[str],
    n_windows: int,
    window: int,
    model: ModelConfig,
    train: TrainConfig,
) -> float:
    """Roughly how long training takes on a 2-core laptop CPU.

    Args:
        models: Model kinds to train.
        n_windows: Training windows (training rows minus the window).
        window: Steps per window.
        model: Architecture.
        train: Fitting settings (epochs and batch size matter).

    Returns:
        Seconds, including about five seconds per model to build and compile.
    """
    steps = max(n_windows, 1) * window / 72_000
    total = 0.0
    for kind in models:
        per_batch = _PER_EPOCH_BASE[kind] * 32 / train.batch_size
        work = _PER_EPOCH_UNITS2[kind] * model.units**2 * model.layers
        total += _COMPILE_SECONDS + train.epochs * steps * (per_batch + work)
    return total


def describe_seconds(seconds: float) -> str:
    """Format a duration for people: ``"about 40 s"``, ``"about 3 min"``."""
    if seconds < 60:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    minutes = seconds / 60
    if minutes < 10:
        return f"about {minutes:.1f} min".replace(".0 min", " min")
    return f"about {minutes:.0f} min"


def preset_configs(preset: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """The architecture and fitting settings of a preset such as :data:`QUICK`."""
    model = ModelConfig(
        units=preset["units"], layers=preset["layers"], dropout=preset["dropout"]
    )
    train = TrainConfig(
        optimizer=preset["optimizer"],
        learning_rate=preset["learning_rate"],
        epochs=preset["epochs"],
        batch_size=preset["batch_size"],
        seed=preset["seed"],
        early_stopping=preset["early_stopping"],
        patience=preset["patience"],
    )
    return model, train


def summary(config: ExperimentConfig, split_text: str | None = None) -> str:
    """The settings of a comparison in one line, for headings and captions."""
    model, train = config.model, config.train
    size = f"{model.units} units" + (
        f" × {model.layers} layers" if model.layers > 1 else ""
    )
    parts = [
        ", ".join(config.columns),
        split_text or config.split.describe(),
        f"window {config.window}",
        ", ".join(MODEL_LABELS[k] for k in config.models),
        size,
        f"{train.epochs} epochs",
        f"{OPTIMIZER_LABELS[train.optimizer]} lr {train.learning_rate:g}",
        f"batch {train.batch_size}",
        f"seed {train.seed}",
    ]
    if model.dropout:
        parts.append(f"dropout {model.dropout:g}")
    if train.early_stopping:
        parts.append(f"early stopping (patience {train.patience})")
    return " · ".join(parts)
