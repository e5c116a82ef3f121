"""Classroom benchmark: many students train at once, old app vs new app, one run.

Usage (from the repository root)::

    python -m bench.classroom --quick     # a few minutes per version: 2 students
    python -m bench.classroom             # classes of 6 and 30 students
    python -m bench.classroom --old REF --out bench/results/classroom.json

"old" is a git ref (default ``7dc7591``: training inside the Streamlit server
behind one process-wide lock), checked out with ``git worktree add --detach``
into a temporary folder and removed afterwards; "new" is the working tree this
script lives in. For each version a ``streamlit run app.py`` is started on a free
loopback port, the scenarios run against it, and its whole process group (worker
processes included) is stopped.

Students are pages of ONE headless Chromium, one browser context each (its own
Streamlit session), driven over the DevTools protocol. A student opens the price
page, presses "Quick demo" (32 units, 10 epochs), types its own seed (1000 + its
number, so no two students share a result cache entry) and presses "Train
models". Its time to results runs from that click to the success message
containing "the results are below", both taken inside the page
(``performance.now()``). An error alert, an exception box or the timeout counts as
an error, with its message.

Scenarios: ``warmup`` (the first training after the start), ``alone`` (one
student), ``behind`` (student A trains 60 epochs, B presses Quick demo + Train
5 s later), ``class_N`` (N students press Train within the same second) and
``nothing_N`` (the Learn page opened while N students train, in a new tab and
from the menu of a tab that has the app open). A thread polls /proc every 0.5 s
for the resident memory and CPU time of the server, of its child processes and of
the browsers.

In a class the pages run on the students' own machines, while here they share the
server's two cores, so the students' Chromium runs at a lower CPU priority: it is
started in a session of its own, and that session's autogroup gets nice 10
(``--students-nice``; the kernel's weight 110 against the server's 1024, and all
the CPU the server leaves).
Three other ways were tried. A nice value on the browser's threads does nothing
against the server: a thread's nice value only counts against the threads of its
own autogroup, and the server runs in another session, so the pages took their CPU
at the training's priority (at nice 0, a class of 30's pages took most of the two
cores and the workers a few percent each). Nice 19 for the whole autogroup
starved the browser: in a class of 30, 14 pages had no results minutes after the
training had ended, 13 of them showing the page's start message again, as a new
session does. A cgroup capping the browser at half a core made every page load
slow and the results late (the class of 6's last student: 75 s against 47 s at
nice 19).

The Learn-page visitor has a second Chromium, in a session of its own at nice 0
(``--visitor-nice``). It shares the cores with the workers: with the new app's
class keeping both cores busy, the Learn page from the menu took 2.17 s against
the old lock's 1.78 s, whose one training at a time uses about 1.4 of the 2 cores.
``--visitor-nice -10`` puts the visitor ahead of the server, as if it had a
machine of its own, so that what is left of its wait is the server's answer.

Writes the raw numbers as JSON (``--out``) and a Markdown table beside it (same
name, ``.md``), also printed: old, new and new/old. The machine is shared, so
only the ratios of the two versions measured in the same run mean something.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OLD = "7dc7591"
DEFAULT_OUT = ROOT / "bench" / "results" / "classroom.json"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every student's page keeps full-speed timers and its websocket, as if each
    # sat in front of its own screen.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
VIEWPORT = {"width": 1280, "height": 900}

DONE_MARKER = "the results are below"
"""Text of the success message that ends a student's wait."""
QUICK_DEMO = "Quick demo"
QUICK = {"Units per layer": 32, "Epochs": 10}
"""What the Quick demo button must have set (checked on every page)."""
SEED_LABEL, EPOCHS_LABEL = "Seed", "Epochs"
LEARN_PATH = "/learn"
LEARN_HEADING = re.compile(r"^\s*Learn\b")
"""The Learn page's first heading (its ``st.title``) starts with this."""
SEL = {
    "idle": '[data-testid="stApp"][data-test-script-state="notRunning"]'
    '[data-test-connection-state="CONNECTED"]',
    "train": '[data-testid="stFormSubmitButton"] button',
    "success": '[data-testid="stAlertContentSuccess"]',
    "error": '[data-testid="stAlertContentError"]',
    "exception": '[data-testid="stException"]',
    "h1": '[data-testid="stMain"] h1',
    "marker": DONE_MARKER,
}

SEED_BASE = 1000
LONG_EPOCHS = 60
BEHIND_DELAY_S = 5.0
LEARN_DELAY_S = 5.0
CLASS_SIZES, QUICK_CLASS_SIZES = (6, 30), (2,)
NOTHING_STUDENTS, QUICK_NOTHING_STUDENTS = 6, 2
SERVER_START_S = 120
UI_TIMEOUT_MS = 90_000
"""Page loads, reruns and widgets (generous: the server may be busy training)."""
POLL_S = 1.0
MONITOR_S = 0.5
CLICK_LEAD_MS = 1500
"""The students' clicks are scheduled this long ahead, all at the same instant."""

