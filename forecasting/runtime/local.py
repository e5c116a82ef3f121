"""The local backend: worker processes on this machine, talking over sockets.

Each worker runs ``python -m forecasting.runtime.workers``. The backend decides
nothing: the engine asks :func:`forecasting.runtime.policy.decide` with
:meth:`LocalBackend.workers` in the snapshot and calls :meth:`~LocalBackend.launch`,
:meth:`~LocalBackend.start_spare` and :meth:`~LocalBackend.prepare`. It replaces a
worker that died and one that retired after ``max_jobs`` jobs.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from forecasting.runtime.compile_cache import xla_flags
from forecasting.runtime.policy import (
    LEAVING,
    POLICY,
    PREPARING,
    READY,
    STARTING,
    Worker,
    remember,
)
from forecasting.runtime.protocol import Event, Job, compile_key
from forecasting.runtime.workers import cores

LOG = logging.getLogger(__name__)

CANCEL_GRACE_S = 2.0
"""Seconds a cancelled job has to stop at its next epoch's end; then its worker
is killed and replaced, so a long epoch cannot hold a core after Cancel."""


@dataclass
class _Process:
    """One worker process and what the backend knows of it."""

    id: int
    process: Any
    conn: Connection
    job_id: str | None = None
    job_label: str = ""
    retiring: bool = False
    ready: bool = False
    dead: bool = False
    preparing: bool = False
    compiled: tuple[str, ...] = ()
    """Compile keys of the jobs it ran or prepared, latest last."""
    cancel_at: float | None = None
    """When its job was cancelled (monotonic clock), until the job ends."""

    def view(self) -> Worker:
        """The policy's view of it."""
        state = (
            LEAVING
            if self.retiring
            else STARTING
            if not self.ready
            else PREPARING
            if self.preparing
            else READY
        )
        return Worker(self.id, state, self.job_id, self.compiled)

    def send(self, message: tuple[Any, ...]) -> None:
        """Send a message; if the worker died, :meth:`LocalBackend.poll` says so."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(message)


def _alive(worker: _Process) -> bool:
    return worker.process.poll() is None


class LocalBackend:
    """Worker processes: ``-m forecasting.runtime.workers``, talking over a socket.

    Each worker is a fresh interpreter (so each has a clean TensorFlow) started
    with ``subprocess``, not ``multiprocessing``: multiprocessing's spawn re-runs
    the parent's ``__main__``, which inside Streamlit is whatever page script
    runs at that moment. The parent's ``sys.path`` is passed on, so the workers
    import the same code, and they share a disk cache of compiled training steps
    (:func:`forecasting.runtime.compile_cache.compile_cache_dir`).

    Args:
        workers: Regular worker processes; ``None`` for one per core.
        threads: TensorFlow threads per worker; ``None`` shares the cores out.
        max_jobs: Jobs after which a worker is replaced (bounds its memory).
        initializer: ``"module:function"`` each worker calls with its thread
            count when it starts, before its first job
            (:func:`forecasting.nn.setup.warm_up`); ``None`` for jobs that
            do not train, as in the engine tests.
        surge: Spare worker processes, started one by one when the policy says
            (:mod:`forecasting.runtime.policy`, rule 4).
        prepare: Let idle workers compile recent settings ahead when the policy
            says (rule 5, :meth:`forecasting.nn.jobs.FitJob.prepare`).
    """

    def __init__(
        self,
        workers: int | None = None,
        threads: int | None = None,
        max_jobs: int = POLICY.max_jobs,
        initializer: str | None = None,
        surge: int = 0,
        prepare: bool = True,
    ):
        regular = workers or cores()
        self.spare = self.surge = surge
        self.capacity = regular + surge
        self.cores = cores()
        self.can_prepare = prepare
        self.threads = threads or max(1, self.cores // regular)
        self.max_jobs = max_jobs
        self.initializer = initializer
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._wake_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._workers: list[_Process] = []
        self._closing = False
        self.xla_flags = xla_flags(dict(os.environ))
        for _ in range(regular):
            self._workers.append(self._start())  # the spare ones: start_spare()

    def _start(self) -> _Process:
        ours, theirs = socket.socketpair()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            # TensorFlow's C++ errors off unless asked for: loading a cached step
            # logs two false ones each time (a text-format parse it retries as
            # binary, and "+prefer-no-scatter" taken for a missing CPU feature).
            # A job's own errors reach its page as Python exceptions.
            "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
            "TF_XLA_FLAGS": self.xla_flags,
        }
        command = [
            sys.executable,
            "-m",
            "forecasting.runtime.workers",
            str(theirs.fileno()),
        ]
        command += [str(self.threads), str(self.max_jobs), self.initializer or ""]
        process = subprocess.Popen(
            command, env=env, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL
        )
        theirs.close()
        return _Process(next(self._ids), process, Connection(ours.detach()))

    # Asked by tests and reports ------------------------------------------------------
    def pids(self) -> list[int]:
        """Process ids of the workers (for tests and memory reports)."""
        return [w.process.pid for w in self._workers]

    def ready_workers(self) -> int:
        """Workers that have imported TensorFlow and wait for jobs."""
        return sum(1 for w in self._workers if w.ready and _alive(w))

    def busy_pid(self, job_id: str) -> int | None:
        """The pid of the worker running a job, if any."""
        return next((w.process.pid for w in self._workers if w.job_id == job_id), None)

    def holders(self, key: str) -> int:
        """Workers that have a compile key (ran or prepared its setting)."""
        return sum(1 for w in self._workers if key in w.compiled)

    # Called by the engine's thread ---------------------------------------------------
    def workers(self) -> tuple[Worker, ...]:  # noqa: D102
        return tuple(w.view() for w in self._workers)

    def _worker(self, worker: int) -> _Process:
        return next(w for w in self._workers if w.id == worker)

    def launch(self, job_id: str, job: Job, worker: int) -> None:  # noqa: D102
        chosen = self._worker(worker)
        chosen.job_id, chosen.job_label = job_id, job.label
        chosen.compiled = remember(
            chosen.compiled, compile_key(job), POLICY.compiled_keys
        )
        chosen.send(("run", job_id, job))

    def start_spare(self) -> None:  # noqa: D102
        if len(self._workers) < self.capacity and not self._closing:
            self._workers.append(self._start())

    def prepare(self, worker: int, job: Job) -> None:  # noqa: D102
        chosen = self._worker(worker)
        chosen.preparing = True
        chosen.compiled = remember(
            chosen.compiled, compile_key(job), POLICY.compiled_keys
        )
        chosen.send(("prepare", job))

    def cancel(self, job_id: str) -> None:  # noqa: D102
        for worker in self._workers:
            if worker.job_id == job_id:
                worker.cancel_at = time.monotonic()
                worker.send(("cancel", job_id))

    def wake(self) -> None:  # noqa: D102
        with self._wake_lock:  # called from any thread (every browser session)
            self._wake_w.send(None)

    def poll(self, timeout: float) -> list[Event]:  # noqa: D102
        wait([self._wake_r, *(w.conn for w in self._workers)], timeout)
        events: list[Event] = []
        while self._wake_r.poll():
            self._wake_r.recv()
        now = time.monotonic()
        for index, worker in enumerate(list(self._workers)):
            events += self._read(worker)
            late = (
                worker.cancel_at is not None and now - worker.cancel_at > CANCEL_GRACE_S
            )
            if late and worker.job_id is not None and not worker.dead:
                LOG.info("worker %s killed: its job ignored Cancel", worker.process.pid)
                worker.process.kill()
                worker.dead = True
            if (worker.dead or not _alive(worker)) and not self._closing:
                events += self._replace(index, worker)
        return events

    def _read(self, worker: _Process) -> list[Event]:
        events: list[Event] = []
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                if message[0] in ("done", "failed", "cancelled"):
                    worker.job_id, worker.cancel_at = None, None
                elif message[0] == "retire":
                    worker.retiring = True
                elif message[0] == "ready":
                    worker.ready = True
                elif message[0] == "prepared":
                    worker.preparing = False
                if message[0] in ("progress", "done", "failed", "cancelled"):
                    events.append(message)
        except (EOFError, OSError):
            worker.dead = True  # the other end is gone: the process ended
        return events

    def _replace(self, index: int, worker: _Process) -> list[Event]:
        """A worker ended: fail its job (if any) and start another in its place."""
        try:
            code = worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # its socket closed, yet it lives on
            worker.process.kill()
            code = worker.process.wait()
        events: list[Event] = []
        if worker.job_id is not None and worker.cancel_at is not None:
            events.append(("cancelled", worker.job_id))  # killed by us, as asked
        elif worker.job_id is not None:
            LOG.warning("worker %s died (exit code %s)", worker.process.pid, code)
            events.append(
                (
                    "failed",
                    worker.job_id,
                    f"The worker process training {worker.job_label} stopped "
                    f"unexpectedly (exit code {code}, for example out of memory); "
                    "the other jobs go on. Press Train to try again, perhaps with "
                    "smaller settings.",
                    "WorkerDied",
                )
            )
        worker.conn.close()
        self._workers[index] = self._start()
        return events

    def close(self) -> None:  # noqa: D102
        self._closing = True
        for worker in self._workers:
            worker.send(("stop", "all"))
        deadline = time.monotonic() + 5
        for worker in self._workers:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)
            worker.conn.close()
