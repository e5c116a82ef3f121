"""Fast checks of bench.classroom's helpers and of the server helper's stop.

No server and no browser: the modules are bench/server.py, monitor.py,
versions.py, browsers.py, scenarios.py and classroom_report.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

from bench import browsers, classroom_report, scenarios, server, versions
from bench.monitor import Monitor


def outcomes(times):
    return [
        {"student": f"s{i}", "seed": 1000 + i, "seconds": t, "error": None}
        for i, t in enumerate(times, 1)
    ]


def test_summarize_counts_errors_and_orders_times():
    rows = outcomes([30.0, 10.0, 20.0])
    rows.append({"student": "s4", "seed": 1004, "seconds": None, "error": "boom"})
    summary = browsers.summarize(rows)
    assert summary["times_s"] == [10.0, 20.0, 30.0]
    assert (summary["first_s"], summary["median_s"], summary["last_s"]) == (
        10.0,
        20.0,
        30.0,
    )
    assert summary["errors"] == 1 and summary["error_messages"] == ["s4: boom"]
    assert summary["students"] == 4
    empty = browsers.summarize([])
    assert empty["last_s"] is None and empty["errors"] == 0


def test_descendants_walks_the_whole_tree():
    parents = {10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20}
    assert sorted(server.descendants(10, parents)) == [11, 12, 13]
    assert server.descendants(12, parents) == []


def test_ratio_and_formats():
    assert versions.ratio(3.0, 2.0) == 1.5
    assert versions.ratio(None, 2.0) is None
    assert versions.ratio(1.0, 0) is None
    assert versions.ratio("failed", 2.0) is None
    assert classroom_report.fmt(None) == "–"
    assert (
        classroom_report.fmt(3.14159) == "3.14"
        and classroom_report.fmt(123.45) == "123.5"
    )
    assert classroom_report.fmt(2048.4, "MiB") == "2,048"


def test_plan_shrinks_with_quick():
    assert scenarios.plan(True) == ["warmup", "alone", "behind", "class_2", "nothing_2"]
    full = scenarios.plan(False)
    assert full[-1] == "class_30" and "class_6" in full and "nothing_6" in full


def fake_version(scale, errors=0):
    memory = {"server_peak_mb": 1000 * scale, "children_peak_mb": 0.0}
    klass = classroom_class(scale, errors)
    return {
        "commit": "abcdef1234567890",
        "folder": "/tmp/x",
        "scenarios": {
            "warmup": {"seconds": 30.0 * scale, "error": None, "memory": memory},
            "alone": {"seconds": 10.0 * scale, "error": None, "memory": memory},
            "behind": {
                "b_s": 80.0 * scale,
                "b_alone_s": 10.0,
                "b_slowdown": 8.0 * scale,
                "a": {"student": "A", "seconds": 70.0, "error": None},
                "b": {"student": "B", "seconds": None, "error": "lost"}
                if errors
                else {"student": "B", "seconds": 80.0 * scale, "error": None},
                "errors": 0,
            },
            "class_2": {**klass, "memory": memory},
            "nothing_2": {"error": "TimeoutError: Learn heading never shown"},
        },
    }


def classroom_class(scale, errors):
    messages = [f"s{i}: timed out after 20 min" for i in range(errors)]
    return {
        "students": 2,
        "first_s": 10.0 * scale,
        "median_s": 15.0 * scale,
        "last_s": 20.0 * scale,
        "errors": errors,
        "error_messages": messages,
        "click_spread_s": 0.01,
    }


def test_render_puts_old_new_and_ratio_in_one_row():
    results = {"versions": {"old": fake_version(1.0, 1), "new": fake_version(0.5)}}
    meta = {
        "date": "2025-01-01 00:00 UTC",
        "command": "python -m bench.classroom --quick",
        "quick": True,
        "plan": scenarios.plan(True),
        "machine": {"cpu": "Fake CPU", "cores": 2, "ram_gb": 24.0},
        "load_start": [1.0, 1.0, 1.0],
        "load_end": [2.0, 2.0, 2.0],
    }
    text = classroom_report.render(results, meta)
    assert "| measurement | old | new | new/old |" in text
    last = "| Class of 2: last student's time to results (s) | 20.0 | 10.0 | 0.50 |"
    assert last in text
    assert "| Behind a long run: B / B alone | 8.00 | 4.00 | 0.50 |" in text
    assert "| Class of 2: errors | 1 | 0 | – |" in text  # counts get no ratio
    assert "Train clicks (s) | 0.010 | 0.010 | – |" in text
    assert "peak RSS of the server process (MiB) | 1,000 | 500 | 0.50 |" in text
    learn = "Learn page while 2 train: time to its heading (s) | failed | failed | –"
    assert learn in text
    assert "- old class_2: s0: timed out after 20 min" in text
    assert "- old behind B: lost" in text and "new behind" not in text
    assert "- new nothing_2: TimeoutError: Learn heading never shown" in text
    assert "Fake CPU, 2 cores" in text and "[2.0, 2.0, 2.0] at the end" in text
    assert "Quick run" in text and "`abcdef1234`" in text
    assert browsers.DONE_MARKER in text


def test_render_without_a_version():
    results = {"versions": {"old": {"error": "RuntimeError: streamlit exited"}}}
    meta = {
        "date": "d",
        "command": "c",
        "plan": ["alone"],
        "machine": {"cpu": "x", "cores": 1, "ram_gb": 1.0},
        "load_start": [0, 0, 0],
        "load_end": [0, 0, 0],
    }
    text = classroom_report.render(results, meta)
    assert (
        "| One Quick-demo student alone, median of its runs (s) | – | – | – |" in text
    )
    assert "- old: RuntimeError: streamlit exited" in text


def test_the_browser_starts_in_an_autogroup_of_its_own_at_its_nice():
    """With autogroups, the child's group has nice 10 and ours is untouched;
    without them (an empty or missing file for the child), its process has it.

    Ours reads as None when this process is in the kernel's root autogroup,
    which prints nothing (CI runs the suite there, like PID 1 here).
    """
    before = browsers.autogroup(os.getpid())
    child = browsers.start_at_nice(
        [sys.executable, "-c", "import time; time.sleep(9)"], 10
    )
    try:
        mine = browsers.autogroup(os.getpid())
        theirs = browsers.autogroup(child.pid)
        process_nice = os.getpriority(os.PRIO_PROCESS, child.pid)
    finally:
        child.kill()
        child.wait()
    if theirs is None:
        assert process_nice == 10
    else:
        assert mine is None or theirs[0] != mine[0]  # not our group
        assert (theirs[1], mine) == (10, before)


def test_cpu_time_is_split_into_the_web_process_its_workers_and_the_browser():
    hz = os.sysconf("SC_CLK_TCK")
    monitor = Monitor(2**22 + 7, max_hours=0.01)  # no such process
    before = {1: (0, 100), 2: (1, 50), 3: (0, 10)}  # pid: (parent, CPU ticks)
    after = {1: (0, 100 + 2 * hz), 2: (1, 50 + 3 * hz), 3: (0, 10 + hz)}
    monitor._count_cpu(before, [1], [2], {3})
    monitor._count_cpu(after, [1], [2], {3})
    out = monitor.take()
    assert (out["web_cpu_s"], out["server_cpu_s"], out["browser_cpu_s"]) == (
        2.0,
        5.0,
        1.0,
    )


def test_a_version_whose_server_does_not_start_is_an_error_not_a_crash(tmp_path):
    info: dict = {}
    calls = []
    versions.monitored(info, "old", tmp_path, tmp_path / "log", 0.01, calls.append)
    assert calls == []  # no app.py in the folder: the server never answered
    assert info["error"].startswith("RuntimeError: streamlit exited")
    assert len(info["load_start"]) == len(info["load_end"]) == 3


def sleeper() -> subprocess.Popen:
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    return subprocess.Popen(command, start_new_session=True)


def test_stop_kills_a_seen_pid_only_while_it_names_the_same_process():
    """A worker seen earlier is killed by pid, unless the pid now has another
    start time (it was freed and taken by a process we did not start)."""
    leader, worker, other = sleeper(), sleeper(), sleeper()
    try:
        seen = server.identities([worker.pid])
        assert seen[worker.pid] == server.start_ticks(worker.pid) is not None
        taken = {other.pid: server.start_ticks(other.pid) - 1}  # not this one
        server.stop_process(leader, {**seen, **taken})
        assert (leader.wait(5), worker.wait(5)) == (-15, -9)
        assert other.poll() is None  # still running
    finally:
        for process in (leader, worker, other):
            process.kill()
            process.wait()
