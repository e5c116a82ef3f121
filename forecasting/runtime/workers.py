"""Backends of the engine: worker processes on this machine, or Ray tasks.

Both run the same thing, ``job.run(report)`` from :mod:`forecasting.nn.jobs`, in a
process that imported TensorFlow once. Only the engine's thread calls a backend.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
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


def _failure(err: BaseException) -> tuple[str, str]:
    """``(sentence, kind)`` for a job's exception."""
    kind = type(err).__name__
    if kind in USER_ERRORS:
        return str(err), kind
    return (
        f"Training failed with an unexpected {kind}: {err}; try smaller settings "
        "or press Train again.",
        "Error",
    )


# Local worker processes -------------------------------------------------------------
COMPILE_CACHE_ENV = "FORECASTING_COMPILE_CACHE"
"""Folder of the workers' shared disk cache of compiled (XLA) training steps;
empty or ``0`` turns it off."""


def compile_cache_dir(environ: dict[str, str]) -> Path | None:
    """Where the workers keep compiled training steps (None: nowhere).

    Default ``~/.cache/rnn-forecast-explorer/xla-<TensorFlow version>-<CPU>``
    (:func:`cpu_fingerprint`): one worker's compile serves every other worker
    and the next server start.
    """
    configured = environ.get(COMPILE_CACHE_ENV)
    if configured is not None:
        return None if configured.strip() in ("", "0") else Path(configured)
    from importlib import metadata

    version = "unknown"
    for name in ("tensorflow-cpu", "tensorflow"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            version = metadata.version(name)
            break
    name = f"xla-{version}-{cpu_fingerprint()}"
    return Path.home() / ".cache" / "rnn-forecast-explorer" / name


def cpu_fingerprint(cpuinfo: str | None = None) -> str:
    """Eight hex digits naming this CPU's instruction sets.

    Compiled steps are machine code for them, so machines that share a home
    folder (a school's network drive) keep apart caches: a step compiled for
    AVX-512 would crash a worker on a CPU without it.

    Args:
        cpuinfo: The text of ``/proc/cpuinfo`` (read when None; the ``flags``
            line counts, in any order, with the machine's architecture).
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:  # not on Linux: the architecture alone
            cpuinfo = ""
    lines = cpuinfo.splitlines()
    flags = next((ln.split(":", 1)[1] for ln in lines if ln.startswith("flags")), "")
    text = " ".join(sorted(set(flags.split()))) + " " + platform.machine()
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def xla_flags(environ: dict[str, str]) -> str:
    """``TF_XLA_FLAGS`` for a worker: the caller's, plus the compile cache.

    TensorFlow loads a compiled step from the cache when its HLO matches
    exactly (the numbers are the same bit for bit) and writes new ones
    atomically, so workers can share one folder.
    """
    flags = environ.get("TF_XLA_FLAGS", "")
    folder = compile_cache_dir(environ)
    if folder is None or "tf_xla_persistent_cache_directory" in flags:
        return flags
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        LOG.warning("no compile cache in %s: %s", folder, err)
        return flags
    return f"{flags} --tf_xla_persistent_cache_directory={folder}".strip()


WORKER_NICE = 10
"""How much lower the workers' CPU priority is than the web server's: when the
cores are full of training, a page that trains nothing still opens at once."""


def _worker_main(
    conn: Connection, threads: int, max_jobs: int, initializer: str | None
) -> None:
    """A worker process: import TensorFlow, then run jobs until told to stop."""
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
        return ("failed", job_id, *_failure(err))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job_id: str | None = None
    job_label: str = ""
    retiring: bool = False
    ready: bool = False
    dead: bool = False
    preparing: bool = False
    compiled: list[str] = field(default_factory=list)
    """Compile keys of the jobs it ran or prepared, latest last."""


PREPARE_AFTER_S = 2.0
"""Seconds without a job starting or ending before idle workers compile ahead: a
student who presses Train again at once finds every worker free."""

COMPILED_KEYS = 6
"""Compile keys a worker remembers: as many settings as it keeps compiled
(``forecasting.nn.fastpath._TRAINERS_MAX``)."""


def compile_key(job: Job) -> str | None:
    """A job's compile key (:meth:`forecasting.nn.jobs.FitJob.compile_key`), if any."""
    method = getattr(job, "compile_key", None)
    return method() if method is not None else None


def remember(keys: list[str], key: str | None) -> None:
    """Put ``key`` last in a worker's compile keys, keeping the latest few."""
    if key is None:
        return
    if key in keys:
        keys.remove(key)
    keys.append(key)
    del keys[:-COMPILED_KEYS]


def pick_worker(free: list[_Worker], key: str | None) -> _Worker:
    """The free worker for a job: one that has its key compiled, if any.

    Otherwise the one that knows the fewest keys, so that compiled settings
    spread over the workers instead of every worker compiling every setting.
    """
    warm = [w for w in free if key is not None and key in w.compiled]
    return warm[0] if warm else min(free, key=lambda w: len(w.compiled))


def _alive(worker: _Worker) -> bool:
    return worker.process.poll() is None


class LocalBackend:
    """Worker processes: ``-m forecasting.runtime.workers``, talking over a socket.

    Each worker is a fresh interpreter (so each has a clean TensorFlow) started
    with ``subprocess``, not ``multiprocessing``: multiprocessing's spawn re-runs
    the parent's ``__main__``, which inside Streamlit is whatever page script
    runs at that moment. The parent's ``sys.path`` is passed on, so the workers
    import the same code, and they share a disk cache of compiled training steps
    (:func:`compile_cache_dir`).

    Args:
        workers: Number of processes; ``None`` for one per core.
        threads: TensorFlow threads per worker; ``None`` shares the cores out.
        max_jobs: Jobs after which a worker is replaced (bounds its memory).
        initializer: ``"module:function"`` each worker calls with its thread
            count when it starts, before its first job (:func:`warm_up`);
            ``None`` for jobs that do not train, as in the engine tests.
        surge: Extra workers that only take jobs of owners holding no regular
            worker, or one of a lone owner's (see :mod:`forecasting.runtime.engine`).
            They start one by one once the regular ones are ready, so these
            import TensorFlow first.
        prepare: Let idle workers compile the settings of recent jobs ahead
            (:meth:`forecasting.nn.jobs.FitJob.prepare`), so that the next such job
            starts warm wherever it lands; a job goes to a worker that has its
            setting compiled when one is free.
    """

    def __init__(
        self,
        workers: int | None = None,
        threads: int | None = None,
        max_jobs: int = 40,
        initializer: str | None = None,
        surge: int = 0,
        prepare: bool = True,
    ):
        regular = workers or cores()
        self.surge = surge
        self.capacity = regular + surge
        self.threads = threads or max(1, cores() // regular)
        self.max_jobs = max_jobs
        self.initializer = initializer
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._wake_lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._closing = False
        self.prepare = prepare
        self._recent: dict[str, Job] = {}  # compile key -> a job with it, latest last
        self._surge_now = False  # told by the engine: want_surge()
        self._last_job_event = time.monotonic()  # a job started or ended
        self._surge_soon = False
        self.xla_flags = xla_flags(dict(os.environ))
        for _ in range(regular):
            self._workers.append(self._start())  # the surge ones later: _grow()

    def _start(self) -> _Worker:
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
        return _Worker(process, Connection(ours.detach()))

    def pids(self) -> list[int]:
        """Process ids of the workers (for tests and memory reports)."""
        return [w.process.pid for w in self._workers]

    def ready_workers(self) -> int:
        """Workers that have imported TensorFlow and wait for jobs."""
        return sum(1 for w in self._workers if w.ready and _alive(w))

    def busy_pid(self, job_id: str) -> int | None:
        """The pid of the worker running a job, if any."""
        return next((w.process.pid for w in self._workers if w.job_id == job_id), None)

    def _free(self) -> list[_Worker]:
        return [
            w
            for w in self._workers
            if w.job_id is None and not w.retiring and not w.preparing
        ]

    def free_slots(self) -> int:  # noqa: D102
        return len(self._free())

    def launch(self, job_id: str, job: Job) -> None:  # noqa: D102
        key = compile_key(job)
        worker = pick_worker(self._free(), key)
        worker.job_id, worker.job_label = job_id, job.label
        self._last_job_event = time.monotonic()
        remember(worker.compiled, key)
        if key is not None:
            self._recent.pop(key, None)
            self._recent[key] = job
            while len(self._recent) > COMPILED_KEYS:
                del self._recent[next(iter(self._recent))]
        # If the worker died, poll() reports the job as failed.
        with contextlib.suppress(BrokenPipeError, OSError):
            worker.conn.send(("run", job_id, job))

    def cancel(self, job_id: str) -> None:  # noqa: D102
        for worker in self._workers:
            if worker.job_id == job_id:
                with contextlib.suppress(BrokenPipeError, OSError):
                    worker.conn.send(("cancel", job_id))

    def wake(self) -> None:  # noqa: D102
        with self._wake_lock:  # called from any thread (every browser session)
            self._wake_w.send(None)

    def poll(self, timeout: float) -> list[Event]:  # noqa: D102
        # First, while the engine has just handed out what it could: a worker
        # whose job ends below is left for the engine's next hand-out.
        if not self._closing:
            self._grow()
        if self.prepare and not self._closing:
            self._prepare_idle()
        wait([self._wake_r, *(w.conn for w in self._workers)], timeout)
        events: list[Event] = []
        while self._wake_r.poll():
            self._wake_r.recv()
        for index, worker in enumerate(list(self._workers)):
            events += self._read(worker)
            if (worker.dead or not _alive(worker)) and not self._closing:
                events += self._replace(index, worker)
        return events

    def want_surge(self, now: bool, soon: bool) -> None:
        """What the engine, after every hand-out, says surge workers are for.

        Args:
            now: An owner a surge slot is for waits: one starts even when the
                cores are busy.
            soon: Several owners use the engine (a class): they start ahead, on
                spare cores. A lone user (the command line, a student at home)
                gets none ahead, only one through ``now`` when its own long jobs
                hold every worker.
        """
        self._surge_now, self._surge_soon = now, soon

    def _grow(self) -> None:
        """Start the next surge worker once every started worker is ready.

        One at a time, when :meth:`want_surge` asks for it: a start imports
        TensorFlow, and five imports at once on two cores made the first training
        after the start wait 1.5x as long. For someone who waits, none while a
        started one sits idle (the engine may be waiting for the epochs to tell).
        """
        if len(self._workers) >= self.capacity:
            return
        if not all(w.ready for w in self._workers):
            return
        idle = bool(self._free())
        if (self._surge_now and not idle) or (
            self._surge_soon and self._busy() < cores()
        ):
            self._workers.append(self._start())

    def _busy(self) -> int:
        """Workers using a core: importing TensorFlow, running or compiling."""
        return sum(
            1
            for w in self._workers
            if not w.ready or w.job_id is not None or w.preparing
        )

    def _prepare_idle(self) -> None:
        """Let idle workers compile recent settings they lack, on spare cores only.

        Called after the engine has handed out what it could, so an idle worker
        here has no job to take (the queue is empty, or only owners who already
        hold a regular worker wait, as in front of a surge worker). A lone
        student's run is never slowed by it (its jobs take the cores); the quiet
        moments fill the surge workers' caches, so a student who arrives behind a
        long run starts warm. Not within :data:`PREPARE_AFTER_S` of a job starting
        or ending: a compile that began in the gap between a student's runs made
        the next run wait for it.
        """
        if time.monotonic() - self._last_job_event < PREPARE_AFTER_S:
            return
        idle = [w for w in self._free() if w.ready]
        # A setting on one worker more than one owner can use at once is enough
        # for the next arrival; more would cost a lone student's first runs.
        enough = self.capacity - self.surge + 1
        wanted = [k for k in reversed(self._recent) if self._holders(k) < enough]
        todo = {id(w): [k for k in wanted if k not in w.compiled] for w in idle}
        candidates = [w for w in idle if todo[id(w)]]
        # Only on spare cores, so a compile ahead never slows a running job, and
        # one idle worker stays free for a newcomer.
        for worker in candidates[: min(len(idle) - 1, cores() - self._busy())]:
            # Not one that an earlier worker of this loop just took to enough.
            keys = [k for k in todo[id(worker)] if self._holders(k) < enough]
            if not keys:
                continue
            # The setting the fewest workers have, the latest first among equals.
            key = min(keys, key=self._holders)
            worker.preparing = True
            remember(worker.compiled, key)
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.conn.send(("prepare", self._recent[key]))

    def _holders(self, key: str) -> int:
        return sum(1 for w in self._workers if key in w.compiled)

    def _read(self, worker: _Worker) -> list[Event]:
        events: list[Event] = []
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                if message[0] in ("done", "failed", "cancelled"):
                    worker.job_id = None
                    self._last_job_event = time.monotonic()
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

    def _replace(self, index: int, worker: _Worker) -> list[Event]:
        """A worker ended: fail its job (if any) and start another in its place."""
        try:
            code = worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # its socket closed, yet it lives on
            worker.process.kill()
            code = worker.process.wait()
        events: list[Event] = []
        if worker.job_id is not None:
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
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.conn.send(("stop", "all"))
        deadline = time.monotonic() + 5
        for worker in self._workers:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)
            worker.conn.close()


# Ray ---------------------------------------------------------------------------------
_WARM: dict[str, bool] = {}


def _ray_task(
    job_id: str, job: Job, sink: Any, threads: int, initializer: str | None
) -> Any:
    """Run one job inside a Ray worker (TensorFlow is imported once per worker)."""
    if not _WARM:
        warm_up(initializer, threads)
        _WARM["done"] = True

    def report(payload: dict[str, Any]) -> None:
        sink.put.remote(job_id, payload)

    try:
        return job.run(report)
    except Exception as err:
        message, kind = _failure(err)
        raise JobError(message, kind) from None


class JobError(Exception):
    """A job's failure as it travels back from a Ray task."""

    def __init__(self, message: str, kind: str):
        super().__init__(message, kind)
        self.message, self.kind = message, kind


class _ProgressSink:
    """A Ray actor collecting progress payloads from the tasks."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def put(self, job_id: str, payload: dict[str, Any]) -> None:
        self.items.append((job_id, payload))

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        items, self.items = self.items, []
        return items


class RayBackend:
    """The same jobs as Ray tasks (one CPU each).

    Args:
        address: A Ray cluster's address; ``None`` starts a local Ray (or uses
            the one already initialised in this process).
        workers: Tasks at once; ``None`` for the cluster's CPUs.
        initializer: As :class:`LocalBackend`'s, called once per Ray worker.
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        initializer: str | None = None,
    ):
        import ray

        if not ray.is_initialized():
            package = str(Path(__file__).resolve().parents[1])  # forecasting/
            ray.init(
                address=address,
                runtime_env={"py_modules": [package]},
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
        self._ray = ray
        self.initializer = initializer
        self.capacity = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._task = ray.remote(_ray_task).options(num_cpus=1, max_retries=0)
        self._sink = ray.remote(_ProgressSink).options(num_cpus=0).remote()
        self._refs: dict[str, Any] = {}

    def free_slots(self) -> int:  # noqa: D102
        return self.capacity - len(self._refs)

    def launch(self, job_id: str, job: Job) -> None:  # noqa: D102
        self._refs[job_id] = self._task.remote(
            job_id, job, self._sink, 1, self.initializer
        )

    def cancel(self, job_id: str) -> None:  # noqa: D102
        ref = self._refs.get(job_id)
        if ref is not None:
            self._ray.cancel(ref)

    def wake(self) -> None:  # noqa: D102
        pass  # poll() returns every 0.1 s anyway

    def poll(self, timeout: float) -> list[Event]:  # noqa: D102
        ray = self._ray
        events: list[Event] = [
            ("progress", job_id, payload)
            for job_id, payload in ray.get(self._sink.drain.remote())
        ]
        if not self._refs:
            time.sleep(timeout)
            return events
        ids = {ref: job_id for job_id, ref in self._refs.items()}
        ready, _ = ray.wait(list(ids), num_returns=len(ids), timeout=timeout)
        for ref in ready:
            job_id = ids[ref]
            del self._refs[job_id]
            events.append(self._outcome(job_id, ref))
        return events

    def _outcome(self, job_id: str, ref: Any) -> Event:
        ray = self._ray
        try:
            return ("done", job_id, ray.get(ref))
        except ray.exceptions.TaskCancelledError:
            return ("cancelled", job_id)
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, JobError):
                return ("failed", job_id, cause.message, cause.kind)
            if isinstance(cause, KeyboardInterrupt | Cancelled):
                return ("cancelled", job_id)
            return ("failed", job_id, f"The Ray task failed: {cause or err}", "Error")
        except ray.exceptions.RayError as err:
            return (
                "failed",
                job_id,
                f"The Ray worker running this job stopped ({type(err).__name__}); "
                "the other jobs go on. Press Train to try again.",
                "WorkerDied",
            )

    def close(self) -> None:  # noqa: D102
        for ref in self._refs.values():
            self._ray.cancel(ref, force=True)
        self._refs.clear()


if (
    __name__ == "__main__"
):  # a worker: python -m forecasting.runtime.workers FD THREADS ...
    _fd, _threads, _max_jobs = (int(v) for v in sys.argv[1:4])
    _worker_main(Connection(_fd), _threads, _max_jobs, sys.argv[4] or None)
