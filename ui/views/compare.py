"""Draw a finished comparison: metrics table, charts and downloads.

Everything here reads a :class:`ui.running.runs.RunRecord` (already trained),
so changing a display option redraws at once and never retrains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import streamlit as st

from forecasting import charts
from forecasting.analysis.compare import (
    BASELINE_LABELS,
    Comparison,
    Transfer,
    rollout_error,
)
from forecasting.settings.config import MODEL_LABELS
from ui.forms import state
from ui.running import jobs
from ui.running.runs import RunRecord
from ui.views import backtest, history, horizon, intervals, lab
from ui.views.tables import TEXT_FORMATS, metrics_display, style_metrics


def verdict_lines(rmse: pd.Series, is_model: np.ndarray) -> list[str]:
    """Sentences under the metrics table: the best model against the best baseline.

    Args:
        rmse: RMSE by display name (models and baselines).
        is_model: Which rows are networks (the others are baselines).

    Returns:
        The verdict, and a sentence for every network whose training diverged
        (its loss, and so its forecast and RMSE, became NaN).
    """
    models, baselines = rmse[is_model], rmse[~is_model]
    lines = []
    diverged = [name for name, value in models.items() if not np.isfinite(value)]
    models = models[np.isfinite(models)]
    if len(models) and len(baselines.dropna()):
        best_model, best_base = models.idxmin(), baselines.idxmin()
        verdict = "beats" if models.min() < baselines.min() else "does **not** beat"
        lines.append(
            f"Best model by RMSE: **{best_model}** ({models.min():,.3f}), "
            f"which {verdict} the best baseline, **{best_base}** "
            f"({baselines.min():,.3f})."
        )
    if diverged:
        lines.append(
            f"**{', '.join(diverged)}** diverged: the training loss became NaN (not "
            "a number), so there is no forecast to score; lower the learning rate "
            "or choose another optimizer."
        )
    return lines


def show_metrics(
    table: pd.DataFrame, rollout: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Draw the metrics table and a sentence naming the best model and baseline.

    Returns:
        The displayed frame (display names, unformatted numbers).
    """
    frame = metrics_display(table, rollout)
    right = {
        column: st.column_config.Column(alignment="right")
        for column in TEXT_FORMATS
        if column in frame
    }
    st.dataframe(style_metrics(frame), width="stretch", column_config=right)
    is_model = table["kind"].isin(list(MODEL_LABELS)).to_numpy()
    lines = verdict_lines(frame["RMSE"], is_model)
    lines.append(
        "Green marks the lowest (best) value in each error column. Errors are in "
        "the data's own units; fit time includes compiling, paid once per setting "
        "(later runs with the same settings reuse it)."
    )
    st.caption(" ".join(lines))
    return frame


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "data"


