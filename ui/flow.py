"""The one training-page flow: data -> split -> form -> train -> results.

Both forecasting pages run :func:`run` with a :class:`TrainingPage` that
declares what differs: their data steps (:mod:`ui.forms.prices`,
:mod:`ui.forms.tracks`), their models and free-run input, their presets and
their results view (:mod:`ui.views.prices`, :mod:`ui.views.tracks`). Training
happens only when the form's button is pressed; everything else redraws from
the session's results (:mod:`ui.running.runs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from forecasting.data.outputs import markdown_text
from forecasting.settings.config import ExperimentConfig
from forecasting.settings.presets import Preset
from ui import nav
from ui.forms import presets, sharing, state, widgets
from ui.forms.sources import Selection
from ui.forms.widgets import FreeRun, TrainingChoices
from ui.running import jobs, runs
from ui.running.runs import RunRecord


@dataclass(frozen=True)
class TrainingPage:
    """What a training page declares; :func:`run` draws the rest.

    Attributes:
        key: The page's name for its runs and links: ``"price"``, ``"tracking"``.
        prefix: Its widget keys' prefix: ``"price"`` or ``"trk"``.
        url_path: Its address in the app (``""`` for the default page).
        title: The page's title.
        intro: The paragraph under the title (Markdown).
        data_step: Step 2's heading, e.g. ``"What to forecast"``.
        source: Draws step 1 (picker and preview); returns the data or ``None``.
        choose: Draws step 2 for the loaded data; returns the selection.
        empty: The selection before any data loaded (form sizes only).
        models: The models the form starts with.
        free_run: The form's free-run input.
        command: Which tutorial presets to offer (``"compare"`` or ``"tracks"``).
        preset_values: Preset -> the page's own widget values (data, split).
        preset_rows: ``(config, training rows on screen)`` -> the preset's
            training rows, for its time estimate.
        results: Draws a finished run: ``(record, current, data)``.
        no_data: The sentence when Train is pressed without data.
        no_columns: The sentence when no column is chosen, or ``None``.
        waiting: The note shown before the first training.
    """

    key: str
    prefix: str
    url_path: str
    title: str
    intro: str
    data_step: str
    source: Callable[[], Any]
    choose: Callable[[Any], Selection]
    empty: Selection
    models: tuple[str, ...]
    free_run: FreeRun
    command: str
    preset_values: Callable[[Preset], dict[str, Any]]
    preset_rows: Callable[[ExperimentConfig, int], int]
    results: Callable[[RunRecord, bool, Any], None]
    no_data: str
    no_columns: str | None
    waiting: str


@dataclass(frozen=True)
class _Form:
    """What the training form returned."""

    choices: TrainingChoices
    rollout: int
    submitted: bool


def run(page: TrainingPage) -> None:
    """Draw a training page from its declaration."""
    nav.require_app(page.url_path)
    st.title(page.title)
    st.markdown(page.intro)
    sharing.restore(page.key)  # a shared link's settings, once per session
    st.header("1 · Data", divider="gray")
    data = page.source()
    chosen = page.empty
    if data is not None:
        st.header(f"2 · {page.data_step}", divider="gray")
        chosen = page.choose(data)
    # Numbered 2 when the data did not load and step 2 is not shown.
    st.header(f"{3 if data is not None else 2} · Models and training", divider="gray")
    form = _training_form(page, chosen)
    sharing.share(page.key, data)
    config = _config(form, chosen)
    key = (
        jobs.cache_key(chosen.data_key, config, form.rollout)
        if data is not None and chosen.data_key and config is not None
        else None
    )
    if form.submitted:
        _train(page, data, chosen, form, config, key)
    jobs.follow_and_store(page.key)
    _results(page, data, key)


def _training_form(page: TrainingPage, chosen: Selection) -> _Form:
    """The presets above the form, then the form with its time estimate."""
    state.keep(widgets.defaults(page.prefix, page.models))
    presets.preset_picker(
        page.prefix,
        page.command,
        page.preset_values,
        lambda config: page.preset_rows(config, chosen.n_train),
    )
    with st.form(f"{page.prefix}_form", border=True):
        choices = widgets.training_controls(page.prefix, chosen.max_window)
        rollout = widgets.free_run_input(page.prefix, page.free_run)
        if choices.config is not None and not choices.error:
            caption = widgets.estimate_caption(choices.config, chosen.n_train)
            st.caption(caption + jobs.budget_note())
        submitted = st.form_submit_button(
            "Train models", type="primary", icon=":material/play_arrow:"
        )
    return _Form(choices, rollout, submitted)


def _config(form: _Form, chosen: Selection) -> ExperimentConfig | None:
    """The experiment of the form and the selection, or ``None`` if incomplete."""
    if form.choices.error or not chosen.columns or chosen.split_config is None:
        return None
    try:
        return form.choices.experiment(chosen.columns, chosen.split_config)
    except ValueError as err:
        if form.submitted:
            st.error(markdown_text(err))
        return None


def _train(
    page: TrainingPage,
    data: Any,
    chosen: Selection,
    form: _Form,
    config: ExperimentConfig | None,
    key: str | None,
) -> None:
    """Train was pressed: say what is missing, or queue the training."""
    if data is None:
        st.error(page.no_data)
    elif form.choices.error:
        st.error(form.choices.error)
    elif page.no_columns and not chosen.columns:
        st.error(page.no_columns)
    elif chosen.split is None or chosen.frame is None or config is None:
        st.error(
            "The data and settings above do not fit together yet; fix the error "
            "shown above, then press Train."
        )
    else:
        unit = page.free_run.unit
        preset = presets.matching_preset(config, data.name, chosen.individual)
        jobs.start_training(
            page.key,
            chosen.frame,
            config,
            meta={
                "key": key,
                "data_label": chosen.label,
                "summary": config.describe()
                + (f" · free run {form.rollout} {unit}" if form.rollout else ""),
                "extras": {**chosen.extras, "preset": preset},
            },
            rollout_steps=form.rollout,
        )


def _results(page: TrainingPage, data: Any, key: str | None) -> None:
    """The run for the settings on screen, else the page's last run, else a note."""
    record = runs.find_run(page.key, key) if key else None
    current = record is not None
    record = record or runs.last_run(page.key)
    if record is None:
        st.info(page.waiting)
        return
    st.divider()
    page.results(record, current, data)
