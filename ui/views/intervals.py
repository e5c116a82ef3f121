"""Prediction intervals: how far a one-step forecast can be trusted.

The first tab of *Beyond one test score* (:func:`ui.views.compare.beyond_section`):
the split-conformal band around a model's one-step forecast at a chosen coverage,
with the coverage reached on the test period beside the nominal one, and the
seeds' spread when several seeds were trained
(:func:`forecasting.analysis.intervals.model_intervals`, ``intervals.seed_band``).
"""

from __future__ import annotations

import streamlit as st

from forecasting.analysis.compare import Comparison
from forecasting.analysis.intervals import Interval, model_intervals, seed_band
from forecasting.charts import lab as lab_charts
from forecasting.data.outputs import markdown_text
from forecasting.forecasters import display_name
from forecasting.settings.config import MODEL_LABELS
from ui.forms import state
from ui.running.runs import RunRecord

COVERAGES = (0.8, 0.9, 0.95)
"""Interval coverages offered."""


def _prefix(page: str) -> str:
    return "price" if page == "price" else "trk"


def coverage_text(interval: Interval, kind: str, columns: tuple[str, ...]) -> str:
    """One sentence: the interval's width and the coverage reached beside the nominal.

    Args:
        interval: From :func:`forecasting.analysis.intervals.model_intervals`.
        kind: The model's kind id.
        columns: The forecast columns (for the width's units).

    Returns:
        E.g. ``"**GRU**: the 80% interval (± 1.234 High) held 76.4% of the real
        test values (nominal 80%), calibrated on 25 training rows."``
    """
    if interval.method == "distance":
        width = f"a radius of {interval.half_width[0]:,.3f}"
        what = "real test positions"
    else:
        width = ", ".join(
            f"± {w:,.3f} {c}" for w, c in zip(interval.half_width, columns, strict=True)
        )
        what = "real test values"
    reached = "?" if interval.coverage is None else f"{interval.coverage:.1%}"
    return (
        f"**{display_name(kind)}**: the {interval.nominal:.0%} interval ({width}) "
        f"held {reached} of the {what} (nominal {interval.nominal:.0%}), calibrated "
        f"on {interval.n_calibration:,} training rows."
    )


NOT_HELD_OUT = (
    "Early stopping is off, so the calibration rows (the last "
    "{share:.0%} of the training windows) were also used to fit the networks: "
    "their errors are smaller than errors on new data, and the interval is likely "
    "**too narrow** (compare the coverage reached with the nominal one). Turn on "
    "early stopping to keep them out of the fit."
)


def _feature(page: str, columns: tuple[str, ...]) -> int:
    """The column the results above show (price) or a coordinate to choose."""
    if page == "price":
        chosen = st.session_state.get("price_view_column")
        return columns.index(chosen) if chosen in columns else 0
    if len(columns) == 1:
        return 0
    state.keep_choice("trk_eval_column", list(columns), columns[0])
    column = st.selectbox("Coordinate", list(columns), key="trk_eval_column")
    return columns.index(column)


def intervals_view(record: RunRecord, page: str) -> None:
    """A model's forecast with its conformal band, the seeds' band and coverages."""
    comparison = record.comparison
    split = comparison.split
    prefix = _prefix(page)
    track = split.track
    st.markdown(
        "A **prediction interval** is a band that should hold the real value a "
        "chosen share of the time. It is computed from the model's one-step errors "
        "on the last training windows (never the test rows): at 80%, the band is "
        "as wide as the error that 80% of those errors stay under. Whether it "
        "really holds 80% of the test values is measured below."
        + (
            " For a path the band is a circle: the share of real positions within "
            "one radius of the forecast position (the chart shows its box)."
            if track
            else ""
        )
    )
    kinds = list(comparison.runs)
    coverage_key, model_key = f"{prefix}_eval_coverage", f"{prefix}_eval_model"
    state.keep_choice(coverage_key, COVERAGES, COVERAGES[0])
    state.keep_choice(model_key, kinds, kinds[0])
    left, right = st.columns(2)
    coverage = left.radio(
        "Coverage",
        COVERAGES,
        key=coverage_key,
        horizontal=True,
        format_func=lambda c: f"{c:.0%}",
    )
    kind = right.selectbox(
        "Model", kinds, key=model_key, format_func=lambda k: MODEL_LABELS[k]
    )
    method = "distance" if track else "coordinate"
    try:
        intervals = model_intervals(comparison, coverage, method)
    except ValueError as err:
        st.error(markdown_text(err))
        return
    if kind not in intervals:
        st.info(
            "These fits carry no calibration forecasts (they were trained before "
            "intervals existed); press Train again to get them."
        )
        return
    _band(comparison, kind, intervals[kind], _feature(page, split.columns))
    lines = [coverage_text(intervals[k], k, split.columns) for k in intervals]
    st.markdown("\n\n".join(lines))
    if intervals[kind].held_out is False:
        share = comparison.config.train.validation_fraction
        st.warning(NOT_HELD_OUT.format(share=share), icon=":material/warning:")


def _band(comparison: Comparison, kind: str, interval: Interval, j: int) -> None:
    split = comparison.split
    run = comparison.runs[kind]
    low = high = None
    seeds = run.seed_predictions.shape[0]
    if seeds > 1:
        low, high = seed_band(run.seed_predictions)
    column = split.columns[j]
    fig = lab_charts.band_figure(
        split.test_index,
        split.test,
        run.predictions,
        kind,
        lower=interval.lower,
        upper=interval.upper,
        seed_low=low,
        seed_high=high,
        nominal=interval.nominal,
        feature=j,
        title=f"{column}: {display_name(kind)} one-step forecast with its interval",
        y_title=column,
    )
    st.plotly_chart(fig, width="stretch")
    note = (
        f"Light band: the {interval.nominal:.0%} interval around the forecast "
        "(mean over the seeds)."
    )
    if seeds > 1:
        note += (
            f" Darker band: the spread of the {seeds} seeds' forecasts (lowest to "
            "highest); it shows how much the forecast depends on the random start, "
            "not how far the real value may be."
        )
    else:
        note += " Train with several seeds to see their spread as a second band."
    st.caption(note)
