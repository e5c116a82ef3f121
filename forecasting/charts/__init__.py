"""Plotly figure builders for the dashboard (and anyone else who wants pictures).

Every function takes plain arrays, frames and dicts, and returns a new
``plotly.graph_objects.Figure``: nothing is shown, saved or imported from Streamlit
here, and no TensorFlow is touched. Models keep the same colour in every figure
(:data:`MODEL_COLORS`); the real series is always dark, the training context grey,
and the baselines dotted or dashed (hidden until clicked in the legend).

Shapes follow the rest of the package: a series is ``(rows, features)``; a single
feature may also be passed as ``(rows,)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from forecasting.settings.config import MODEL_LABELS

MODEL_COLORS: dict[str, str] = {
    "LSTM": "#1f77b4",
    "GRU": "#d62728",
    "SimpleRNN": "#2ca02c",
}
"""Colour of each model, keyed by display name (see ``MODEL_LABELS``)."""

REAL_COLOR = "#222222"
TRAIN_COLOR = "#4c78a8"
TEST_COLOR = "#f58518"
CONTEXT_COLOR = "rgba(120, 120, 120, 0.55)"
UNUSED_COLOR = "rgba(170, 170, 170, 0.6)"
BASELINE_STYLES: tuple[tuple[str, str], ...] = (
    ("#7f7f7f", "dot"),
    ("#8c564b", "dashdot"),
    ("#bcbd22", "dash"),
)
"""Colour and dash of the first, second, ... baseline in a figure."""
_EXTRA_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")

_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 60, "b": 40},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
}


def model_color(name: str) -> str:
    """Return the colour of a model by display name or kind (``"GRU"``, ``"gru"``).

    Unknown names get a stable colour from a small extra palette.
    """
    label = MODEL_LABELS.get(name, name)
    if label in MODEL_COLORS:
        return MODEL_COLORS[label]
    return _EXTRA_COLORS[sum(map(ord, label)) % len(_EXTRA_COLORS)]


def _column(values: np.ndarray | Sequence[float], j: int = 0) -> np.ndarray:
    """Return feature ``j`` of a ``(rows,)`` or ``(rows, features)`` array."""
    array = np.asarray(values, dtype=np.float64)
    return array if array.ndim == 1 else array[:, j]


def _is_dates(index: Sequence[object] | pd.Index) -> bool:
    return isinstance(index, pd.DatetimeIndex)


def _base(title: str, height: int = 420) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title={"text": title}, height=height, **_LAYOUT)
    return fig


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
    if _is_dates(index):
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
    fig = _base(title, height=380)
    dashes = ("solid", "dot", "dash", "dashdot", "longdash")
    for n, column in enumerate(columns):
        values = frame[column].to_numpy(dtype=np.float64)
        dash = dashes[n % len(dashes)]
        if train_index is None or test_index is None:
            fig.add_trace(
                go.Scatter(
                    x=frame.index,
                    y=values,
                    name=str(column),
                    mode="lines",
                    line={"color": TRAIN_COLOR, "dash": dash, "width": 1.5},
                )
            )
            continue
        in_train = frame.index.isin(train_index)
        in_test = frame.index.isin(test_index)
        periods = (
            ("train", in_train, TRAIN_COLOR),
            ("test", in_test, TEST_COLOR),
            ("not used", ~(in_train | in_test), UNUSED_COLOR),
        )
        for period, mask, color in periods:
            if not mask.any():
                continue
            fig.add_trace(
                go.Scatter(
                    x=frame.index,
                    y=np.where(mask, values, np.nan),
                    name=f"{column} · {period}",
                    legendgroup=period,
                    mode="lines",
                    connectgaps=False,
                    line={"color": color, "dash": dash, "width": 1.5},
                )
            )
    if train_index is not None and len(train_index) and _is_dates(frame.index):
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
    fig.update_layout(hovermode="x unified")
    if _is_dates(frame.index):
        fig.update_xaxes(rangeslider_visible=True)
    return fig


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
    fig = _base(title, height=460)
    if context_index is not None and context is not None and len(context_index):
        fig.add_trace(
            go.Scatter(
                x=context_index,
                y=_column(context, feature),
                name="Training (last rows)",
                mode="lines",
                line={"color": CONTEXT_COLOR, "width": 1.5},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=test_index,
            y=_column(actual, feature),
            name="Real",
            mode="lines",
            line={"color": REAL_COLOR, "width": 2.5},
        )
    )
    for name, values in predictions.items():
        fig.add_trace(
            go.Scatter(
                x=test_index,
                y=_column(values, feature),
                name=name,
                mode="lines",
                line={"color": model_color(name), "width": 1.8},
            )
        )
    for n, (name, values) in enumerate((baselines or {}).items()):
        color, dash = BASELINE_STYLES[n % len(BASELINE_STYLES)]
        fig.add_trace(
            go.Scatter(
                x=test_index,
                y=_column(values, feature),
                name=name,
                mode="lines",
                visible="legendonly",
                line={"color": color, "width": 1.5, "dash": dash},
            )
        )
    fig.update_layout(hovermode="x unified", yaxis_title=y_title)
    if _is_dates(test_index):
        fig.update_xaxes(rangeslider_visible=True, rangeslider_thickness=0.08)
    return fig


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
    values = _column(actual, feature)
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
    real = _column(actual, feature)
    for row, name in enumerate(predictions, start=1):
        fig.add_trace(
            go.Scatter(
                x=test_index,
                y=_column(predictions[name], feature) - real,
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
        **{k: v for k, v in _LAYOUT.items() if k != "legend"},
    )
    return fig


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
    fig = _base(title, height=380)
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
    fig = _base(title, height=_trajectory_height(paths))
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
    fig = make_subplots(
        rows=len(columns),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=[str(c) for c in columns],
    )
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
        **_LAYOUT,
    )
    return fig


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
        series.append((test_index, _column(values, j), f"{name} one-step", line))
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
    fig = _base(title, height=320)
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
