"""Training controls shared by both forecasting pages, presets and a time estimate.

The controls live inside the page's ``st.form``, so moving a slider changes
nothing until the student presses the form's *Train* button. Each widget has a
key ``"<prefix>_<name>"``; :data:`TUTORIAL` holds the defaults (the original
tutorial's settings). Above the form, :func:`preset_picker` fills every setting
from one of the tutorial experiments in :mod:`forecasting.presets`, and a *Quick
demo* button shrinks the current settings to :data:`QUICK` units and epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from forecasting import budget
from forecasting.config import (
    MODEL_KINDS,
    MODEL_LABELS,
    OPTIMIZERS,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)
from forecasting.presets import PRESETS, Preset
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
    "seeds": 1,
    "jit_compile": True,
    "target": "level",
    "scale": "0 to 1",
}
"""The original tutorial's settings (the defaults)."""

QUICK: dict[str, Any] = {"units": 32, "epochs": 10}
"""What the *Quick demo* button changes: smaller layers and fewer epochs."""

SCALES: dict[str, tuple[float, float]] = {"0 to 1": (0.0, 1.0), "-1 to 1": (-1.0, 1.0)}
"""Ranges the MinMax scaler can map the training values to."""

TARGET_LABELS = {
    "level": "the values themselves (level)",
    "diff": "the change from one step to the next (difference)",
}

OPTIMIZER_LABELS = {"rmsprop": "RMSprop", "adam": "Adam", "sgd": "SGD"}
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
NO_MODELS_MESSAGE = (
    "No model is selected; choose at least one of LSTM, GRU and SimpleRNN, then "
    "press Train."
)


@dataclass(frozen=True)
class TrainingChoices:
    """What the training controls returned.

    Attributes:
        models: Chosen model kinds, in the canonical order.
        window: Past steps per prediction.
        model: Architecture (may be ``None`` if the values were invalid).
        train: Fitting settings (may be ``None`` if the values were invalid).
        error: Why the settings cannot be used, or ``None``.
        target: ``"level"`` or ``"diff"``.
        scale_range: ``(low, high)`` of the scaler.
    """

    models: tuple[str, ...]
    window: int
    model: ModelConfig | None
    train: TrainConfig | None
    error: str | None = None
    target: str = "level"
    scale_range: tuple[float, float] = (0.0, 1.0)

    def experiment(
        self, columns: tuple[str, ...], split: SplitConfig
    ) -> ExperimentConfig:
        """The full config for these columns and split.

        Raises:
            ValueError: If the choices are incomplete or invalid.
        """
        if self.error or self.model is None or self.train is None:
            raise ValueError(self.error or "The settings are incomplete.")
        return ExperimentConfig(
            columns=columns,
            split=split,
            window=self.window,
            scale_range=self.scale_range,
            models=self.models,
            model=self.model,
            train=self.train,
            target=self.target,
        )


def defaults(prefix: str, models: Sequence[str]) -> dict[str, Any]:
    """Default widget values for a page (its key prefix and default models)."""
    values = {f"{prefix}_{k}": v for k, v in TUTORIAL.items()}
    values[f"{prefix}_models"] = list(models)
    return values


def keys(prefix: str) -> list[str]:
    """The widget keys that :func:`training_controls` draws for a page."""
    return [f"{prefix}_{k}" for k in (*TUTORIAL, "models")]


def estimate_text(models: Sequence[str], n_train: int, config_or_choices: Any) -> str:
    """``"about 2.6 min"`` for a config (or choices) on ``n_train`` training rows."""
    window = config_or_choices.window
    return budget.describe_seconds(
        budget.estimate_seconds(
            models,
            n_train - window,
            window,
            config_or_choices.model,
            config_or_choices.train,
        )
    )


def form_values(prefix: str, config: ExperimentConfig) -> dict[str, Any]:
    """Widget values (by key) that reproduce a config's window, model and training."""
    model, train = config.model, config.train
    scale = next(
        (name for name, pair in SCALES.items() if pair == config.scale_range),
        TUTORIAL["scale"],
    )
    values = {
        "window": config.window,
        "models": list(config.models),
        "units": model.units,
        "layers": model.layers,
        "dropout": model.dropout,
        "optimizer": train.optimizer,
        "learning_rate": train.learning_rate,
        "epochs": train.epochs,
        "batch_size": train.batch_size,
        "seed": train.seed,
        "early_stopping": train.early_stopping,
        "patience": train.patience,
        "seeds": train.seeds,
        "jit_compile": train.jit_compile,
        "target": config.target,
        "scale": scale,
    }
    return {f"{prefix}_{k}": v for k, v in values.items()}


