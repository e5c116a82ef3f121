"""What the runtime knows of jobs and backends: protocols and outcomes, nothing more.

The runtime runs any object that follows :class:`Job`, as ``concurrent.futures``
runs any callable; it imports nothing of the forecasting layers above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Report = Callable[[dict[str, Any]], None]
"""``report(payload)``: a job's progress (``{"epoch", "epochs", "logs"}``)."""


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


Event = tuple[Any, ...]
"""From a backend: ``("progress", id, payload)``, ``("done", id, result)``,
``("failed", id, message, kind)`` or ``("cancelled", id)``."""


class Backend(Protocol):
    """Runs jobs; only the engine's thread calls it."""

    capacity: int

    def free_slots(self) -> int: ...  # noqa: D102

    def launch(self, job_id: str, job: Job) -> None: ...  # noqa: D102

    def cancel(self, job_id: str) -> None: ...  # noqa: D102

    def poll(self, timeout: float) -> list[Event]: ...  # noqa: D102

    def wake(self) -> None: ...  # noqa: D102

    def close(self) -> None: ...  # noqa: D102