TRACKER = """(() => {
    const sel = __SEL__;
    const s = window.__bench = {runs: 0, click: null, clickEpoch: null,
                                done: null, error: null};
    new MutationObserver(records => {
        for (const r of records) {
            if (r.target.getAttribute('data-test-script-state') === 'running') {
                s.runs += 1;
            }
        }
    }).observe(document, {subtree: true, attributes: true,
                          attributeFilter: ['data-test-script-state']});
    document.addEventListener('click', e => {
        if (e.target.closest && e.target.closest(sel.train)) {
            s.click = performance.now(); s.clickEpoch = Date.now();
            s.done = null; s.error = null;
        }
    }, true);
    setInterval(() => {
        if (s.click === null || s.done !== null) return;
        for (const el of document.querySelectorAll(sel.success)) {
            if ((el.innerText || '').includes(sel.marker)) {
                s.done = performance.now(); return;
            }
        }
        const bad = document.querySelector(sel.error + ', ' + sel.exception);
        if (bad) {
            s.error = (bad.innerText || 'error alert').trim().slice(0, 400);
            s.done = performance.now();
        }
    }, 100);
})();""".replace("__SEL__", json.dumps(SEL))
"""Init script of every page: counts script runs, stamps the Train click and the
first success message with the done-marker (or error alert) after it."""