def downloads(record: RunRecord, index_label: str) -> None:
    """Buttons for the predictions CSV, the metrics CSV and every model file."""
    comparison = record.comparison
    slug = _slug(record.data_label)
    predictions = comparison.predictions_frame().to_csv(index_label=index_label)
    metrics_csv = comparison.metrics.to_csv(index_label="model")
    a, b = st.columns(2)
    a.download_button(
        "Predictions (CSV)",
        predictions,
        file_name=f"{slug}_predictions.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
    b.download_button(
        "Metrics (CSV)",
        metrics_csv,
        file_name=f"{slug}_metrics.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
    config = comparison.config
    low, high = config.scale_range
    what = "step-to-step changes" if config.target == "diff" else "values"
    seeds = " (the first seed's model)" if config.train.seeds > 1 else ""
    st.caption(
        f"Trained models as Keras files{seeds}; load with "
        "`keras.models.load_model`. Each expects windows of "
        f"{config.window} scaled {what}: the training period's minimum and maximum "
        f"mapped to {low:g}..{high:g}."
    )
    columns = st.columns(max(len(comparison.runs), 1))
    for column, run in zip(columns, comparison.runs.values(), strict=False):
        column.download_button(
            f"{run.label} model (.keras)",
            run.train.model_file,
            file_name=f"{slug}_{run.kind}.keras",
            mime="application/octet-stream",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )


def _labelled(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {MODEL_LABELS.get(k, k): v for k, v in values.items()}


def _predictions(comparison: Comparison) -> dict[str, np.ndarray]:
    return {run.label: run.predictions for run in comparison.runs.values()}


def _baselines(comparison: Comparison) -> dict[str, np.ndarray]:
    return {BASELINE_LABELS[k]: v for k, v in comparison.baselines.items()}


def loss_tab(comparison: Comparison) -> None:
    """The per-model loss curves with a sentence on how to read them."""
    histories = {run.label: run.train.history for run in comparison.runs.values()}
    st.plotly_chart(charts.loss_figure(histories), width="stretch")
    note = (
        "Loss is the mean squared error on the scaled training windows (0..1), so "
        "it is small; what matters is that it goes down and levels off."
    )
    if comparison.config.train.early_stopping:
        note += (
            " Dashed lines: loss on the held-out last 10% of the training windows; "
            "training stopped when it stopped improving."
        )
    st.caption(note)


def tutorial_note(record: RunRecord) -> None:
    """Say which tutorial experiment these settings are, and what it reported."""
    preset = record.extras.get("preset")
    if preset is None:
        return
    by_kind = record.comparison.metrics.set_index("kind")
    parts = []
    for kind, value in preset.reported.items():
        if kind in by_kind.index:
            here = by_kind.loc[kind, "rmse"]
            parts.append(f"{MODEL_LABELS[kind]} {value:.2f} (here {here:.2f})")
    text = f"These are the settings of the tutorial experiment *{preset.title}*."
    if parts:
        text += (
            f" The tutorial reported a test RMSE of {', '.join(parts)}. "
            "Differences are normal: library versions and random starting weights "
            "differ, and over five seeds of these settings the RMSE's spread was "
            "larger than the tutorial's gap between LSTM and GRU (docs/RESULTS.md); "
            "try several seeds to see it."
        )
    st.info(text)


def header(record: RunRecord, current: bool, button: str) -> None:
    """Results heading: what was trained, how long it took, and if it is stale."""
    st.subheader("Results")
    took = (
        f"trained in {record.seconds:.0f} s"
        if record.seconds >= 1
        else "shown from the cache (trained before)"
    )
    st.caption(f"**{record.data_label}** · {record.summary} · {took}")
    if not current:
        st.info(
            "The settings above have changed since these results were trained; "
            f"press **{button}** to train with them (settings that were trained "
            "before show at once).",
            icon=":material/info:",
        )


def price_results(record: RunRecord, current: bool) -> None:
    """Everything about a finished price comparison."""
    comparison = record.comparison
    split = comparison.split
    columns = list(split.columns)
    header(record, current, "Train models")
    show_metrics(lab.metrics_with_skill(comparison))
    tutorial_note(record)
    lab.show_lessons(comparison)
    state.restore({"price_view_context": 120})
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
    j = columns.index(column)
    # Keyed and tracked, so the open tab stays open when the page reruns.
    forecast, residuals, loss, files = st.tabs(
        ["Forecast vs real", "Residuals", "Training loss", "Downloads"],
        key="price_tab",
        on_change="rerun",
    )
    with forecast:
        context = st.slider(
            "Training days shown before the test period",
            min_value=0,
            max_value=len(split.train),
            step=10,
            key="price_view_context",
            help="Faded grey: the end of the training period, for context.",
        )
        state.remember(["price_view_column", "price_view_context"])
        fig = charts.forecast_figure(
            split.test_index,
            split.test,
            _predictions(comparison),
            _baselines(comparison),
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
    with residuals:
        st.plotly_chart(
            charts.residuals_figure(
                split.test_index,
                split.test,
                _predictions(comparison),
                feature=j,
                y_title=column,
            ),
            width="stretch",
        )
        st.caption(
            "Residual = prediction − real. A model that always lags behind the "
            "price shows residuals of the opposite sign to each day's change."
        )
    with loss:
        loss_tab(comparison)
    with files:
        downloads(record, "Date")
    beyond_section(record, "price")
    history.section("price", record)


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
    beyond_section(record, "tracking")
    history.section("tracking", record)


def _track_context(comparison: Comparison) -> int:
    """The *Training rows shown* slider; returns the first training row to draw."""
    split = comparison.split
    state.restore({"trk_view_context": min(500, len(split.train))})
    state.keep_number("trk_view_context", 0, len(split.train), 500)
    context = st.slider(
        "Training rows shown",
        min_value=0,
        max_value=len(split.train),
        step=50,
        key="trk_view_context",
        help="The last rows of the training period, drawn in grey for context.",
    )
    state.remember(["trk_view_context"])
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
            _predictions(comparison),
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
        _predictions(comparison),
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
            _predictions(comparison),
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
            st.error(str(err))
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
    st.markdown(f"**Trained on {trained_on}, applied to {other}:**")
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
                _labelled(transfer.predictions),
                _labelled(transfer.rollouts),
                columns=transfer.split.columns[:2],
                title=f"{other}: path with the transferred models",
            ),
            width="stretch",
        )


TABS = ("Prediction intervals", "Error by horizon", "Walk-forward backtest")
"""The tabs of :func:`beyond_section`."""


def beyond_section(record: RunRecord, page: str) -> None:
    """Intervals, error by horizon and backtest under a page's results, as tabs.

    Args:
        record: The finished run shown on the page.
        page: ``"price"`` or ``"tracking"``.
    """
    prefix = "price" if page == "price" else "trk"
    st.subheader("Beyond one test score")
    st.caption(
        "One RMSE on one test period says little about how far a forecast can be "
        "trusted. These views ask three more questions: how wide is the "
        "uncertainty, how fast does a forecast on its own predictions drift away, "
        "and does the ranking hold on other test periods?"
    )
    # Tracked, so only the open tab runs and it stays open when the page reruns.
    tabs = st.tabs(list(TABS), key=f"{prefix}_eval_tab", on_change="rerun")
    views = (intervals.intervals_view, horizon.horizon_view, backtest.backtest_view)
    for tab, view in zip(tabs, views, strict=True):
        if tab.open is False:
            continue
        with tab:
            view(record, page)
