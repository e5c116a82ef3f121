"""Small jobs for the engine tests (they sleep, report and fail on purpose),
``wait_for`` and ``fit_in_a_fresh_worker``.

They run in real worker processes (and Ray tasks), so they live in a module the
workers can import, not inside a test function.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SleepJob:
    """Sleep ``steps`` x ``pause`` seconds, reporting after every step."""

    name: str
    steps: int = 1
    pause: float = 0.05
    estimate: float = 1.0

    @property
    def label(self) -> str:
        return self.name

    def key(self) -> str:
        return f"sleep:{self.name}:{self.steps}:{self.pause}"

    def run(self, report):
        started = time.time()
        for step in range(1, self.steps + 1):
            time.sleep(self.pause)
            report({"epoch": step, "epochs": self.steps, "logs": {}})
        return {"name": self.name, "pid": os.getpid(), "started": started}


@dataclass(frozen=True)
class StallJob:
    """Write this worker's pid to ``path``, then compute ``seconds`` in silence,
    as a long epoch does: nothing reported, no message read."""

    path: str
    seconds: float = 300.0
    estimate: float = 1.0

    @property
    def label(self) -> str:
        return "stall"

    def key(self) -> str:
        return f"stall:{self.path}"

    def run(self, report):
        with open(self.path, "w") as out:
            out.write(str(os.getpid()))
        time.sleep(self.seconds)
        return None


@dataclass(frozen=True)
class FailJob:
    """Raise a ValueError with a message for the user."""

    message: str
    estimate: float = 1.0

    @property
    def label(self) -> str:
        return "fail"

    def key(self) -> str:
        return f"fail:{self.message}"

    def run(self, report):
        raise ValueError(self.message)


def wait_for(predicate, timeout=60.0):
    """Poll ``predicate`` every 50 ms; ``True`` once it holds, ``False`` at timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def fit_in_a_fresh_worker(job, compile_cache):
    """``job``'s result from a new one-worker engine with its own compile cache.

    The worker compiles nothing ahead; ``compile_cache`` is the folder where it
    loads and writes compiled steps. Imports are inside: the engine tests'
    workers import this module and need none of them.
    """
    import pytest

    from forecasting.runtime.engine import Engine
    from forecasting.runtime.local import LocalBackend
    from forecasting.settings.config import WORKER_INITIALIZER

    with pytest.MonkeyPatch.context() as patch:  # read when the worker starts
        patch.setenv("FORECASTING_COMPILE_CACHE", str(compile_cache))
        backend = LocalBackend(
            workers=1, threads=1, prepare=False, initializer=WORKER_INITIALIZER
        )
    engine = Engine(backend)
    try:
        return engine.gather([engine.submit(job, "a")])[0]
    finally:
        engine.shutdown()
