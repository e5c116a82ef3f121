"""The scheduler's rules (forecasting.runtime.policy): plain data in, actions out.

No processes, no sleeps: ``now`` is a plain number, and each case names the exact
actions :func:`decide` must return.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from forecasting.runtime.policy import (
    LEAVING,
    POLICY,
    PREPARING,
    READY,
    STARTING,
    OwnerQueue,
    Policy,
    Prepare,
    Queued,
    Reap,
    Running,
    Snapshot,
    Start,
    StartSpare,
    Worker,
    connected,
    decide,
    pick_worker,
    place_in_line,
    remember,
    time_left,
)

ROOT = Path(__file__).resolve().parents[1]


def queue(owner: str, *ids: str, served: int = 0, estimate: float = 10.0, key=None):
    """An owner's queue of jobs ``ids`` (all with one estimate and compile key)."""
    return OwnerQueue(owner, tuple(Queued(i, estimate, key) for i in ids), served)


def run(job: str, owner: str, left: float | None = None, spare: bool = False, **kw):
    """A running job; ``left`` seconds by the pace of its epochs (at now = 100).

    Its epochs 1 and 11 were reported at 90 and 100 (1 s an epoch), so it has
    ``left`` epochs to go.
    """
    if left is None:
        return Running(job, owner, started=kw.pop("started", 95.0), spare=spare, **kw)
    return Running(
        job,
        owner,
        started=85.0,
        spare=spare,
        first_epoch=(1, 90.0),
        latest_epoch=(11, 100.0),
        epochs=11 + int(left),
        **kw,
    )


def workers(*states: str, **jobs: str) -> tuple[Worker, ...]:
    """Workers 1, 2... in these states; ``w2="j1"`` gives worker 2 a job."""
    return tuple(
        Worker(i, state, jobs.get(f"w{i}")) for i, state in enumerate(states, start=1)
    )


NOW = 100.0
LONG, SHORT = 60.0, 10.0  # seconds left by the pace of a running job's epochs
CLASS = {"x": 99.0, "y": 99.0}  # two owners connected now
ALONE = {"x": 99.0}  # one owner connected now

FAIR_QUEUE = [
    (
        "the owner served longest ago goes first",
        Snapshot(
            queues=(queue("a", "a1", served=3), queue("b", "b1", served=1)),
            workers=workers(READY),
        ),
        [Start("b1", 1)],
    ),
    (
        "fewest running beats served longest ago",
        Snapshot(
            queues=(queue("a", "a2", served=1), queue("b", "b1", served=2)),
            running=(run("a1", "a"),),
            workers=workers(READY, READY, w1="a1"),
            regular=2,
        ),
        [Start("b1", 2)],
    ),
    (
        "owners take turns, each in its own order",
        Snapshot(
            queues=(queue("a", "a1", "a2"), queue("b", "b1")),
            workers=workers(READY, STARTING, READY),
            regular=3,
        ),
        [Start("a1", 1), Start("b1", 2), Start("a2", 3)],
    ),
    (
        "no free worker, nothing starts",
        Snapshot(
            queues=(queue("a", "a1"),),
            workers=workers(PREPARING, LEAVING, READY, w3="z1"),
            running=(run("z1", "z"),),
            regular=3,
        ),
        [],
    ),
]

NEWCOMER_SPARE = [
    (
        "a newcomer behind a long run takes a spare slot",
        Snapshot(
            queues=(queue("a", "a2"), queue("b", "b1", "b2")),
            running=(run("a1", "a", LONG),),
            workers=workers(READY, READY, w1="a1"),
            spare=1,
            seen={"a": 90.0, "b": 99.0},
        ),
        [Start("b1", 2, spare=True)],
    ),
    (
        "behind a short run the newcomer waits its turn",
        Snapshot(
            queues=(queue("b", "b1"),),
            running=(run("a1", "a", SHORT),),
            workers=workers(READY, READY, w1="a1"),
            spare=1,
            seen={"a": 90.0, "b": 99.0},
        ),
        [],
    ),
    (
        "before the epochs tell, the estimate says how long",
        Snapshot(
            queues=(queue("b", "b1"),),
            running=(run("a1", "a", estimate=100.0),),
            workers=workers(READY, READY, w1="a1"),
            spare=1,
        ),
        [Start("b1", 2, spare=True)],
    ),
    (
        "all of a newcomer's jobs start on the spare slots, not the runner's",
        Snapshot(
            queues=(queue("a", "a3"), queue("b", "b1", "b2")),
            running=(run("a1", "a", LONG), run("a2", "a", LONG, spare=True)),
            workers=workers(READY, READY, READY, READY, w1="a1", w2="a2"),
            spare=3,
        ),
        [Start("b1", 3, spare=True), Start("b2", 4, spare=True)],
    ),
    (
        "in a class the runner's own next job leaves the spare slot free",
        Snapshot(
            queues=(queue("a", "a2"),),
            running=(run("a1", "a", LONG),),
            workers=workers(READY, READY, w1="a1"),
            spare=1,
            seen=CLASS,
        ),
        [],
    ),
    (
        "a newcomer who waits gets a spare worker started",
        Snapshot(
            queues=(queue("b", "b1"),),
            running=(run("a1", "a", LONG),),
            workers=workers(READY, w1="a1"),
            spare=1,
        ),
        [StartSpare()],
    ),
]

