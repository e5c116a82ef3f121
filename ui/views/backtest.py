"""Walk-forward backtest: does the ranking hold on other test periods?

The third tab of *Beyond one test score* (:func:`ui.views.compare.beyond_section`):
the test period in K folds, with or without refitting the networks. Refits are
jobs on the engine, followed with the same progress board and Cancel as the main
training (:func:`ui.running.jobs.start_jobs`, :func:`ui.running.jobs.follow_jobs`);
without refit it is instant. Results are kept in the run's ``extras``, so changing
a tab or an option never recomputes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from forecasting.analysis.backtest import (
    MIN_FOLD_ROWS,
    assemble_backtest,
    backtest_frame,
    plan_backtest,
    refit_seconds,
    run_backtest,
)
from forecasting.analysis.compare import Comparison, Plan
from forecasting.charts import lab as lab_charts
from forecasting.data.outputs import markdown_text
from forecasting.forecasters import display_name
from forecasting.prep.budget import describe_seconds
from forecasting.runtime.protocol import JobFailed
from forecasting.settings.config import MODEL_LABELS
from ui.forms import state
from ui.running import jobs, runs
from ui.running.runs import RunRecord

MAX_FOLDS = 10
"""Most backtest folds offered."""

_BACKTESTS = "backtests"
"""Key in :attr:`RunRecord.extras`: ``(k, refit)`` -> backtest result."""


def _prefix(page: str) -> str:
    return "price" if page == "price" else "trk"


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
        finished = jobs.follow_jobs(f"{page}_backtest")
    except (DataError, ValueError, JobFailed) as err:
        st.error(markdown_text(err))
        return
    except Exception as err:  # never show a traceback
        jobs.report_unexpected(err)
        return
    if finished is None:
        return
    results, waiting, seconds = finished
    meta = waiting.meta
    owner = runs.find_run(page, meta["record"])
    if owner is None:  # the run was dropped from the session meanwhile
        return
    backtest = assemble_backtest(meta["plan"], owner.comparison, results)
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
        plan = plan_backtest(comparison, k, refit=True)
    except ValueError as err:
        st.error(markdown_text(err))
        return
    refits = Plan(comparison.config, comparison.windows, list(plan.jobs))
    meta = {"record": record.key, "k": k, "plan": plan}
    jobs.start_jobs(f"{page}_backtest", refits, meta)


def _refit_estimate(comparison: Comparison, k: int) -> tuple[float, str | None]:
    """Seconds the refits take, and the sentence refusing them over the budget."""
    seconds = refit_seconds(comparison.split, comparison.config, k)
    budget = jobs.app_budget()
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
    largest = min(MAX_FOLDS, n_test // MIN_FOLD_ROWS)
    if largest < 2:
        st.info(
            f"The test period has {n_test} rows; a backtest needs at least "
            f"{2 * MIN_FOLD_ROWS} (two folds of {MIN_FOLD_ROWS})."
        )
        return
    folds_key, refit_key = f"{prefix}_eval_folds", f"{prefix}_eval_refit"
    state.keep({refit_key: False})
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
    kept = _backtests(record)
    if refit and (k, True) not in kept:
        _refit_controls(record, page, k)
    elif not refit and (k, False) not in kept:
        kept[(k, False)] = run_backtest(comparison, k, refit=False)
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
        f"{describe_seconds(seconds)} of training.{jobs.budget_note()}"
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
    table = backtest_frame(backtest, metric)
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
