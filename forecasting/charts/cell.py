"""The picture of :mod:`forecasting.nn.cell`: a layer's states and gates as heat maps.

:class:`forecasting.nn.cell.CellJob` computes a :class:`~forecasting.nn.cell.CellTrace`
on a worker; :func:`cell_figure` draws it: the input on top and one heat map
(units x steps) per state or gate below, on a shared time axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from forecasting.nn.cell import GATES, STATE_LABELS, STATE_NAMES, CellTrace


def cell_figure(
    trace: CellTrace,
    columns: Sequence[str] = (),
    steps: Sequence[Any] | pd.Index | None = None,
    title: str = "",
) -> go.Figure:
    """The input on top and a heat map (units x steps) of each state and gate below.

    Gates share one 0..1 colour scale; the hidden state, the cell state and the
    candidates share a second one centred on 0 (from -1 to 1, or wider if the cell
    state goes beyond).

    Args:
        trace: A :class:`~forecasting.nn.cell.CellTrace`.
        columns: Names of the input features (default ``input 1``, ...).
        steps: Labels of the window's steps (e.g. dates), default ``1 .. steps``.
        title: Figure title.

    Returns:
        A figure with one line per input feature (named after ``columns``), then
        one heat map per state named by
        :data:`~forecasting.nn.cell.STATE_LABELS`, each ``z`` of shape
        ``(units, steps)``.

    Raises:
        ValueError: ``steps`` or ``columns`` of the wrong length.
    """
    window = np.asarray(trace.window)
    x, names = _labels(window, columns, steps)
    states = {name: trace.states[name] for name in STATE_NAMES[trace.kind]}
    fig = make_subplots(
        rows=1 + len(states),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.035,
        subplot_titles=["input (scaled, as the network sees it)"]
        + [STATE_LABELS[name] for name in states],
    )
    for j, name in enumerate(names):
        fig.add_trace(
            go.Scatter(x=x, y=window[:, j], name=name, mode="lines+markers"),
            row=1,
            col=1,
        )
    _add_heatmaps(fig, x, list(range(1, trace.units + 1)), states)
    _color_axes(fig, states)
    fig.update_layout(
        title={"text": title},
        height=220 + 170 * len(states),
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 90, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def _labels(
    window: np.ndarray,
    columns: Sequence[str],
    steps: Sequence[Any] | pd.Index | None,
) -> tuple[list[Any], list[str]]:
    """The x labels of the steps and the names of the features, checked."""
    n_steps = len(window)
    x = list(steps) if steps is not None else list(range(1, n_steps + 1))
    if len(x) != n_steps:
        raise ValueError(f"steps must have {n_steps} labels, got {len(x)}")
    names = list(columns) or [f"input {j + 1}" for j in range(window.shape[1])]
    if len(names) != window.shape[1]:
        raise ValueError(f"columns must have {window.shape[1]} names, got {len(names)}")
    return x, names


def _add_heatmaps(
    fig: go.Figure, x: list[Any], units: list[int], states: Mapping[str, np.ndarray]
) -> None:
    """One heat map ``(units, steps)`` per state, from the second panel down."""
    for row, (name, values) in enumerate(states.items(), start=2):
        fig.add_trace(
            go.Heatmap(
                x=x,
                y=units,
                z=np.asarray(values).T,
                name=STATE_LABELS[name],
                coloraxis="coloraxis" if name in GATES else "coloraxis2",
                hovertemplate="step %{x}<br>unit %{y}<br>%{z:.3f}<extra>"
                + STATE_LABELS[name]
                + "</extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="unit", row=row, col=1)


def _color_axes(fig: go.Figure, states: Mapping[str, np.ndarray]) -> None:
    """A 0..1 scale for the gates and a signed one for the states beside them."""
    signed = [np.abs(v).max() for name, v in states.items() if name not in GATES]
    reach = float(max([1.0, *signed]))
    has_gates = any(name in GATES for name in states)
    fig.update_layout(
        coloraxis2={
            "colorscale": "RdBu",
            "reversescale": True,
            "cmin": -reach,
            "cmax": reach,
            "colorbar": {
                "title": {"text": "state"},
                "y": 0.75 if has_gates else 0.4,
                "len": 0.4 if has_gates else 0.8,
            },
        }
    )
    if has_gates:
        fig.update_layout(
            coloraxis={
                "colorscale": "Viridis",
                "cmin": 0.0,
                "cmax": 1.0,
                "colorbar": {"title": {"text": "gate"}, "y": 0.25, "len": 0.4},
            }
        )
