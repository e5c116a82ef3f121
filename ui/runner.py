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

A small thread (:func:`_watch_sessions`) tells the engine which sessions are
still connected; the jobs of a closed tab are cancelled within a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from forecasting import metrics
from forecasting.analysis.compare import (
    Comparison,
    Plan,
    Transfer,
    apply_to,
    assemble,
    plan_comparison,
)
from forecasting.nn.cell import CellJob, CellTrace
from forecasting.nn.jobs import FitResult, SummaryJob
from forecasting.prep.budget import (
    APP_BUDGET_SECONDS,
    budget_seconds,
    check_budget,
    check_rollout,
    describe_seconds,
)
from forecasting.runtime.engine import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    Engine,
    Status,
    Ticket,
)
from forecasting.runtime.protocol import JobFailed
from forecasting.runtime.service import get_engine, user_error
from forecasting.settings.config import MODEL_LABELS, EngineSettings, ExperimentConfig

LOG = logging.getLogger(__name__)

SHOWN: dict[str, int] = {"waiting": 0}
"""How often a page showed its place in line (for tests and curious teachers)."""

_PENDING = "_pending_"
_POLL_SECONDS = 0.5
_WATCH_SECONDS = 10.0


def engine() -> Engine:
    """The process-wide engine, and the thread that watches sessions for it."""
    engine = get_engine()
    _start_watcher(engine)
    return engine


_WARMING: list[threading.Thread] = []


def warm_engine() -> None:
    """Start the local engine's workers in the background at the first page view.

    The workers import TensorFlow while the student reads the page, so the first
    Train does not wait for that; the page itself never waits. A Ray engine is
    left to start on first use (``ray.init`` takes seconds and a cluster's
    workers are warm anyway).
    """
    if _WARMING:  # every page run calls this; only the first one starts
        return
    try:
        local = EngineSettings.from_env().engine == "local"
    except ValueError:  # a bad setting: said on the page when Train is pressed
        return
    with _WATCHERS_LOCK:
        if _WARMING or not local:
            return
        thread = threading.Thread(target=_warm, name="forecasting-warm", daemon=True)
        _WARMING.append(thread)
    thread.start()


def _warm() -> None:
    try:
        engine()
    except Exception:  # Train starts it again and says what is wrong
        LOG.exception("starting the engine ahead failed")


def owner() -> str:
    """This browser session's id (the engine's owner of its jobs)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


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
        st.error(str(err))
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
    board = _Board(waiting, slot, f"{name}_cancel")
    try:
        statuses = _wait(jobs_engine, waiting, board)
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
            f"{_format_seconds(seconds)}; the results are below.",
            icon=":material/check_circle:",
        )
    return comparison, waiting.meta, seconds


def follow_and_store(page: str) -> None:
    """Follow the page's training; store the result as the page's newest run.

    Errors become one sentence on the page, never a traceback.
    """
    from forecasting.data import DataError
    from ui import state

    try:
        finished = follow(page)
    except (DataError, ValueError, JobFailed) as err:
        st.error(str(err))
        return
    except Exception as err:  # never show a traceback
        report_unexpected(err)
        return
    if finished is None:
        return
    comparison, meta, seconds = finished
    state.store_run(
        page,
        state.RunRecord(
            key=meta["key"],
            comparison=comparison,
            data_label=meta["data_label"],
            summary=meta["summary"],
            seconds=seconds,
            extras=meta.get("extras", {}),
        ),
    )


def _wait(jobs_engine: Engine, waiting: Pending, board: _Board) -> list[Status]:
    """Poll the tickets, redrawing the board, until none is queued or running.

    Raises:
        JobFailed: The first job that failed (the others are cancelled).
    """
    who = owner()
    while True:
        statuses = [jobs_engine.status(t) for t in waiting.tickets]
        failed = next((s for s in statuses if s.state == FAILED), None)
        if failed is not None:
            jobs_engine.cancel(waiting.tickets)
            message = failed.error or "A training job failed."
            raise JobFailed(message, failed.error_kind or "Error")
        if all(s.state in (DONE, CANCELLED) for s in statuses):
            return statuses
        jobs_engine.heartbeat(who)
        board.draw(statuses, jobs_engine)
        time.sleep(_POLL_SECONDS)


def _format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class _Board:
    """Per-model progress bars, the place in line, and finished models' errors."""

    def __init__(self, waiting: Pending, slot: Any, cancel_key: str):
        self.waiting = waiting
        self.slot = slot
        self.cancel_key = cancel_key
        self.drawn = False
        self.kinds = waiting.plan.config.models
        self.slots: dict[str, Any] = {}
        self.box: Any = None
        self.status: Any = None
        self.table: Any = None
        self.rows: dict[str, dict[str, Any]] = {}
        self.shown: dict[str, tuple[str, float | None]] = {}

    def _layout(self) -> None:
        """Drawn on the first look (a cache hit draws nothing)."""
        holder = self.slot.container()
        self.box = holder.container(border=True)
        self.status = self.box.empty()
        for kind in self.kinds:
            self.slots[kind] = self.box.empty()
        self.table = self.box.empty()
        holder.button("Cancel training", key=self.cancel_key, icon=":material/stop:")
        self.drawn = True

    def draw(self, statuses: list[Status], jobs_engine: Engine) -> None:
        """Redraw what changed since the last look.

        A class of 30 waits at once, and every redraw is a message to a browser,
        so unchanged lines are not sent again.
        """
        if not self.drawn:
            self._layout()
        elapsed = time.perf_counter() - self.waiting.started
        self._put("status", _headline(statuses, jobs_engine, elapsed))
        jobs = self.waiting.plan.jobs
        for kind in self.kinds:
            mine = [
                (t, s)
                for t, s, job in zip(self.waiting.tickets, statuses, jobs, strict=True)
                if job.kind == kind
            ]
            self._put(kind, *_model_line(kind, mine))
            if all(s.state == DONE for _, s in mine) and kind not in self.rows:
                self._add_row(kind, [jobs_engine.result(t) for t, _ in mine])

    def _put(self, name: str, text: str, fraction: float | None = None) -> None:
        """Draw one line (the headline or a model's bar) if it changed."""
        if self.shown.get(name) == (text, fraction):
            return
        self.shown[name] = (text, fraction)
        if name == "status":
            self.status.info(text, icon=":material/model_training:")
        else:
            self.slots[name].progress(fraction or 0.0, text=text)

    def _add_row(self, kind: str, fits: list[FitResult]) -> None:
        test = self.waiting.plan.windows.split.test
        row: dict[str, Any] = {"model": MODEL_LABELS[kind]}
        # Fits of other splits (backtest folds) forecast other rows: no score.
        if all(f.predictions.shape == test.shape for f in fits):
            predictions = np.mean([f.predictions for f in fits], axis=0)
            track = self.waiting.plan.windows.split.track
            scores = metrics.score(test, predictions, track)
            row.update({metrics.METRIC_NAMES[k]: v for k, v in scores.items()})
        row["fit time (s)"] = float(np.mean([f.fit_seconds for f in fits]))
        row["parameters"] = fits[0].params
        if len(fits) > 1:
            row["seeds"] = len(fits)
        self.rows[kind] = row
        frame = pd.DataFrame(list(self.rows.values())).set_index("model")
        self.table.dataframe(frame, width="stretch")


