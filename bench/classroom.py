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

This module is the command line; the parts live beside it: ``bench/server.py``
(the Streamlit server), ``monitor.py`` (memory and CPU time), ``versions.py``
(the old checkout, a version served under the monitor), ``browsers.py`` (the
browsers and the students' pages), ``scenarios.py`` and ``classroom_report.py``
(the Markdown table).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from bench.browsers import STUDENTS_NICE, VISITOR_NICE, chromium
from bench.classroom_report import render
from bench.scenarios import plan, run_version
from bench.server import stop_all
from bench.versions import DEFAULT_OLD, ROOT, loads, log, old_checkout

DEFAULT_OUT = ROOT / "bench" / "results" / "classroom.json"


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
        stop_all()
        os._exit(3)

    timer = threading.Timer(hours * 3600, expire)
    timer.daemon = True
    timer.start()
    return timer


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