LONE_SPARE = [
    (
        "a lone owner's next job takes one spare slot behind its long runs",
        Snapshot(
            queues=(queue("cli", "a3", "a4"),),
            running=(run("a1", "cli", LONG), run("a2", "cli", 20.0)),
            workers=workers(READY, READY, READY, w1="a1", w2="a2"),
            regular=2,
            spare=1,
        ),
        [Start("a3", 3, spare=True)],
    ),
    (
        "a student alone at home, connected, is a lone owner too",
        Snapshot(
            queues=(queue("me", "a2"),),
            running=(run("a1", "me", LONG),),
            workers=workers(READY, READY, w1="a1"),
            spare=1,
            seen={"me": 99.0, "left-an-hour-ago": 10.0},
        ),
        [Reap("left-an-hour-ago", cancel=False)],
    ),
    (
        "and once the silent one is forgotten, takes the spare slot",
        Snapshot(
            queues=(queue("me", "a2"),),
            running=(run("a1", "me", LONG),),
            workers=workers(READY, READY, w1="a1"),
            spare=1,
            seen={"me": 99.0},
        ),
        [Start("a2", 2, spare=True)],
    ),
    (
        "not until every running job's epochs tell",
        Snapshot(
            queues=(queue("cli", "a3"),),
            running=(run("a1", "cli", LONG), run("a2", "cli", estimate=100.0)),
            workers=workers(READY, READY, READY, w1="a1", w2="a2"),
            regular=2,
            spare=1,
        ),
        [],
    ),
    (
        "but its spare worker starts by the estimates, to be ready by then",
        Snapshot(
            queues=(queue("cli", "a3"),),
            running=(run("a1", "cli", estimate=100.0), run("a2", "cli", LONG)),
            workers=workers(READY, READY, w1="a1", w2="a2"),
            regular=2,
            spare=2,
        ),
        [StartSpare()],
    ),
    (
        "not when a running job ends within the wait",
        Snapshot(
            queues=(queue("cli", "a3"),),
            running=(run("a1", "cli", LONG), run("a2", "cli", SHORT)),
            workers=workers(READY, READY, READY, w1="a1", w2="a2"),
            regular=2,
            spare=1,
        ),
        [],
    ),
    (
        "one spare slot at most: its third job waits, no second spare starts",
        Snapshot(
            queues=(queue("me", "a3"),),
            running=(run("a1", "me", LONG), run("a2", "me", LONG, spare=True)),
            workers=workers(READY, READY, w1="a1", w2="a2"),
            spare=2,
            seen={"me": 99.0},
        ),
        [],
    ),
    (
        "not in a class: another owner is connected",
        Snapshot(
            queues=(queue("me", "a2"),),
            running=(run("a1", "me", LONG),),
            workers=workers(READY, READY, w1="a1"),
            spare=1,
            seen={"me": 99.0, "classmate": 80.0},
        ),
        [],
    ),
]

GROW = [
    (
        "one at a time: none while a started worker imports TensorFlow",
        Snapshot(
            queues=(queue("c", "c1"),),
            running=(run("a1", "a", LONG), run("b1", "b", spare=True)),
            workers=workers(READY, STARTING, w1="a1", w2="b1"),
            spare=2,
        ),
        [],
    ),
    (
        "ahead for a class, on a spare core",
        Snapshot(workers=workers(READY), spare=1, cores=2, seen=CLASS),
        [StartSpare()],
    ),
    (
        "never ahead for a lone user",
        Snapshot(workers=workers(READY), spare=1, cores=2, seen={"me": 99.0}),
        [],
    ),
    (
        "not ahead for a class when every core is busy",
        Snapshot(
            running=(run("x1", "x", SHORT), run("y1", "y", SHORT)),
            workers=workers(READY, READY, w1="x1", w2="y1"),
            regular=2,
            spare=1,
            cores=2,
            seen=CLASS,
        ),
        [],
    ),
    (
        "none beyond the spare slots",
        Snapshot(
            queues=(queue("b", "b1"),),
            running=(run("a1", "a", LONG), run("c1", "c", LONG, spare=True)),
            workers=workers(READY, READY, w1="a1", w2="c1"),
            spare=1,
            cores=4,
            seen=CLASS,
        ),
        [],
    ),
]

