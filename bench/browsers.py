"""The classroom's browsers and students: Chromium processes, pages, clicks, results.

Students are pages of one headless Chromium, one browser context each (its own
Streamlit session), driven by Playwright over the DevTools protocol. Each page
runs :data:`TRACKER`, which stamps the Train click and the success message with
:data:`DONE_MARKER` inside the page. The browsers run in sessions of their own
at a chosen nice value (``bench/classroom.py`` says why).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.monitor import Monitor
from bench.server import Server, free_port, stop_process
from bench.versions import log

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
"""A student's seed is this plus its number: no two share a cached result."""
UI_TIMEOUT_MS = 90_000
"""Page loads, reruns and widgets (generous: the server may be busy training)."""
POLL_S = 1.0
"""Seconds between two looks at the students' pages for results."""
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


# --------------------------------------------------------------------------------
# Browsers (Chromium processes)
# --------------------------------------------------------------------------------


STUDENTS_NICE, VISITOR_NICE = 10, 0
"""Nice values of the students' and the visitor's browsers' autogroups (see
bench/classroom.py)."""


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
            stop_process(process)


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


# --------------------------------------------------------------------------------
# Students (browser pages)
# --------------------------------------------------------------------------------


@dataclass
class Student:
    """One student's page, its seed and (once collected) its result."""

    name: str
    seed: int | None
    context: Any
    page: Any
    result: dict[str, Any] | None = None


@dataclass
class Bench:
    """What the scenarios share: both browsers, the server, its monitor, seeds."""

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
