"""Figures of the training: loss per epoch and the weights each model learns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from forecasting.charts.style import model_color, new_figure


def loss_figure(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    title: str = "Training loss (MSE on scaled data)",
) -> go.Figure:
    """Loss per epoch of every model: solid training loss, dashed validation loss.

    Args:
        histories: Display name -> ``{"loss": [...], "val_loss": [...]}`` (the
            ``val_loss`` key only with early stopping).
        title: Figure title.

    Returns:
        The figure, epochs from 1 on x and a log-scaled loss on y. Traces are named
        ``"<model> loss"`` and ``"<model> val loss"``.
    """
    fig = new_figure(title, height=380)
    for name, history in histories.items():
        for key, dash, suffix in (
            ("loss", "solid", "loss"),
            ("val_loss", "dash", "val loss"),
        ):
            values = list(history.get(key, []))
            if not values:
                continue
            fig.add_trace(
                go.Scatter(
                    x=np.arange(1, len(values) + 1),
                    y=values,
                    name=f"{name} {suffix}",
                    mode="lines+markers" if len(values) < 30 else "lines",
                    line={"color": model_color(name), "dash": dash},
                )
            )
    fig.update_layout(hovermode="x unified")
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    fig.update_yaxes(title_text="loss", type="log")
    return fig


def parameters_figure(
    counts: Mapping[str, int], title: str = "Weights to learn"
) -> go.Figure:
    """A bar per model with its number of weights (parameters).

    Args:
        counts: Display name -> parameter count.
        title: Figure title.

    Returns:
        The figure, one bar trace with one bar per model, labelled with the count.
    """
    fig = new_figure(title, height=320)
    names = list(counts)
    fig.add_trace(
        go.Bar(
            x=names,
            y=[counts[n] for n in names],
            text=[f"{counts[n]:,}" for n in names],
            textposition="auto",
            marker_color=[model_color(n) for n in names],
            name="parameters",
        )
    )
    fig.update_layout(showlegend=False)
    fig.update_yaxes(title_text="parameters")
    return fig
