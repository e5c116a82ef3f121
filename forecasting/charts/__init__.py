"""Plotly figure builders for the dashboard (and anyone else who wants pictures).

Every function takes plain arrays, frames and dicts, and returns a new
``plotly.graph_objects.Figure``: nothing is shown, saved or imported from Streamlit
here, and no TensorFlow is touched. Models keep the same colour in every figure
(:data:`MODEL_COLORS`); the real series is always dark, the training context grey,
and the baselines dotted or dashed (hidden until clicked in the legend).

The figures live in modules by subject: :mod:`~forecasting.charts.series` (one
series over time), :mod:`~forecasting.charts.tracks` (a path in two
coordinates), :mod:`~forecasting.charts.training` (loss and weights),
:mod:`~forecasting.charts.lab` (folds, horizons, bands) and
:mod:`~forecasting.charts.cell` (inside a recurrent cell). This package re-exports
the first three, so ``charts.series_figure(...)`` works.

Shapes follow the rest of the package: a series is ``(rows, features)``; a single
feature may also be passed as ``(rows,)``.
"""

from forecasting.charts.series import (
    SHIFTED_NAME,
    add_shifted_real,
    continue_index,
    forecast_figure,
    residuals_figure,
    series_figure,
)
from forecasting.charts.style import (
    BASELINE_STYLES,
    CONTEXT_COLOR,
    MODEL_COLORS,
    REAL_COLOR,
    TEST_COLOR,
    TRAIN_COLOR,
    UNUSED_COLOR,
    model_color,
)
from forecasting.charts.tracks import coordinates_figure, trajectory_figure
from forecasting.charts.training import loss_figure, parameters_figure

__all__ = [
    "BASELINE_STYLES",
    "CONTEXT_COLOR",
    "MODEL_COLORS",
    "REAL_COLOR",
    "SHIFTED_NAME",
    "TEST_COLOR",
    "TRAIN_COLOR",
    "UNUSED_COLOR",
    "add_shifted_real",
    "continue_index",
    "coordinates_figure",
    "forecast_figure",
    "loss_figure",
    "model_color",
    "parameters_figure",
    "residuals_figure",
    "series_figure",
    "trajectory_figure",
]
