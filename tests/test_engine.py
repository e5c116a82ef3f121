"""The engine: its bookkeeping on an in-process backend, and real worker processes.

The scheduler's decisions are tests/test_policy.py's (plain data, no clock). Here
an in-process backend (:class:`Inline`) checks what the engine does with them
(places, shared jobs, kept results, signs of life), and real worker processes
what only they show: progress, cancel mid-run, faults, priority, recycling,
reaping, a spare worker started for a newcomer. Jobs are small sleeping jobs
(tests/jobs_for_tests.py).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from jobs_for_tests import FailJob, SleepJob, wait_for

from forecasting.runtime.engine import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    Engine,
)
from forecasting.runtime.local import LocalBackend
from forecasting.runtime.policy import READY, Worker
from forecasting.runtime.protocol import JobCancelled, JobFailed
from forecasting.runtime.workers import WORKER_NICE
from forecasting.settings.config import EngineSettings


class Inline:
    """A backend without processes: a job runs in the engine's thread at the next
    poll, or, with ``hold``, runs until cancelled."""

    spare, cores, can_prepare = 0, 1, False

    def __init__(self, capacity: int = 1, hold: bool = False):
        self.capacity, self.hold = capacity, hold
        self.slots: dict[int, tuple[str, object]] = {}
        self.cancelled: set[str] = set()

    def workers(self):
        return tuple(
            Worker(i, READY, self.slots[i][0] if i in self.slots else None)
            for i in range(self.capacity)
        )

    def launch(self, job_id, job, worker):
        self.slots[worker] = (job_id, job)

    def start_spare(self):
        raise AssertionError("no spare slots")

    def prepare(self, worker, job):
        raise AssertionError("no compiling ahead")

    def cancel(self, job_id):
        self.cancelled.add(job_id)

    def wake(self):
        pass

    def poll(self, timeout):
        time.sleep(0.01)
        events = []
        for worker, (job_id, job) in list(self.slots.items()):
            if job_id in self.cancelled:
                events.append(("cancelled", job_id))
            elif self.hold:
                continue
            else:
                try:
                    report = lambda p, i=job_id: events.append(("progress", i, p))  # noqa: E731
                    events.append(("done", job_id, job.run(report)))
                except ValueError as err:
                    events.append(("failed", job_id, str(err), "ValueError"))
            del self.slots[worker]
        return events

    def close(self):
        pass


@pytest.fixture
def inline():
    engine = Engine(Inline(capacity=2))
    yield engine
    engine.shutdown()


@pytest.fixture
def one_worker():
    engine = Engine(LocalBackend(workers=1, threads=1), owner_ttl=1.0)
    yield engine
    engine.shutdown()


@pytest.fixture
def two_workers():
    engine = Engine(LocalBackend(workers=2, threads=1))
    yield engine
    engine.shutdown()


# The engine's bookkeeping, on the in-process backend -------------------------------
def test_status_says_the_place_in_line_of_the_fair_queue():
    engine = Engine(Inline(hold=True))
    try:
        blocker = engine.submit(SleepJob("blocker"), "z")
        assert wait_for(lambda: engine.status(blocker).state == RUNNING)
        order = [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("c", 1)]
        tickets = {(o, n): engine.submit(SleepJob(f"{o}{n}"), o) for o, n in order}
        places = {k: engine.status(t).position for k, t in tickets.items()}
        assert places == {
            ("a", 1): 1,
            ("b", 1): 2,
            ("c", 1): 3,
            ("a", 2): 4,
            ("b", 2): 5,
            ("a", 3): 6,
        }
        status = engine.status(tickets[("c", 1)])
        assert status.state == QUEUED
        assert 2.0 <= status.wait_seconds <= 3.0  # a1's and b1's 1 s + the blocker's
        engine.cancel([blocker])
        assert wait_for(lambda: engine.status(tickets[("a", 1)]).state == RUNNING)
    finally:
        engine.shutdown()


def test_identical_jobs_run_once_and_serve_every_ticket(inline):
    engine = inline
    before = engine.launched
    first = engine.submit(SleepJob("same", steps=3, pause=0.01), "student-1")
    second = engine.submit(SleepJob("same", steps=3, pause=0.01), "student-2")
    assert first.job_id == second.job_id
    a, b = engine.gather([first, second], poll=0.01)
    assert a == b
    again = engine.submit(SleepJob("same", steps=3, pause=0.01), "student-3")
    assert engine.status(again).state == DONE  # served from the kept results
    assert engine.result(again) == a
    assert engine.launched == before + 1


def test_cancelling_one_of_two_identical_tickets_keeps_the_job(inline):
    engine = inline
    first = engine.submit(SleepJob("shared", steps=2, pause=0.01), "a")
    second = engine.submit(SleepJob("shared", steps=2, pause=0.01), "b")
    engine.cancel(first)
    assert engine.gather([second], poll=0.01)[0]["name"] == "shared"


def test_results_someone_still_holds_are_kept_past_the_limit():
    engine = Engine(Inline(), keep_results=1)
    try:
        held = engine.submit(SleepJob("held", pause=0.0), "away-on-another-page")
        engine.gather([held], poll=0.01)
        for i in range(3):  # three more results, each released at once
            ticket = engine.submit(SleepJob(f"other-{i}", pause=0.0), "busy-student")
            engine.gather([ticket], poll=0.01)
            engine.release([ticket])
        assert engine.status(held).state == DONE
        assert engine.result(held)["name"] == "held"
        engine.release([held])
        last = engine.submit(SleepJob("last", pause=0.0), "busy-student")
        engine.gather([last], poll=0.01)
        assert engine.status(held).state == CANCELLED  # gone once nobody held it
    finally:
        engine.shutdown()


def test_submitting_and_heartbeats_are_signs_of_life():
    # An owner that comes back just before its old beat expires must not be
    # reaped mid-run; the command line (no heartbeats) is never reaped.
    engine = Engine(Inline(hold=True), owner_ttl=45.0)
    try:
        engine.heartbeat("tab")
        beat = engine._view(time.monotonic()).seen["tab"]
        engine.submit(SleepJob("later"), "tab")
        engine.submit(SleepJob("cli-job"), "cli")
        view = engine._view(time.monotonic())
        assert view.seen["tab"] > beat
        assert set(view.seen) == {"tab", "cli"}
        assert view.heartbeating == frozenset({"tab"})
    finally:
        engine.shutdown()


def test_the_session_watcher_heartbeats_only_connected_sessions():
    from ui.running.sessions import _watch_sessions

    class Owners:
        """Two owners with live jobs; the watcher waits for ever after three rounds."""

        def __init__(self):
            self.beats, self.rounds = [], 0

        def owners(self):
            self.rounds += 1
            if self.rounds > 3:
                threading.Event().wait()  # a daemon thread, idle until the end
            return ["closed-tab", "open-tab"]

        def heartbeat(self, owner):
            self.beats.append(owner)

    engine = Owners()
    watcher = threading.Thread(
        target=_watch_sessions,
        args=(engine, lambda owner: owner == "open-tab", 0.01),
        daemon=True,
    )
    watcher.start()
    assert wait_for(lambda: engine.rounds > 3, timeout=10)
    assert engine.beats == ["open-tab"] * 3


def test_a_tab_closed_for_gone_seconds_has_its_jobs_cancelled_at_once():
    from ui.running.sessions import GONE_SECONDS, watch_once

    engine = Engine(Inline(hold=True))
    try:
        ticket = engine.submit(SleepJob("tab-job"), "tab")
        assert wait_for(lambda: engine.status(ticket).state == RUNNING)
        tabs: dict[str, float | None] = {}
        connected = {"tab": False}

        def at(now: float) -> str:
            watch_once(engine, lambda who: connected[who], tabs, now)
            return engine.status(ticket).state

        assert at(0.0) == RUNNING and at(9.0) == RUNNING  # never seen: not a tab
        connected["tab"] = True
        assert at(10.0) == RUNNING  # a tab
        connected["tab"] = False
        assert at(11.0) == RUNNING  # disconnected: maybe a reload
        connected["tab"] = True
        assert at(11.5) == RUNNING  # back: the count starts again
        connected["tab"] = False
        assert at(12.0) == RUNNING
        assert at(12.0 + GONE_SECONDS - 0.01) == RUNNING
        at(12.0 + GONE_SECONDS)
        assert wait_for(lambda: engine.status(ticket).state == CANCELLED, 5)
    finally:
        engine.shutdown()


# Real worker processes ---------------------------------------------------------------
def test_progress_reaches_the_caller_in_order(two_workers):
    seen = []
    ticket = two_workers.submit(SleepJob("p", steps=5, pause=0.01))
    two_workers.gather([ticket], lambda t, payload: seen.append(payload["epoch"]))
    assert seen == [1, 2, 3, 4, 5]
    assert two_workers.status(ticket).state == DONE


def test_cancel_drops_a_queued_job_and_stops_a_running_one(one_worker):
    engine = one_worker
    running = engine.submit(SleepJob("long", steps=400, pause=0.05), "a")
    queued = engine.submit(SleepJob("never", steps=1), "a")
    assert wait_for(lambda: engine.status(running).progress is not None)
    engine.cancel(queued)
    assert engine.status(queued).state == CANCELLED
    started = time.monotonic()
    engine.cancel(running)
    assert wait_for(lambda: engine.status(running).state == CANCELLED, 10)
    assert time.monotonic() - started < 5  # stopped at its next step, not at 20 s
    with pytest.raises(JobCancelled, match="long was cancelled"):
        engine.result(running)
    after = engine.submit(SleepJob("after"), "a")  # the worker is free again
    assert engine.gather([after])[0]["name"] == "after"


def test_a_user_error_fails_only_its_job_with_its_sentence(two_workers):
    engine = two_workers
    bad = engine.submit(FailJob("window must be shorter than the data"), "a")
    good = engine.submit(SleepJob("good"), "b")
    assert engine.gather([good])[0]["name"] == "good"
    assert wait_for(lambda: engine.status(bad).state == FAILED)
    with pytest.raises(JobFailed, match="window must be shorter") as err:
        engine.result(bad)
    assert err.value.kind == "ValueError"


def test_a_killed_worker_fails_only_its_job_and_is_replaced(two_workers):
    engine = two_workers
    backend = engine.backend
    doomed = engine.submit(SleepJob("doomed", steps=400, pause=0.05), "a")
    other = engine.submit(SleepJob("other", steps=20, pause=0.05), "b")
    assert wait_for(lambda: engine.status(doomed).progress is not None)
    pid = backend.busy_pid(doomed.job_id)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: engine.status(doomed).state == FAILED, 30)
    status = engine.status(doomed)
    assert "stopped unexpectedly" in status.error
    assert "exit code -9" in status.error
    assert status.error_kind == "WorkerDied"
    assert engine.gather([other])[0]["name"] == "other"  # the other job went on
    assert wait_for(lambda: len(backend.pids()) == 2 and pid not in backend.pids())
    after = engine.submit(SleepJob("after the crash"), "a")
    assert engine.gather([after])[0]["name"] == "after the crash"


def test_workers_run_below_the_servers_priority(one_worker):
    engine = one_worker
    engine.gather([engine.submit(SleepJob("nice"))])
    (pid,) = engine.backend.pids()
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(
        19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICE
    )


def test_workers_are_recycled_after_max_jobs():
    engine = Engine(LocalBackend(workers=1, threads=1, max_jobs=2))
    try:
        pids = [
            engine.gather([engine.submit(SleepJob(f"r{i}"))])[0]["pid"]
            for i in range(3)
        ]
    finally:
        engine.shutdown()
    assert pids[0] == pids[1] != pids[2]


def test_jobs_queued_behind_a_retiring_worker_all_succeed():
    # Each worker leaves after one job: every job must still reach a live one
    # (a job once went to a worker between its last result and its goodbye).
    engine = Engine(LocalBackend(workers=1, threads=1, max_jobs=1))
    try:
        tickets = [engine.submit(SleepJob(f"q{i}", steps=1), "a") for i in range(6)]
        results = engine.gather(tickets)
    finally:
        engine.shutdown()
    assert [r["name"] for r in results] == [f"q{i}" for i in range(6)]
    assert len({r["pid"] for r in results}) == 6


def test_engine_settings_come_from_flags_then_the_environment(monkeypatch):
    monkeypatch.delenv("FORECASTING_SURGE", raising=False)  # conftest sets it
    monkeypatch.setenv("FORECASTING_ENGINE", "ray")
    monkeypatch.setenv("FORECASTING_WORKERS", "3")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6379")
    assert EngineSettings.from_env() == EngineSettings("ray", 3, "127.0.0.1:6379")
    assert EngineSettings.from_env("local", 1).engine == "local"
    assert EngineSettings.from_env().surge == 3
    assert EngineSettings.from_env(default_surge=1).surge == 1  # the command line's
    monkeypatch.setenv("FORECASTING_SURGE", "0")
    assert EngineSettings.from_env(default_surge=1).surge == 0
    assert EngineSettings.from_env(default_surge=2).surge == 0  # the variable wins
    monkeypatch.setenv("FORECASTING_SURGE", "-1")
    with pytest.raises(ValueError, match="surge must be 0 or more workers, got -1"):
        EngineSettings.from_env()
    monkeypatch.setenv("FORECASTING_WORKERS", "many")
    with pytest.raises(ValueError, match="FORECASTING_WORKERS must be a positive"):
        EngineSettings.from_env()
    with pytest.raises(ValueError, match="engine must be one of local, ray, got 'k8s'"):
        EngineSettings("k8s")
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        EngineSettings("local", 0)


def test_an_owner_without_heartbeats_has_its_jobs_cancelled(one_worker):
    engine = one_worker  # owner_ttl 1 s
    assert wait_for(lambda: engine.backend.ready_workers() == 1)
    engine.heartbeat("gone")
    running = engine.submit(SleepJob("gone-running", steps=400), "gone")
    queued = engine.submit(SleepJob("gone-queued", steps=1), "gone")
    stays = engine.submit(SleepJob("stays", steps=1), "cli")  # never beats
    assert wait_for(lambda: engine.status(running).state == CANCELLED, 15)
    assert engine.status(queued).state == CANCELLED
    assert engine.gather([stays])[0]["name"] == "stays"


def test_a_newcomer_behind_a_long_run_starts_on_a_spare_worker():
    engine = Engine(LocalBackend(workers=1, threads=1, surge=1))
    try:
        backend = engine.backend
        long = engine.submit(SleepJob("long", steps=1200, pause=0.05), "runner")
        assert wait_for(lambda: engine.status(long).progress is not None)
        assert len(backend.pids()) == 1  # a lone runner: no spare worker
        newcomer = engine.submit(SleepJob("b", steps=2), "newcomer")
        assert engine.gather([newcomer], poll=0.02)[0]["name"] == "b"
        assert len(backend.pids()) == 2  # started for the newcomer
        assert engine.status(long).state == RUNNING
        engine.cancel([long])
    finally:
        engine.shutdown()


PARENT = """
import sys
import time

