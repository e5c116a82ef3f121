"""The app's one engine: started ahead, and told which browser sessions are alive.

Every page reaches the process-wide engine (:mod:`forecasting.runtime.engine`)
through :func:`engine`. :func:`warm_engine` starts the local workers at the first
page view, so they import TensorFlow while the student reads. A small thread
(:func:`_watch_sessions`) tells the engine which sessions are still connected;
the jobs of a tab closed for :data:`GONE_SECONDS` are cancelled.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from forecasting.runtime.engine import Engine
from forecasting.runtime.service import get_engine
from forecasting.settings.config import EngineSettings

LOG = logging.getLogger(__name__)

_WATCH_SECONDS = 0.5
GONE_SECONDS = 1.5
"""A session disconnected this long is a closed tab: its jobs are cancelled (a
reload within it keeps them)."""


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

    An owner disconnected for :data:`GONE_SECONDS` has closed its tab: the
    engine cancels its jobs at once (:meth:`Engine.leave`), and a running fit
    stops within the backend's cancel grace.
    """
    tabs: dict[str, float | None] = {}
    while True:
        watch_once(jobs_engine, alive, tabs, time.monotonic())
        time.sleep(every)


def watch_once(
    jobs_engine: Engine, alive: Any, tabs: dict[str, float | None], now: float
) -> None:
    """One round of :func:`_watch_sessions` at clock time ``now``.

    Args:
        jobs_engine: The engine whose owners are watched.
        alive: ``alive(owner)``: whether that browser session is connected.
        tabs: Kept between rounds: owner -> ``None`` while connected, or the
            time it was first seen disconnected. Owners never seen connected
            (not a browser tab) are left to the engine's own reaping.
        now: The clock time of this round, seconds.
    """
    for who in jobs_engine.owners():
        try:
            if alive(who):
                tabs[who] = None
                jobs_engine.heartbeat(who)
            elif who in tabs:
                since = tabs[who] = tabs[who] or now
                if now - since >= GONE_SECONDS:
                    del tabs[who]
                    jobs_engine.leave(who)
        except Exception:  # a watcher must never stop
            LOG.exception("session watch failed for %s", who)
