"""The scheduler's rules in one pure function: a snapshot in, actions out.

The engine's thread (:mod:`forecasting.runtime.engine`) builds a :class:`Snapshot`
of plain data (the queues, the running jobs, the workers, who is connected), calls
:func:`decide` and carries out the actions it returns. Nothing here reads a clock,
starts a process or keeps state, so every rule is tested with plain numbers for
``now`` (tests/test_policy.py).

Six rules, each one function below (docs/SERVING.md has their measured effect):

1. :func:`_pick`: the fair queue: fewest jobs running, then served longest ago.
2. :func:`_spare_owners`: an owner holding no regular slot takes a spare slot when
   no regular slot frees within :attr:`Policy.spare_wait_s`; else jobs take turns.
3. :func:`_lone_tail`: a lone owner's next job takes one spare slot when every
   running job's epochs show more than that wait left.
4. :func:`_grows`: spare worker processes start one at a time, for a waiting
   owner, or ahead for a class on a spare core.
5. :func:`pick_worker` and :func:`_prepares`: a job goes to a worker that has its
   setting compiled; idle workers compile recent settings ahead on spare cores.
6. :func:`reaps`: owners silent for :attr:`Policy.owner_ttl_s` are forgotten; the
   jobs of those that sent heartbeats are cancelled.

A running job's time left has one estimate, :func:`time_left`; a class is the
owners connected now (:func:`connected`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

STARTING, READY, PREPARING, LEAVING = "starting", "ready", "preparing", "leaving"
"""A worker's states: importing TensorFlow, ready, compiling ahead, retiring."""


@dataclass(frozen=True)
class Policy:
    """Every constant of the scheduler, with its unit and why.

    Attributes:
        spare_wait_s: Seconds. A job takes a spare slot only when no regular slot
            frees within this: behind a long run a newcomer starts at once, while
            a class's short jobs take turns (more processes than cores cost CPU
            time). 15 s measured best in a side-by-side engine script (fbd8b75).
        owner_ttl_s: Seconds without a sign of life after which an owner no longer
            counts as connected, and the jobs of an owner that sent heartbeats
            (a browser tab that closed) are cancelled.
        prepare_after_s: Seconds without a job starting or ending before idle
            workers compile ahead: a student who presses Train again at once
            finds every worker free.
        compiled_keys: Settings a worker keeps compiled; must equal the
            trainers it caches (``forecasting.nn.fastpath._TRAINERS_MAX``).
        max_jobs: Jobs after which a worker process is replaced (bounds its
            memory).
        extra_holders: Compile ahead until this many workers more than the
            regular slots have a setting: enough for the next arrival, while
            more cost a lone student's first runs.
        idle_kept: Idle workers compile-ahead leaves free for a newcomer.
        lone_spare_jobs: Spare slots a lone owner's jobs may hold at once.
        keep_results: Finished results kept for identical later jobs.
    """

    spare_wait_s: float = 15.0
    owner_ttl_s: float = 45.0
    prepare_after_s: float = 2.0
    compiled_keys: int = 6
    max_jobs: int = 40
    extra_holders: int = 1
    idle_kept: int = 1
    lone_spare_jobs: int = 1
    keep_results: int = 256


POLICY = Policy()
"""The policy the engine uses unless told otherwise."""


# The snapshot -------------------------------------------------------------------------
@dataclass(frozen=True)
class Queued:
    """A queued job: its id, estimated seconds of work and compile key."""

    id: str
    estimate: float = 10.0
    compile_key: str | None = None


@dataclass(frozen=True)
class OwnerQueue:
    """One owner's queued jobs in order, and when it was last served.

    Attributes:
        owner: Who asked.
        jobs: Its queued jobs, next first.
        served: Serial number of its latest start (0: never); lower is longer ago.
    """

    owner: str
    jobs: tuple[Queued, ...]
    served: int = 0


@dataclass(frozen=True)
class Running:
    """A running job.

    Attributes:
        id: The job.
        owner: Who asked.
        started: Clock time it started (seconds).
        estimate: Its estimated seconds of work.
        spare: Whether it holds a spare slot (else a regular one).
        first_epoch: ``(epoch, time)`` of its first epoch report, if any.
        latest_epoch: The same for its latest report.
        epochs: Epochs it runs in all, once a report said so.
    """

    id: str
    owner: str
    started: float
    estimate: float = 10.0
    spare: bool = False
    first_epoch: tuple[int, float] | None = None
    latest_epoch: tuple[int, float] | None = None
    epochs: int | None = None


