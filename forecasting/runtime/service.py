"""The process-wide engine and the one call that runs a batch of jobs on it."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Sequence
from typing import Any

from forecasting.runtime.engine import Engine, Ticket
from forecasting.runtime.protocol import JobFailed
from forecasting.settings.config import EngineSettings
from forecasting.settings.errors import DataError


def make_engine(settings: EngineSettings) -> Engine:
    """Start an engine with the backend the settings name."""
    if settings.engine == "ray":
        from forecasting.runtime.ray_backend import RayBackend  # imports ray

        backend = RayBackend(
            settings.ray_address, settings.workers, initializer=settings.initializer
        )
        return Engine(backend)
    from forecasting.runtime.local import LocalBackend

    return Engine(
        LocalBackend(
            settings.workers, surge=settings.surge, initializer=settings.initializer
        )
    )


_DEFAULT: dict[str, Engine] = {}
_DEFAULT_LOCK = threading.Lock()


def get_engine(settings: EngineSettings | None = None) -> Engine:
    """The process-wide engine (started on first use, from the environment)."""
    settings = settings or EngineSettings.from_env()
    with _DEFAULT_LOCK:
        engine = _DEFAULT.get(repr(settings))
        if engine is None:
            engine = _DEFAULT[repr(settings)] = make_engine(settings)
            # Before multiprocessing's own exit handler ends the workers, so that
            # the engine does not see them die and start new ones.
            atexit.register(engine.shutdown)
        return engine


def run_jobs(
    jobs: Sequence[Any],
    progress: Callable[[str, int, int, dict[str, float]], None] | None = None,
    engine: Engine | None = None,
    owner: str = "cli",
) -> list[Any]:
    """Run jobs on the engine (all queued at once) and return their results in order.

    Args:
        jobs: Jobs with ``run(report)`` (the :class:`Job` protocol).
        progress: Optional ``progress(kind, epoch, epochs, logs)`` per epoch of a
            job with a ``kind`` (a fit); with several seeds ``logs["seed"]`` says which.
        engine: Where the jobs run; the process-wide engine if ``None``.
        owner: Who asks (for the engine's fair queue).

    Raises:
        DataError, ValueError: A job's own error (bad data or settings).
        JobFailed: Any other failure.
    """
    engine = engine or get_engine()
    tickets = [engine.submit(job, owner) for job in jobs]
    by_ticket = {t.id: job for t, job in zip(tickets, jobs, strict=True)}
    several_seeds = len({getattr(job, "seed", 0) for job in jobs}) > 1

    def relay(ticket: Ticket, payload: dict[str, Any]) -> None:
        job = by_ticket[ticket.id]
        kind = getattr(job, "kind", None)
        if progress is not None and kind is not None and "epoch" in payload:
            logs = dict(payload["logs"])
            if several_seeds:
                logs["seed"] = float(job.seed)
            progress(kind, payload["epoch"], payload["epochs"], logs)

    try:
        return engine.gather(tickets, relay)
    except JobFailed as err:
        raise user_error(err) from None
    finally:
        engine.release(tickets)


def user_error(err: JobFailed) -> Exception:
    """Turn a job's failure back into the error type the caller expects."""
    if err.kind == "DataError":
        return DataError(str(err))
    if err.kind == "ValueError":
        return ValueError(str(err))
    return err
