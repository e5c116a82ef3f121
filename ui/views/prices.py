"""A finished price comparison: forecast against the real prices, and residuals.

Drawn by the shared page flow (:mod:`ui.flow`) under the price page's form;
what both pages show comes from :mod:`ui.views.compare`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from forecasting import charts
from forecasting.analysis.compare import Comparison
from ui.forms import state
from ui.running.runs import RunRecord
from ui.views import lab
from ui.views.compare import (
    baselines_by_label,
    closing_sections,
    downloads,
    header,
    loss_tab,
    predictions_by_label,
    show_metrics,
    tutorial_note,
)


def show(record: RunRecord, current: bool, data: Any = None) -> None:
    """Everything about a finished price comparison.

    Args:
        record: The trained comparison.
        current: Whether it matches the settings on screen.
        data: The prices on screen (unused: kept for the page flow's signature).
    """
    comparison = record.comparison
    header(record, current, "Train models")
    show_metrics(lab.metrics_with_skill(comparison))
    tutorial_note(record)
    lab.show_lessons(comparison)
    j = _column(comparison)
    # Keyed and tracked, so the open tab stays open when the page reruns.
    forecast, residuals, loss, files = st.tabs(
        ["Forecast vs real", "Residuals", "Training loss", "Downloads"],
        key="price_tab",
        on_change="rerun",
    )
    with forecast:
        forecast_tab(comparison, j)
    with residuals:
        residuals_tab(comparison, j)
    with loss:
        loss_tab(comparison)
    with files:
        downloads(record, "Date")
    closing_sections(record, "price")


def _column(comparison: Comparison) -> int:
    """The *Column to show* select box (with several columns); its index."""
    split = comparison.split
    columns = list(split.columns)
    state.keep_choice("price_view_column", columns, columns[0])
    state.keep_number("price_view_context", 0, len(split.train), 120)
    column = columns[0]
    if len(columns) > 1:
        column = st.selectbox(
            "Column to show",
            columns,
            key="price_view_column",
            help="The models predict all chosen columns together; the charts "
            "show one at a time.",
        )
    return columns.index(column)


def forecast_tab(comparison: Comparison, j: int) -> None:
    """Real against one-step forecasts of column ``j``, with training context."""
    split = comparison.split
    column = split.columns[j]
    context = st.slider(
        "Training days shown before the test period",
        min_value=0,
        max_value=len(split.train),
        step=10,
        key="price_view_context",
        help="Faded grey: the end of the training period, for context.",
    )
    fig = charts.forecast_figure(
        split.test_index,
        split.test,
        predictions_by_label(comparison),
        baselines_by_label(comparison),
        context_index=split.train_index[len(split.train) - context :],
        context=split.train[len(split.train) - context :],
        feature=j,
        title=f"{column}: real vs one-step-ahead predictions (test period)",
        y_title=column,
    )
    fig = lab.copy_check(comparison, fig, "price_copy_overlay", feature=j)
    st.plotly_chart(fig, width="stretch")
    st.caption(
        "Each prediction uses the real values of the previous "
        f"{comparison.config.window} days, so the lines follow the real series "
        "closely. Click legend entries to hide or show a line; the naive "
        "baseline is hidden until you click it. Drag the slider below the "
        "chart to zoom."
    )


def residuals_tab(comparison: Comparison, j: int) -> None:
    """Prediction minus real of column ``j``, for every model."""
    split = comparison.split
    column = split.columns[j]
    st.plotly_chart(
        charts.residuals_figure(
            split.test_index,
            split.test,
            predictions_by_label(comparison),
            feature=j,
            y_title=column,
        ),
        width="stretch",
    )
    st.caption(
        "Residual = prediction − real. A model that always lags behind the "
        "price shows residuals of the opposite sign to each day's change."
    )