@dataclass(frozen=True)
class Worker:
    """A worker process (or a Ray slot).

    Attributes:
        id: The backend's name for it.
        state: :data:`STARTING`, :data:`READY`, :data:`PREPARING` or LEAVING.
        job: The job it runs, if any (a starting worker may hold one already).
        compiled: Compile keys of the jobs it ran or prepared, latest last.
    """

    id: int
    state: str = READY
    job: str | None = None
    compiled: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """What the engine and its backend look like at one moment (plain data).

    Attributes:
        queues: Owners with queued jobs, in the order they first queued.
        running: The running jobs.
        workers: The workers (none for a status question).
        regular: Regular slots (one worker per core by default).
        spare: Spare slots beyond them (worker processes started on demand).
        cores: CPU cores of the machine.
        seen: Every owner's latest sign of life (a submit or heartbeat), clock s.
        heartbeating: Owners that send heartbeats (their silence cancels jobs).
        recent_keys: Compile keys of recent jobs, latest last.
        last_job_event: Clock time a job last started or ended.
        can_prepare: Whether the workers may compile ahead.
    """

    queues: tuple[OwnerQueue, ...] = ()
    running: tuple[Running, ...] = ()
    workers: tuple[Worker, ...] = ()
    regular: int = 1
    spare: int = 0
    cores: int = 1
    seen: Mapping[str, float] = field(default_factory=dict)
    heartbeating: frozenset[str] = frozenset()
    recent_keys: tuple[str, ...] = ()
    last_job_event: float = -math.inf
    can_prepare: bool = False


# The actions --------------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """Run a queued job on a free worker, in a regular or a spare slot."""

    job_id: str
    worker: int
    spare: bool = False


@dataclass(frozen=True)
class StartSpare:
    """Start one more worker process (up to regular + spare)."""


@dataclass(frozen=True)
class Prepare:
    """Let an idle worker compile a recent setting ahead."""

    worker: int
    key: str


@dataclass(frozen=True)
class Reap:
    """Forget a silent owner; cancel its tickets if it sent heartbeats."""

    owner: str
    cancel: bool


Action = Start | StartSpare | Prepare | Reap


# Estimates ----------------------------------------------------------------------------
def pace_left(job: Running, now: float) -> float | None:
    """Seconds left at the pace from its first to its latest epoch report.

    None before two reports of different epochs: the first one's time includes
    the start, and maybe a compile.
    """
    if job.first_epoch is None or job.latest_epoch is None or job.epochs is None:
        return None
    (first, t0), (last, t1) = job.first_epoch, job.latest_epoch
    if last <= first:
        return None
    return max(0.0, (t1 - t0) / (last - first) * (job.epochs - last) - (now - t1))


def time_left(job: Running, now: float) -> float:
    """Seconds a running job probably still needs: the one estimate, used everywhere.

    :func:`pace_left` once its epochs tell; before that its estimate minus the
    time it has run, never below 0.
    """
    left = pace_left(job, now)
    return max(0.0, job.estimate - (now - job.started)) if left is None else left


def connected(snapshot: Snapshot, now: float, policy: Policy = POLICY) -> set[str]:
    """Owners with a sign of life within :attr:`Policy.owner_ttl_s`."""
    return {o for o, t in snapshot.seen.items() if now - t <= policy.owner_ttl_s}


def reaps(snapshot: Snapshot, now: float, policy: Policy = POLICY) -> list[Reap]:
    """Rule 6: owners silent for longer than :attr:`Policy.owner_ttl_s`."""
    return [
        Reap(owner, owner in snapshot.heartbeating)
        for owner, t in snapshot.seen.items()
        if now - t > policy.owner_ttl_s
    ]


def remember(keys: tuple[str, ...], key: str | None, limit: int) -> tuple[str, ...]:
    """``keys`` with ``key`` moved or added last, keeping the latest ``limit``."""
    if key is None:
        return keys
    return (*(k for k in keys if k != key), key)[-limit:]


def pick_worker(free: list[Worker], key: str | None) -> Worker:
    """Rule 5: the free worker for a job: one that has its key compiled, if any.

    Otherwise the one that knows the fewest keys, so that compiled settings
    spread over the workers instead of every worker compiling every setting.
    """
    warm = [w for w in free if key is not None and key in w.compiled]
    return warm[0] if warm else min(free, key=lambda w: len(w.compiled))


def _free(worker: Worker) -> bool:
    """Whether a worker can take a job (a starting one runs it once ready)."""
    return worker.job is None and worker.state in (STARTING, READY)


def _busy(workers: list[Worker]) -> int:
    """Workers using a core: importing TensorFlow, running or compiling."""
    return sum(w.state in (STARTING, PREPARING) or w.job is not None for w in workers)