K, K2 = "compile:k", "compile:k2"

PREPARE = [
    (
        "idle workers compile a recent setting on spare cores, one left free",
        Snapshot(
            workers=(Worker(1, compiled=(K,)), Worker(2), Worker(3), Worker(4)),
            regular=4,
            cores=2,
            recent_keys=(K,),
            last_job_event=97.0,
            can_prepare=True,
            seen=ALONE,
        ),
        [Prepare(2, K), Prepare(3, K)],
    ),
    (
        "not within prepare_after_s of a job starting or ending",
        Snapshot(
            workers=(Worker(1, compiled=(K,)), Worker(2), Worker(3)),
            regular=3,
            cores=2,
            recent_keys=(K,),
            last_job_event=98.5,
            can_prepare=True,
            seen=ALONE,
        ),
        [],
    ),
    (
        "not while running jobs take every core",
        Snapshot(
            running=(run("s1", "s", LONG), run("s2", "t", LONG)),
            workers=(
                Worker(1, READY, "s1"),
                Worker(2, READY, "s2"),
                Worker(3, compiled=(K,)),
                Worker(4),
                Worker(5),
            ),
            regular=5,
            cores=2,
            recent_keys=(K,),
            can_prepare=True,
            seen=ALONE,
        ),
        [],
    ),
    (
        "not when more workers than cores are busy",
        Snapshot(
            running=(run("s1", "s", LONG), run("s2", "t", LONG), run("s3", "u", LONG)),
            workers=(
                Worker(1, READY, "s1"),
                Worker(2, READY, "s2"),
                Worker(3, READY, "s3"),
                Worker(4, compiled=(K,)),
                Worker(5),
                Worker(6),
            ),
            regular=6,
            cores=2,
            recent_keys=(K,),
            can_prepare=True,
            seen=ALONE,
        ),
        [],
    ),
    (
        "until one worker more than the regular slots has it",
        Snapshot(
            workers=(Worker(1, compiled=(K,)), Worker(2), Worker(3), Worker(4)),
            regular=1,
            spare=3,
            cores=4,
            recent_keys=(K,),
            can_prepare=True,
            seen=ALONE,
        ),
        [Prepare(2, K)],
    ),
    (
        "the setting the fewest workers have first, the latest among equals",
        Snapshot(
            workers=(Worker(1, compiled=(K, K2)), Worker(2), Worker(3), Worker(4)),
            regular=4,
            cores=4,
            recent_keys=(K, K2),
            can_prepare=True,
            seen=ALONE,
        ),
        [Prepare(2, K2), Prepare(3, K), Prepare(4, K2)],
    ),
    (
        "never with nobody connected",
        Snapshot(
            workers=(Worker(1, compiled=(K,)), Worker(2), Worker(3), Worker(4)),
            regular=4,
            cores=2,
            recent_keys=(K,),
            last_job_event=97.0,
            can_prepare=True,
            seen={},
        ),
        [],
    ),
    (
        "never on a backend that cannot",
        Snapshot(
            workers=(Worker(1, compiled=(K,)), Worker(2), Worker(3)),
            regular=3,
            cores=2,
            recent_keys=(K,),
        ),
        [],
    ),
    (
        "a job goes to the worker that has its setting compiled",
        Snapshot(
            queues=(queue("a", "a1", key=K),),
            workers=(Worker(1, compiled=(K2,)), Worker(2), Worker(3, compiled=(K,))),
            regular=3,
            recent_keys=(K,),
            can_prepare=True,
            seen=ALONE,
        ),
        [Start("a1", 3)],
    ),
]

REAP = [
    (
        "a silent heartbeating owner is reaped, alone in its pass",
        Snapshot(
            queues=(queue("gone", "g1"),),
            workers=workers(READY),
            seen={"gone": 54.0, "here": 99.0},
            heartbeating=frozenset({"gone", "here"}),
        ),
        [Reap("gone", cancel=True)],
    ),
    (
        "an owner that never beat is forgotten, its jobs kept",
        Snapshot(workers=workers(READY, w1="c1"), seen={"cli": 50.0}),
        [Reap("cli", cancel=False)],
    ),
    (
        "within the time to live nobody is reaped",
        Snapshot(
            queues=(queue("here", "h1"),),
            workers=workers(READY),
            seen={"here": 55.0},
            heartbeating=frozenset({"here"}),
        ),
        [Start("h1", 1)],
    ),
]

