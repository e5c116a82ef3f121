"""The metrics table as shown: display names, units and the best value marked.

No Streamlit here: :mod:`ui.views.compare` and :mod:`ui.views.history` both show it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from forecasting import metrics

COLUMN_NAMES = {
    **metrics.METRIC_NAMES,
    "rollout": "Free-run distance",
    "rmse_std": "RMSE sd",
    "mae_std": "MAE sd",
    "mape_std": "MAPE sd",
    "euclidean_std": f"{metrics.METRIC_NAMES['euclidean']} sd",
    "skill": "Skill",
    "best_lag": "Best lag",
    "fit_seconds": "Fit time (s)",
    "params": "Parameters",
    "epochs": "Epochs",
    "seeds": "Seeds",
}
"""Display names of the metrics table's columns."""

LOWER_IS_BETTER = ("RMSE", "MAE", "MAPE %", "Mean distance", "Free-run distance")
"""Columns whose lowest value is highlighted as the best."""

BEST_STYLE = "background-color: #c8e6c9; font-weight: bold"


def metrics_display(
    table: pd.DataFrame, rollout: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """The comparison's metrics with display names, one row per model/baseline.

    Args:
        table: :attr:`Comparison.metrics` (or a transfer's).
        rollout: Model kind -> mean distance of its free-run forecast.

    Returns:
        A frame with the columns of :data:`COLUMN_NAMES` that apply (``kind``
        dropped; ``Seeds`` only when a model was trained with several seeds).
    """
    shown = table.copy()
    if rollout:
        where = (
            shown.columns.get_loc("fit_seconds")
            if "fit_seconds" in shown
            else len(shown.columns)
        )
        shown.insert(
            where, "rollout", [rollout.get(kind, np.nan) for kind in shown["kind"]]
        )
    if "seeds" in shown and not (shown["seeds"].fillna(1) > 1).any():
        shown = shown.drop(columns="seeds")
    shown = shown.drop(columns="kind", errors="ignore")
    return shown.rename(columns=COLUMN_NAMES)


TEXT_FORMATS = {
    "Best lag": "{:+.0f}",
    "Free-run distance": "{:,.3f}",
    "Fit time (s)": "{:.1f}",
    "Parameters": "{:,.0f}",
    "Epochs": "{:.0f}",
    "Seeds": "{:.0f}",
    **{COLUMN_NAMES[f"{k}_std"]: "{:,.3f}" for k in ("rmse", "mae", "euclidean")},
    "MAPE sd": "{:.2f}",
}
"""Columns that are empty for the baselines: shown as text, so that those cells
read "—" (``st.dataframe`` draws missing numbers as "None")."""


def style_metrics(frame: pd.DataFrame) -> Styler:
    """Format the metrics and highlight the best (lowest) value of each error.

    Columns that every row has stay numbers (sortable); the others become text
    with "—" where a row has no value. The highlight is computed on the numbers.
    """
    shown = frame.copy()
    for column, pattern in TEXT_FORMATS.items():
        if column in shown:
            shown[column] = [
                "—" if pd.isna(v) else pattern.format(v) for v in frame[column]
            ]
    formats = {
        column: "{:.2f}" if column.startswith("MAPE") else "{:,.3f}"
        for column in shown
        if column not in TEXT_FORMATS
    }
    best = pd.DataFrame("", index=frame.index, columns=shown.columns)
    for column in LOWER_IS_BETTER:
        if column in frame and frame[column].notna().sum() >= 2:
            best.loc[(frame[column] == frame[column].min()).to_numpy(), column] = (
                BEST_STYLE
            )
    return shown.style.format(formats, na_rep="—").apply(lambda _: best, axis=None)
