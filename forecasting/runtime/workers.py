"""Inside a worker: what a worker process (or a Ray task) does with a job.

``python -m forecasting.runtime.workers FD THREADS MAX_JOBS INITIALIZER`` is one
local worker (started by :class:`forecasting.runtime.local.LocalBackend`): it
imports TensorFlow once, then runs ``job.run(report)`` from
:mod:`forecasting.nn.jobs` for each job it is sent, and compiles ahead when told.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from forecasting.runtime.protocol import Cancelled, Event, Job

LOG = logging.getLogger(__name__)

USER_ERRORS = ("DataError", "ValueError")
"""Error types whose message is a sentence for the user, passed on as it is."""


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def warm_up(initializer: str | None, threads: int) -> None:
    """Call ``initializer(threads)`` once in a worker, before its first job.

    Args:
        initializer: ``"package.module:function"`` (as
            :class:`concurrent.futures.ProcessPoolExecutor`'s ``initializer``, but
            by name, so the runtime imports nothing of the layers above it);
            ``None`` does nothing. The default engine's imports TensorFlow
            (:attr:`forecasting.settings.config.EngineSettings.initializer`).
        threads: Threads the worker's kernels may use.
    """
    if not initializer:
        return
    module, _, name = initializer.partition(":")
    getattr(importlib.import_module(module), name)(threads)


def failure(err: BaseException) -> tuple[str, str]:
    """``(sentence, kind)`` for a job's exception."""
    kind = type(err).__name__
    if kind in USER_ERRORS:
        return str(err), kind
    return (
        f"Training failed with an unexpected {kind}: {err}; try smaller settings "
        "or press Train again.",
        "Error",
    )


WORKER_NICE = 10
"""How much lower the workers' CPU priority is than the web server's: when the
cores are full of training, a page that trains nothing still opens at once."""


PARENT_CHECK_S = 0.5
"""How often a worker checks that the process that started it is still there."""


def watch_parent(parent: int, every: float = PARENT_CHECK_S) -> threading.Thread:
    """Exit this process once ``parent`` has ended, even in the middle of a fit.

    A worker reads its parent's messages only between epochs, so without this
    a killed server or command line would leave it training to the end of an
    epoch. An orphan is given a new parent, which this thread notices.

    Args:
        parent: The process id of the server or command line.
        every: Seconds between two checks.

    Returns:
        The daemon thread that watches.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)  # no cleanup to wait for: the parent's results are gone

    thread = threading.Thread(target=watch, name="watch-parent", daemon=True)
    thread.start()
    return thread


def _worker_main(
    conn: Connection, threads: int, max_jobs: int, initializer: str | None
) -> None:
    """A worker process: import TensorFlow, then run jobs until told to stop."""
    watch_parent(os.getppid())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    warm_up(initializer, threads)
    conn.send(("ready",))
    done = 0
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        if message[0] == "prepare":
            _prepare(conn, message[1])
            continue
        if message[0] != "run":
            continue  # a cancel for a job that already ended
        _, job_id, job = message
        outcome = _run_one(conn, job_id, job)
        done += 1
        retire = bool(max_jobs) and done >= max_jobs
        if retire:  # said before the outcome, so no job is sent to a leaving worker
            conn.send(("retire",))
        conn.send(outcome)
        if retire:
            return


def _prepare(conn: Connection, job: Job) -> None:
    """Compile ahead for a job (see :meth:`forecasting.nn.jobs.FitJob.prepare`)."""
    try:
        job.prepare()
    except Exception:  # only lost time: the real job compiles it again
        traceback.print_exc(file=sys.stderr)
    conn.send(("prepared",))


def _run_one(conn: Connection, job_id: str, job: Job) -> Event:
    def report(payload: dict[str, Any]) -> None:
        conn.send(("progress", job_id, payload))
        while conn.poll():
            message = conn.recv()
            if message[0] in ("cancel", "stop") and message[-1] in (job_id, "all"):
                raise Cancelled(job_id)

    try:
        return ("done", job_id, job.run(report))
    except Cancelled:
        return ("cancelled", job_id)
    except Exception as err:
        if type(err).__name__ not in USER_ERRORS:
            traceback.print_exc(file=sys.stderr)
        return ("failed", job_id, *failure(err))


if __name__ == "__main__":  # a worker: python -m forecasting.runtime.workers FD ...
    _fd, _threads, _max_jobs = (int(v) for v in sys.argv[1:4])
    _worker_main(Connection(_fd), _threads, _max_jobs, sys.argv[4] or None)
