"""A finished tracking comparison: path, coordinates, residuals, another individual.

Drawn by the shared page flow (:mod:`ui.flow`) under the tracking page's form;
what both pages show comes from :mod:`ui.views.compare`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from forecasting import charts
from forecasting.analysis.compare import Comparison, Transfer, rollout_error
from forecasting.data import TrackingData, series_frame
from forecasting.data.outputs import markdown_name, markdown_text
from ui.forms import state
from ui.running import jobs
from ui.running.runs import RunRecord
from ui.views import lab
from ui.views.compare import (
    closing_sections,
    downloads,
    header,
    labelled,
    loss_tab,
    predictions_by_label,
    show_metrics,
    tutorial_note,
)


def show(record: RunRecord, current: bool, data: TrackingData | None) -> None:
    """The tracking page's results, with the other individuals of the same data.

    Args:
        record: The trained comparison.
        current: Whether it matches the settings on screen.
        data: The tracks on screen, or ``None``.
    """
    trained_on = record.extras.get("individual")
    same_data = data is not None and record.extras.get("data_key") == data.fingerprint()
    others: list[str] = []
    other_frame = None
    if same_data:
        others = [i for i in data.ids() if i != trained_on]
        cfg = record.comparison.config

        def other_frame(other: str) -> pd.DataFrame:
            """The other individual's rows, with the trained coordinates."""
            needed = cfg.split.train_rows + cfg.split.test_rows
            frame, _ = series_frame(
                data,
                cfg.columns,
                other,
                min_rows=needed,
                needed_for=f"train {cfg.split.train_rows} + test {cfg.split.test_rows}",
            )
            return frame

    tracking_results(record, current, other_frame, others)


def tracking_results(
    record: RunRecord,
    current: bool,
    other_frame: Callable[[str], pd.DataFrame] | None,
    others: list[str],
) -> None:
    """Everything about a finished tracking comparison.

    Args:
        record: The trained comparison.
        current: Whether it matches the settings on screen.
        other_frame: Returns another individual's frame (raises ``DataError``),
            or ``None`` when the data on screen is not the data trained on.
        others: IDs of the other individuals.
    """
    comparison = record.comparison
    header(record, current, "Train models")
    rollout = rollout_error(comparison)
    show_metrics(lab.metrics_with_skill(comparison), rollout)
    tutorial_note(record)
    lab.show_lessons(comparison)
    if rollout:
        st.caption(
            f"Free-run distance: mean distance of the free run "
            f"({comparison.rollout_steps} steps, each prediction fed back in) from "
            "the real path over the same rows. Mean distance: the same for the "
            "one-step predictions, which always start from real positions."
        )
    start = _track_context(comparison)
    # Keyed and tracked, so "Another individual" stays open after Apply.
    tabs = st.tabs(
        [
            "Trajectory",
            "Coordinates over time",
            "Residuals",
            "Training loss",
            "Another individual",
            "Downloads",
        ],
        key="trk_tab",
        on_change="rerun",
    )
    with tabs[0]:
        trajectory_tab(comparison, start)
    with tabs[1]:
        coordinates_tab(comparison, start)
    with tabs[2]:
        track_residuals_tab(comparison)
    with tabs[3]:
        loss_tab(comparison)
    with tabs[4]:
        transfer_section(record, other_frame, others)
    with tabs[5]:
        downloads(record, str(comparison.split.test_index.name or "row"))
    closing_sections(record, "tracking")


def _track_context(comparison: Comparison) -> int:
    """The *Training rows shown* slider; returns the first training row to draw."""
    split = comparison.split
    state.keep_number("trk_view_context", 0, len(split.train), 500)
    context = st.slider(
        "Training rows shown",
        min_value=0,
        max_value=len(split.train),
        step=50,
        key="trk_view_context",
        help="The last rows of the training period, drawn in grey for context.",
    )
    return len(split.train) - context


def _rollouts(comparison: Comparison) -> dict[str, np.ndarray]:
    return {
        run.label: run.rollout
        for run in comparison.runs.values()
        if run.rollout is not None
    }