from jobs_for_tests import StallJob
from forecasting.runtime.engine import Engine
from forecasting.runtime.local import LocalBackend

engine = Engine(LocalBackend(workers=1, threads=1, prepare=False))
engine.submit(StallJob(sys.argv[1]), "a")
time.sleep(300)
"""
"""A server or command line whose worker is in a long silent step."""


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_workers_exit_soon_after_their_parent_ends_whatever_the_signal(how, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": f"{tests}{os.pathsep}{tests.parent}"}
    started = tmp_path / "worker.pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(started)], env=env)
    try:
        assert wait_for(lambda: started.exists() and started.read_text(), 60)
        worker = int(started.read_text())
        parent.send_signal(how)
        parent.wait(10)
        gone = wait_for(lambda: not _running(worker), timeout=5.0)
    finally:
        parent.kill()
    if not gone:
        os.kill(worker, signal.SIGKILL)
    assert gone, f"worker {worker} still runs 5 s after its parent got {how.name}"


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class KeyedSleep(SleepJob):
    """A sleeping job with a compile key, as a fit job has."""

    def compile_key(self) -> str:
        return f"compile:{self.name}"


def test_a_cancelled_setting_is_not_compiled_ahead():
    engine = Engine(Inline(hold=True))
    try:
        kept = engine.submit(KeyedSleep("kept"), "a")
        assert wait_for(lambda: engine.status(kept).state == RUNNING)
        engine.cancel(kept)
        assert wait_for(lambda: engine.status(kept).state == CANCELLED)
        other = engine.submit(KeyedSleep("other"), "a")
        assert wait_for(lambda: engine.status(other).state == RUNNING)
        with engine._lock:
            recent = engine._view(time.monotonic()).recent_keys
        assert recent == ("compile:other",)  # "kept" was cancelled: forgotten
    finally:
        engine.shutdown()


def test_cancel_stops_a_job_in_a_long_silent_step_by_replacing_its_worker(
    two_workers, tmp_path
):
    from jobs_for_tests import StallJob

    engine, backend = two_workers, two_workers.backend
    started = tmp_path / "worker.pid"
    stuck = engine.submit(StallJob(str(started)), "a")
    assert wait_for(lambda: started.exists() and started.read_text())
    pid = int(started.read_text())
    cancelled_at = time.monotonic()
    engine.cancel(stuck)
    assert wait_for(lambda: engine.status(stuck).state == CANCELLED, 10)
    assert time.monotonic() - cancelled_at < 5
    assert wait_for(lambda: pid not in backend.pids() and len(backend.pids()) == 2)
    after = engine.submit(SleepJob("after the cancel"), "a")
    assert engine.gather([after])[0]["name"] == "after the cancel"
