"""The engine with real worker processes: order, places, cancel, faults, reuse.

Jobs here are small sleeping jobs (tests/jobs_for_tests.py) so the tests are
about the queue, not about training; tests/test_compare.py trains through the
same engine.
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
    SURGE_WAIT_S,
    Engine,
)
from forecasting.runtime.protocol import JobCancelled, JobFailed
from forecasting.runtime.workers import WORKER_NICE, LocalBackend, cores
from forecasting.settings.config import EngineSettings

LONG_STEPS = int(SURGE_WAIT_S * 4 / 0.05)
"""A SleepJob this long (at its 0.05 s a step) makes a newcomer take a surge slot."""


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


def test_jobs_are_taken_in_turn_from_each_owner(one_worker):
    engine = one_worker
    blocker = engine.submit(SleepJob("blocker", steps=40), "z")
    assert wait_for(lambda: engine.status(blocker).state == RUNNING)
    order = [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("c", 1)]
    tickets = {(o, n): engine.submit(SleepJob(f"{o}{n}", steps=1), o) for o, n in order}
    # Places while the blocker runs: a1, b1, c1, a2, b2, a3.
    places = {k: engine.status(t).position for k, t in tickets.items()}
    assert places == {
        ("a", 1): 1,
        ("b", 1): 2,
        ("c", 1): 3,
        ("a", 2): 4,
        ("b", 2): 5,
        ("a", 3): 6,
    }
    assert engine.status(tickets[("c", 1)]).state == QUEUED
    assert engine.status(tickets[("c", 1)]).wait_seconds > 0
    results = engine.gather([blocker, *tickets.values()])
    started = sorted(results, key=lambda r: r["started"])
    assert [r["name"] for r in started] == [
        "blocker",
        "a1",
        "b1",
        "c1",
        "a2",
        "b2",
        "a3",
    ]


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


def test_identical_jobs_run_once_and_serve_every_ticket(two_workers):
    engine = two_workers
    before = engine.launched
    first = engine.submit(SleepJob("same", steps=3), "student-1")
    second = engine.submit(SleepJob("same", steps=3), "student-2")
    assert first.job_id == second.job_id
    a, b = engine.gather([first, second])
    assert a == b
    again = engine.submit(SleepJob("same", steps=3), "student-3")
    assert engine.status(again).state == DONE  # served from the kept results
    assert engine.result(again) == a
    assert engine.launched == before + 1


def test_cancelling_one_of_two_identical_tickets_keeps_the_job(one_worker):
    engine = one_worker
    first = engine.submit(SleepJob("shared", steps=10), "a")
    second = engine.submit(SleepJob("shared", steps=10), "b")
    engine.cancel(first)
    assert engine.gather([second])[0]["name"] == "shared"


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


def test_an_owner_without_heartbeats_has_its_jobs_cancelled(one_worker):
    engine = one_worker  # owner_ttl 1 s
    engine.heartbeat("gone")
    engine.heartbeat("here")
    running = engine.submit(SleepJob("gone-running", steps=400), "gone")
    queued = engine.submit(SleepJob("gone-queued", steps=1), "gone")
    stays = engine.submit(SleepJob("here", steps=1), "here")
    stop = threading.Event()

    def beat():
        while not stop.is_set():
            engine.heartbeat("here")
            time.sleep(0.2)

    beating = threading.Thread(target=beat, daemon=True)
    beating.start()
    try:
        assert wait_for(lambda: engine.status(running).state == CANCELLED, 15)
        assert engine.status(queued).state == CANCELLED
        assert engine.gather([stays])[0]["name"] == "here"
    finally:
        stop.set()


def test_submitting_counts_as_a_heartbeat():
    # An owner that beat once (the session watcher beats every owner with live
    # jobs, the CLI's "cli" too when the app runs in the same process) and comes
    # back just before its old beat expires must not be reaped mid-run.
    engine = Engine(LocalBackend(workers=1, threads=1), owner_ttl=3.0)
    try:
        assert wait_for(lambda: engine.backend.ready_workers() == 1)
        engine.heartbeat("cli")
        time.sleep(2.0)  # the beat is 2 s old, the run takes about 1.5 s
        later = engine.submit(SleepJob("later", steps=30, pause=0.05), "cli")
        assert engine.gather([later])[0]["name"] == "later"
    finally:
        engine.shutdown()


def test_the_session_watcher_heartbeats_only_connected_sessions(one_worker):
    from ui.runner import _watch_sessions

    engine = one_worker  # owner_ttl 1 s
    engine.heartbeat("closed-tab")
    engine.heartbeat("open-tab")
    closed = engine.submit(SleepJob("closed", steps=400), "closed-tab")
    open_ = engine.submit(SleepJob("open", steps=1), "open-tab")
    watcher = threading.Thread(
        target=_watch_sessions,
        args=(engine, lambda owner: owner == "open-tab", 0.2),
        daemon=True,
    )
    watcher.start()
    assert wait_for(lambda: engine.status(closed).state == CANCELLED, 15)
    assert engine.gather([open_])[0]["name"] == "open"


def test_engine_settings_come_from_flags_then_the_environment(monkeypatch):
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


def test_results_someone_still_holds_are_kept_past_the_limit():
    engine = Engine(LocalBackend(workers=1, threads=1), keep_results=1)
    try:
        held = engine.submit(SleepJob("held"), "away-on-another-page")
        engine.gather([held])
        for i in range(3):  # three more results, each released at once
            ticket = engine.submit(SleepJob(f"other-{i}"), "busy-student")
            engine.gather([ticket])
            engine.release([ticket])
        assert engine.status(held).state == DONE
        assert engine.result(held)["name"] == "held"
        engine.release([held])
        last = engine.submit(SleepJob("last"), "busy-student")
        engine.gather([last])
        assert engine.status(held).state == CANCELLED  # gone once nobody held it
    finally:
        engine.shutdown()


def test_surge_slots_serve_newcomers_all_at_once_and_a_lone_owner_one():
    engine = Engine(LocalBackend(workers=1, threads=1, surge=3))
    try:
        a1, a2, a3 = (
            engine.submit(SleepJob(f"a{i}", steps=steps), "long-runner")
            for i, steps in ((1, LONG_STEPS), (2, LONG_STEPS), (3, 1))
        )
        # The only owner so far: its next job shares the cores on a surge slot
        # instead of waiting a minute; its third waits, and no second spare
        # worker starts for it.
        assert wait_for(lambda: engine.status(a2).state == RUNNING)
        assert wait_for(lambda: engine.backend.ready_workers() == 2)
        time.sleep(1.0)
        assert engine.status(a3).state == QUEUED
        assert len(engine.backend.pids()) == 2
        # However long the newcomer's own jobs are said to be.
        b1 = engine.submit(SleepJob("b1", steps=100, estimate=1e6), "newcomer")
        b2 = engine.submit(SleepJob("b2", steps=100), "newcomer")
        # Both of the newcomer's jobs start on the two surge slots left; the long
        # runner's third job stays queued although it was there first.
        assert wait_for(
            lambda: engine.status(b1).state == RUNNING == engine.status(b2).state
        )
        assert engine.status(a3).state == QUEUED
        engine.cancel([a1, a2, b1, b2])
        assert engine.gather([a3])[0]["name"] == "a3"
    finally:
        engine.shutdown()


def test_a_lone_owner_waits_for_its_own_short_jobs_without_a_surge_worker():
    engine = Engine(LocalBackend(workers=1, threads=1, surge=1))
    try:
        assert wait_for(lambda: engine.backend.ready_workers() == 1)
        # 3 s by the pace of its epochs: under SURGE_WAIT_S.
        first = engine.submit(SleepJob("first", steps=30, pause=0.1), "alone")
        second = engine.submit(SleepJob("second"), "alone")
        assert wait_for(lambda: engine.status(first).progress is not None)
        time.sleep(1.0)
        assert engine.status(second).state == QUEUED
        assert len(engine.backend.pids()) == 1  # no spare worker started
        assert engine.gather([first, second])[1]["name"] == "second"
    finally:
        engine.shutdown()


def test_surge_workers_start_one_at_a_time_once_the_others_are_ready():
    backend = LocalBackend(workers=1, threads=1, surge=2)
    backend.want_surge(now=False, soon=True)  # as the engine says for a class
    try:
        seen = [(len(backend.pids()), backend.ready_workers())]
        deadline = time.monotonic() + 60
        while seen[-1] != (3, 3) and time.monotonic() < deadline:
            backend.poll(0.1)
            seen.append((len(backend.pids()), backend.ready_workers()))
    finally:
        backend.close()
    assert seen[0] == (1, 0)  # the regular worker alone at first
    assert seen[-1] == (3, 3)
    assert all(started - ready <= 1 for started, ready in seen), seen


def test_a_surge_worker_waits_for_a_spare_core_unless_a_newcomer_needs_it():
    """Its start imports TensorFlow, which would slow the jobs filling the cores."""
    regular = cores()
    engine = Engine(LocalBackend(workers=regular, threads=1, surge=1))
    try:
        # Handed out at once, before the regular workers are ready; two owners
        # make a class, for whom spare workers start ahead on spare cores.
        long = [
            engine.submit(SleepJob(f"a{i}", steps=LONG_STEPS), f"long-runner-{i % 2}")
            for i in range(regular)
        ]
        backend = engine.backend
        assert wait_for(lambda: backend.ready_workers() == regular)
        assert wait_for(lambda: {engine.status(t).state for t in long} == {RUNNING})
        time.sleep(1.0)
        assert len(backend.pids()) == regular  # every core busy: no start
        newcomer = engine.submit(SleepJob("b"), "newcomer")
        assert engine.gather([newcomer], poll=0.05)[0]["name"] == "b"
        assert len(backend.pids()) == regular + 1  # started for the newcomer
        assert {engine.status(t).state for t in long} == {RUNNING}
        engine.cancel(long)
    finally:
        engine.shutdown()


def test_spare_workers_start_ahead_for_a_class_never_for_a_lone_user():
    engine = Engine(LocalBackend(workers=1, threads=1, surge=1))
    try:
        engine.gather([engine.submit(SleepJob("alone"), "student-at-home")])
        time.sleep(1.0)
        assert len(engine.backend.pids()) == 1
        engine.gather([engine.submit(SleepJob("classmate"), "classmate")])
        assert wait_for(lambda: engine.backend.ready_workers() == 2)
    finally:
        engine.shutdown()


def test_the_wait_for_a_running_job_is_projected_from_the_pace_of_its_epochs():
    from forecasting.runtime.engine import _Entry

    entry = _Entry("j1", "k", SleepJob("a", estimate=99.0), "o", started=9.0)
    entry.progress = [{"epoch": 3, "epochs": 10}]
    entry.epochs_seen = [(1, 10.0)]  # one report: as long again as it has run
    assert Engine._projected(entry, now=12.5) == 3.5
    entry.epochs_seen = [(1, 10.0), (3, 12.0)]  # 1 s an epoch, 7 to go
    assert Engine._projected(entry, now=12.5) == 6.5
    assert Engine._projected(entry, now=30.0) == 0.0


def test_a_newcomer_waits_for_short_jobs_instead_of_taking_a_surge_slot():
    """A class's short jobs take turns: more processes than cores cost CPU time."""
    regular = cores()
    engine = Engine(LocalBackend(workers=regular, threads=1, surge=1))
    try:
        backend = engine.backend
        engine.gather([engine.submit(SleepJob(f"hi-{o}"), o) for o in ("x", "y")])
        assert wait_for(lambda: len(backend.pids()) == regular + 1)  # a class's
        short = [
            engine.submit(SleepJob(f"a{i}", steps=30, pause=0.1), "first")
            for i in range(regular)
        ]
        assert wait_for(lambda: all(engine.status(t).progress for t in short))
        # The wait, 3 s at most by the jobs' epochs, is under SURGE_WAIT_S.
        newcomer = engine.submit(SleepJob("b"), "newcomer")
        time.sleep(0.5)
        assert engine.status(newcomer).state == QUEUED
        engine.gather([newcomer], poll=0.02)
        assert DONE in {engine.status(t).state for t in short}
    finally:
        engine.shutdown()