CASES = FAIR_QUEUE + NEWCOMER_SPARE + LONE_SPARE + GROW + PREPARE + REAP


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [pytest.param(s, e, id=name) for name, s, e in CASES],
)
def test_decide(snapshot, expected):
    assert decide(snapshot, NOW) == expected


@pytest.mark.parametrize(
    ("job", "now", "left"),
    [
        (Running("j", "o", 9.0, 99.0), 12.5, 95.5),  # no report: the estimate
        (Running("j", "o", 9.0, 99.0, first_epoch=(1, 10.0), epochs=10), 12.5, 95.5),
        (Running("j", "o", 9.0, 2.0), 12.5, 0.0),  # past its estimate: 0
        (Running("j", "o", 9.0, 99.0, False, (1, 10.0), (3, 12.0), 10), 12.5, 6.5),
        (Running("j", "o", 9.0, 99.0, False, (1, 10.0), (3, 12.0), 10), 30.0, 0.0),
        (Running("j", "o", 9.0, 99.0, False, (3, 10.0), (3, 12.0), 10), 12.5, 95.5),
    ],
)
def test_time_left_is_the_pace_of_the_epochs_else_the_estimate(job, now, left):
    assert time_left(job, now) == left


def test_places_in_line_follow_the_fair_queue():
    snapshot = Snapshot(
        queues=(
            queue("a", "a1", "a2", "a3", estimate=2.0),
            queue("b", "b1", "b2", estimate=2.0),
            queue("c", "c1", estimate=2.0),
        ),
        running=(Running("z1", "z", started=90.0, estimate=16.0),),
    )
    places = {j: place_in_line(snapshot, j, NOW)[0] for j in ("a1", "a2", "a3")}
    places |= {j: place_in_line(snapshot, j, NOW)[0] for j in ("b1", "b2", "c1")}
    assert places == {"a1": 1, "b1": 2, "c1": 3, "a2": 4, "b2": 5, "a3": 6}
    # c1 waits for the blocker's 6 s left and a1's and b1's 2 s each.
    assert place_in_line(snapshot, "c1", NOW) == (3, 10.0)
    assert place_in_line(snapshot, "z1", NOW) == (0, 0.0)  # running, not queued
    two = Snapshot(queues=snapshot.queues, running=snapshot.running, regular=2)
    assert place_in_line(two, "c1", NOW) == (3, 5.0)  # shared by two slots


def test_a_class_is_the_owners_connected_now():
    seen = {"cli": 10.0, "tab": 60.0, "closed": 54.0}
    assert connected(Snapshot(seen=seen), NOW) == {"tab"}
    assert connected(Snapshot(), NOW) == set()  # the command line: a lone user


def test_a_job_goes_to_a_warm_worker_else_to_the_one_that_knows_least():
    fresh, elsewhere = Worker(1), Worker(2, compiled=("b", "c"))
    warm = Worker(3, compiled=("a",))
    assert pick_worker([elsewhere, fresh, warm], "a") is warm
    assert pick_worker([elsewhere, fresh], "a") is fresh
    assert pick_worker([elsewhere, fresh], None) is fresh
    assert remember(("a", "b"), "a", 6) == ("b", "a")
    assert remember(("a", "b"), None, 6) == ("a", "b")
    assert remember(("a", "b", "c"), "d", 3) == ("b", "c", "d")


def test_the_compiled_keys_are_as_many_as_the_trainers_a_worker_keeps():
    from forecasting.nn import fastpath

    assert POLICY.compiled_keys == fastpath._TRAINERS_MAX


def rule_table() -> str:
    """The rule table of the serving docs, between its markers."""
    serving = (ROOT / "docs" / "SERVING.md").read_text()
    found = re.search(r"<!-- rules:start -->(.*)<!-- rules:end -->", serving, re.S)
    assert found, "docs/SERVING.md has lost its rule table's markers"
    return found.group(1)


def test_the_docs_rule_table_names_the_policys_constants():
    table = rule_table()
    named = dict(re.findall(r"`(\w+)\s*=\s*([\d.]+)`", table))
    assert set(named) == {f.name for f in fields(Policy)}
    for name, value in named.items():
        assert float(value) == getattr(POLICY, name), name
    rows = [ln for ln in table.splitlines() if ln.startswith("|")]
    rules = [row.split("|")[1].strip().split(".")[0] for row in rows[2:]]
    assert rules == ["1", "2", "3", "4", "5", "6"]  # six rules, after the header
