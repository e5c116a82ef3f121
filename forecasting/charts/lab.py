"""Plotly figures of the lab views: folds, horizons, bands.

Like :mod:`forecasting.charts` (whose colours they share), every function returns
a new figure and shows nothing. Results come in keyed by kind id (``"gru"``,
``"persistence"``); display names are looked up here. Models are solid lines in
their own colour, baselines dotted or dashed in grey tones, all visible: these
figures exist to put the two side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from forecasting.charts.style import (
    BASELINE_STYLES,
    REAL_COLOR,
    feature_column,
    model_color,
    new_figure,
)
from forecasting.forecasters import display_name
from forecasting.metrics import METRIC_NAMES
from forecasting.settings.config import MODEL_LABELS


def _rgba(color: str, alpha: float) -> str:
    """``"#1f77b4"`` -> ``"rgba(31, 119, 180, 0.2)"``."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _styles(kinds: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Line style per kind: models in their colour, baselines dotted/dashed."""
    styles = {}
    n_baseline = 0
    for kind in kinds:
        if kind in MODEL_LABELS:
            styles[kind] = {"color": model_color(kind), "width": 2}
        else:
            color, dash = BASELINE_STYLES[n_baseline % len(BASELINE_STYLES)]
            styles[kind] = {"color": color, "width": 1.6, "dash": dash}
            n_baseline += 1
    return styles


def _ordered(kinds: Sequence[str]) -> list[str]:
    """Models first, then baselines, each in the given order."""
    return [k for k in kinds if k in MODEL_LABELS] + [
        k for k in kinds if k not in MODEL_LABELS
    ]


def fold_error_figure(
    backtest: Mapping[str, Any],
    metric: str = "rmse",
    title: str = "Error per test fold (walk-forward)",
) -> go.Figure:
    """One line with markers per model and baseline across the backtest folds.

    Args:
        backtest: From :func:`forecasting.analysis.backtest.assemble_backtest`.
        metric: A key of :data:`forecasting.metrics.METRIC_NAMES`.
        title: Figure title.

    Returns:
        The figure: x is the fold (``"Fold 1"``, ... with its test dates in the
        hover), one trace per kind named by its display name, models first.
    """
    folds = backtest["folds"]
    labels = [f"Fold {n}" for n in range(1, len(folds) + 1)]
    periods = [f"{f['test_start']} .. {f['test_end']}" for f in folds]
    kinds = _ordered(list(folds[0]["models"]) if folds else [])
    styles = _styles(kinds)
    fig = new_figure(title)
    for kind in kinds:
        values = [fold["models"].get(kind, {}).get(metric) for fold in folds]
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=[np.nan if v is None else v for v in values],
                name=display_name(kind),
                mode="lines+markers",
                line=styles[kind],
                customdata=periods,
                hovertemplate="%{customdata}: %{y:.4f}",
            )
        )
    fig.update_layout(
        xaxis_title="Test fold (each trained on everything before it)",
        yaxis_title=METRIC_NAMES.get(metric, metric),
        hovermode="x unified",
    )
    return fig


def horizon_error_figure(
    errors: Mapping[str, Sequence[float] | np.ndarray],
    title: str = "Free-run error by steps ahead",
    y_title: str = "Error (distance to the real value)",
) -> go.Figure:
    """Error against steps ahead, models and baselines on the same axes.

    Args:
        errors: Kind -> per-step errors ``(steps,)`` (see
            :func:`forecasting.analysis.horizon.comparison_horizon_errors`).
        title: Figure title.
        y_title: Y-axis title.

    Returns:
        The figure: x is steps ahead from 1, one trace per kind named by its
        display name, models first.
    """
    kinds = _ordered(list(errors))
    styles = _styles(kinds)
    fig = new_figure(title)
    for kind in kinds:
        values = np.asarray(errors[kind], dtype=np.float64)
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(values) + 1),
                y=values,
                name=display_name(kind),
                mode="lines",
                line=styles[kind],
            )
        )
    fig.update_layout(
        xaxis_title="Steps ahead", yaxis_title=y_title, hovermode="x unified"
    )
    return fig


