"""The live board of a training: a bar per model, the place in line and Cancel.

:func:`wait` polls the engine's tickets and redraws a :class:`Board` until no job
is queued or running. Unchanged lines are not sent again: a class of 30 waits at
once, and every redraw is a message to a browser.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.nn.jobs import FitResult
from forecasting.prep.budget import describe_seconds
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
from forecasting.settings.config import MODEL_LABELS
from ui.running.sessions import owner

if TYPE_CHECKING:
    from ui.running.jobs import Pending

SHOWN: dict[str, int] = {"waiting": 0}
"""How often a page showed its place in line (for tests and curious teachers)."""

_POLL_SECONDS = 0.5


def wait(jobs_engine: Engine, waiting: Pending, board: Board) -> list[Status]:
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


def format_seconds(seconds: float) -> str:
    """``"42 s"`` under 90 seconds, else ``"3 min 05 s"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class Board:
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
    head = f"{done} of {len(statuses)} fits done, {format_seconds(shown)} so far."
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
