"""Beyond one test score: prediction intervals, error by horizon, walk-forward folds.

Drawn under a finished comparison on the price and tracking pages
(:func:`section`), as three tabs that run only when open:

* **Prediction intervals**: the split-conformal band around a model's one-step
  forecast at a chosen coverage, with the coverage reached on the test period
  beside the nominal one, and the seeds' spread when several seeds were trained
  (:func:`forecasting.analysis.evaluate.model_intervals`, ``evaluate.seed_band``).
* **Error by horizon**: the free run's error at each step ahead for every model
  and baseline (:func:`~.evaluate.comparison_horizon_errors`); the free
  run is trained with the comparison (the price form's :func:`free_run_input`,
  the tracking form's free-run horizon).
* **Walk-forward backtest**: the test period in K folds, with or without
  refitting the networks; refits are jobs on the engine, followed with the same
  progress board and Cancel as the main training (:func:`ui.runner.start_jobs`,
  :func:`ui.runner.follow_jobs`); without refit it is instant.

Every number comes from :mod:`forecasting.analysis.evaluate`; results of a backtest are
kept in the run's ``extras`` so changing a tab or an option never recomputes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from forecasting.analysis import evaluate
from forecasting.analysis.compare import Comparison, Plan
from forecasting.analysis.evaluate import Interval, display_name
from forecasting.charts import lab as lab_charts
from forecasting.prep.budget import MAX_ROLLOUT_STEPS, describe_seconds
from forecasting.runtime.protocol import JobFailed
from forecasting.settings.config import MODEL_LABELS
from ui import runner, state
from ui.state import RunRecord

COVERAGES = (0.8, 0.9, 0.95)
"""Interval coverages offered."""

TABS = ("Prediction intervals", "Error by horizon", "Walk-forward backtest")

MAX_FOLDS = 10
"""Most backtest folds offered."""

_BACKTESTS = "backtests"
"""Key in :attr:`RunRecord.extras`: ``(k, refit)`` -> backtest result."""


def _prefix(page: str) -> str:
    return "price" if page == "price" else "trk"


def free_run_input() -> int:
    """The price form's *Free-run forecast (days)* input; returns its value.

    Drawn inside the training form: the free run is made by the fits, so a new
    value trains again (0, the default, makes none).
    """
    state.restore({"price_rollout": 0})
    value = st.number_input(
        "Free-run forecast (days)",
        min_value=0,
        max_value=MAX_ROLLOUT_STEPS,
        step=10,
        key="price_rollout",
        help="After training, also forecast this many days from the end of the "
        "training period, each forecast fed back in as if it were the real "
        "price; the results then show the error by days ahead. 0 turns it off.",
    )
    state.remember(["price_rollout"])
    return int(value)


def section(record: RunRecord, page: str) -> None:
    """The three views of :mod:`ui.evaluation` under a page's results.

    Args:
        record: The finished run shown on the page.
        page: ``"price"`` or ``"tracking"``.
    """
    prefix = _prefix(page)
    st.subheader("Beyond one test score")
    st.caption(
        "One RMSE on one test period says little about how far a forecast can be "
        "trusted. These views ask three more questions: how wide is the "
        "uncertainty, how fast does a forecast on its own predictions drift away, "
        "and does the ranking hold on other test periods?"
    )
    # Tracked, so only the open tab runs and it stays open when the page reruns.
    tabs = st.tabs(list(TABS), key=f"{prefix}_eval_tab", on_change="rerun")
    views = (intervals_view, horizon_view, backtest_view)
    for tab, view in zip(tabs, views, strict=True):
        if tab.open is False:
            continue
        with tab:
            view(record, page)


# ---------------------------------------------------------------- intervals


def coverage_text(interval: Interval, kind: str, columns: tuple[str, ...]) -> str:
    """One sentence: the interval's width and the coverage reached beside the nominal.

    Args:
        interval: From :func:`forecasting.analysis.evaluate.model_intervals`.
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
    state.restore({coverage_key: COVERAGES[0], model_key: kinds[0]})
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
    state.remember([coverage_key, model_key])
    method = "distance" if track else "coordinate"
    try:
        intervals = evaluate.model_intervals(comparison, coverage, method)
    except ValueError as err:
        st.error(str(err))
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
        low, high = evaluate.seed_band(run.seed_predictions)
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


# ---------------------------------------------------------- error by horizon


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
        errors = evaluate.comparison_horizon_errors(comparison, steps)
    except ValueError as err:
        st.error(str(err))
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
    shorter = (
        f" Only the {steps} {unit} of the test period are scored."
        if steps < comparison.rollout_steps
        else ""
    )
    st.caption(" ".join(lines) + shorter)


# ------------------------------------------------------ walk-forward backtest


def fold_wins(backtest: Mapping[str, Any], metric: str) -> tuple[int, int]:
    """In how many folds the best model beat the best baseline.

    Returns:
        ``(wins, folds)``; a fold whose values are missing counts as no win.
    """
    wins = 0
    for fold in backtest["folds"]:
        values = {k: m.get(metric) for k, m in fold["models"].items()}
        models = [v for k, v in values.items() if k in MODEL_LABELS and v is not None]
        bases = [
            v for k, v in values.items() if k not in MODEL_LABELS and v is not None
        ]
        if models and bases and min(models) < min(bases):
            wins += 1
    return wins, len(backtest["folds"])


def _backtests(record: RunRecord) -> dict[tuple[int, bool], dict[str, Any]]:
    return record.extras.setdefault(_BACKTESTS, {})


