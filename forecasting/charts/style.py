"""The charts' shared look: model colours, line styles, layout and small helpers.

Models keep the same colour in every figure (:data:`MODEL_COLORS`); the real
series is always dark, the training context grey, and the baselines dotted or
dashed. Shapes follow the rest of the package: a series is ``(rows, features)``;
a single feature may also be passed as ``(rows,)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

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

LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 60, "b": 40},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
}
"""Layout every single-panel figure starts from."""


def model_color(name: str) -> str:
    """Return the colour of a model by display name or kind (``"GRU"``, ``"gru"``).

    Unknown names get a stable colour from a small extra palette.
    """
    label = MODEL_LABELS.get(name, name)
    if label in MODEL_COLORS:
        return MODEL_COLORS[label]
    return _EXTRA_COLORS[sum(map(ord, label)) % len(_EXTRA_COLORS)]


def feature_column(values: np.ndarray | Sequence[float], j: int = 0) -> np.ndarray:
    """Return feature ``j`` of a ``(rows,)`` or ``(rows, features)`` array."""
    array = np.asarray(values, dtype=np.float64)
    return array if array.ndim == 1 else array[:, j]


def is_dates(index: Sequence[object] | pd.Index) -> bool:
    """Whether ``index`` holds dates (it then gets a range slider)."""
    return isinstance(index, pd.DatetimeIndex)


def new_figure(title: str, height: int = 420) -> go.Figure:
    """An empty figure with :data:`LAYOUT`, ``title`` and ``height`` pixels."""
    fig = go.Figure()
    fig.update_layout(title={"text": title}, height=height, **LAYOUT)
    return fig