CLICK_AT = """([sel, at]) => {
    const button = document.querySelector(sel);
    if (!button) return false;
    setTimeout(() => button.click(), Math.max(0, at - Date.now()));
    return true;
}"""


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    load = os.getloadavg()[0]
    print(f"[classroom {stamp} load {load:.1f}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------
# Processes and memory (/proc)
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
    """Every process below ``root`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], list(children.get(root, []))
    while todo and len(found) <= len(parents):
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


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
        self.seen: set[int] = set()
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
            self.seen.update(kids)
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


# --------------------------------------------------------------------------------
# The Streamlit server and the old checkout
# --------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    start_s: float = 0.0
    children_seen: set[int] = field(default_factory=set)

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def server_env(folder: Path, cache: Path) -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONPATH": f"{folder}{os.pathsep}{path}" if path else str(folder),
        "RNN_FORECAST_CACHE": str(cache),
        # Each server starts with no compiled steps on disk, as the old lock did.
        "FORECASTING_COMPILE_CACHE": str(cache / "xla"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
        "STREAMLIT_SERVER_HEADLESS": "true",
        "STREAMLIT_SERVER_SHOW_EMAIL_PROMPT": "false",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }


def wait_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    for _ in range(SERVER_START_S * 4 + 1):
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"streamlit exited with {process.returncode}: {tail}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r,
        ):
            if r.status == 200:
                return
        if time.monotonic() > deadline:
            break
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer {url} within {SERVER_START_S} s")


RUNNING: dict[int, subprocess.Popen] = {}
"""Servers started and not yet stopped (for the watchdog)."""


def stop_server(process: subprocess.Popen, extra: set[int]) -> None:
    """Stop the server's process group, then any child seen that is still alive."""
    parents = {pid: row[0] for pid, row in proc_table().items()}
    extra = extra | set(descendants(process.pid, parents))
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in sorted(extra):  # workers that left the group: only ours, by pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    RUNNING.pop(process.pid, None)


@contextlib.contextmanager
def serve(folder: Path, log_path: Path) -> Iterator[Server]:
    """Run ``streamlit run app.py`` in ``folder`` until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="classroom-cache-") as cache:
        started = time.monotonic()
        with open(log_path, "wb") as server_log:
            process = subprocess.Popen(
                server_command(port),
                cwd=folder,
                env=server_env(folder, Path(cache)),
                stdin=subprocess.DEVNULL,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        RUNNING[process.pid] = process
        server = Server(url, process, log_path)
        try:
            wait_healthy(url, process, log_path)
            server.start_s = round(time.monotonic() - started, 2)
            yield server
        finally:
            stop_server(process, server.children_seen)


def git(*args: str, cwd: Path = ROOT, timeout: int = 120) -> str:
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
    commit = git("rev-parse", "HEAD", cwd=folder)
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", cwd=folder))
    return {"folder": str(folder), "commit": commit, "dirty": dirty}


# --------------------------------------------------------------------------------
# Students (browser pages)
# --------------------------------------------------------------------------------


@dataclass
class Student:
    name: str
    seed: int | None
    context: Any
    page: Any
    result: dict[str, Any] | None = None


@dataclass
class Bench:
    browser: Any
    visitor: Any
    server: Server
    monitor: Monitor
    timeout_s: float
    alone_repeats: int = 1
    seeds: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    open: list[Student] = field(default_factory=list)

    def next_seed(self) -> int:
        return SEED_BASE + next(self.seeds)

    def close_all(self) -> None:
        for student in self.open:
            with contextlib.suppress(Exception):
                student.context.close()
        self.open.clear()


def new_page(bench: Bench, name: str, seed: int | None) -> Student:
    context = bench.browser.new_context(viewport=VIEWPORT)
    context.add_init_script(TRACKER)
    context.set_default_timeout(UI_TIMEOUT_MS)
    student = Student(name, seed, context, context.new_page())
    bench.open.append(student)
    return student


def runs(page: Any) -> int:
    return int(page.evaluate("() => (window.__bench || {runs: 0}).runs"))


def settle(page: Any, before: int) -> None:
    """Wait for the script run an action started (if any), then for idle."""
    with contextlib.suppress(Exception):  # the action may start no run
        page.wait_for_function(
            "n => window.__bench.runs > n", arg=before, timeout=5_000, polling=50
        )
    page.locator(SEL["idle"]).wait_for(timeout=UI_TIMEOUT_MS)


def open_price(bench: Bench, name: str) -> Student:
    """A new student on the price page, its Train button ready."""
    student = new_page(bench, name, bench.next_seed())
    student.page.goto(bench.server.url + "/", timeout=UI_TIMEOUT_MS)
    student.page.get_by_role("button", name=QUICK_DEMO).wait_for()
    student.page.locator(SEL["train"]).wait_for()
    settle(student.page, -1)
    return student


def fill(page: Any, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Tab")
    shown = box.input_value()
    if float(shown) != float(value):
        raise RuntimeError(f"{label!r} shows {shown}, not {value}")


def quick_demo(student: Student, epochs: int | None = None) -> None:
    """Press Quick demo, check its settings, then type the seed (and epochs)."""
    page = student.page
    before = runs(page)
    page.get_by_role("button", name=QUICK_DEMO).click()
    settle(page, before)
    for label, value in QUICK.items():
        box = page.get_by_role("spinbutton", name=label, exact=True)
        # A slow page may not have started the button's rerun within settle's
        # 5 s, so the value is awaited, not read once.
        deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
        while float(shown := box.input_value()) != value:
            if time.monotonic() > deadline:
                raise RuntimeError(f"after Quick demo {label!r} shows {shown}")
            time.sleep(0.2)
    settle(page, before)
    if epochs is not None:
        fill(page, EPOCHS_LABEL, epochs)
    fill(page, SEED_LABEL, student.seed)


def prepare(bench: Bench, count: int, prefix: str = "s") -> list[Student]:
    students = []
    for number in range(1, count + 1):
        student = open_price(bench, f"{prefix}{number}")
        quick_demo(student)
        students.append(student)
    return students


def click_train(student: Student) -> None:
    student.page.locator(SEL["train"]).click(no_wait_after=True)


def schedule_clicks(students: list[Student]) -> int:
    """Make every Train button click itself at one instant; return it (ms epoch)."""
    at = int(time.time() * 1000) + CLICK_LEAD_MS + 20 * len(students)
    for student in students:
        student.page.evaluate(CLICK_AT, [SEL["train"], at])
    return at


def check_clicks(students: list[Student], at: int) -> float:
    """After the instant: click again where it was lost; return the spread (s).

    A student's page may answer slowly here (its browser's CPU is limited while
    the server trains), so a scenario that must act at a given time does so
    before calling this.
    """
    time.sleep(max(0.0, at / 1000 - time.time()) + 0.5)
    stamps = []
    for student in students:
        state = student.page.evaluate("() => window.__bench")
        if state["clickEpoch"] is None:  # the scheduled click was lost
            log(f"{student.name}: scheduled click lost, clicking again")
            click_train(student)
            state = student.page.evaluate("() => window.__bench")
        stamps.append(state["clickEpoch"] or time.time() * 1000)
    return round((max(stamps) - min(stamps)) / 1000, 3)


def click_together(students: list[Student]) -> float:
    """Click every Train button at the same instant; return the clicks' spread (s)."""
    return check_clicks(students, schedule_clicks(students))


def collect(student: Student) -> bool:
    """Fill ``student.result`` if its page shows the results or an error."""
    try:
        state = student.page.evaluate("() => window.__bench")
    except Exception as err:  # the page is gone
        student.result = {"seconds": None, "error": f"page failed: {err}"[:400]}
        return True
    if state is None or state["click"] is None or state["done"] is None:
        return False
    elapsed = round((state["done"] - state["click"]) / 1000, 3)
    if state["error"]:
        student.result = {"seconds": None, "error": state["error"], "after_s": elapsed}
    else:
        student.result = {"seconds": elapsed, "error": None}
    student.result["done_epoch_s"] = state["clickEpoch"] / 1000 + elapsed
    return True