def band_figure(
    test_index: pd.Index,
    actual: np.ndarray,
    forecast: np.ndarray,
    kind: str,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    seed_low: np.ndarray | None = None,
    seed_high: np.ndarray | None = None,
    nominal: float | None = None,
    feature: int = 0,
    title: str = "",
    y_title: str = "",
) -> go.Figure:
    """A model's forecast with its prediction interval and seed spread as bands.

    Trace order: the seed band (``"<Model> seeds (min-max)"``, if given, filled
    down to its lower edge, a trace ``"... (low)"`` kept out of the legend), the
    interval band (``"<Model> 80% interval"``, likewise), ``"Real"``, then the
    forecast (``"<Model>"``).

    Args:
        test_index: Dates (or row numbers) of the test rows.
        actual: Real test values ``(n_test,)`` or ``(n_test, features)``.
        forecast: The model's forecast, same shape.
        kind: Model kind (for the name and colour).
        lower: Interval lower bounds, same shape (see
            :class:`forecasting.analysis.intervals.Interval`).
        upper: Interval upper bounds.
        seed_low: Lowest seed forecast per row (see
            :func:`forecasting.analysis.intervals.seed_band`).
        seed_high: Highest seed forecast per row.
        nominal: The interval's coverage, for its legend name.
        feature: Which feature column to draw.
        title: Figure title.
        y_title: Y-axis title.

    Returns:
        The figure.
    """
    label = display_name(kind)
    color = model_color(kind)
    fig = new_figure(title, height=460)
    bands = _bands(label, (lower, upper), (seed_low, seed_high), nominal)
    for name, low, high, alpha in bands:
        edges = (feature_column(low, feature), feature_column(high, feature))
        _add_band(fig, test_index, name, edges, (color, _rgba(color, alpha)))
    for values, name, line in (
        (actual, "Real", {"color": REAL_COLOR, "width": 2.2}),
        (forecast, label, {"color": color, "width": 1.8}),
    ):
        y = feature_column(values, feature)
        fig.add_trace(go.Scatter(x=test_index, y=y, name=name, mode="lines", line=line))
    fig.update_layout(hovermode="x unified", yaxis_title=y_title)
    return fig


def _bands(
    label: str,
    interval: tuple[np.ndarray | None, np.ndarray | None],
    seeds: tuple[np.ndarray | None, np.ndarray | None],
    nominal: float | None,
) -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    """``(name, low, high, fill alpha)`` of the seed band, then the interval band.

    A band is left out when either of its edges is ``None``.
    """
    bands = []
    if seeds[0] is not None and seeds[1] is not None:
        bands.append((f"{label} seeds (min-max)", seeds[0], seeds[1], 0.35))
    if interval[0] is not None and interval[1] is not None:
        share = f" {nominal:.0%}" if nominal is not None else ""
        bands.append((f"{label}{share} interval", interval[0], interval[1], 0.15))
    return bands


def _add_band(
    fig: go.Figure, x: pd.Index, name: str, edges: tuple, colors: tuple
) -> None:
    """Add a band: its lower edge (out of the legend), then its filled upper edge.

    Args:
        fig: The figure to add to.
        x: The band's x values.
        name: The band's legend name.
        edges: ``(low, high)`` y values.
        colors: ``(line, fill)`` colours.
    """
    line = {"width": 0, "color": colors[0]}
    fig.add_trace(
        go.Scatter(
            x=x,
            y=edges[0],
            mode="lines",
            line=line,
            showlegend=False,
            hoverinfo="skip",
            name=f"{name} (low)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=edges[1],
            mode="lines",
            line=line,
            fill="tonexty",
            fillcolor=colors[1],
            name=name,
        )
    )
