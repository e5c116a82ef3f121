"""Error by horizon: how fast a free run drifts away from the real series.

The second tab of *Beyond one test score* (:func:`ui.views.compare.beyond_section`):
the free run's error at each step ahead for every model and baseline
(:func:`forecasting.analysis.horizon.comparison_horizon_errors`). The free run is
trained with the comparison (the form's free-run input).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import streamlit as st

from forecasting.analysis.horizon import comparison_horizon_errors
from forecasting.charts import lab as lab_charts
from forecasting.data.outputs import markdown_text
from forecasting.forecasters import display_name
from forecasting.settings.config import MODEL_LABELS
from ui.running.runs import RunRecord


def useful_steps(errors: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Steps ahead during which each model is closer than every baseline.

    Args:
        errors: Kind -> per-step errors ``(steps,)``, models and baselines.

    Returns:
        Model kind -> the number of first steps (from step 1) at which its error
        is below the lowest baseline error of that step; models only.
    """
    baselines = [np.asarray(v) for k, v in errors.items() if k not in MODEL_LABELS]
    if not baselines:
        return {}
    best = np.min(np.stack(baselines), axis=0)
    result = {}
    for kind, values in errors.items():
        if kind not in MODEL_LABELS:
            continue
        better = np.asarray(values) < best
        result[kind] = int(len(better) if better.all() else np.argmin(better))
    return result


def horizon_view(record: RunRecord, page: str) -> None:
    """Error against steps ahead of the free runs, models beside baselines."""
    comparison = record.comparison
    unit = "days" if page == "price" else "steps"
    st.markdown(
        "A **free run** forecasts from the end of training on its own forecasts "
        f"only: {unit} ahead it never sees a real value again. The chart shows how "
        f"far it is from the real series at each of those {unit}, beside "
        "baselines run the same way (persistence repeats the last training value"
        + (", constant velocity keeps the last step's speed" if page != "price" else "")
        + f"). Where a model's line crosses above a baseline, the {unit} beyond it "
        "are not worth forecasting with that model."
    )
    if comparison.rollout_steps < 1:
        where = (
            "**Free-run forecast (days)**"
            if page == "price"
            else "**Free-run horizon (steps)**"
        )
        st.info(
            f"These models were trained without a free run; set {where} in the "
            "training form above and press Train models."
        )
        return
    steps = min(comparison.rollout_steps, len(comparison.actual))
    try:
        errors = comparison_horizon_errors(comparison, steps)
    except ValueError as err:
        st.error(markdown_text(err))
        return
    y_title = (
        "Distance to the real position"
        if comparison.split.track
        else "Error (distance to the real value)"
    )
    fig = lab_charts.horizon_error_figure(
        errors, title=f"Free-run error by {unit} ahead", y_title=y_title
    )
    fig.update_layout(xaxis_title=f"{unit.capitalize()} ahead")
    st.plotly_chart(fig, width="stretch")
    lines = verdicts(errors, steps, unit)
    shorter = (
        f" Only the {steps} {unit} of the test period are scored."
        if steps < comparison.rollout_steps
        else ""
    )
    st.caption(" ".join(lines) + shorter)


def verdicts(errors: Mapping[str, np.ndarray], steps: int, unit: str) -> list[str]:
    """One sentence per model: for how many steps it beats every baseline.

    Args:
        errors: Kind -> per-step errors ``(steps,)``, models and baselines.
        steps: The steps scored.
        unit: ``"days"`` or ``"steps"``.
    """
    lines = []
    for kind, n in useful_steps(errors).items():
        if n == 0:
            lines.append(
                f"**{display_name(kind)}** is never closer than the best baseline."
            )
        elif n == steps:
            lines.append(
                f"**{display_name(kind)}** is closer than every baseline at all "
                f"{steps} {unit}."
            )
        else:
            lines.append(
                f"**{display_name(kind)}** is closer than every baseline for the "
                f"first {n} {unit}."
            )
    return lines
