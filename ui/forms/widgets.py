"""Training controls shared by both forecasting pages, and a time estimate.

The controls live inside the page's ``st.form``, so moving a slider changes
nothing until the student presses the form's *Train* button. Each widget has a
key ``"<prefix>_<name>"`` where ``name`` is a setting of
:mod:`forecasting.settings.names` (:data:`FORM_SETTINGS`), or ``"scale"`` for the
scaler's range; the defaults are the config's (the original tutorial's). The
tutorial experiments above the form are :mod:`ui.forms.presets`.

The form <-> config translation is pure (:func:`form_values`,
:func:`choices_from_form`) and goes through the one settings mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from forecasting.prep import budget
from forecasting.settings.config import (
    MODEL_KINDS,
    MODEL_LABELS,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    ExperimentConfig,
    SplitConfig,
)
from forecasting.settings.names import (
    DEFAULT_SETTINGS,
    config_from_settings,
    settings_from_config,
)
from ui.forms import state

FORM_SETTINGS: tuple[str, ...] = (
    "models",
    "window",
    "units",
    "layers",
    "dropout",
    "optimizer",
    "learning_rate",
    "epochs",
    "batch_size",
    "seed",
    "early_stopping",
    "patience",
    "seeds",
    "jit_compile",
    "target",
)
"""Settings the form shows, each under the widget key ``"<prefix>_<name>"``; the
``"<prefix>_scale"`` select box holds ``scale_low`` and ``scale_high``."""

SCALES: dict[str, tuple[float, float]] = {"0 to 1": (0.0, 1.0), "-1 to 1": (-1.0, 1.0)}
"""Ranges the MinMax scaler can map the training values to."""

TARGET_LABELS = {
    "level": "the values themselves (level)",
    "diff": "the change from one step to the next (difference)",
}

BATCH_SIZES = (8, 16, 32, 64, 128, 256)
NO_MODELS_MESSAGE = (
    "No model is selected; choose at least one of LSTM, GRU and SimpleRNN, then "
    "press Train."
)


def scale_label(scale_range: tuple[float, float]) -> str:
    """The *Scale values to* option of a range (the default's if none matches)."""
    default = (DEFAULT_SETTINGS["scale_low"], DEFAULT_SETTINGS["scale_high"])
    for wanted in (tuple(scale_range), default):
        for label, pair in SCALES.items():
            if pair == wanted:
                return label
    return next(iter(SCALES))


@dataclass(frozen=True)
class TrainingChoices:
    """What the training controls returned.

    Attributes:
        models: Chosen model kinds, in the canonical order (may be empty).
        config: The form's settings on the default columns and split, or
            ``None`` if the values were invalid.
        error: Why the settings cannot be used, or ``None``.
    """

    models: tuple[str, ...]
    config: ExperimentConfig | None
    error: str | None = None

    def experiment(
        self, columns: tuple[str, ...], split: SplitConfig
    ) -> ExperimentConfig:
        """The full config for these columns and split.

        Raises:
            ValueError: If the choices are incomplete or invalid.
        """
        if self.error or self.config is None:
            raise ValueError(self.error or "The settings are incomplete.")
        return replace(self.config, columns=tuple(columns), split=split)


def form_values(prefix: str, config: ExperimentConfig) -> dict[str, Any]:
    """Widget values (by key) that reproduce a config's window, model and training.

    Args:
        prefix: Widget key prefix of the page.
        config: Any config; its columns and split are the page's business.

    Returns:
        ``"<prefix>_<name>"`` -> value for :data:`FORM_SETTINGS` and the scale.
    """
    settings = settings_from_config(config)
    values = {name: settings[name] for name in FORM_SETTINGS}
    for name in ("dropout", "learning_rate"):  # float widgets refuse an int
        values[name] = float(values[name])
    values["scale"] = scale_label((settings["scale_low"], settings["scale_high"]))
    return {f"{prefix}_{name}": value for name, value in values.items()}


def form_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn the form's widget values into settings.

    Args:
        values: Name -> widget value, for :data:`FORM_SETTINGS` and ``"scale"``
            (names without the page's prefix).

    Returns:
        Settings for :func:`forecasting.settings.names.config_from_settings`, each of
        the type of its default (``int``, ``float``, ``bool``, ``str``, list).
    """
    settings = {
        name: type(DEFAULT_SETTINGS[name])(values[name]) for name in FORM_SETTINGS
    }
    settings["scale_low"], settings["scale_high"] = SCALES[values["scale"]]
    return settings


def choices_from_form(values: Mapping[str, Any]) -> TrainingChoices:
    """Check the form's widget values and build their config.

    Args:
        values: Name -> widget value, as for :func:`form_settings`.

    Returns:
        The choices; ``error`` is the first invalid value's message, or
        :data:`NO_MODELS_MESSAGE` when no model is chosen.
    """
    settings = form_settings(values)
    chosen = tuple(kind for kind in MODEL_KINDS if kind in settings["models"])
    settings["models"] = list(chosen or MODEL_KINDS)
    try:
        config = config_from_settings(settings)
    except ValueError as err:
        return TrainingChoices(chosen, None, str(err))
    return TrainingChoices(chosen, config, None if chosen else NO_MODELS_MESSAGE)


def defaults(prefix: str, models: Sequence[str]) -> dict[str, Any]:
    """Default widget values for a page (its key prefix and default models)."""
    return form_values(prefix, ExperimentConfig(models=tuple(models)))


def keys(prefix: str) -> list[str]:
    """The widget keys that :func:`training_controls` draws for a page."""
    return [f"{prefix}_{name}" for name in (*FORM_SETTINGS, "scale")]


def estimate_text(config: ExperimentConfig, n_train: int) -> str:
    """``"about 2.6 min"`` to train a config's models on ``n_train`` rows."""
    return budget.describe_seconds(
        budget.estimate_seconds(
            config.models,
            n_train - config.window,
            config.window,
            config.model,
            config.train,
        )
    )


def estimate_caption(config: ExperimentConfig, n_train: int) -> str:
    """The form's caption with the estimated training time of a config."""
    return (
        ":material/timer: Estimated training time: "
        f"**{estimate_text(config, n_train)}** on a 2-core CPU like the benchmark "
        "machine (the first run after starting the app also loads TensorFlow). "
        "Results are kept: training the same settings again is instant."
    )


def preset_hint_text(config: ExperimentConfig, n_train: int) -> str:
    """``"about 1.3 min for LSTM, GRU"``: a preset's estimate, under its story."""
    labels = ", ".join(MODEL_LABELS[k] for k in config.models)
    return f"{estimate_text(config, n_train)} for {labels}"


def training_controls(prefix: str, max_window: int) -> TrainingChoices:
    """Draw the model and training widgets (call inside an ``st.form``).

    Args:
        prefix: Widget key prefix of the page.
        max_window: Largest window the data could allow.

    Returns:
        The choices; ``error`` says what to fix if they cannot be used.
    """
    k = f"{prefix}_"
    _keep_valid_values(k, max_window)
    models_col, train_col, input_col = st.columns(3)
    with models_col:
        values = _model_widgets(k)
    with train_col:
        values |= _fitting_widgets(k)
    with input_col:
        values |= _input_widgets(k, max_window)
    values |= _target_and_scale_widgets(k)
    return choices_from_form(values)


def _keep_valid_values(k: str, max_window: int) -> None:
    """Bring stored values back into the widgets' options and ranges."""
    default = DEFAULT_SETTINGS
    state.keep_choices(k + "models", MODEL_KINDS, ["gru"])
    longest = max(2, max_window)
    cut = state.keep_number(k + "window", 2, longest, default["window"])
    if cut is not None:
        st.warning(
            f"A window of {cut:g} steps does not fit this data; the form uses "
            f"{longest}, the longest it allows.",
            icon=":material/straighten:",
        )
    state.keep_choice(k + "batch_size", BATCH_SIZES, default["batch_size"])
    state.keep_choice(k + "optimizer", OPTIMIZERS, default["optimizer"])
    scale = scale_label((default["scale_low"], default["scale_high"]))
    state.keep_choice(k + "scale", list(SCALES), scale)
    state.keep_choice(k + "target", list(TARGET_LABELS), default["target"])
    state.keep_number(k + "seeds", 1, 20, default["seeds"])


def _model_widgets(k: str) -> dict[str, Any]:
    """Models, units, layers and dropout."""
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
    return {"models": models, "units": units, "layers": layers, "dropout": dropout}


def _fitting_widgets(k: str) -> dict[str, Any]:
    """Epochs, batch size, optimizer, learning rate and XLA."""
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
    return {
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "jit_compile": jit,
    }


def _input_widgets(k: str, max_window: int) -> dict[str, Any]:
    """Window, seed, early stopping, patience and the number of seeds."""
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
    held_out = f"{DEFAULT_SETTINGS['validation_fraction']:.0%}"
    early = st.checkbox(
        "Early stopping",
        key=k + "early_stopping",
        help=f"Hold out the last {held_out} of the training windows; stop when "
        "their loss stops improving and keep the best weights.",
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
    return {
        "window": window,
        "seed": seed,
        "early_stopping": early,
        "patience": patience,
        "seeds": seeds,
    }


def _target_and_scale_widgets(k: str) -> dict[str, Any]:
    """What the models learn, and the scaler's range."""
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
    return {"target": target, "scale": scale}


@dataclass(frozen=True)
class FreeRun:
    """A page's free-run input in the training form.

    Attributes:
        label: The input's label.
        default: Steps when nothing was chosen yet (0 makes no free run).
        most: The largest number of steps offered.
        step: The input's step.
        unit: ``"days"`` or ``"steps"``, for the run's one-line summary.
        help: The input's help text.
    """

    label: str
    default: int
    most: int
    step: int
    unit: str
    help: str


def free_run_input(prefix: str, spec: FreeRun) -> int:
    """The form's free-run input (key ``"<prefix>_rollout"``); returns its value.

    Drawn inside the training form: the free run is made by the fits, so a new
    value trains again.
    """
    key = f"{prefix}_rollout"
    state.keep({key: spec.default})
    value = st.number_input(
        spec.label,
        min_value=0,
        max_value=spec.most,
        step=spec.step,
        key=key,
        help=spec.help,
    )
    return int(value)
