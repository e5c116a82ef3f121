"""Memory and CPU time of a server, its worker processes and the browsers.

A :class:`Monitor` polls ``/proc`` in a thread every :data:`MONITOR_S` seconds
while a scenario runs; ``bench.classroom`` and ``bench.wire`` read its peaks and
CPU times after each scenario. The process tree comes from ``bench/server.py``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from bench.server import descendants, proc_table, start_ticks

MONITOR_S = 0.5
"""Seconds between two samples."""


MEMORY_FIELDS = {"rss": ("status", "VmRSS:"), "pss": ("smaps_rollup", "Pss:")}


def memory_mb(pid: int | str, kind: str = "rss") -> float:
    """VmRSS (or Pss, shared pages split between their users) in MiB; 0 if gone."""
    name, key = MEMORY_FIELDS[kind]
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/{name}") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def available_mb() -> float:
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return 0.0


def tree_memory(server: int, kids: list[int], browser: set[int]) -> dict:
    return {
        "server_peak_mb": memory_mb(server),
        "children_peak_mb": sum(memory_mb(pid) for pid in kids),
        "children_pss_peak_mb": sum(memory_mb(pid, "pss") for pid in kids),
        "children_max_count": len(kids),
        "browser_peak_mb": sum(memory_mb(pid) for pid in browser),
        "browser_pss_peak_mb": sum(memory_mb(pid, "pss") for pid in browser),
    }


class Monitor:
    """Peak memory and CPU time of the server, its children and the browser.

    Polls /proc every :data:`MONITOR_S` in a thread; :meth:`take` returns the
    figures since the last call and starts over. Memory is summed over the
    processes of a group; RSS counts shared pages in every process, PSS splits
    them (the browser's fit in RAM is its PSS).
    """

    def __init__(self, server_pid: int, max_hours: float):
        self.server_pid = server_pid
        self.max_samples = int(max_hours * 3600 / MONITOR_S) + 1
        self.seen: dict[int, int | None] = {}
        """``pid -> start ticks`` of every child seen (for ``Server.stop``)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reset()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _reset(self) -> None:
        self.peaks: dict[str, float] = {}
        self.available = float("inf")
        self.base: dict[int, int] = {}
        self.ticks: dict[int, tuple[str, int]] = {}

    def _run(self) -> None:
        for _ in range(self.max_samples):
            with contextlib.suppress(Exception):
                self.sample()
            if self._stop.wait(MONITOR_S):
                return

    def sample(self) -> None:
        table = proc_table()
        parents = {pid: row[0] for pid, row in table.items()}
        kids = descendants(self.server_pid, parents)
        mine = set(descendants(os.getpid(), parents)) - set(kids) - {self.server_pid}
        values = tree_memory(self.server_pid, kids, mine)
        available = available_mb()
        with self._lock:
            for pid in kids:
                if pid not in self.seen:
                    self.seen[pid] = start_ticks(pid)
            for key, value in values.items():
                self.peaks[key] = max(self.peaks.get(key, 0), value)
            self.available = min(self.available, available)
            self._count_cpu(table, [self.server_pid], kids, mine)

    def _count_cpu(
        self, table: dict, web: list[int], kids: list[int], browser: set[int]
    ) -> None:
        for group, pids in (("web", web), ("kids", kids), ("browser", browser)):
            for pid in pids:
                if pid in table:
                    self.base.setdefault(pid, table[pid][1])
                    self.ticks[pid] = (group, table[pid][1])

    def take(self) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            self.sample()
        with self._lock:
            hz = os.sysconf("SC_CLK_TCK")
            cpu = {"web": 0, "kids": 0, "browser": 0}
            for pid, (group, ticks) in self.ticks.items():
                cpu[group] += ticks - self.base.get(pid, ticks)
            out: dict[str, Any] = {k: round(v, 1) for k, v in self.peaks.items()}
            out["available_min_mb"] = round(self.available, 1)
            out["server_cpu_s"] = round((cpu["web"] + cpu["kids"]) / hz, 1)
            out["web_cpu_s"] = round(cpu["web"] / hz, 1)
            out["browser_cpu_s"] = round(cpu["browser"] / hz, 1)
            self._reset()
        return out

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
