"""The Learn page's "Inside the cell": pick a trained model and a window, see its gates.

The work (loading the model, running Keras, recomputing the gates) is a
:class:`forecasting.nn.cell.CellJob` on a worker; this module only draws controls,
submits it through :func:`ui.running.jobs.inside_cell` and shows
:func:`forecasting.charts.cell.cell_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from forecasting.charts.cell import cell_figure
from forecasting.data import DataError
from forecasting.data.outputs import markdown_text
from forecasting.nn.cell import window_at, window_count
from forecasting.runtime.protocol import JobFailed
from forecasting.settings.config import MODEL_LABELS
from ui.forms import state
from ui.running import jobs
from ui.running.runs import RunRecord

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison
    from forecasting.prep.windows import Windows

PAGE_TITLES: dict[str, str] = {
    "price": "Price forecasting",
    "tracking": "Tracking forecasting",
}


def _when(label: Any) -> str:
    """A date as ``2020-03-02``, anything else as it is."""
    return f"{label:%Y-%m-%d}" if isinstance(label, pd.Timestamp) else str(label)


def show(runs: Mapping[str, RunRecord]) -> None:
    """Controls for one trained model and window, then its figure.

    Args:
        runs: Page id (``"price"``, ``"tracking"``) -> the page's last run.
    """
    comparison, kind, layer = _choose_model(runs)
    number, window, steps = _choose_window(comparison.windows)
    state.keep({"learn_cell_show": False})
    shown = st.toggle(
        "Show inside the cell",
        key="learn_cell_show",
        help="Runs this window through your trained model on a worker (a few "
        "seconds the first time); it then follows the controls above.",
    )
    if not shown:
        return
    fit = comparison.runs[kind].train
    if not fit.model_file:
        st.info("This run kept no trained model to look into; train it again.")
        return
    try:
        trace = jobs.inside_cell(kind, fit.model_file, window, layer)
    except (DataError, ValueError, JobFailed) as err:
        st.error(markdown_text(err))
        return
    except Exception as err:  # never show a traceback
        jobs.report_unexpected(err)
        return
    suffix = " change" if comparison.config.target == "diff" else ""
    columns = [f"{c}{suffix}" for c in comparison.split.columns]
    n_layers = comparison.config.model.layers
    where = f", layer {layer + 1} of {n_layers}" if n_layers > 1 else ""
    st.plotly_chart(
        cell_figure(
            trace,
            columns=columns,
            steps=steps,
            title=f"{MODEL_LABELS[kind]} (seed {fit.seed}{where}), {trace.units} "
            f"units, reading window {number}",
        ),
        width="stretch",
    )
    below = "the hidden states of the layer below (not drawn)"
    st.caption(
        "The numpy equations and Keras agree on every hidden state to within "
        f"{trace.max_difference:.1e}. The layer's input is "
        f"{'the window itself' if layer == 0 else below}."
    )


def _choose_model(
    runs: Mapping[str, RunRecord],
) -> tuple[Comparison, str, int]:
    """The run, model kind and layer to look into: ``(comparison, kind, layer)``."""
    pages = list(runs)
    state.keep_choice("learn_cell_page", pages, pages[0])
    page = st.radio(
        "Run",
        pages,
        key="learn_cell_page",
        format_func=lambda p: f"your last run on {PAGE_TITLES.get(p, p)}",
        horizontal=True,
    )
    comparison = runs[page].comparison
    kinds = list(comparison.runs)
    state.keep({"learn_cell_layer": 0})
    state.keep_choice("learn_cell_kind", kinds, kinds[0])
    left, right = st.columns(2)
    kind = left.radio(
        "Model", kinds, key="learn_cell_kind", format_func=MODEL_LABELS.get
    )
    n_layers = comparison.config.model.layers
    if n_layers == 1:
        return comparison, kind, 0
    state.keep_choice("learn_cell_layer", list(range(n_layers)), 0)
    layer = right.selectbox(
        "Layer",
        list(range(n_layers)),
        key="learn_cell_layer",
        format_func=lambda i: f"layer {i + 1}" + (" (reads the input)" * (i == 0)),
    )
    return comparison, kind, int(layer)


def _choose_window(windows: Windows) -> tuple[int, np.ndarray, pd.Index]:
    """A window slider: ``(number from 1, window (steps, features), step labels)``."""
    count, n_train = window_count(windows), len(windows.x_train)
    state.keep_number("learn_cell_window", 1, count, n_train)
    number = int(
        st.slider(
            "Window",
            min_value=1,
            max_value=count,
            key="learn_cell_window",
            help=f"Windows 1 to {n_train} are the training windows (the last one "
            f"is the default), {n_train + 1} to {count} the test windows.",
        )
    )
    window, steps, predicted = window_at(windows, number - 1)
    period = "training" if number <= n_train else "test"
    st.caption(
        f"Window {number} of {count} ({period} period): {len(steps)} steps from "
        f"{_when(steps[0])} to {_when(steps[-1])}; the model uses it to forecast "
        f"{_when(predicted)}."
    )
    return number, window, steps
