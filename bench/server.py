"""Start and stop a Streamlit server: the one helper of the benches and browser tests.

:func:`start` launches ``streamlit run <script>`` headless on a loopback port, in
a session (and so a process group) of its own, and waits until
``/_stcore/health`` answers; :func:`serve` does the same for the length of a
``with`` block. The :class:`Server` it returns knows its URL, process, log and
the worker processes it started. :meth:`Server.stop` ends its process group,
then, by pid, every process below it that left the group. Only processes this
helper started are ever signalled; none is looked up by its name.

Example::

    from bench.server import serve

    with serve(ROOT, {"FORECASTING_WORKERS": "1"}) as server:
        urllib.request.urlopen(server.url)
        print(server.pid, server.workers(), server.log_tail())

Used by ``bench/app_start.py``, ``bench/versions.py`` (``bench.classroom`` and
``bench.wire``) and ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 120.0
"""How long a server may take to answer its health check, by default."""
BASE_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
"""Set in every server's environment, over this process's own."""
STOP_WAITS = ((signal.SIGTERM, 15), (signal.SIGKILL, 10))
"""The signals that stop a process group, each with its wait in seconds."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command(script: str, port: int) -> list[str]:
    """``streamlit run script`` headless on ``127.0.0.1:port``, without watchers."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        # The app's files do not change during a run: no watcher threads.
        "--server.fileWatcherType",
        "none",
    ]


# --------------------------------------------------------------------------------
# The process tree (/proc)
# --------------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int]]:
    """``pid -> (ppid, cpu ticks)`` of every process, from ``/proc/<pid>/stat``."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    """Every process below ``root`` (children, their children, ...).

    Args:
        root: A process id.
        parents: ``pid -> ppid`` of every process (see :func:`proc_table`).
    """
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], list(children.get(root, []))
    while todo and len(found) <= len(parents):
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_below(root: int) -> list[int]:
    """The processes below ``root`` now."""
    return descendants(root, {pid: row[0] for pid, row in proc_table().items()})


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot); None if it is gone.

    A pid and its start time name one process: a pid freed and taken again by
    another process comes with a later start time.
    """
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open(f"/proc/{pid}/stat") as stat,
    ):
        return int(stat.read().rsplit(")", 1)[1].split()[19])
    return None


def identities(pids: Iterable[int]) -> dict[int, int | None]:
    """``pid -> start ticks`` of each process (see :func:`start_ticks`)."""
    return {pid: start_ticks(pid) for pid in pids}


def stop_process(
    process: subprocess.Popen, extra: Mapping[int, int | None] | None = None
) -> None:
    """Stop a process started in a session of its own, and every process below it.

    Its process group gets SIGTERM, then SIGKILL if it has not ended within 15 s.
    The processes below it now, and those in ``extra``, get SIGKILL by pid: they
    may have left the group, but this process started them. A pid of ``extra``
    is signalled only while it still names the process seen then (same start
    time), never one that took the pid later.

    Args:
        process: Started with ``start_new_session=True``.
        extra: ``pid -> start ticks`` of processes it started earlier (workers
            seen while it ran; see :func:`identities`).
    """
    pids = {**(extra or {}), **identities(tree_below(process.pid))}
    for sig, wait in STOP_WAITS:
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived the leader
    for pid, ticks in sorted(pids.items()):
        if ticks is not None and start_ticks(pid) == ticks:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------


@dataclass
class Server:
    """A running ``streamlit run``, as :func:`start` returns it.

    Attributes:
        url: ``http://127.0.0.1:<port>``.
        process: The server process, leader of its own process group.
        log_path: Its stdout and stderr.
        started: ``time.perf_counter()`` just before the launch.
        start_s: Seconds from the launch to the first answer of its health check.
        children_seen: ``pid -> start ticks`` of the worker processes seen
            below it (:func:`identities`); :meth:`stop` kills those still alive.
    """

    url: str
    process: subprocess.Popen
    log_path: Path
    started: float
    start_s: float = 0.0
    children_seen: dict[int, int | None] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        """The server's process id (and its process group's)."""
        return self.process.pid

    def workers(self) -> list[int]:
        """The processes below the server now; remembered for :meth:`stop`."""
        found = tree_below(self.pid)
        self.remember(found)
        return found

    def remember(self, pids: Iterable[int]) -> None:
        """Note processes it started, for :meth:`stop`, right after seeing them."""
        new = [pid for pid in pids if pid not in self.children_seen]
        self.children_seen.update(identities(new))

    def log_size(self) -> int:
        """Bytes written to the log so far."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        """The log from byte ``offset`` on."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")

    def log_tail(self, chars: int = 3000) -> str:
        """The last ``chars`` characters of the log ("" if it cannot be read)."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def stop(self) -> None:
        """Stop the server, its process group and every worker it started."""
        stop_process(self.process, self.children_seen)
        RUNNING.pop(self.pid, None)


RUNNING: dict[int, Server] = {}
"""Servers started and not stopped yet, by pid (see :func:`stop_all`)."""


def stop_all() -> None:
    """Stop every server started here and not stopped yet (for a watchdog)."""
    for server in list(RUNNING.values()):
        with contextlib.suppress(Exception):
            server.stop()


def start(
    app_dir: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
    *,
    script: str = "app.py",
    log_path: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
    poll_s: float = 0.25,
) -> Server:
    """Start ``streamlit run script`` in ``app_dir`` and wait until it answers.

    Args:
        app_dir: The working folder of the server.
        env: Variables set over this process's environment and :data:`BASE_ENV`.
        port: The port (default: a free one).
        script: The app file, relative to ``app_dir`` or absolute.
        log_path: Where its output goes (default: a new temporary folder's
            ``server.log``).
        timeout_s: How long it may take to answer its health check.
        poll_s: Seconds between two health checks.

    Returns:
        The running server; call :meth:`Server.stop` when done.

    Raises:
        RuntimeError: It exited, or did not answer within ``timeout_s``; the
            message holds the end of its log. It is stopped before.
    """
    port = free_port() if port is None else port
    if log_path is None:
        log_path = Path(tempfile.mkdtemp(prefix="bench-server-")) / "server.log"
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            streamlit_command(script, port),
            cwd=app_dir,
            env={**os.environ, **BASE_ENV, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path, started)
    RUNNING[process.pid] = server
    try:
        _wait_healthy(server, timeout_s, poll_s)
    except BaseException:
        server.stop()
        raise
    server.start_s = time.perf_counter() - started
    return server


def _wait_healthy(server: Server, timeout_s: float, poll_s: float) -> None:
    """Return once ``/_stcore/health`` answers 200; raise if it never will."""
    deadline = server.started + timeout_s
    while True:
        code = server.process.poll()
        if code is not None:
            raise RuntimeError(
                f"streamlit exited with {code} before it answered; its log "
                f"({server.log_path}):\n{server.log_tail()}"
            )
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r,
        ):
            if r.status == 200:
                return
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"streamlit did not answer {server.url}/_stcore/health within "
                f"{timeout_s:g} s; its log ({server.log_path}):\n{server.log_tail()}"
            )
        time.sleep(poll_s)


@contextlib.contextmanager
def serve(
    app_dir: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
    *,
    script: str = "app.py",
    log_path: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> Iterator[Server]:
    """:func:`start` a server for the length of the ``with`` block, then stop it.

    The arguments are :func:`start`'s.
    """
    server = start(
        app_dir, env, port, script=script, log_path=log_path, timeout_s=timeout_s
    )
    try:
        yield server
    finally:
        server.stop()
