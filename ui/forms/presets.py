"""The tutorial experiments above the training form, and a *Quick demo* button.

:func:`preset_picker` fills every setting of a page from one of the tutorial
experiments in :mod:`forecasting.settings.presets`; *Quick demo* shrinks the
current settings to :data:`QUICK` units and epochs. :func:`matching_preset`
finds the experiment a run's settings are, for the note beside its results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from forecasting.settings.config import ExperimentConfig
from forecasting.settings.presets import PRESETS, Preset
from ui.forms import state
from ui.forms.widgets import form_values, preset_hint_text

QUICK: dict[str, Any] = {"units": 32, "epochs": 10}
"""What the *Quick demo* button changes: smaller layers and fewer epochs."""


def _apply_preset(prefix: str, page_values: Callable[[Preset], dict[str, Any]]) -> None:
    preset = PRESETS[st.session_state[f"{prefix}_preset"]]
    state.reset({**page_values(preset), **form_values(prefix, preset.config)})


def _apply_quick(prefix: str) -> None:
    state.reset({f"{prefix}_{k}": v for k, v in QUICK.items()})


def preset_picker(
    prefix: str,
    command: str,
    page_values: Callable[[Preset], dict[str, Any]],
    train_rows: Callable[[ExperimentConfig], int],
) -> None:
    """Offer the tutorial experiments of a page and a quick-demo button.

    Args:
        prefix: Widget key prefix of the page.
        command: ``"compare"`` (prices) or ``"tracks"``: which presets to offer.
        page_values: Preset -> the page's own widget values (data, split, ...).
        train_rows: Config -> training rows it would have, for the estimated
            training time shown under the story.
    """
    names = [name for name, p in PRESETS.items() if p.command == command]
    state.keep_choice(f"{prefix}_preset", names, names[0])
    choose, use, quick = st.columns([4, 1, 1], vertical_alignment="bottom")
    name = choose.selectbox(
        "Start from a tutorial experiment",
        names,
        key=f"{prefix}_preset",
        format_func=lambda n: PRESETS[n].title,
    )
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
        help=f"Keep the settings but use {QUICK['units']} units and "
        f"{QUICK['epochs']} epochs, for a fast demo.",
        width="stretch",
    )
    hint = preset_hint_text(preset.config, train_rows(preset.config))
    st.caption(f"{preset.story} ({hint} with these settings.)")


def matching_preset(
    config: ExperimentConfig, sample: str, individual: str | None = None
) -> Preset | None:
    """The tutorial experiment with exactly these settings and data, if any."""
    for preset in PRESETS.values():
        same_data = preset.sample == sample and preset.individual == individual
        if same_data and preset.config == config:
            return preset
    return None
