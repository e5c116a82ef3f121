"""Training as jobs on the engine, with a live board, a place in line and Cancel.

Pressing *Train* cuts the comparison into jobs (one fit per model kind and seed,
:func:`forecasting.analysis.compare.plan_comparison`), checks them against the teacher's
budget and submits them to the process-wide engine (:mod:`forecasting.runtime.engine`),
which runs them on worker processes (or Ray) with a queue that takes jobs in turn
from each browser session. The server process never imports TensorFlow.

The jobs are kept in the session (:class:`Pending`), not in the script run: the
page follows them (:func:`follow`), redrawing progress every few tenths of a
second, and any click simply reruns the page, which picks them up again. When
every job is done the results are assembled into a
:class:`~forecasting.analysis.compare.Comparison` and stored like before. Identical jobs
from several students train once (the engine joins them and keeps results).

The board itself is :mod:`ui.running.progress`; the engine and the thread that
cancels the jobs of closed tabs are :mod:`ui.running.sessions`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from forecasting.analysis.compare import (
    Comparison,
    Plan,
    Transfer,
    apply_to,
    assemble,
    plan_comparison,
)
from forecasting.data.outputs import markdown_text
from forecasting.nn.cell import CellJob, CellTrace
from forecasting.nn.jobs import FitResult, SummaryJob
from forecasting.prep.budget import (
    APP_BUDGET_SECONDS,
    budget_seconds,
    check_budget,
    check_rollout,
    describe_seconds,
)
from forecasting.runtime.engine import CANCELLED, DONE, Ticket
from forecasting.runtime.protocol import JobFailed
from forecasting.runtime.service import user_error
from forecasting.settings.config import ExperimentConfig
from ui.running import progress, runs
from ui.running.sessions import engine, owner

LOG = logging.getLogger(__name__)

_PENDING = "_pending_"


def cache_key(fingerprint: str, config: ExperimentConfig, rollout_steps: int) -> str:
    """Identify one trained comparison (data, settings, free run)."""
    return f"{fingerprint}|{config!r}|{rollout_steps}"


def app_budget() -> float | None:
    """Seconds of work one run may take: ``FORECASTING_BUDGET_SECONDS`` or 10 min."""
    return budget_seconds(APP_BUDGET_SECONDS)


def budget_note() -> str:
    """`` This server allows about 10 min of training per run.`` (or nothing)."""
    budget = app_budget()
    if budget is None:
        return ""
    limit = describe_seconds(budget).removeprefix("about ")
    return f" This server allows up to {limit} of training per run."


@dataclass
class Pending:
    """A training in progress, kept in the session so page reruns keep it.

    Attributes:
        plan: The comparison's jobs and windows.
        tickets: One engine ticket per job, in the plan's order.
        meta: What the page stores with the result (key, labels, extras).
        started: ``time.perf_counter()`` when Train was pressed.
        cached: Every job was done when it was submitted (kept results).
    """

    plan: Plan
    tickets: list[Ticket]
    meta: dict[str, Any]
    started: float = field(default_factory=time.perf_counter)
    cached: bool = False


def start_training(
    page: str,
    frame: pd.DataFrame,
    config: ExperimentConfig,
    meta: dict[str, Any],
    rollout_steps: int = 0,
) -> bool:
    """Check the settings and the budget, then queue the jobs of a comparison.

    A problem (data that do not fit, a run over the budget, a bad setting) is
    shown as one sentence on the page and nothing is queued.

    Returns:
        Whether the jobs were queued.
    """
    from forecasting.data import DataError

    try:
        check_rollout(rollout_steps)
        plan = plan_comparison(frame, config, rollout_steps)
        check_budget(config, len(plan.windows.x_train), app_budget())
    except (DataError, ValueError) as err:
        st.error(markdown_text(err))
        return False
    except Exception as err:  # never show a traceback
        report_unexpected(err)
        return False
    return start_jobs(page, plan, meta)


def start_jobs(name: str, plan: Plan, meta: dict[str, Any]) -> bool:
    """Queue a plan's jobs on the engine, followed later by :func:`follow_jobs`.

    Any earlier jobs kept under ``name`` are cancelled (after the new ones are
    submitted, so identical jobs are joined rather than started again).

    Args:
        name: Where the jobs are kept in the session: a page (its training) or
            e.g. ``"price_backtest"``; also the prefix of the Cancel button's key.
        plan: The jobs (:class:`~forecasting.nn.jobs.FitJob`), with the settings and
            windows the progress board reads.
        meta: Kept with the jobs and handed back when they are done.

    Returns:
        Whether the jobs were queued.
    """
    try:
        jobs_engine, who = engine(), owner()
        jobs_engine.heartbeat(who)
        tickets = [jobs_engine.submit(job, who) for job in plan.jobs]
    except Exception as err:  # never show a traceback
        report_unexpected(err)
        return False
    # Submitted before the earlier training is cancelled: pressing Train twice
    # joins the jobs already running instead of starting them again.
    cancel(name)
    cached = all(jobs_engine.status(t).state == DONE for t in tickets)
    st.session_state[_PENDING + name] = Pending(plan, tickets, meta, cached=cached)
    return True


def pending(page: str) -> Pending | None:
    """The page's training in progress, if any."""
    return st.session_state.get(_PENDING + page)


def cancel(page: str) -> bool:
    """Cancel the page's training in progress; return whether there was one."""
    waiting = st.session_state.pop(_PENDING + page, None)
    if waiting is None:
        return False
    engine().cancel(waiting.tickets)
    return True


