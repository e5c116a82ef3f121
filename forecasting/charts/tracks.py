"""Figures of a path in two coordinates: seen from above, and each one over time.

The tracking lessons draw a ball or a person moving on a plane: the training
path, the real test path, every model's one-step predictions and its free run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from forecasting.charts.series import continue_index
from forecasting.charts.style import (
    CONTEXT_COLOR,
    LAYOUT,
    REAL_COLOR,
    TEST_COLOR,
    feature_column,
    model_color,
    new_figure,
)


def trajectory_figure(
    train: np.ndarray,
    test: np.ndarray,
    predictions: Mapping[str, np.ndarray] | None = None,
    rollouts: Mapping[str, np.ndarray] | None = None,
    columns: Sequence[str] = ("X", "Y"),
    title: str = "",
) -> go.Figure:
    """A 2-D path seen from above, with equal scales on both axes.

    Trace order: ``"Train"``, ``"Test (real)"``, a ``"Start of test"`` marker, then
    ``"<model> one-step"`` per prediction and ``"<model> free run"`` per rollout.

    Args:
        train: Training positions ``(n_train, 2)``.
        test: Real test positions ``(n_test, 2)``.
        predictions: Display name -> one-step predictions ``(n_test, 2)``.
        rollouts: Display name -> free-run forecast ``(steps, 2)``.
        columns: Names of the two coordinates (axis titles).
        title: Figure title.

    Returns:
        The figure; ``yaxis.scaleanchor == "x"`` with ``scaleratio == 1`` so a
        circle looks like a circle. Its height follows the path's aspect ratio
        (320 to 700 pixels), so a long narrow chamber is not drawn in a tall box.
    """
    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    paths = [train, test, *map(np.asarray, (predictions or {}).values())]
    paths += list(map(np.asarray, (rollouts or {}).values()))
    fig = new_figure(title, height=_trajectory_height(paths))
    _add_real_paths(fig, train, test)
    _add_model_paths(fig, predictions, rollouts)
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text=str(columns[0]))
    fig.update_yaxes(title_text=str(columns[1]), scaleanchor="x", scaleratio=1)
    return fig


def _add_real_paths(fig: go.Figure, train: np.ndarray, test: np.ndarray) -> None:
    """Add ``"Train"``, ``"Test (real)"`` and the ``"Start of test"`` marker."""
    fig.add_trace(
        go.Scatter(
            x=train[:, 0],
            y=train[:, 1],
            name="Train",
            mode="lines",
            line={"color": CONTEXT_COLOR, "width": 1},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=test[:, 0],
            y=test[:, 1],
            name="Test (real)",
            mode="lines",
            line={"color": REAL_COLOR, "width": 2},
        )
    )
    if len(test):
        fig.add_trace(
            go.Scatter(
                x=[test[0, 0]],
                y=[test[0, 1]],
                name="Start of test",
                mode="markers",
                marker={"color": TEST_COLOR, "size": 11, "symbol": "circle-open"},
            )
        )


def _add_model_paths(
    fig: go.Figure,
    predictions: Mapping[str, np.ndarray] | None,
    rollouts: Mapping[str, np.ndarray] | None,
) -> None:
    """Add ``"<model> one-step"`` per prediction, then ``"<model> free run"``."""
    for name, values in (predictions or {}).items():
        path = np.asarray(values, dtype=np.float64)
        fig.add_trace(
            go.Scatter(
                x=path[:, 0],
                y=path[:, 1],
                name=f"{name} one-step",
                mode="lines",
                opacity=0.75,
                line={"color": model_color(name), "width": 1.1},
            )
        )
    for name, values in (rollouts or {}).items():
        path = np.asarray(values, dtype=np.float64)
        fig.add_trace(
            go.Scatter(
                x=path[:, 0],
                y=path[:, 1],
                name=f"{name} free run",
                mode="lines",
                line={"color": model_color(name), "width": 2.5, "dash": "dash"},
            )
        )


def _trajectory_height(paths: Sequence[np.ndarray], width: float = 950) -> int:
    """Figure height that fits the paths' extent at equal scales in ``width``."""
    points = np.concatenate([p[:, :2] for p in paths if len(p)]) if paths else None
    if points is None or not len(points) or not np.isfinite(points).all():
        return 520
    span_x, span_y = np.ptp(points[:, 0]), np.ptp(points[:, 1])
    if span_x <= 0:
        return 700
    return int(np.clip(140 + width * span_y / span_x, 320, 700))