def wait_results(bench: Bench, students: list[Student]) -> None:
    """Wait (at most the timeout) until every student has results or an error."""
    deadline = time.monotonic() + bench.timeout_s
    pending = [s for s in students if s.result is None]
    for _ in range(int(bench.timeout_s / POLL_S) + 2):
        pending = [s for s in pending if not collect(s)]
        if not pending:
            return
        if bench.server.process.poll() is not None:
            why = f"server exited with {bench.server.process.returncode}"
            break
        if time.monotonic() > deadline:
            why = f"timed out after {bench.timeout_s / 60:g} min"
            break
        time.sleep(POLL_S)
    else:
        why = "timed out (poll count)"
    for student in pending:
        student.result = {"seconds": None, "error": why}


def outcome(student: Student) -> dict[str, Any]:
    return {"student": student.name, "seed": student.seed, **(student.result or {})}


def summarize(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-student outcomes -> first, median and last time to results, errors."""
    times = sorted(o["seconds"] for o in outcomes if o.get("seconds") is not None)
    errors = [f"{o['student']}: {o['error']}" for o in outcomes if o.get("error")]
    return {
        "students": len(outcomes),
        "per_student": outcomes,
        "times_s": times,
        "first_s": times[0] if times else None,
        "median_s": round(statistics.median(times), 3) if times else None,
        "last_s": times[-1] if times else None,
        "errors": len(errors),
        "error_messages": errors,
    }


# --------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------


def scenario_single(bench: Bench, name: str) -> dict[str, Any]:
    """One student alone (also the warm-up: the first training after start)."""
    student = open_price(bench, name)
    quick_demo(student)
    click_train(student)
    wait_results(bench, [student])
    return outcome(student)


def scenario_alone(bench: Bench, repeats: int) -> dict[str, Any]:
    """One student alone, ``repeats`` times one after the other (new seeds)."""
    done = [scenario_single(bench, f"alone{i}") for i in range(1, repeats + 1)]
    times = [r["seconds"] for r in done if r.get("seconds") is not None]
    errors = [r["error"] for r in done if r.get("error")]
    return {
        "runs": done,
        "seconds": round(statistics.median(times), 3) if times else None,
        "error": errors[0] if errors and not times else None,
        "errors": len(errors),
    }


def scenario_class(bench: Bench, count: int) -> dict[str, Any]:
    """``count`` students press Train within the same second."""
    students = prepare(bench, count)
    spread = click_together(students)
    wait_results(bench, students)
    return {"click_spread_s": spread, **summarize([outcome(s) for s in students])}


def scenario_behind(bench: Bench, alone_s: float | None) -> dict[str, Any]:
    """A trains 60 epochs; 5 s later B presses Quick demo + Train."""
    a = open_price(bench, "A")
    quick_demo(a, epochs=LONG_EPOCHS)
    b = open_price(bench, "B")
    click_train(a)
    time.sleep(BEHIND_DELAY_S)
    quick_demo(b)
    click_train(b)
    wait_results(bench, [b, a])
    b_s = b.result.get("seconds") if b.result else None
    return {
        "a_epochs": LONG_EPOCHS,
        "delay_s": BEHIND_DELAY_S,
        "a": outcome(a),
        "b": outcome(b),
        "b_s": b_s,
        "b_alone_s": alone_s,
        "b_slowdown": ratio(b_s, alone_s),
        "errors": sum(bool(s.result and s.result.get("error")) for s in (a, b)),
    }


def time_learn(page: Any, go: Callable[[], None], before: int) -> dict[str, Any]:
    """Time ``go``, which opens the Learn page in ``page``.

    Returns:
        Seconds to its heading and to the end of its script run, and when ``go``
        started (epoch seconds, to compare with the students' done times).
    """
    started, opened = time.monotonic(), time.time()
    go()
    page.locator(SEL["h1"]).filter(has_text=LEARN_HEADING).first.wait_for()
    heading = time.monotonic() - started
    settle(page, before)
    done = time.monotonic() - started
    return {"heading_s": round(heading, 3), "done_s": round(done, 3), "at": opened}


def open_learn(context: Any) -> dict[str, Any]:
    """Open /learn in a new tab (its own session), timed by :func:`time_learn`."""
    page = context.new_page()
    # The context's base_url + path.
    timed = time_learn(page, lambda: page.goto(LEARN_PATH, wait_until="commit"), 0)
    with contextlib.suppress(Exception):
        page.close()
    return timed


LEARN_LINK = "Learn: how RNNs work"
"""The Learn page's entry in the app's menu (``app.py``)."""


def open_app(context: Any) -> Any:
    """A tab on the price page, its script run ended (for :func:`learn_from_menu`)."""
    page = context.new_page()
    page.goto("/", wait_until="commit")
    page.get_by_role("button", name=QUICK_DEMO).wait_for()
    settle(page, -1)
    return page


def learn_from_menu(page: Any) -> dict[str, Any]:
    """Click Learn in the menu of an open app tab: time to its heading, run end.

    What a student of the class does: the front end is loaded already, so this
    times the server's answer and the drawing of the page.
    """
    link = page.get_by_role("link", name=LEARN_LINK)
    return time_learn(page, link.click, runs(page))


def scenario_nothing(bench: Bench, count: int) -> dict[str, Any]:
    """The Learn page, opened while ``count`` students train (and while idle).

    The visitor's browser is another Chromium at normal priority (see the module
    doc). Its first visit loads Streamlit's front end into the browser's cache, as
    any visit before would; the page is then opened in a new tab while nobody
    trains and again :data:`LEARN_DELAY_S` after the class pressed Train.
    """
    context = bench.visitor.new_context(viewport=VIEWPORT, base_url=bench.server.url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.add_init_script(TRACKER)
    try:
        cold = open_learn(context)
        idle = open_learn(context)
        menu_idle = learn_from_menu(open_app(context))
        app = open_app(context)
        students = prepare(bench, count)
        at = schedule_clicks(students)
        time.sleep(max(0.0, at / 1000 + LEARN_DELAY_S - time.time()))
        menu = learn_from_menu(app)
        busy = open_learn(context)
        spread = check_clicks(students, at)
        wait_results(bench, students)
    finally:
        with contextlib.suppress(Exception):
            context.close()
    done = [(s.result or {}).get("done_epoch_s") for s in students]
    waiting = sum(1 for t in done if t is None or t > busy["at"])
    return {
        "learn_cold": cold,
        "learn_idle": idle,
        "learn_busy": busy,
        "learn_slowdown": ratio(busy["heading_s"], idle["heading_s"]),
        "menu_idle": menu_idle,
        "menu_busy": menu,
        "menu_waiting": sum(1 for t in done if t is None or t > menu["at"]),
        "delay_s": LEARN_DELAY_S,
        "waiting_when_opened": waiting,
        "click_spread_s": spread,
        **summarize([outcome(s) for s in students]),
    }


def measured(bench: Bench, name: str, run: Callable[[], dict]) -> dict[str, Any]:
    """Run one scenario: its result, memory, load and time; never raises."""
    log(f"scenario {name}")
    bench.monitor.take()
    load, started = os.getloadavg()[0], time.monotonic()
    try:
        result = run()
    except Exception as err:
        result = {"error": f"{type(err).__name__}: {err}"[:1000]}
        log(f"scenario {name} failed: {result['error']}")
    finally:
        bench.close_all()
    result["memory"] = bench.monitor.take()
    result["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def plan(quick: bool) -> list[str]:
    sizes = QUICK_CLASS_SIZES if quick else CLASS_SIZES
    nothing = QUICK_NOTHING_STUDENTS if quick else NOTHING_STUDENTS
    first, *rest = [f"class_{n}" for n in sizes]
    return ["warmup", "alone", "behind", first, f"nothing_{nothing}", *rest]


def run_scenario(bench: Bench, name: str, done: dict[str, Any]) -> dict[str, Any]:
    kind, _, count = name.partition("_")
    if kind == "warmup":
        return measured(bench, name, lambda: scenario_single(bench, kind))
    if kind == "alone":
        repeats = bench.alone_repeats
        return measured(bench, name, lambda: scenario_alone(bench, repeats))
    if kind == "behind":
        alone = done.get("alone", {}).get("seconds")
        return measured(bench, name, lambda: scenario_behind(bench, alone))
    if kind == "class":
        return measured(bench, name, lambda: scenario_class(bench, int(count)))
    return measured(bench, name, lambda: scenario_nothing(bench, int(count)))


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
        with serve(folder, log_path) as server:
            info["server_start_s"] = server.start_s
            monitor = Monitor(server.process.pid, hours).start()
            try:
                body(server, monitor)
            finally:
                monitor.stop()
                server.children_seen = set(monitor.seen)
            info["log_tracebacks"] = server.log_tail(10**7).count("Traceback")
    except Exception as err:
        info["error"] = f"{type(err).__name__}: {err}"[:2000]
        log(f"{label} failed: {info['error']}")
    info["load_end"] = loads()


def run_version(
    label: str,
    folder: Path,
    browsers: tuple[Any, Any],
    args: Any,
    save: Callable[[dict], None],
) -> dict[str, Any]:
    """Start the server of one version, run every scenario, stop it.

    ``save(info)`` is called after every scenario, so a run stopped halfway
    keeps what it measured.
    """
    info = describe_tree(folder)
    log_path = args.out.parent / f"{args.out.stem}-{label}-server.log"
    info["server_log"] = str(log_path)

    def body(server: Server, monitor: Monitor) -> None:
        bench = Bench(*browsers, server, monitor, args.timeout * 60, args.alone_repeats)
        scenarios: dict[str, Any] = {}
        info["scenarios"] = scenarios
        for name in args.scenarios or plan(args.quick):
            scenarios[name] = run_scenario(bench, name, scenarios)
            save(info)

    monitored(info, label, folder, log_path, args.max_hours, body)
    return info


# --------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------


def ratio(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or not isinstance(new, (int, float)) or not old:
        return None
    return round(new / old, 3)


def fmt(value: Any, unit: str = "s") -> str:
    if value is None:
        return "–"
    if unit == "n":
        return str(value)
    if unit == "MiB":
        return f"{value:,.0f}"
    if unit == "x":
        return f"{value:.2f}"
    if unit == "spread":
        return f"{value:.3f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _get(data: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _memory_rows(title: str) -> list[tuple[str, str]]:
    return [
        (f"{title}: peak RSS of the server process (MiB)", "memory.server_peak_mb"),
        (
            f"{title}: peak RSS of its child processes, summed (MiB)",
            "memory.children_peak_mb",
        ),
        (
            f"{title}: peak PSS of its child processes, summed (MiB)",
            "memory.children_pss_peak_mb",
        ),
        (f"{title}: most child processes at once", "memory.children_max_count"),
        (
            f"{title}: CPU time of the server and its children (s)",
            "memory.server_cpu_s",
        ),
        (
            f"{title}: CPU time of the server process alone (s)",
            "memory.web_cpu_s",
        ),
        (
            f"{title}: peak PSS of the browser, all pages (MiB)",
            "memory.browser_pss_peak_mb",
        ),
        (f"{title}: CPU time of the browser (s)", "memory.browser_cpu_s"),
    ]


def scenario_rows(name: str) -> list[tuple[str, str, str]]:
    """``(label, path in the scenario's result, unit)`` of one scenario's rows."""
    kind, _, count = name.partition("_")
    if kind == "warmup":
        rows = [("Warm-up: first training after the start (s)", "seconds")]
    elif kind == "alone":
        rows = [("One Quick-demo student alone, median of its runs (s)", "seconds")]
    elif kind == "behind":
        rows = [
            ("Behind a long run: B's time to results (s)", "b_s"),
            ("Behind a long run: B alone (s)", "b_alone_s"),
            ("Behind a long run: B / B alone", "b_slowdown"),
            (f"Behind a long run: A's time ({LONG_EPOCHS} epochs) (s)", "a.seconds"),
            ("Behind a long run: errors", "errors"),
        ]
    elif kind == "class":
        title = f"Class of {count}"
        rows = [
            (f"{title}: last student's time to results (s)", "last_s"),
            (f"{title}: median time to results (s)", "median_s"),
            (f"{title}: first student's time to results (s)", "first_s"),
            (f"{title}: errors", "errors"),
            (f"{title}: spread of the Train clicks (s)", "click_spread_s"),
            *_memory_rows(title),
        ]
    else:
        title = f"Learn page while {count} train"
        rows = [
            (f"{title}: time to its heading (s)", "learn_busy.heading_s"),
            (
                "Learn page, nobody training: time to its heading (s)",
                "learn_idle.heading_s",
            ),
            (
                "Learn page, first visit (empty browser cache): time to heading (s)",
                "learn_cold.heading_s",
            ),
            (f"{title}: busy / idle", "learn_slowdown"),
            (
                f"{title}, from the menu of an open app: time to its heading (s)",
                "menu_busy.heading_s",
            ),
            (
                "Learn page from the menu, nobody training: time to its heading (s)",
                "menu_idle.heading_s",
            ),
            (
                f"{title}, from the menu: trainers still waiting when clicked",
                "menu_waiting",
            ),
            (f"{title}: time to the end of its run (s)", "learn_busy.done_s"),
            (f"{title}: trainers still waiting when it opened", "waiting_when_opened"),
            (f"{title}: the trainers' last time to results (s)", "last_s"),
            (f"{title}: errors", "errors"),
        ]
    return [(label, path, unit_of(label)) for label, path in rows]


def unit_of(label: str) -> str:
    if "spread" in label:
        return "spread"  # a check of the harness: no ratio
    if label.endswith("(MiB)"):
        return "MiB"
    if label.endswith("(s)"):
        return "s"
    return "x" if "/" in label.rsplit(":", 1)[-1] else "n"


def cell(result: dict[str, Any] | None, path: str) -> Any:
    """One version's value of a row: a number, None (not measured) or "failed"."""
    if result is None:
        return None
    if result.get("error"):
        return "failed"
    return _get(result, path)


def table(versions: dict[str, Any], names: list[str]) -> list[str]:
    lines = ["| measurement | old | new | new/old |", "| --- | ---: | ---: | ---: |"]
    for name in names:
        results = [_get(versions, f"{v}.scenarios.{name}") for v in ("old", "new")]
        for label, path, unit in scenario_rows(name):
            old, new = (cell(result, path) for result in results)
            shown = [v if isinstance(v, str) else fmt(v, unit) for v in (old, new)]
            numbers = [v if isinstance(v, (int, float)) else None for v in (old, new)]
            rate = fmt(ratio(numbers[1], numbers[0]), "x")
            if unit in ("n", "spread"):
                rate = "–"
            lines.append(f"| {label} | {shown[0]} | {shown[1]} | {rate} |")
    return lines


def error_lines(versions: dict[str, Any]) -> list[str]:
    lines = []
    for version in ("old", "new"):
        info = versions.get(version) or {}
        if info.get("error"):
            lines.append(f"- {version}: {info['error']}")
        for name, result in (info.get("scenarios") or {}).items():
            if result.get("error"):
                lines.append(f"- {version} {name}: {result['error']}")
            for message in result.get("error_messages", []):
                lines.append(f"- {version} {name}: {message}")
            people = [result.get("a"), result.get("b"), *result.get("runs", [])]
            for who in people:
                if who and who.get("error"):
                    lines.append(f"- {version} {name} {who['student']}: {who['error']}")
    return lines


def header(meta: dict[str, Any], versions: dict[str, Any]) -> list[str]:
    machine = meta["machine"]
    lines = [
        "# Classroom benchmark: old vs new",
        "",
        f"{meta['date']} · `{meta['command']}` · {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['ram_gb']} GiB · load average "
        f"{meta['load_start']} at the start, {meta['load_end']} at the end.",
        "",
    ]
    for version in ("old", "new"):
        info = versions.get(version) or {}
        commit = (info.get("commit") or "?")[:10]
        dirty = " + uncommitted changes" if info.get("dirty") else ""
        load = f"load average {info.get('load_start')} → {info.get('load_end')}"
        lines.append(f"- {version}: `{commit}`{dirty}, {info.get('folder')}, {load}")
    students = meta.get("students_nice", "?")
    visitor = meta.get("visitor_nice", 0)
    lines += [
        "",
        f"The students' browser ran at nice {students} (its autogroup), the "
        f"Learn-page visitor's at nice {visitor}.",
    ]
    if meta.get("quick"):
        lines += ["", "Quick run (`--quick`): small classes, a check of the harness."]
    return lines


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The Markdown report: a table of every measurement, old, new and new/old."""
    versions = results.get("versions", {})
    names = list(meta.get("plan") or [])
    lines = [*header(meta, versions), "", *table(versions, names), ""]
    lines.append(
        "Times run from a student's click on Train models to the success message "
        f'("{DONE_MARKER}"), measured inside its page. Both versions ran on this '
        "machine in the same run, one after the other; only the ratios compare "
        "them, the seconds depend on the machine and its load."
    )
    errors = error_lines(versions)
    if errors:
        lines += ["", "## Errors", "", *errors]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    return "unknown CPU"


def machine() -> dict[str, Any]:
    ram = 0.0
    with contextlib.suppress(OSError), open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                ram = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "ram_gb": ram}


def loads() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 students, not 6/30")
    parser.add_argument("--old", default=DEFAULT_OLD, help="git ref of the old app")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file")
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="minutes a student may wait"
    )
    parser.add_argument(
        "--max-hours", type=float, default=None, help="hard limit of the whole run"
    )
    parser.add_argument(
        "--alone-repeats",
        type=int,
        default=None,
        help="runs of the lone student (median; default 3, 1 with --quick)",
    )
    parser.add_argument(
        "--only", choices=("old", "new"), default=None, help="run one version"
    )
    parser.add_argument(
        "--students-nice",
        type=int,
        default=STUDENTS_NICE,
        help="nice value of the students' browser's autogroup (0 to 19)",
    )
    parser.add_argument(
        "--visitor-nice",
        type=int,
        default=VISITOR_NICE,
        help="nice value of the Learn-page visitor's browser's autogroup (-20 to 19)",
    )
    parser.add_argument(
        "--new-first",
        action="store_true",
        help="measure the new app first (a failure of the version under test "
        "shows early)",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda text: [name for name in text.split(",") if name],
        default=None,
        help="comma-separated scenarios to run instead of the plan, "
        "e.g. warmup,class_30",
    )
    args = parser.parse_args(argv)
    if args.alone_repeats is None:
        args.alone_repeats = 1 if args.quick else 3
    args.alone_repeats = max(1, args.alone_repeats)
    if args.max_hours is None:
        args.max_hours = 1.0 if args.quick else 6.0
    args.out = args.out.resolve()
    return args


def watchdog(hours: float) -> threading.Timer:
    """Stop everything if the whole run takes longer than ``hours``."""

    def expire() -> None:
        log(f"the run took longer than {hours:g} h: stopping the servers and exiting")
        for process in list(RUNNING.values()):
            with contextlib.suppress(Exception):
                stop_server(process, set())
        os._exit(3)

    timer = threading.Timer(hours * 3600, expire)
    timer.daemon = True
    timer.start()
    return timer


STUDENTS_NICE, VISITOR_NICE = 10, 0
"""Nice values of the students' and the visitor's browsers' autogroups (see the
module doc)."""


def autogroup(pid: int) -> tuple[str, int] | None:
    """The autogroup of process ``pid`` and its nice value, or None without one.

    None when ``/proc/<pid>/autogroup`` is missing, empty or unlike the kernel's
    ``/autogroup-N nice K``: kernels and sandboxes without autogroups, and a
    process in the kernel's root autogroup (one whose session never called
    setsid, like PID 1), for which the kernel prints nothing.
    """
    try:
        fields = Path(f"/proc/{pid}/autogroup").read_text().split()
    except OSError:
        return None
    if len(fields) != 3 or fields[1] != "nice":
        return None
    return fields[0], int(fields[2])


def start_at_nice(command: list[str], nice: int) -> subprocess.Popen:
    """Start ``command`` in a session of its own whose autogroup has ``nice``.

    The processes it starts later stay in that session, and so in that group.
    Without autogroups (a kernel or sandbox without them, seen as an unreadable
    or empty ``/proc/<pid>/autogroup``) the process itself gets ``nice``, which
    its children inherit.
    """
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    with contextlib.suppress(OSError):
        Path(f"/proc/{process.pid}/autogroup").write_text(str(nice))
    group = autogroup(process.pid)
    if group is None or group[1] != nice:
        log(f"no autogroup for {command[0]}: nice {nice} on its process")
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, nice)
    return process


@contextlib.contextmanager
def chromium(playwright: Any, nice: int) -> Iterator[Any]:
    """A headless Chromium in a session, and so an autogroup, of its own at ``nice``.

    Started here rather than by Playwright, which would start it in this script's
    session; Playwright then connects to it over the DevTools protocol.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="classroom-chromium-") as profile:
        command = [CHROMIUM, "--headless", f"--remote-debugging-port={port}"]
        command += [f"--user-data-dir={profile}", *CHROMIUM_ARGS, "about:blank"]
        process = start_at_nice(command, nice)
        try:
            browser = connect(playwright, port, process)
            try:
                yield browser
            finally:
                with contextlib.suppress(Exception):
                    browser.close()
        finally:
            stop_server(process, set())


