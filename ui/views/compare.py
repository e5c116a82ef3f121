"""Draw a finished comparison: metrics table, charts and downloads.

Everything here reads a :class:`ui.running.runs.RunRecord` (already trained),
so changing a display option redraws at once and never retrains. This module
holds what both pages show (:func:`show_metrics`, :func:`downloads`,
:func:`loss_tab`, :func:`header`, :func:`closing_sections`); the pages' own
results are :mod:`ui.views.prices` and :mod:`ui.views.tracks`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import streamlit as st

from forecasting import charts
from forecasting.analysis.compare import BASELINE_LABELS, Comparison
from forecasting.data.outputs import csv_text, markdown_name, markdown_text
from forecasting.metrics import non_finite_note
from forecasting.settings.config import MODEL_LABELS
from ui.running.runs import RunRecord
from ui.views import backtest, history, horizon, intervals
from ui.views.tables import TEXT_FORMATS, metrics_display, style_metrics

TABS = ("Prediction intervals", "Error by horizon", "Walk-forward backtest")
"""The tabs of :func:`beyond_section`."""


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
    note = non_finite_note(table["rmse"].to_dict())
    if note:
        st.warning(note, icon=":material/warning:")
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
    predictions = csv_text(comparison.predictions_frame(), index_label=index_label)
    metrics_csv = csv_text(comparison.metrics, index_label="model")
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


def labelled(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same values by display name (kinds and baselines' ids renamed)."""
    return {MODEL_LABELS.get(k, k): v for k, v in values.items()}


def predictions_by_label(comparison: Comparison) -> dict[str, np.ndarray]:
    """Each model's one-step test forecast ``(rows, features)``, by label."""
    return {run.label: run.predictions for run in comparison.runs.values()}


def baselines_by_label(comparison: Comparison) -> dict[str, np.ndarray]:
    """Each baseline's test forecast ``(rows, features)``, by label."""
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
    summary = markdown_text(record.summary)  # names the columns, from the file
    st.caption(f"**{markdown_name(record.data_label)}** · {summary} · {took}")
    if not current:
        st.info(
            "The settings above have changed since these results were trained; "
            f"press **{button}** to train with them (settings that were trained "
            "before show at once).",
            icon=":material/info:",
        )


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


def closing_sections(record: RunRecord, page: str) -> None:
    """Under a page's results: *Beyond one test score*, then the run history."""
    beyond_section(record, page)
    history.section(page, record)
