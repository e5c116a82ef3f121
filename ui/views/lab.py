"""Two lessons drawn beside the results: "only copying yesterday?" and seed noise.

Every number comes from :mod:`forecasting.analysis.lab`; this module only lays it out:

* :func:`metrics_with_skill` adds the *Skill* (against persistence) and *Best lag*
  columns to the metrics table of both pages;
* :func:`copy_check` puts one sentence per forecast that mostly copies the last
  value next to the forecast chart, with a toggle that overlays the real series
  shifted by one step (:func:`forecasting.charts.add_shifted_real`);
* :func:`show_lessons` explains the two columns and, with 3 or more seeds, shows
  the paired comparison of every two models.

Which forecasts the copy check names: every network, and the linear
autoregression (:data:`CHECKED_BASELINES`). Persistence is left out because it
is the reference itself (skill exactly 0, lag +1 by construction), and constant
velocity because it repeats the last *change*, not the last value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from forecasting import charts
from forecasting.analysis import lab
from forecasting.analysis.compare import BASELINE_LABELS, Comparison, Transfer
from ui.forms import state

CHECKED_BASELINES: tuple[str, ...] = ("linear_ar",)
"""Baselines whose forecasts the copy check looks at, besides the networks."""

PAIRED_COLUMNS: tuple[str, ...] = (
    "Model A",
    "Model B",
    "Mean RMSE difference (A − B)",
    "95% interval",
)
"""Columns of :func:`paired_frame`."""

SKILL_HELP = (
    "**Skill** compares each forecast with persistence, the forecast that repeats "
    "the last real value: skill = 1 − RMSE ÷ RMSE of persistence. 1 would be a "
    "perfect forecast, 0 is exactly as good as repeating the last value, below 0 "
    "is worse than that.\n\n"
    "**Best lag** asks *when* a forecast moves. The step-to-step changes of the "
    "forecast are matched against the real changes shifted by −5 to +5 steps, and "
    "the shift that matches best is shown. 0: the forecast moves together with the "
    "real series. +1: it moves one step *after* it, so it is following the series, "
    "not forecasting it.\n\n"
    "How to read them together: a one-step forecast always looks close to the real "
    "line, because it starts from the real values of the window before. Best lag "
    "+1 with a skill of about 0 (or below) means the model has mostly learned to "
    "repeat yesterday's value. Real skill shows as a skill clearly above 0. With "
    "several seeds, the skill uses the mean RMSE over the seeds and the lag the "
    "mean forecast."
)

PAIRED_HELP = (
    "Each seed starts a network from other random weights, so its RMSE changes "
    "from seed to seed. Two models trained with the same seeds are scored on the "
    "same test rows, so their errors can be compared seed by seed: the table shows "
    "the mean of the differences (model A's RMSE minus model B's; below 0 means A "
    "has the lower error) and a 95% interval for it (Student t, "
    "`scipy.stats`). When the interval contains 0 the difference could be seed "
    "noise; more seeds make the interval narrower."
)

FEW_SEEDS = (
    "**Beyond seed noise?** Train with {n} or more seeds (*Seeds* in the training "
    "settings) to see whether the differences between the models are larger than "
    "the spread that random starting weights cause."
)


def metrics_with_skill(comparison: Comparison) -> pd.DataFrame:
    """The comparison's metrics table with ``skill`` and ``best_lag`` columns.

    Args:
        comparison: A finished comparison.

    Returns:
        :attr:`Comparison.metrics` with the two columns of
        :func:`forecasting.analysis.lab.with_skill_columns` (before ``fit_seconds``).
    """
    return lab.with_skill_columns(comparison.metrics, lab.skill_and_lag(comparison))


def transfer_metrics_with_skill(transfer: Transfer) -> pd.DataFrame:
    """A transfer's metrics table with ``skill`` and ``best_lag`` columns.

    The skill is against persistence on the other individual
    (:func:`forecasting.analysis.lab.transfer_skill_and_lag`).
    """
    values = lab.transfer_skill_and_lag(transfer)
    return lab.with_skill_columns(transfer.metrics, values)


def checked_labels(comparison: Comparison) -> dict[str, str]:
    """Kind -> display name of the forecasts the copy check looks at, in table order.

    Every network, then the baselines of :data:`CHECKED_BASELINES` that the
    comparison has.
    """
    labels = {kind: run.label for kind, run in comparison.runs.items()}
    for kind in CHECKED_BASELINES:
        if kind in comparison.baselines:
            labels[kind] = BASELINE_LABELS[kind]
    return labels


def copy_sentences(
    values: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str]
) -> list[str]:
    """One :func:`~.analysis.lab.lag_verdict` sentence per forecast that copies.

    Args:
        values: Kind -> ``{"skill", "best_lag"}`` (:func:`lab.skill_and_lag`).
        labels: Kind -> display name of the forecasts to check, in order.

    Returns:
        The sentences, in the order of ``labels`` (kinds without values skipped).
    """
    lines = []
    for kind, label in labels.items():
        if kind not in values:
            continue
        sentence = lab.lag_verdict(
            label, values[kind]["best_lag"], values[kind]["skill"]
        )
        if sentence:
            lines.append(sentence)
    return lines


def copy_check(
    comparison: Comparison, fig: go.Figure, key: str, feature: int | None = 0
) -> go.Figure:
    """Say which forecasts mostly copy the last value; offer the shifted overlay.

    Draws nothing when no checked forecast has best lag +1 and skill not above 0.
    Otherwise one warning with the sentences and a toggle; when it is on, the
    real series shifted by one step is added to ``fig`` (call this before the
    figure is drawn).

    Args:
        comparison: A finished comparison.
        fig: The forecast figure about to be drawn.
        key: Widget key of the toggle (kept across pages).
        feature: The feature column a single-panel figure shows; ``None`` for a
            :func:`~forecasting.charts.coordinates_figure` with one panel per
            feature (each gets its own shifted trace).

    Returns:
        ``fig``, with the overlay when the toggle is on.
    """
    lines = copy_sentences(lab.skill_and_lag(comparison), checked_labels(comparison))
    if not lines:
        return fig
    st.warning(" ".join(lines), icon=":material/content_copy:")
    state.keep({key: False})
    shown = st.toggle(
        "Overlay the real series shifted by one step",
        key=key,
        help="The real values moved one step later: exactly what repeating the "
        "last value predicts. A forecast lying on this line is copying.",
    )
    if shown:
        split = comparison.split
        features = range(split.test.shape[1]) if feature is None else [feature]
        for n, j in enumerate(features):
            charts.add_shifted_real(
                fig,
                split.test_index,
                split.test,
                previous=float(split.train[-1, j]),
                feature=j,
                row=None if feature is not None else j + 1,
                showlegend=n == 0,
            )
    return fig


def _number(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:+,.3f}"


def paired_frame(
    pairs: Sequence[Mapping[str, Any]], labels: Mapping[str, str]
) -> pd.DataFrame:
    """The paired comparisons as a small table, one row per pair.

    Args:
        pairs: The result of :func:`forecasting.analysis.lab.comparison_paired`.
        labels: Kind -> display name.

    Returns:
        A frame with the columns of :data:`PAIRED_COLUMNS`: the two names, the
        mean difference as a number (NaN when a seed diverged) and the interval
        as text, e.g. ``"-0.120 to +0.340"``.
    """
    rows = [
        {
            PAIRED_COLUMNS[0]: labels.get(pair["a"], pair["a"]),
            PAIRED_COLUMNS[1]: labels.get(pair["b"], pair["b"]),
            PAIRED_COLUMNS[2]: float(pair["mean_diff"]),
            PAIRED_COLUMNS[3]: (
                "—"
                if not math.isfinite(pair["ci_low"])
                else f"{_number(pair['ci_low'])} to {_number(pair['ci_high'])}"
            ),
        }
        for pair in pairs
    ]
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))


def seed_panel(comparison: Comparison) -> None:
    """The paired comparison of every two models, or how to get it."""
    seeds = comparison.config.train.seeds
    if seeds < lab.MIN_SEEDS:
        st.caption(FEW_SEEDS.format(n=lab.MIN_SEEDS))
        return
    title = f"Beyond seed noise? The models compared over {seeds} seeds"
    with st.expander(title, expanded=True):
        if len(comparison.runs) < 2:
            st.info("Choose two or more models to compare them seed by seed.")
            return
        pairs = lab.comparison_paired(comparison)
        labels = {kind: run.label for kind, run in comparison.runs.items()}
        st.dataframe(
            paired_frame(pairs, labels).style.format(
                {PAIRED_COLUMNS[2]: "{:+,.3f}"}, na_rep="—"
            ),
            hide_index=True,
            width="stretch",
        )
        st.markdown("\n".join(f"- {pair['verdict']}" for pair in pairs))
        st.caption(PAIRED_HELP)


def show_lessons(comparison: Comparison) -> None:
    """Under the metrics table: how to read Skill and Best lag; the seed panel."""
    with st.expander("Is it only copying yesterday? How to read Skill and Best lag"):
        st.markdown(SKILL_HELP)
    seed_panel(comparison)