def _follow_refits(page: str) -> None:
    """Follow a running backtest with refits; keep its result with its run."""
    from forecasting.data import DataError

    try:
        finished = runner.follow_jobs(f"{page}_backtest")
    except (DataError, ValueError, JobFailed) as err:
        st.error(str(err))
        return
    except Exception as err:  # never show a traceback
        runner.report_unexpected(err)
        return
    if finished is None:
        return
    results, waiting, seconds = finished
    meta = waiting.meta
    owner = state.find_run(page, meta["record"])
    if owner is None:  # the run was dropped from the session meanwhile
        return
    backtest = evaluate.assemble_backtest(meta["plan"], owner.comparison, results)
    _backtests(owner)[(meta["k"], True)] = backtest
    if seconds:
        st.success(
            f"Refitted the networks on {meta['k'] - 1} more fold(s) in "
            f"{seconds:.0f} s.",
            icon=":material/check_circle:",
        )


def _start_refits(record: RunRecord, page: str, k: int) -> None:
    comparison = record.comparison
    try:
        plan = evaluate.plan_backtest(comparison, k, refit=True)
    except ValueError as err:
        st.error(str(err))
        return
    jobs = Plan(comparison.config, comparison.windows, list(plan.jobs))
    meta = {"record": record.key, "k": k, "plan": plan}
    runner.start_jobs(f"{page}_backtest", jobs, meta)


def _refit_estimate(comparison: Comparison, k: int) -> tuple[float, str | None]:
    """Seconds the refits take, and the sentence refusing them over the budget."""
    seconds = evaluate.refit_seconds(comparison.split, comparison.config, k)
    budget = runner.app_budget()
    if budget is not None and seconds > budget:
        return seconds, (
            f"Refitting needs {describe_seconds(seconds)} of training, more than the "
            f"{describe_seconds(budget).removeprefix('about ')} this server allows "
            "per run; choose fewer folds or look at the backtest without refitting."
        )
    return seconds, None


def backtest_view(record: RunRecord, page: str) -> None:
    """K folds, with or without refits; the per-fold chart and table."""
    comparison = record.comparison
    prefix = _prefix(page)
    st.markdown(
        "A **walk-forward backtest** cuts the test period into consecutive "
        "**folds**. Each fold is forecast by models trained on everything before "
        "it (fold 1: the training period; fold 2: that plus fold 1's rows; and "
        "so on), so no fold is ever seen before it is forecast. If a model beats "
        "the baselines in one fold only, that was luck; if it loses in every fold, "
        "it is a lesson."
    )
    n_test = len(comparison.actual)
    largest = min(MAX_FOLDS, n_test // evaluate.MIN_FOLD_ROWS)
    if largest < 2:
        st.info(
            f"The test period has {n_test} rows; a backtest needs at least "
            f"{2 * evaluate.MIN_FOLD_ROWS} (two folds of {evaluate.MIN_FOLD_ROWS})."
        )
        return
    folds_key, refit_key = f"{prefix}_eval_folds", f"{prefix}_eval_refit"
    state.restore({folds_key: min(4, largest), refit_key: False})
    state.keep_number(folds_key, 2, largest, min(4, largest))
    left, right = st.columns([1, 2])
    k = int(
        left.number_input(
            "Folds", min_value=2, max_value=largest, step=1, key=folds_key
        )
    )
    refit = right.toggle(
        "Refit the networks on each fold",
        key=refit_key,
        help="Off: every fold is forecast by the networks trained once, on the "
        "training period (instant). On: the networks are trained again on each "
        "fold's own past, with a scaler fitted on it only (one fit per model, "
        "seed and fold after the first).",
    )
    state.remember([folds_key, refit_key])
    kept = _backtests(record)
    if refit and (k, True) not in kept:
        _refit_controls(record, page, k)
    elif not refit and (k, False) not in kept:
        kept[(k, False)] = evaluate.run_backtest(comparison, k, refit=False)
    backtest = kept.get((k, refit))
    if backtest is not None:
        _show_backtest(backtest, comparison.split.track)


def _refit_controls(record: RunRecord, page: str, k: int) -> None:
    """The estimate and the button of a backtest with refits, then its progress."""
    comparison = record.comparison
    seconds, refused = _refit_estimate(comparison, k)
    fits = (k - 1) * len(comparison.runs) * comparison.config.train.seeds
    st.caption(
        f"Refitting trains {fits} more fit(s) (every model and seed on folds 2-{k}): "
        f"{describe_seconds(seconds)} of training.{runner.budget_note()}"
    )
    if refused:
        st.error(refused)
        return
    if st.button(
        "Run the backtest with refits",
        key=f"{_prefix(page)}_eval_run",
        icon=":material/play_arrow:",
    ):
        _start_refits(record, page, k)
    _follow_refits(page)


def _show_backtest(backtest: Mapping[str, Any], track: bool) -> None:
    metric = "euclidean" if track else "rmse"
    table = evaluate.backtest_frame(backtest, metric)
    table.columns = [c if c == "test" else display_name(c) for c in table.columns]
    name = "Mean distance" if track else "RMSE"
    st.plotly_chart(lab_charts.fold_error_figure(backtest, metric), width="stretch")
    st.dataframe(
        table.rename(columns={"test": "Test rows"}),
        width="stretch",
        column_config={"fold": st.column_config.NumberColumn("Fold")},
    )
    wins, folds = fold_wins(backtest, metric)
    refit = "refitted on each fold" if backtest["refit"] else "trained once"
    st.caption(
        f"{name} per fold (networks {refit}; baselines always refitted on each "
        f"fold's past). The best model beat the best baseline in {wins} of "
        f"{folds} folds."
    )