def _headline(statuses: list[Status], jobs_engine: Engine, elapsed: float) -> str:
    """One sentence: running, or the place in line and the expected wait."""
    queued = [s for s in statuses if s.state == QUEUED]
    running = sum(1 for s in statuses if s.state == RUNNING)
    done = sum(1 for s in statuses if s.state == DONE)
    shared = jobs_engine.snapshot()
    workers = jobs_engine.backend.capacity
    # Whole 5 s after the first 10: thirty waiting pages each redraw their
    # headline only when it changes.
    shown = elapsed if elapsed < 10 else 5 * (elapsed // 5)
    head = f"{done} of {len(statuses)} fits done, {_format_seconds(shown)} so far."
    if queued and not running:
        SHOWN["waiting"] += 1
        first = min(s.position for s in queued)
        wait = max(s.wait_seconds for s in queued)
        return (
            f"{head} **Waiting: place {first} in line** (about "
            f"{describe_seconds(wait).removeprefix('about ')} until all of yours "
            f"have started). {shared['running']} job(s) of other students are "
            f"training on {workers} worker(s); jobs are taken in turn from each "
            "student."
        )
    note = (
        "The first epoch of a new setting includes compiling it."
        if any(s.progress for s in statuses)
        else "Starting the workers and compiling the models: the first epoch "
        "takes longest."
    )
    return f"{head} **Training** {running} fit(s) on {workers} worker(s). {note}"


def _model_line(kind: str, mine: list[tuple[Ticket, Status]]) -> tuple[str, float]:
    """A model's progress over its seeds: a line of text and the fraction done."""
    label = MODEL_LABELS[kind]
    total = done = 0.0
    latest = None
    for _, status in mine:
        progress = status.progress
        epochs = progress["epochs"] if progress else 1
        if status.state == DONE:
            done += 1
        elif progress:
            done += progress["epoch"] / epochs
            latest = progress
        total += 1
    fraction = round(min(done / max(total, 1), 1.0), 2)
    if all(s.state == DONE for _, s in mine):
        return f"{label}: done", 1.0
    if latest is not None:
        loss = latest["logs"].get("loss")
        loss_text = f", loss {loss:.5f}" if loss is not None else ""
        return f"{label}: epoch {latest['epoch']}/{latest['epochs']}{loss_text}", (
            fraction
        )
    queued = [s for _, s in mine if s.state == QUEUED]
    if queued:
        return f"{label}: waiting, place {min(s.position for s in queued)}", fraction
    return f"{label}: starting", fraction


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


# Sessions that are gone --------------------------------------------------------------
_WATCHERS: dict[int, threading.Thread] = {}
_WATCHERS_LOCK = threading.Lock()


def _session_alive(session_id: str) -> bool:
    """Whether a browser session is still connected (always, outside a server)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return True
    return Runtime.instance().is_active_session(session_id)


def _start_watcher(jobs_engine: Engine) -> None:
    with _WATCHERS_LOCK:
        if id(jobs_engine) in _WATCHERS:
            return
        thread = threading.Thread(
            target=_watch_sessions,
            args=(jobs_engine, _session_alive, _WATCH_SECONDS),
            name="forecasting-session-watch",
            daemon=True,
        )
        _WATCHERS[id(jobs_engine)] = thread
        thread.start()


def _watch_sessions(jobs_engine: Engine, alive: Any, every: float) -> None:
    """Heartbeat the engine for every owner whose browser is still connected.

    Owners that are gone get no heartbeat, so the engine cancels their jobs once
    its ``owner_ttl`` has passed.
    """
    while True:
        for who in jobs_engine.owners():
            try:
                if alive(who):
                    jobs_engine.heartbeat(who)
            except Exception:  # a watcher must never stop
                LOG.exception("session watch failed for %s", who)
        time.sleep(every)
