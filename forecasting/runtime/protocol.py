"""What the runtime knows of jobs and backends: protocols, tickets and outcomes.

The runtime runs any object that follows :class:`Job`, as ``concurrent.futures``
runs any callable; it imports nothing of the forecasting layers above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from forecasting.runtime.policy import Worker

Report = Callable[[dict[str, Any]], None]
"""``report(payload)``: a job's progress (``{"epoch", "epochs", "logs"}``)."""


QUEUED, RUNNING, DONE, FAILED, CANCELLED = (
    "queued",
    "running",
    "done",
    "failed",
    "cancelled",
)


@dataclass(frozen=True)
class Ticket:
    """A claim on one job's result.

    Attributes:
        id: This ticket.
        job_id: The job (shared by tickets of identical jobs).
        owner: Who asked (a browser session id, ``"cli"``...).
        label: The job's label, e.g. ``"GRU, seed 455"``.
    """

    id: str
    job_id: str
    owner: str
    label: str


@dataclass(frozen=True)
class Status:
    """Where a ticket stands.

    Attributes:
        state: ``"queued"``, ``"running"``, ``"done"``, ``"failed"`` or
            ``"cancelled"``.
        position: Place in the queue (1 = next), 0 unless queued.
        wait_seconds: Estimated seconds until it starts (queued only).
        progress: The latest progress payload (``{"epoch", "epochs", "logs"}``).
        error: The failure sentence, if failed.
        error_kind: The failure's type name (``"DataError"``, ``"WorkerDied"``...).
    """

    state: str
    position: int = 0
    wait_seconds: float = 0.0
    progress: dict[str, Any] | None = None
    error: str | None = None
    error_kind: str | None = None


class Cancelled(Exception):  # noqa: N818 (it is not an error, it is an outcome)
    """Raised inside a job when it was cancelled; the fit stops at that epoch."""


class JobFailed(Exception):
    """A job ended with an error; ``str(err)`` is one sentence for the user."""

    def __init__(self, message: str, kind: str = "Error"):
        super().__init__(message)
        self.kind = kind


class JobCancelled(Exception):
    """The job was cancelled before it finished."""


class Job(Protocol):
    """What the engine runs (see :mod:`forecasting.nn.jobs`)."""

    estimate: float

    @property
    def label(self) -> str: ...  # noqa: D102

    def key(self) -> str: ...  # noqa: D102

    def run(self, report: Callable[[dict[str, Any]], None]) -> Any: ...  # noqa: D102


def compile_key(job: Job) -> str | None:
    """A job's compile key (:meth:`forecasting.nn.jobs.FitJob.compile_key`), if any."""
    method = getattr(job, "compile_key", None)
    return method() if method is not None else None


Event = tuple[Any, ...]
"""From a backend: ``("progress", id, payload)``, ``("done", id, result)``,
``("failed", id, message, kind)`` or ``("cancelled", id)``."""


class Backend(Protocol):
    """Runs jobs; only the engine's thread calls it.

    It decides nothing: the engine asks :func:`forecasting.runtime.policy.decide`
    with :meth:`workers` in the snapshot and calls the methods below.

    Attributes:
        capacity: Slots in all: regular ones plus ``spare``.
        spare: Slots beyond the regular ones, for worker processes started on
            demand.
        cores: CPU cores the workers share.
        can_prepare: Whether idle workers may compile ahead.
    """

    capacity: int
    spare: int
    cores: int
    can_prepare: bool

    def workers(self) -> tuple[Worker, ...]: ...  # noqa: D102

    def launch(self, job_id: str, job: Job, worker: int) -> None: ...  # noqa: D102

    def start_spare(self) -> None: ...  # noqa: D102

    def prepare(self, worker: int, job: Job) -> None: ...  # noqa: D102

    def cancel(self, job_id: str) -> None: ...  # noqa: D102

    def poll(self, timeout: float) -> list[Event]: ...  # noqa: D102

    def wake(self) -> None: ...  # noqa: D102

    def close(self) -> None: ...  # noqa: D102