def sidebar_note(current: str) -> None:
    """On every page: say which other page has a training going on."""
    titles = {"price": "Price forecasting", "tracking": "Tracking forecasting"}
    for page, title in titles.items():
        if page != current and pending(page) is not None:
            st.caption(
                f":material/hourglass_top: Your training on **{title}** goes on; "
                "open that page to follow it."
            )


def follow_jobs(name: str) -> tuple[list[FitResult], Pending, float] | None:
    """Show the progress of the jobs kept under ``name`` until they end.

    The board (bars per model, place in line, Cancel) is drawn where this is
    called; a page rerun while the jobs run picks them up again.

    Returns:
        ``(results, pending, seconds)`` once every job is done (results in the
        plan's job order; ``seconds`` is 0 when everything came from the cache),
        else ``None`` (nothing pending, cancelled or failed: the page says which).

    Raises:
        JobFailed: A job failed (as the user's error, see ``user_error``).
    """
    waiting = pending(name)
    if waiting is None:
        return None
    if st.session_state.get(f"{name}_cancel"):
        cancel(name)
        st.info("Training cancelled.", icon=":material/cancel:")
        return None
    jobs_engine = engine()
    slot = st.empty()
    board = progress.Board(waiting, slot, f"{name}_cancel")
    try:
        statuses = progress.wait(jobs_engine, waiting, board)
    except JobFailed as err:
        st.session_state.pop(_PENDING + name, None)
        slot.empty()
        raise user_error(err) from None
    slot.empty()
    st.session_state.pop(_PENDING + name, None)
    if any(s.state == CANCELLED for s in statuses):
        st.warning(
            "The training was cancelled (by a teacher's restart or a closed tab); "
            "press Train to start again.",
            icon=":material/cancel:",
        )
        return None
    results: list[FitResult] = [jobs_engine.result(t) for t in waiting.tickets]
    jobs_engine.release(waiting.tickets)
    # Jobs that ended while the student was on another page were trained all
    # the same: only kept results count as no training.
    seconds = 0.0 if waiting.cached else time.perf_counter() - waiting.started
    return results, waiting, seconds


def follow(page: str) -> tuple[Comparison, dict[str, Any], float] | None:
    """Show the page's training until it ends; return the finished comparison.

    Returns:
        ``(comparison, meta, seconds)`` once every job is done (``seconds`` is 0
        when everything came from the cache), else ``None`` (nothing pending,
        cancelled or failed: the page says which).
    """
    finished = follow_jobs(page)
    if finished is None:
        return None
    results, waiting, seconds = finished
    comparison = assemble(waiting.plan, results)
    if seconds:
        st.success(
            f"Trained {len(waiting.plan.config.models)} model(s) in "
            f"{progress.format_seconds(seconds)}; the results are below.",
            icon=":material/check_circle:",
        )
    return comparison, waiting.meta, seconds


def follow_and_store(page: str) -> None:
    """Follow the page's training; store the result as the page's newest run.

    Errors become one sentence on the page, never a traceback.
    """
    from forecasting.data import DataError

    try:
        finished = follow(page)
    except (DataError, ValueError, JobFailed) as err:
        st.error(markdown_text(err))
        return
    except Exception as err:  # never show a traceback
        report_unexpected(err)
        return
    if finished is None:
        return
    comparison, meta, seconds = finished
    runs.store_run(
        page,
        runs.RunRecord(
            key=meta["key"],
            comparison=comparison,
            data_label=meta["data_label"],
            summary=meta["summary"],
            seconds=seconds,
            extras=meta.get("extras", {}),
        ),
    )


def run_small(job: Any, what: str) -> Any:
    """Run one short job (a forecast, a model summary) and wait for it.

    Raises:
        DataError, ValueError: The job's own error.
        JobFailed: Any other failure.
    """
    jobs_engine, who = engine(), owner()
    ticket = jobs_engine.submit(job, who)
    with st.spinner(what):
        try:
            return jobs_engine.gather([ticket])[0]
        except JobFailed as err:
            raise user_error(err) from None
        finally:
            jobs_engine.release([ticket])


def check_with_keras(
    kinds: tuple[str, ...], window: int, n_features: int, units: int, layers: int
) -> dict[str, tuple[int, str]]:
    """Build each model kind in Keras on a worker; return its weights and summary.

    Returns:
        Kind -> ``(model.count_params(), model.summary() text)``.
    """
    job = SummaryJob(tuple(kinds), window, n_features, units, layers)
    return run_small(job, "Building the models in Keras on a worker…")


def inside_cell(
    kind: str, model_file: bytes, window: np.ndarray, layer: int = 0
) -> CellTrace:
    """Run one window through a trained model's recurrent layer on a worker.

    Args:
        kind: The model's kind, e.g. ``"lstm"``.
        model_file: The trained model's ``.keras`` bytes.
        window: One scaled input window ``(steps, features)``.
        layer: Which recurrent layer (0 = the one that reads the input).

    Returns:
        The layer's hidden states and gates at every step
        (:class:`forecasting.nn.cell.CellTrace`).
    """
    job = CellJob(kind, model_file, np.asarray(window), layer)
    return run_small(job, "Running the window through the cell on a worker…")


def transfer(comparison: Comparison, frame: pd.DataFrame) -> Transfer:
    """Apply a comparison's trained models to another series, on the workers."""
    with st.spinner("Forecasting the other individual…"):
        return apply_to(comparison, frame, engine(), owner())


def report_unexpected(err: BaseException) -> None:
    """Log an unexpected error with its traceback and tell the user in one line."""
    LOG.error("Unexpected error in the dashboard", exc_info=err)
    st.error(
        f"Something went wrong ({type(err).__name__}); try smaller settings, or "
        "reload the page if it happens again."
    )
