"""Run jobs outside the caller's process: a fair queue in front of worker processes.

An :class:`Engine` takes jobs (:mod:`forecasting.nn.jobs`) from several owners (the
browser sessions of a class, or the command line), keeps them in a queue that is
fair between owners, and hands them to a backend that runs them:

* :class:`forecasting.runtime.workers.LocalBackend` (the default): worker processes on
  this machine, each importing TensorFlow once and recycled after some jobs;
* :class:`forecasting.runtime.workers.RayBackend`: the same jobs as Ray tasks, on a Ray
  cluster or a local Ray.

Fairness: the next job goes to the owner with the fewest jobs running, ties going
to the owner served longest ago; within one owner jobs run in the order given.
A backend may keep *surge* slots beyond one worker per core
(:meth:`Engine._surge_queues`): a student who arrives while others' long runs hold
every core starts a whole comparison at once (the processes share the cores)
instead of waiting for those runs to end, while a class's short jobs take turns
on the regular workers; and a lone user's long jobs do not end with a round of
one job and a core idle. Spare workers start ahead only once several owners use
the engine (``want_surge``). Where training runs is
:class:`forecasting.settings.config.EngineSettings` (flags, then the environment).
Identical jobs (same :meth:`key`) run once and serve every ticket that asked for
them; finished results are kept (a few hundred) and served again at once. A ticket
can be cancelled: a queued job is dropped, a running one stops at its next epoch
(unless another ticket still wants it). Owners that send heartbeats
(:meth:`Engine.heartbeat`) and then stop for ``owner_ttl`` seconds (a closed tab)
have their jobs cancelled. A job whose worker dies fails alone, with a sentence.

Only one thread, the engine's own, talks to the backend.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from forecasting.runtime.protocol import Backend, Event, Job, JobCancelled, JobFailed

LOG = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = (
    "queued",
    "running",
    "done",
    "failed",
    "cancelled",
)
SURGE_WAIT_S = 15.0
"""A job that would wait longer than this for a regular slot may take a surge one
(the wait projected from the running jobs' epochs)."""


@dataclass
class _Entry:
    """One job in the engine: its state and who waits for it."""

    id: str
    key: str
    job: Job
    owner: str
    tickets: set[str] = field(default_factory=set)
    state: str = QUEUED
    progress: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    error: JobFailed | None = None
    submitted: float = 0.0
    started: float | None = None
    cancel_sent: bool = False
    surge: bool = False
    epochs_seen: list[tuple[int, float]] = field(default_factory=list)
    """(epoch, monotonic time) of its first and latest epoch reports."""


@dataclass(frozen=True)
class Ticket:
    """A claim on one job's result.

    Attributes:
        id: This ticket.
        job_id: The job (shared by tickets of identical jobs).
        owner: Who asked (a browser session id, ``"cli"``...).
        label: The job's label, e.g. ``"GRU, seed 455"``.
    """

    id: str
    job_id: str
    owner: str
    label: str


@dataclass(frozen=True)
class Status:
    """Where a ticket stands.

    Attributes:
        state: ``"queued"``, ``"running"``, ``"done"``, ``"failed"`` or
            ``"cancelled"``.
        position: Place in the queue (1 = next), 0 unless queued.
        wait_seconds: Estimated seconds until it starts (queued only).
        progress: The latest progress payload (``{"epoch", "epochs", "logs"}``).
        error: The failure sentence, if failed.
        error_kind: The failure's type name (``"DataError"``, ``"WorkerDied"``...).
    """

    state: str
    position: int = 0
    wait_seconds: float = 0.0
    progress: dict[str, Any] | None = None
    error: str | None = None
    error_kind: str | None = None


class Engine:
    """A fair queue of jobs in front of a backend (see the module docstring).

    Args:
        backend: What runs the jobs.
        owner_ttl: Seconds without a heartbeat after which a heartbeating owner's
            jobs are cancelled.
        keep_results: Finished results kept for identical later jobs.
    """

    def __init__(
        self, backend: Backend, owner_ttl: float = 45.0, keep_results: int = 256
    ):
        self.backend = backend
        self.owner_ttl = owner_ttl
        self._keep = keep_results
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._entries: dict[str, _Entry] = {}
        self._by_key: dict[str, str] = {}
        self._tickets: dict[str, Ticket] = {}
        self._queues: OrderedDict[str, deque[str]] = OrderedDict()
        self._served: dict[str, int] = {}
        self._beats: dict[str, float] = {}
        self._finished: OrderedDict[str, _Entry] = OrderedDict()
        self._to_cancel: list[str] = []
        self._surge_wanted = False  # for the backend's surge slots: _dispatch()
        self._closed = False
        self.launched = 0
        """How many jobs were handed to the backend (not served from results)."""
        self._thread = threading.Thread(
            target=self._loop, name="forecasting-engine", daemon=True
        )
        self._thread.start()

    # Submitting, cancelling, asking -------------------------------------------------
    def submit(self, job: Job, owner: str = "cli") -> Ticket:
        """Queue a job (or join an identical one) and return a ticket for it."""
        key = job.key()
        with self._lock:
            if self._closed:
                raise RuntimeError("the engine is shut down")
            entry = self._live(key)
            if entry is None:
                entry = _Entry(f"j{next(self._ids)}", key, job, owner)
                entry.submitted = time.monotonic()
                self._entries[entry.id] = entry
                self._by_key[key] = entry.id
                self._queues.setdefault(owner, deque()).append(entry.id)
            if owner in self._beats:  # submitting is a sign of life
                self._beats[owner] = time.monotonic()
            ticket = Ticket(f"t{next(self._ids)}", entry.id, owner, job.label)
            entry.tickets.add(ticket.id)
            self._tickets[ticket.id] = ticket
        self.backend.wake()
        return ticket

    def _live(self, key: str) -> _Entry | None:
        """The queued, running or finished entry for a key, if any."""
        entry_id = self._by_key.get(key)
        if entry_id is not None:
            entry = self._entries[entry_id]
            if entry.state in (QUEUED, RUNNING) and not entry.cancel_sent:
                return entry
        done = self._finished.get(key)
        if done is not None:
            self._finished.move_to_end(key)
        return done

    def cancel(self, tickets: Ticket | Iterable[Ticket]) -> None:
        """Give up tickets; jobs nobody else waits for are dropped or stopped."""
        items = [tickets] if isinstance(tickets, Ticket) else list(tickets)
        with self._lock:
            for ticket in items:
                self._drop_ticket(ticket.id)
        self.backend.wake()

    def _drop_ticket(self, ticket_id: str) -> None:
        ticket = self._tickets.pop(ticket_id, None)
        if ticket is None:
            return
        entry = self._entry_of(ticket)
        if entry is None:
            return
        entry.tickets.discard(ticket_id)
        if entry.tickets or entry.state not in (QUEUED, RUNNING):
            return
        if entry.state == QUEUED:
            self._queues[entry.owner].remove(entry.id)
            self._forget(entry, CANCELLED)
        elif not entry.cancel_sent:
            entry.cancel_sent = True
            self._to_cancel.append(entry.id)

    def heartbeat(self, owner: str) -> None:
        """Say the owner is still there (owners that never beat are never reaped)."""
        with self._lock:
            self._beats[owner] = time.monotonic()

    def status(self, ticket: Ticket) -> Status:
        """Where a ticket's job stands (see :class:`Status`)."""
        with self._lock:
            entry = self._entry_of(ticket)
            if entry is None:
                return Status(CANCELLED)
            latest = entry.progress[-1] if entry.progress else None
            if entry.state == QUEUED:
                position, wait = self._place(entry.id)
                return Status(QUEUED, position, wait, latest)
            error = entry.error
            return Status(
                entry.state,
                progress=latest,
                error=str(error) if error else None,
                error_kind=error.kind if error else None,
            )

    def progress_since(self, ticket: Ticket, seen: int) -> list[dict[str, Any]]:
        """Progress payloads of a ticket's job after the first ``seen`` ones."""
        with self._lock:
            entry = self._entry_of(ticket)
            return [] if entry is None else list(entry.progress[seen:])

    def result(self, ticket: Ticket) -> Any:
        """The job's result once done.

        Raises:
            JobFailed: If it failed (the message is for the user).
            JobCancelled: If it was cancelled.
            RuntimeError: If it has not finished yet.
        """
        with self._lock:
            entry = self._entry_of(ticket)
            if entry is None or entry.state == CANCELLED:
                raise JobCancelled(f"{ticket.label} was cancelled")
            if entry.state == FAILED:
                raise entry.error or JobFailed("the job failed")
            if entry.state != DONE:
                raise RuntimeError(f"{ticket.label} has not finished")
            return entry.result

    def release(self, tickets: Iterable[Ticket]) -> None:
        """Forget finished tickets (their results stay for identical jobs)."""
        with self._lock:
            for ticket in tickets:
                if ticket.id in self._tickets:
                    self._drop_ticket(ticket.id)

    def _entry_of(self, ticket: Ticket) -> _Entry | None:
        entry = self._entries.get(ticket.job_id)
        if entry is not None:
            return entry
        return next((e for e in self._finished.values() if e.id == ticket.job_id), None)

    def _place(self, entry_id: str) -> tuple[int, float]:
        """Queue position of an entry and the estimated wait before it starts."""
        running = self._running_counts()
        served = dict(self._served)
        queues = {o: list(q) for o, q in self._queues.items() if q}
        ahead = 0.0
        for position in itertools.count(1):
            owner = self._pick(queues, running, served)
            if owner is None:
                break
            job_id = queues[owner].pop(0)
            if job_id == entry_id:
                return position, self._wait(ahead)
            ahead += self._entries[job_id].job.estimate
            running[owner] = running.get(owner, 0) + 1
            served[owner] = max(served.values(), default=0) + 1
        return 0, 0.0

    def _wait(self, queued_ahead: float) -> float:
        now = time.monotonic()
        remaining = sum(
            self._remaining(e, now)
            for e in self._entries.values()
            if e.state == RUNNING
        )
        regular = self.backend.capacity - getattr(self.backend, "surge", 0)
        return (remaining + queued_ahead) / max(1, regular)

    @staticmethod
    def _remaining(entry: _Entry, now: float) -> float:
        """Seconds a running job probably still needs, for a waiting user.

        From the pace of its epochs (:meth:`_pace_left`); before that its
        estimate, or, once past it, as long again as it has run.
        """
        elapsed = now - (entry.started or now)
        left = Engine._pace_left(entry, now)
        return max(entry.job.estimate - elapsed, elapsed) if left is None else left

    def _running_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self._entries.values():
            if entry.state == RUNNING:
                counts[entry.owner] = counts.get(entry.owner, 0) + 1
        return counts

    @staticmethod
    def _pick(
        queues: dict[str, Any], running: dict[str, int], served: dict[str, int]
    ) -> str | None:
        """The owner whose job goes next: fewest running, then served longest ago."""
        waiting = [o for o, q in queues.items() if q]
        if not waiting:
            return None
        return min(waiting, key=lambda o: (running.get(o, 0), served.get(o, 0)))

    # Waiting for results --------------------------------------------------------------
    def gather(
        self,
        tickets: Sequence[Ticket],
        on_progress: Callable[[Ticket, dict[str, Any]], None] | None = None,
        poll: float = 0.1,
    ) -> list[Any]:
        """Wait for every ticket and return the results in order.

        Args:
            tickets: What to wait for.
            on_progress: Called with every progress payload, in order per job.
            poll: Seconds between looks.

        Raises:
            JobFailed: The first failure (the other tickets are cancelled).
            JobCancelled: If a ticket was cancelled.
        """
        seen = dict.fromkeys((t.id for t in tickets), 0)
        try:
            while True:
                states = []
                for ticket in tickets:
                    news = self.progress_since(ticket, seen[ticket.id])
                    seen[ticket.id] += len(news)
                    for payload in news if on_progress else ():
                        on_progress(ticket, payload)
                    states.append(self.status(ticket).state)
                if FAILED in states or CANCELLED in states:
                    bad = tickets[
                        states.index(FAILED if FAILED in states else CANCELLED)
                    ]
                    self.result(bad)  # raises
                if all(s == DONE for s in states):
                    return [self.result(t) for t in tickets]
                time.sleep(poll)
        except BaseException:
            self.cancel(tickets)
            raise

    # The engine's thread -------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    break
                self._reap()
                cancels, self._to_cancel = self._to_cancel, []
                launches = self._dispatch()
            for entry_id in cancels:
                self.backend.cancel(entry_id)
            for entry in launches:
                self.backend.launch(entry.id, entry.job)
            if hasattr(self.backend, "want_surge"):
                # Owners ever served: more than one is a class.
                self.backend.want_surge(self._surge_wanted, len(self._served) > 1)
            try:
                events = self.backend.poll(0.1)
            except Exception:  # a backend hiccup must not stop the engine
                LOG.exception("engine backend poll failed")
                time.sleep(0.5)
                continue
            with self._lock:
                for event in events:
                    self._handle(event)

    def _dispatch(self) -> list[_Entry]:
        free = self.backend.free_slots()
        launches: list[_Entry] = []
        running = self._running_counts()
        regular = self.backend.capacity - getattr(self.backend, "surge", 0)
        holders = [
            e.owner
            for e in self._entries.values()
            if e.state == RUNNING and not e.surge
        ]
        while free > 0:
            queues: dict[str, Any] = self._queues
            surge = len(holders) >= regular  # only surge slots are free
            if surge:
                queues = self._surge_queues(holders)
            owner = self._pick(queues, running, self._served)
            if owner is None:
                break
            entry = self._entries[self._queues[owner].popleft()]
            entry.state, entry.started = RUNNING, time.monotonic()
            entry.surge = surge
            if not surge:
                holders.append(owner)
            running[owner] = running.get(owner, 0) + 1
            self._served[owner] = max(self._served.values(), default=0) + 1
            launches.append(entry)
            self.launched += 1
            free -= 1
        for owner in [o for o, q in self._queues.items() if not q]:
            del self._queues[owner]
        # Someone a surge slot is for still waits, or a lone user soon will.
        self._surge_wanted = len(holders) >= regular and (
            bool(self._surge_queues(holders))
            or self._lone_tail(dict(self._queues), by_estimate=True)
        )
        return launches

    def _soonest_regular(self) -> float:
        """Seconds until the first regular slot probably frees (inf if none).

        Projected from each job's epochs (:meth:`_projected`), not from the
        estimates, which count a compile most jobs skip: so the short jobs of a
        class that pressed Train together are not taken for long ones.
        """
        now = time.monotonic()
        held = [e for e in self._entries.values() if e.state == RUNNING and not e.surge]
        return min((self._projected(e, now) for e in held), default=float("inf"))

    @staticmethod
    def _projected(entry: _Entry, now: float) -> float:
        """Seconds a running job still needs, not trusting its estimate.

        From the pace of its epochs; before that, as long again as it has run.
        """
        left = Engine._pace_left(entry, now)
        return now - (entry.started or now) if left is None else left

    @staticmethod
    def _pace_left(entry: _Entry, now: float) -> float | None:
        """Seconds left at the pace from its first to its latest epoch report.

        None before two reports: it may be compiling, and the first epoch's time
        includes the start.
        """
        seen = entry.epochs_seen
        epochs = (entry.progress[-1] if entry.progress else {}).get("epochs")
        if len(seen) < 2 or not isinstance(epochs, int) or seen[-1][0] <= seen[0][0]:
            return None
        (first, t0), (last, t1) = seen[0], seen[-1]
        return max(0.0, (t1 - t0) / (last - first) * (epochs - last) - (now - t1))

    def _surge_queues(self, holders: list[str]) -> dict[str, Any]:
        """The queues of owners a surge slot is for.

        Only while no regular slot frees within :data:`SURGE_WAIT_S`, and then
        owners who hold no regular slot: behind others' long runs a newcomer
        starts at once, while in a class that presses Train together the short
        jobs take the regular workers in turn (more processes than cores cost CPU
        time). Or the next job of a lone user (:meth:`_lone_tail`).
        """
        if self._soonest_regular() <= SURGE_WAIT_S:
            return {}
        waiting = {o: q for o, q in self._queues.items() if q}
        newcomers = {o: q for o, q in waiting.items() if o not in holders}
        return newcomers or (waiting if self._lone_tail(waiting) else {})

    def _lone_tail(self, waiting: dict[str, Any], by_estimate: bool = False) -> bool:
        """Whether the only owner ever served waits behind its own long runs.

        Then its next job takes one surge slot and shares the cores: five long
        seeds on two workers no longer end with a round of one job and a core
        idle. Not in a class (surge slots are for newcomers there), and only when
        every running job's epochs show more than :data:`SURGE_WAIT_S` left; or,
        ``by_estimate``, its estimate until its epochs tell (to start the spare
        worker ahead, so that it has imported TensorFlow by then).
        """
        if len(self._served) != 1 or waiting.keys() != self._served.keys():
            return False
        running = [e for e in self._entries.values() if e.state == RUNNING]
        if any(e.surge for e in running):
            return False
        now = time.monotonic()
        lefts = [self._pace_left(e, now) for e in running]
        if by_estimate:
            lefts = [
                e.job.estimate - (now - (e.started or now)) if left is None else left
                for e, left in zip(running, lefts, strict=True)
            ]
        return all(left is not None and left > SURGE_WAIT_S for left in lefts)

    def _handle(self, event: Event) -> None:
        what, entry_id = event[0], event[1]
        entry = self._entries.get(entry_id)
        if entry is None:
            return
        if what == "progress":
            entry.progress.append(event[2])
            del entry.progress[:-2000]
            epoch = event[2].get("epoch")
            if isinstance(epoch, int):  # the first report, and this one
                entry.epochs_seen = [*entry.epochs_seen[:1], (epoch, time.monotonic())]
        elif what == "done":
            entry.result = event[2]
            self._forget(entry, DONE)
        elif what == "failed":
            entry.error = JobFailed(event[2], event[3])
            self._forget(entry, FAILED)
        elif what == "cancelled":
            self._forget(entry, CANCELLED)

    def _forget(self, entry: _Entry, state: str) -> None:
        """Move an entry out of the live set; keep finished results by key."""
        entry.state = state
        self._entries.pop(entry.id, None)
        if self._by_key.get(entry.key) == entry.id:
            del self._by_key[entry.key]
        if state == DONE:
            self._finished[entry.key] = entry
        elif entry.tickets:  # failed or cancelled: keep it until its tickets look
            self._finished[f"{entry.key}#{entry.id}"] = entry
        # Drop the oldest results nobody holds a ticket for (a student who is on
        # another page still finds theirs).
        while len(self._finished) > self._keep:
            unheld = next((k for k, e in self._finished.items() if not e.tickets), None)
            if unheld is None:
                break
            del self._finished[unheld]

    def _reap(self) -> None:
        now = time.monotonic()
        for owner, beat in list(self._beats.items()):
            if now - beat > self.owner_ttl:
                LOG.info("cancelling the jobs of %s (no heartbeat)", owner)
                del self._beats[owner]
                for ticket in [t for t in self._tickets.values() if t.owner == owner]:
                    self._drop_ticket(ticket.id)

    def owners(self) -> list[str]:
        """Owners that hold tickets for queued or running jobs."""
        with self._lock:
            live = {
                t.owner for t in self._tickets.values() if t.job_id in self._entries
            }
            return sorted(live)

    def snapshot(self) -> dict[str, int]:
        """Counts of queued and running jobs and of owners (for status lines)."""
        with self._lock:
            running = sum(1 for e in self._entries.values() if e.state == RUNNING)
            queued = sum(len(q) for q in self._queues.values())
            owners = {e.owner for e in self._entries.values()}
            return {"running": running, "queued": queued, "owners": len(owners)}

    def shutdown(self) -> None:
        """Stop the engine's thread and the backend (once; later calls do nothing)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.backend.wake()
        self._thread.join(timeout=10)
        self.backend.close()