def _pick(
    owners: list[str], running: dict[str, int], served: dict[str, int]
) -> str | None:
    """Rule 1, the fair queue: fewest jobs running, then served longest ago."""
    if not owners:
        return None
    return min(owners, key=lambda o: (running.get(o, 0), served.get(o, 0)))


@dataclass
class _Plan:
    """:func:`decide`'s working copy of a snapshot, updated as it chooses."""

    snapshot: Snapshot
    now: float
    policy: Policy
    queues: dict[str, list[Queued]]
    served: dict[str, int]
    running: list[Running]
    counts: dict[str, int]
    workers: dict[int, Worker]
    last_event: float
    actions: list[Action] = field(default_factory=list)

    @classmethod
    def of(cls, snapshot: Snapshot, now: float, policy: Policy) -> _Plan:
        return cls(
            snapshot,
            now,
            policy,
            {q.owner: list(q.jobs) for q in snapshot.queues if q.jobs},
            {q.owner: q.served for q in snapshot.queues},
            list(snapshot.running),
            dict(Counter(r.owner for r in snapshot.running)),
            {w.id: w for w in snapshot.workers},
            snapshot.last_job_event,
        )

    def waiting(self) -> list[str]:
        return [o for o, q in self.queues.items() if q]

    def holders(self) -> list[str]:
        """Owners of the jobs in regular slots (one entry per job)."""
        return [r.owner for r in self.running if not r.spare]

    def start(self, owner: str, worker: Worker, spare: bool) -> None:
        job = self.queues[owner].pop(0)
        self.running.append(Running(job.id, owner, self.now, job.estimate, spare))
        self.counts[owner] = self.counts.get(owner, 0) + 1
        keys = remember(worker.compiled, job.compile_key, self.policy.compiled_keys)
        self.workers[worker.id] = replace(worker, job=job.id, compiled=keys)
        self.served[owner] = max(self.served.values(), default=0) + 1
        self.last_event = self.now
        self.actions.append(Start(job.id, worker.id, spare))


def _spare_owners(plan: _Plan) -> list[str]:
    """Rule 2: the owners a spare slot is for (every regular slot is taken).

    Only while no regular slot frees within :attr:`Policy.spare_wait_s`, and then
    owners who hold no regular slot: behind others' long runs a newcomer starts
    at once, while a class's short jobs take the regular slots in turn. Or a lone
    owner's next job (:func:`_lone_tail`).
    """
    regular = [r for r in plan.running if not r.spare]
    soonest = min((time_left(r, plan.now) for r in regular), default=math.inf)
    if soonest <= plan.policy.spare_wait_s:
        return []
    holders = set(plan.holders())
    newcomers = [o for o in plan.waiting() if o not in holders]
    if newcomers:
        return newcomers
    return plan.waiting() if _lone_tail(plan) else []


def _lone_tail(plan: _Plan, by_estimate: bool = False) -> bool:
    """Rule 3: whether a lone owner waits behind its own long runs.

    Lone: nobody else waits, runs or is connected. Then its next job takes a
    spare slot (one at most,
    :attr:`Policy.lone_spare_jobs`) and shares the cores: five long seeds on two
    workers no longer end with a round of one job and a core idle. Only when
    every running job's epochs show more than :attr:`Policy.spare_wait_s` left;
    ``by_estimate`` trusts :func:`time_left` before the epochs tell, to start the
    spare worker ahead so that it has imported TensorFlow by then.
    """
    waiting = set(plan.waiting())
    present = waiting | {r.owner for r in plan.running}
    present |= connected(plan.snapshot, plan.now, plan.policy)
    if len(waiting) != 1 or present != waiting:
        return False
    if sum(r.spare for r in plan.running) >= plan.policy.lone_spare_jobs:
        return False
    return all(
        (by_estimate or pace_left(r, plan.now) is not None)
        and time_left(r, plan.now) > plan.policy.spare_wait_s
        for r in plan.running
    )


def _hand_out(plan: _Plan) -> bool:
    """Start queued jobs on free workers; whether a spare slot is wanted after.

    Regular slots go by the fair queue; once they are all taken, spare slots go
    to :func:`_spare_owners`, by the fair queue among them.
    """
    free = [w for w in plan.workers.values() if _free(w)]
    while free:
        spare = len(plan.holders()) >= plan.snapshot.regular
        owners = _spare_owners(plan) if spare else plan.waiting()
        owner = _pick(owners, plan.counts, plan.served)
        if owner is None:
            break
        worker = pick_worker(free, plan.queues[owner][0].compile_key)
        free.remove(worker)
        plan.start(owner, worker, spare)
    # Someone a spare slot is for still waits, or a lone owner soon will.
    return len(plan.holders()) >= plan.snapshot.regular and (
        bool(_spare_owners(plan)) or _lone_tail(plan, by_estimate=True)
    )