def trajectory_tab(comparison: Comparison, start: int) -> None:
    """The path seen from above, from training row ``start`` on."""
    split = comparison.split
    columns = list(split.columns)
    if len(columns) < 2:
        st.info("Choose two coordinates (such as X and Y) to see the path.")
        return
    st.plotly_chart(
        charts.trajectory_figure(
            split.train[start:, :2],
            split.test[:, :2],
            predictions_by_label(comparison),
            _rollouts(comparison),
            columns=columns[:2],
            title="Path seen from above (equal scales)",
        ),
        width="stretch",
    )
    st.caption(
        "Solid coloured lines: one-step predictions (each from the real "
        "previous positions). Dashed: the free run, which starts at the end "
        "of training and only sees its own predictions."
    )


def coordinates_tab(comparison: Comparison, start: int) -> None:
    """Each coordinate over time, from training row ``start`` on."""
    split = comparison.split
    fig = charts.coordinates_figure(
        split.train_index[start:],
        split.train[start:],
        split.test_index,
        split.test,
        predictions_by_label(comparison),
        _rollouts(comparison),
        columns=list(split.columns),
        context_rows=None,
        x_title=str(split.test_index.name or "row"),
    )
    fig = lab.copy_check(comparison, fig, "trk_copy_overlay", feature=None)
    st.plotly_chart(fig, width="stretch")


def track_residuals_tab(comparison: Comparison) -> None:
    """The residuals of one chosen coordinate."""
    split = comparison.split
    columns = list(split.columns)
    state.keep_choice("trk_view_column", columns, columns[0])
    column = st.selectbox("Coordinate", columns, key="trk_view_column")
    st.plotly_chart(
        charts.residuals_figure(
            split.test_index,
            split.test,
            predictions_by_label(comparison),
            feature=columns.index(column),
            y_title=column,
        ),
        width="stretch",
    )


def transfer_section(
    record: RunRecord,
    other_frame: Callable[[str], pd.DataFrame] | None,
    others: list[str],
) -> None:
    """Apply the trained models, unchanged, to another individual."""
    from forecasting.data import DataError

    st.markdown(
        "Does what a model learned from one animal carry over to another? The "
        "other individual is split with the same row counts and scaled with the "
        "**original** training scaler; nothing is retrained."
    )
    if other_frame is None or not others:
        st.info(
            "Load the data these models were trained on (and a file with more than "
            "one individual) to try them on another individual."
        )
        return
    state.keep_choice("trk_other", others, others[0])
    other = st.selectbox("Other individual", others, key="trk_other")
    if st.button("Apply the trained models", key="trk_apply"):
        try:
            frame = other_frame(other)
            transfer = jobs.transfer(record.comparison, frame)
        except (DataError, ValueError) as err:
            st.error(markdown_text(err))
        except Exception as err:  # never show a traceback
            jobs.report_unexpected(err)
        else:
            record.transfers[other] = transfer
    transfer = record.transfers.get(other)
    if transfer is not None:
        show_transfer(record, other, transfer)


def show_transfer(record: RunRecord, other: str, transfer: Transfer) -> None:
    """Metrics and path of the models applied to another individual."""
    trained_on = record.extras.get("individual", "the first individual")
    names = [markdown_name(name) for name in (trained_on, other)]
    st.markdown(f"**Trained on {names[0]}, applied to {names[1]}:**")
    rollout = {}
    for kind, path in transfer.rollouts.items():
        n = min(len(path), len(transfer.split.test))
        distance = np.linalg.norm(path[:n] - transfer.split.test[:n], axis=-1)
        rollout[kind] = float(np.mean(distance))
    show_metrics(lab.transfer_metrics_with_skill(transfer), rollout)
    if len(transfer.split.columns) >= 2:
        st.plotly_chart(
            charts.trajectory_figure(
                transfer.split.train[-300:, :2],
                transfer.split.test[:, :2],
                labelled(transfer.predictions),
                labelled(transfer.rollouts),
                columns=transfer.split.columns[:2],
                title=f"{other}: path with the transferred models",
            ),
            width="stretch",
        )