def _apply_preset(prefix: str, page_values: Callable[[Preset], dict[str, Any]]) -> None:
    preset = PRESETS[st.session_state[f"{prefix}_preset"]]
    state.reset({**page_values(preset), **form_values(prefix, preset.config)})


def _apply_quick(prefix: str) -> None:
    state.reset({f"{prefix}_{k}": v for k, v in QUICK.items()})


def preset_picker(
    prefix: str,
    command: str,
    page_values: Callable[[Preset], dict[str, Any]],
    hint: Callable[[ExperimentConfig], str],
) -> None:
    """Offer the tutorial experiments of a page and a quick-demo button.

    Args:
        prefix: Widget key prefix of the page.
        command: ``"compare"`` (prices) or ``"tracks"``: which presets to offer.
        page_values: Preset -> the page's own widget values (data, split, ...).
        hint: Config -> estimated training time, shown under the story.
    """
    names = [name for name, p in PRESETS.items() if p.command == command]
    state.restore({f"{prefix}_preset": names[0]})
    state.keep_choice(f"{prefix}_preset", names, names[0])
    choose, use, quick = st.columns([4, 1, 1], vertical_alignment="bottom")
    name = choose.selectbox(
        "Start from a tutorial experiment",
        names,
        key=f"{prefix}_preset",
        format_func=lambda n: PRESETS[n].title,
    )
    state.remember([f"{prefix}_preset"])
    preset = PRESETS[name]
    use.button(
        "Use these settings",
        key=f"{prefix}_preset_use",
        on_click=_apply_preset,
        args=(prefix, page_values),
        help="Fill in the data and every setting below from this experiment.",
        width="stretch",
    )
    quick.button(
        "Quick demo",
        key=f"{prefix}_preset_quick",
        on_click=_apply_quick,
        args=(prefix,),
        help="Keep the settings but use 32 units and 10 epochs, for a fast demo.",
        width="stretch",
    )
    st.caption(f"{preset.story} ({hint(preset.config)} with these settings.)")


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
    state.keep_choice(k + "scale", list(SCALES), TUTORIAL["scale"])
    state.keep_choice(k + "target", list(TARGET_LABELS), TUTORIAL["target"])
    state.keep_number(k + "seeds", 1, 20, 1)
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
        jit = st.checkbox(
            "Compile with XLA",
            key=k + "jit_compile",
            help="Compiles each model's training step once (a few seconds); later "
            "runs with the same settings reuse it. In the project's benchmark "
            "(BENCHMARKS.md, 2 cores) an epoch then took 0.47x the time of plain "
            "Keras without XLA for GRU and 0.75x for SimpleRNN, but the same for "
            "LSTM. Turn it off if training fails with a compiler error.",
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
        seeds = st.number_input(
            "Seeds (repeats per model)",
            min_value=1,
            max_value=20,
            step=1,
            key=k + "seeds",
            help="Train each model this many times (seed, seed+1, ...): the table "
            "shows the mean error and its spread (sd); charts show the mean "
            "forecast. Takes proportionally longer.",
        )
    target_col, scale_col = st.columns([2, 1])
    target = target_col.radio(
        "The models learn",
        list(TARGET_LABELS),
        key=k + "target",
        format_func=TARGET_LABELS.get,
        horizontal=True,
        help="With the difference, a model predicts how much the value changes; "
        "the forecast is the last real value plus that change.",
    )
    scale = scale_col.selectbox(
        "Scale values to",
        list(SCALES),
        key=k + "scale",
        help="The training period's minimum and maximum are mapped to this range.",
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
            seeds=int(seeds),
            jit_compile=bool(jit),
        )
    except ValueError as err:
        return TrainingChoices(chosen, int(window), None, None, str(err))
    error = None if chosen else NO_MODELS_MESSAGE
    return TrainingChoices(
        chosen, int(window), model, train, error, target, SCALES[scale]
    )


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
    if train.seeds > 1:
        parts.append(f"{train.seeds} seeds")
    if config.target == "diff":
        parts.append("learns differences")
    if config.scale_range != (0.0, 1.0):
        low, high = config.scale_range
        parts.append(f"scaled to {low:g}..{high:g}")
    if not train.jit_compile:
        parts.append("XLA off")
    return " · ".join(parts)


def matching_preset(
    config: ExperimentConfig, sample: str, individual: str | None = None
) -> Preset | None:
    """The tutorial experiment with exactly these settings and data, if any."""
    for preset in PRESETS.values():
        same_data = preset.sample == sample and preset.individual == individual
        if same_data and preset.config == config:
            return preset
    return None