def coordinates_figure(
    train_index: pd.Index,
    train: np.ndarray,
    test_index: pd.Index,
    test: np.ndarray,
    predictions: Mapping[str, np.ndarray] | None = None,
    rollouts: Mapping[str, np.ndarray] | None = None,
    columns: Sequence[str] = ("X", "Y"),
    context_rows: int | None = 300,
    title: str = "Coordinates over time",
    x_title: str = "row",
) -> go.Figure:
    """Each coordinate over time in its own panel: train, test, predictions, free run.

    Every panel holds, in order, ``"Train"`` (the last ``context_rows`` training
    rows), ``"Test (real)"``, ``"<model> one-step"`` per prediction and
    ``"<model> free run"`` per rollout. Only the first panel's traces appear in the
    legend; the others are grouped with them, so one click toggles a series in
    every panel.

    Args:
        train_index: Positions of the training rows.
        train: Training values ``(n_train, features)``.
        test_index: Positions of the test rows.
        test: Real test values ``(n_test, features)``.
        predictions: Display name -> one-step predictions ``(n_test, features)``.
        rollouts: Display name -> free-run forecast ``(steps, features)``; drawn
            from the first test position on, continuing past the test period if
            longer.
        columns: Feature names, one panel each.
        context_rows: Training rows to show (``None`` for all).
        title: Figure title.
        x_title: Title of the shared x axis.

    Returns:
        The figure with one row per column.
    """
    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if context_rows is not None:
        train_index, train = train_index[-context_rows:], train[-context_rows:]
    fig = _panels(columns)
    for j, column in enumerate(columns):
        series = _coordinate_series(
            j, train_index, train, test_index, test, predictions, rollouts
        )
        _add_panel(fig, j + 1, series, legend=j == 0)
        fig.update_yaxes(title_text=str(column), row=j + 1, col=1)
    fig.update_xaxes(title_text=x_title, row=len(columns), col=1)
    fig.update_layout(
        title={"text": title},
        height=160 + 220 * len(columns),
        hovermode="x unified",
        **LAYOUT,
    )
    return fig


def _panels(columns: Sequence[str]) -> go.Figure:
    """One panel per column, stacked, sharing the x axis, titled by the column."""
    return make_subplots(
        rows=len(columns),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=[str(c) for c in columns],
    )


def _coordinate_series(
    j: int,
    train_index: pd.Index,
    train: np.ndarray,
    test_index: pd.Index,
    test: np.ndarray,
    predictions: Mapping[str, np.ndarray] | None,
    rollouts: Mapping[str, np.ndarray] | None,
) -> list[tuple[object, np.ndarray, str, dict]]:
    """``(x, y, name, line)`` of every trace in coordinate ``j``'s panel, in order."""
    series: list[tuple[object, np.ndarray, str, dict]] = [
        (train_index, train[:, j], "Train", {"color": CONTEXT_COLOR, "width": 1}),
        (test_index, test[:, j], "Test (real)", {"color": REAL_COLOR, "width": 2}),
    ]
    for name, values in (predictions or {}).items():
        line = {"color": model_color(name), "width": 1.3}
        series.append((test_index, feature_column(values, j), f"{name} one-step", line))
    for name, values in (rollouts or {}).items():
        path = np.asarray(values, dtype=np.float64)
        line = {"color": model_color(name), "width": 2.5, "dash": "dash"}
        x = continue_index(test_index, len(path))
        series.append((x, path[:, j], f"{name} free run", line))
    return series


def _add_panel(
    fig: go.Figure,
    row: int,
    series: Sequence[tuple[object, np.ndarray, str, dict]],
    legend: bool,
) -> None:
    """Add one line per ``(x, y, name, line)`` to panel ``row``, grouped by name."""
    for x, y, name, line in series:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name=name,
                legendgroup=name,
                showlegend=legend,
                mode="lines",
                line=line,
            ),
            row=row,
            col=1,
        )