def _grows(plan: _Plan, wanted: bool) -> bool:
    """Rule 4: whether to start the next spare worker process now.

    One at a time, once every started worker is ready: a start imports
    TensorFlow, and five imports at once on two cores made the first training
    after the start wait 1.5x as long. For someone who waits (``wanted``) when no
    started worker sits idle; ahead, for a class, when a core is spare.
    """
    workers = list(plan.workers.values())
    snap = plan.snapshot
    if len(workers) >= snap.regular + snap.spare:
        return False
    if any(w.state == STARTING for w in workers):
        return False
    idle = any(_free(w) for w in workers)
    in_class = len(connected(snap, plan.now, plan.policy)) > 1
    return (wanted and not idle) or (in_class and _busy(workers) < snap.cores)


def _prepares(plan: _Plan) -> None:
    """Rule 5: while someone is connected, idle workers compile recent settings.

    Not within :attr:`Policy.prepare_after_s` of a job starting or ending; only
    on spare cores, leaving :attr:`Policy.idle_kept` idle workers free; and only
    until a setting is on :attr:`Policy.extra_holders` workers more than the
    regular slots. Each worker takes the setting the fewest workers have, the
    latest first among equals (a cancelled job's setting is not among them).
    """
    snap, policy, now = plan.snapshot, plan.policy, plan.now
    quiet = now - plan.last_event >= policy.prepare_after_s
    if not (snap.can_prepare and quiet and connected(snap, now, policy)):
        return
    workers = list(plan.workers.values())
    idle = [w for w in workers if _free(w) and w.state == READY]
    enough = snap.regular + policy.extra_holders

    def holders(key: str) -> int:
        return sum(1 for w in plan.workers.values() if key in w.compiled)

    wanted = [k for k in reversed(snap.recent_keys) if holders(k) < enough]
    todo = {w.id: [k for k in wanted if k not in w.compiled] for w in idle}
    room = min(len(idle) - policy.idle_kept, snap.cores - _busy(workers))
    for worker in [w for w in idle if todo[w.id]][: max(0, room)]:
        keys = [k for k in todo[worker.id] if holders(k) < enough]
        if not keys:  # an earlier worker of this pass took it to enough
            continue
        key = min(keys, key=holders)
        compiled = remember(worker.compiled, key, policy.compiled_keys)
        plan.workers[worker.id] = replace(worker, state=PREPARING, compiled=compiled)
        plan.actions.append(Prepare(worker.id, key))


def decide(snapshot: Snapshot, now: float, policy: Policy = POLICY) -> list[Action]:
    """What the engine does next, from a snapshot.

    Args:
        snapshot: The engine and its backend at ``now``.
        now: Clock seconds (the same clock as the snapshot's times).
        policy: The constants.

    Returns:
        :class:`Reap` actions alone when owners fell silent (the engine carries
        them out and asks again); otherwise :class:`Start` actions in order, then
        at most one :class:`StartSpare`, then :class:`Prepare` actions.
    """
    silent = reaps(snapshot, now, policy)
    if silent:
        return list(silent)
    plan = _Plan.of(snapshot, now, policy)
    wanted = _hand_out(plan)
    if _grows(plan, wanted):
        spare = -1 - len(plan.workers)  # a placeholder id for what follows
        plan.workers[spare] = Worker(spare, STARTING)
        plan.actions.append(StartSpare())
    _prepares(plan)
    return plan.actions


def place_in_line(snapshot: Snapshot, job_id: str, now: float) -> tuple[int, float]:
    """A queued job's place in line (1 = next) and estimated seconds until it starts.

    The queue is played forward by the fair queue's order; the wait is the
    :func:`time_left` of the running jobs plus the estimates of the jobs ahead,
    shared by the regular slots. ``(0, 0.0)`` for a job not queued.
    """
    queues = {q.owner: list(q.jobs) for q in snapshot.queues if q.jobs}
    served = {q.owner: q.served for q in snapshot.queues}
    running = dict(Counter(r.owner for r in snapshot.running))
    ahead, position = 0.0, 0
    while (
        owner := _pick([o for o, q in queues.items() if q], running, served)
    ) is not None:
        job = queues[owner].pop(0)
        position += 1
        if job.id == job_id:
            left = sum(time_left(r, now) for r in snapshot.running)
            return position, (left + ahead) / max(1, snapshot.regular)
        ahead += job.estimate
        running[owner] = running.get(owner, 0) + 1
        served[owner] = max(served.values(), default=0) + 1
    return 0, 0.0