def connect(playwright: Any, port: int, process: subprocess.Popen) -> Any:
    """Connect Playwright to the Chromium listening on ``port`` (within 60 s)."""
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{url}/json/version", timeout=2),
        ):
            return playwright.chromium.connect_over_cdp(url, timeout=60_000)
        time.sleep(0.25)
    raise RuntimeError(f"chromium did not answer {url} within 60 s")


def write(results: dict[str, Any], meta: dict[str, Any], out: Path) -> str:
    meta["load_end"] = loads()
    out.write_text(json.dumps({"meta": meta, **results}, indent=2) + "\n")
    text = render(results, meta)
    out.with_suffix(".md").write_text(text)
    return text


def run_all(args: argparse.Namespace, meta: dict, results: dict) -> None:
    from playwright.sync_api import sync_playwright

    with (
        sync_playwright() as playwright,
        chromium(playwright, args.students_nice) as students,
        chromium(playwright, args.visitor_nice) as visitor,
    ):
        order = ["new", "old"] if args.new_first else ["old", "new"]
        for label in order:
            if args.only in (None, label):
                run_one(label, (students, visitor), args, meta, results)


def run_one(
    label: str, browsers: tuple[Any, Any], args: Any, meta: dict, results: dict
) -> None:
    """Measure one version; the JSON and Markdown are rewritten after each scenario."""

    def save(info: dict) -> None:
        results["versions"][label] = info
        write(results, meta, args.out)

    if label == "new":
        log(f"new = working tree {ROOT}")
        save(run_version("new", ROOT, browsers, args, save))
        return
    with old_checkout(args.old) as folder:
        log(f"old = {args.old} in {folder}")
        save(run_version("old", folder, browsers, args, save))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    timer = watchdog(args.max_hours)
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python -m bench.classroom", *sys.argv[1:]]),
        "quick": args.quick,
        "students_nice": args.students_nice,
        "visitor_nice": args.visitor_nice,
        "old_ref": args.old,
        "timeout_min": args.timeout,
        "alone_repeats": args.alone_repeats,
        "plan": args.scenarios or plan(args.quick),
        "machine": machine(),
        "load_start": loads(),
    }
    results: dict[str, Any] = {"versions": {}}
    try:
        run_all(args, meta, results)
    finally:
        text = write(results, meta, args.out)
        timer.cancel()
    print(text)
    log(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    if not args.quick and not args.scenarios and len(results["versions"]) == 2:
        from bench.sections import replace_section

        replace_section("classroom", "## A class on one server\n\n" + text)
        log("updated the classroom section of BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
