"""Old vs new: two versions of the app, each served and measured in turn.

"old" is a git ref, checked out with ``git worktree add --detach`` into a
temporary folder and removed afterwards; "new" is the working tree. Each version
runs as a server of ``bench/server.py`` with an empty cache of its own, under a
:class:`bench.monitor.Monitor` (:func:`monitored`). The machine is shared, so
only the ratio of the two (:func:`ratio`) compares them. Used by
``bench.classroom`` and ``bench.wire``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.monitor import Monitor
from bench.server import Server, serve

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OLD = "7dc7591"
"""The old app by default: training inside the server behind one lock."""


def log(message: str) -> None:
    """A progress line on stderr, with the time and the 1-minute load average."""
    stamp = time.strftime("%H:%M:%S")
    load = os.getloadavg()[0]
    print(f"[classroom {stamp} load {load:.1f}] {message}", file=sys.stderr, flush=True)


def loads() -> list[float]:
    """The load averages over 1, 5 and 15 minutes."""
    return [round(x, 2) for x in os.getloadavg()]


def version_env(folder: Path, cache: Path) -> dict[str, str]:
    """The server's variables: the version's own code first, empty caches."""
    path = os.environ.get("PYTHONPATH")
    return {
        "PYTHONPATH": f"{folder}{os.pathsep}{path}" if path else str(folder),
        "RNN_FORECAST_CACHE": str(cache),
        # Each server starts with no compiled steps on disk, as the old lock did.
        "FORECASTING_COMPILE_CACHE": str(cache / "xla"),
        "STREAMLIT_SERVER_HEADLESS": "true",
        "STREAMLIT_SERVER_SHOW_EMAIL_PROMPT": "false",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }


@contextlib.contextmanager
def serve_version(folder: Path, log_path: Path) -> Iterator[Server]:
    """Run ``streamlit run app.py`` in ``folder`` until the block ends."""
    with tempfile.TemporaryDirectory(prefix="classroom-cache-") as cache:
        env = version_env(folder, Path(cache))
        with serve(folder, env, log_path=log_path) as server:
            yield server


def git(*args: str, cwd: Path = ROOT, timeout: int = 120) -> str:
    """The output of ``git args`` in ``cwd``; raises if git fails."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    ).stdout.strip()


@contextlib.contextmanager
def old_checkout(ref: str) -> Iterator[Path]:
    """``git worktree add --detach`` of ``ref`` in a temporary folder, removed after."""
    folder = Path(tempfile.mkdtemp(prefix="classroom-old-"))
    try:
        git("worktree", "add", "--detach", str(folder), ref)
        yield folder
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            git("worktree", "remove", "--force", str(folder))
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            git("worktree", "prune")


def describe_tree(folder: Path) -> dict[str, Any]:
    """The folder, its commit and whether tracked files were changed."""
    commit = git("rev-parse", "HEAD", cwd=folder)
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", cwd=folder))
    return {"folder": str(folder), "commit": commit, "dirty": dirty}


def monitored(
    info: dict[str, Any],
    label: str,
    folder: Path,
    log_path: Path,
    hours: float,
    body: Callable[[Server, Monitor], None],
) -> None:
    """Serve one version and call ``body`` with a :class:`Monitor` (of ``hours``
    at most) on it.

    Never raises: ``info`` gets the server's start time, the tracebacks in its
    log, the load average before and after, and the error that ended it, if any
    (a server that did not start included).
    """
    info["load_start"] = loads()
    try:
        with serve_version(folder, log_path) as server:
            info["server_start_s"] = round(server.start_s, 2)
            monitor = Monitor(server.pid, hours).start()
            try:
                body(server, monitor)
            finally:
                monitor.stop()
                server.children_seen.update(monitor.seen)
            info["log_tracebacks"] = server.log_tail(10**7).count("Traceback")
    except Exception as err:
        info["error"] = f"{type(err).__name__}: {err}"[:2000]
        log(f"{label} failed: {info['error']}")
    info["load_end"] = loads()


def ratio(new: float | None, old: float | None) -> float | None:
    """``new / old`` to 3 decimals; None unless both are numbers and old is not 0."""
    if new is None or old is None or not isinstance(new, (int, float)) or not old:
        return None
    return round(new / old, 3)
