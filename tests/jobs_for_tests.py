"""Small jobs for the engine tests (they sleep, report and fail on purpose), and
``wait_for``.

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
