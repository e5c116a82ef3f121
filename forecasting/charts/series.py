"""Figures of one series over time: the data, the forecasts, the residuals.

Every function takes plain arrays, frames and dicts, and returns a new
``plotly.graph_objects.Figure``. The real series is dark, the training context
grey, and the baselines dotted or dashed (hidden until clicked in the legend).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from forecasting.charts.style import (
    BASELINE_STYLES,
    CONTEXT_COLOR,
    LAYOUT,
    REAL_COLOR,
    TEST_COLOR,
    TRAIN_COLOR,
    UNUSED_COLOR,
    feature_column,
    is_dates,
    model_color,
    new_figure,
)


def continue_index(index: pd.Index, steps: int) -> pd.Index:
    """Positions for ``steps`` values that start where ``index`` starts.

    The first ``len(index)`` positions are ``index`` itself; more steps continue
    with its median spacing (dates, or row numbers), so a free-run forecast longer
    than the test period can still be drawn.

    Args:
        index: The test rows' positions (at least one).
        steps: How many positions are needed.

    Returns:
        An index of exactly ``steps`` positions.
    """
    if steps <= len(index):
        return index[:steps]
    extra = steps - len(index)
    if is_dates(index):
        step = pd.Series(index).diff().median() if len(index) > 1 else None
        step = step if step is not None and not pd.isna(step) else pd.Timedelta("1D")
        more = pd.DatetimeIndex([index[-1] + step * (i + 1) for i in range(extra)])
        return index.append(more)
    numbers = np.asarray(index, dtype=np.float64)
    step = float(np.median(np.diff(numbers))) if len(numbers) > 1 else 1.0
    more = numbers[-1] + step * np.arange(1, extra + 1)
    values = np.concatenate([numbers, more])
    if np.all(np.mod(values, 1) == 0):
        return pd.Index(values.astype(np.int64))
    return pd.Index(values)


def series_figure(
    frame: pd.DataFrame,
    columns: Sequence[str],
    train_index: pd.Index | None = None,
    test_index: pd.Index | None = None,
    title: str = "",
) -> go.Figure:
    """The whole series, with the training and test periods coloured.

    Each column gets up to three traces over the full index (values outside the
    period are gaps): ``"<col> · train"``, ``"<col> · test"`` and
    ``"<col> · not used"``. Without a split, one trace ``"<col>"`` per column.

    Args:
        frame: The data, rows in time order.
        columns: Columns to draw.
        train_index: Index labels of the training rows, if a split is known.
        test_index: Index labels of the test rows.
        title: Figure title.

    Returns:
        The figure (a range slider is added for dates).
    """
    fig = new_figure(title, height=380)
    dashes = ("solid", "dot", "dash", "dashdot", "longdash")
    for n, name in enumerate(columns):
        values = frame[name].to_numpy(dtype=np.float64)
        dash = dashes[n % len(dashes)]
        if train_index is None or test_index is None:
            fig.add_trace(
                go.Scatter(
                    x=frame.index,
                    y=values,
                    name=str(name),
                    mode="lines",
                    line={"color": TRAIN_COLOR, "dash": dash, "width": 1.5},
                )
            )
            continue
        periods = _periods(frame.index, train_index, test_index)
        _add_periods(fig, frame.index, values, f"{name}", dash, periods)
    if train_index is not None and len(train_index) and is_dates(frame.index):
        _shade_periods(fig, train_index, test_index)
    fig.update_layout(hovermode="x unified")
    if is_dates(frame.index):
        fig.update_xaxes(rangeslider_visible=True)
    return fig


def _periods(
    index: pd.Index, train_index: pd.Index, test_index: pd.Index
) -> tuple[tuple[str, np.ndarray, str], ...]:
    """``(period, mask over index, colour)`` of the train, test and unused rows."""
    in_train = index.isin(train_index)
    in_test = index.isin(test_index)
    return (
        ("train", in_train, TRAIN_COLOR),
        ("test", in_test, TEST_COLOR),
        ("not used", ~(in_train | in_test), UNUSED_COLOR),
    )


def _add_periods(
    fig: go.Figure,
    index: pd.Index,
    values: np.ndarray,
    name: str,
    dash: str,
    periods: Sequence[tuple[str, np.ndarray, str]],
) -> None:
    """Add one trace ``"<name> · <period>"`` per period that has rows."""
    for period, mask, color in periods:
        if not mask.any():
            continue
        fig.add_trace(
            go.Scatter(
                x=index,
                y=np.where(mask, values, np.nan),
                name=f"{name} · {period}",
                legendgroup=period,
                mode="lines",
                connectgaps=False,
                line={"color": color, "dash": dash, "width": 1.5},
            )
        )


def _shade_periods(
    fig: go.Figure, train_index: pd.Index, test_index: pd.Index | None
) -> None:
    """Shade the training and the test period behind the lines, labelled."""
    for label, index, color in (
        ("train", train_index, TRAIN_COLOR),
        ("test", test_index, TEST_COLOR),
    ):
        if index is None or not len(index):
            continue
        fig.add_vrect(
            x0=index[0],
            x1=index[-1],
            fillcolor=color,
            opacity=0.08,
            line_width=0,
            annotation_text=label,
            annotation_position="top left",
        )


def forecast_figure(
    test_index: pd.Index,
    actual: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    baselines: Mapping[str, np.ndarray] | None = None,
    context_index: pd.Index | None = None,
    context: np.ndarray | None = None,
    feature: int = 0,
    title: str = "",
    y_title: str = "",
) -> go.Figure:
    """Real test values with every model's one-step predictions overlaid.

    Trace order: ``"Training (last rows)"`` (faded, if given), ``"Real"``, one trace
    per model (named by its key), then one dotted or dashed trace per baseline,
    hidden until clicked in the legend.

    Args:
        test_index: Dates (or row numbers) of the test rows.
        actual: Real test values ``(n_test,)`` or ``(n_test, features)``.
        predictions: Display name -> predictions, same shape as ``actual``.
        baselines: Display name -> naive predictions, same shape.
        context_index: Positions of the training rows shown for context.
        context: Those training rows' values.
        feature: Which feature column to draw.
        title: Figure title.
        y_title: Y-axis title (e.g. the column name).

    Returns:
        The figure, with ``hovermode="x unified"`` and, for dates, a range slider.
    """
    fig = new_figure(title, height=460)
    if context_index is not None and context is not None and len(context_index):
        line = {"color": CONTEXT_COLOR, "width": 1.5}
        name = "Training (last rows)"
        _add_line(fig, context_index, feature_column(context, feature), name, line)
    line = {"color": REAL_COLOR, "width": 2.5}
    _add_line(fig, test_index, feature_column(actual, feature), "Real", line)
    for name, values in predictions.items():
        line = {"color": model_color(name), "width": 1.8}
        _add_line(fig, test_index, feature_column(values, feature), name, line)
    for n, (name, values) in enumerate((baselines or {}).items()):
        color, dash = BASELINE_STYLES[n % len(BASELINE_STYLES)]
        line = {"color": color, "width": 1.5, "dash": dash}
        y = feature_column(values, feature)
        _add_line(fig, test_index, y, name, line, visible="legendonly")
    fig.update_layout(hovermode="x unified", yaxis_title=y_title)
    if is_dates(test_index):
        fig.update_xaxes(rangeslider_visible=True, rangeslider_thickness=0.08)
    return fig


def _add_line(
    fig: go.Figure, x: pd.Index, y: np.ndarray, name: str, line: dict, **extra: object
) -> None:
    """Add one line trace; ``extra`` goes to the trace (e.g. ``visible``)."""
    fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line=line, **extra))


SHIFTED_NAME = "Real, shifted one step"
"""Name of the trace :func:`add_shifted_real` adds."""


def add_shifted_real(
    fig: go.Figure,
    test_index: pd.Index,
    actual: np.ndarray,
    previous: float | None = None,
    feature: int = 0,
    row: int | None = None,
    showlegend: bool = True,
) -> go.Figure:
    """Overlay the real series shifted one step later: what repeating it would give.

    At test row ``t`` the trace shows the real value of row ``t - 1`` (the first
    row shows ``previous``, the last training value, or nothing). That is exactly
    the persistence forecast, so a model whose line lies on this one is copying
    the last value.

    Args:
        fig: A figure from :func:`forecast_figure` or :func:`coordinates_figure`.
        test_index: Dates (or row numbers) of the test rows.
        actual: Real test values ``(n_test,)`` or ``(n_test, features)``.
        previous: The real value of ``feature`` just before the test period.
        feature: Which feature column to shift.
        row: The panel of a figure with subplots (``None`` for a single panel).
        showlegend: Whether the trace appears in the legend (one panel of several).

    Returns:
        The same figure, with one more trace named :data:`SHIFTED_NAME`
        (dashed, grouped in the legend with the same trace of other panels).
    """
    values = feature_column(actual, feature)
    first = np.nan if previous is None else float(previous)
    shifted = np.concatenate([[first], values[:-1]])
    fig.add_trace(
        go.Scatter(
            x=test_index,
            y=shifted,
            name=SHIFTED_NAME,
            legendgroup=SHIFTED_NAME,
            showlegend=showlegend,
            mode="lines",
            line={"color": "#9c27b0", "width": 1.5, "dash": "dash"},
        ),
        row=row,
        col=None if row is None else 1,
    )
    return fig


def residuals_figure(
    test_index: pd.Index,
    actual: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    feature: int = 0,
    title: str = "Residuals (prediction − real)",
    y_title: str = "",
) -> go.Figure:
    """One panel per model with its residuals (prediction minus real) over time.

    Args:
        test_index: Dates (or row numbers) of the test rows.
        actual: Real test values ``(n_test,)`` or ``(n_test, features)``.
        predictions: Display name -> predictions, same shape as ``actual``.
        feature: Which feature column to draw.
        title: Figure title.
        y_title: Unit of the residuals, shown on every panel's y axis.

    Returns:
        A figure with ``len(predictions)`` rows sharing the x axis; each row has one
        trace named after its model and a zero line.
    """
    names = list(predictions) or ["(no model)"]
    fig = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=names,
    )
    real = feature_column(actual, feature)
    for row, name in enumerate(predictions, start=1):
        fig.add_trace(
            go.Scatter(
                x=test_index,
                y=feature_column(predictions[name], feature) - real,
                name=name,
                mode="lines",
                line={"color": model_color(name), "width": 1.2},
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        fig.add_hline(y=0, line={"color": REAL_COLOR, "width": 1}, row=row, col=1)
        fig.update_yaxes(title_text=y_title, row=row, col=1)
    fig.update_layout(
        title={"text": title},
        height=150 + 170 * len(names),
        hovermode="x unified",
        **{k: v for k, v in LAYOUT.items() if k != "legend"},
    )
    return fig