def test_in_a_class_the_surge_slot_serves_only_an_owner_with_nothing_running():
    engine = Engine(LocalBackend(workers=1, threads=1, surge=1))
    try:
        engine.gather([engine.submit(SleepJob(f"hi-{o}"), o) for o in ("x", "y")])
        a1 = engine.submit(SleepJob("a1", steps=LONG_STEPS), "long-runner")
        a2 = engine.submit(SleepJob("a2", steps=1), "long-runner")
        assert wait_for(lambda: engine.status(a1).progress is not None)
        assert wait_for(lambda: engine.backend.ready_workers() == 2)
        time.sleep(1.0)
        assert engine.status(a2).state == QUEUED  # the slot is for newcomers
        b1 = engine.submit(SleepJob("b1", steps=1), "newcomer")
        b2 = engine.submit(SleepJob("b2", steps=1), "newcomer")
        # The newcomer starts at once (on the surge slot), one job at a time,
        # while the long run still holds the regular worker.
        assert engine.gather([b1, b2])[1]["name"] == "b2"
        assert engine.status(a1).state == RUNNING
        assert engine.status(a2).state == QUEUED
        engine.cancel([a1])
        assert engine.gather([a2])[0]["name"] == "a2"
    finally:
        engine.shutdown()


def test_a_lone_users_spare_starts_by_estimate_and_takes_a_job_by_pace():
    """It imports TensorFlow while the first epochs tell; one at most, while idle."""
    engine = Engine(LocalBackend(workers=1, threads=1, surge=2))
    try:
        backend = engine.backend
        assert wait_for(lambda: backend.ready_workers() == 1)
        # No epoch report for 8 s; its estimate says 100 s.
        long = SleepJob("first", steps=12, pause=8, estimate=100.0)
        first = engine.submit(long, "me")
        second = engine.submit(SleepJob("second"), "me")
        assert wait_for(lambda: backend.ready_workers() == 2, timeout=6)
        time.sleep(1.0)
        assert engine.status(first).progress is None  # the epochs have not told
        assert engine.status(second).state == QUEUED  # the spare waits for them
        assert len(backend.pids()) == 2  # and no second spare starts meanwhile
        assert engine.gather([second])[0]["name"] == "second"  # then takes it
        assert engine.status(first).state == RUNNING
        engine.cancel([first])
    finally:
        engine.shutdown()
