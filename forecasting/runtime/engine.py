"""Run jobs outside the caller's process: a fair queue in front of worker processes.

An :class:`Engine` takes jobs (:mod:`forecasting.nn.jobs`) from several owners (the
browser sessions of a class, or the command line), keeps them in a queue that is
fair between owners, and hands them to a backend that runs them:

* :class:`forecasting.runtime.local.LocalBackend` (the default): worker processes on
  this machine, each importing TensorFlow once and recycled after some jobs;
* :class:`forecasting.runtime.ray_backend.RayBackend`: the same jobs as Ray tasks, on
  a Ray cluster or a local Ray.

What happens next is decided by one pure function,
:func:`forecasting.runtime.policy.decide`: the engine's thread builds a snapshot
of plain data (the queues, the running jobs, the backend's workers, who is
connected), asks it, and carries out its actions (start a job on a worker, start
a spare worker, compile ahead, forget a silent owner). The rules and their
constants are listed there. Where training runs is
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
from dataclasses import dataclass, field, replace
from typing import Any

from forecasting.runtime import policy as rules
from forecasting.runtime.policy import POLICY, Policy
from forecasting.runtime.protocol import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    Backend,
    Event,
    Job,
    JobCancelled,
    JobFailed,
    Status,
    Ticket,
    compile_key,
)

LOG = logging.getLogger(__name__)


@dataclass
class _Entry:
    """One job in the engine: its state and who waits for it."""

    id: str
    key: str
    job: Job
    owner: str
    compile_key: str | None = None
    tickets: set[str] = field(default_factory=set)
    state: str = QUEUED
    progress: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    error: JobFailed | None = None
    started: float = 0.0
    cancel_sent: bool = False
    spare: bool = False
    epochs_seen: list[tuple[int, float]] = field(default_factory=list)
    """(epoch, monotonic time) of its first and latest epoch reports."""

    def running(self) -> rules.Running:
        """The policy's view of it, once running."""
        seen = self.epochs_seen
        epochs = (self.progress[-1] if self.progress else {}).get("epochs")
        return rules.Running(
            self.id,
            self.owner,
            self.started,
            self.job.estimate,
            self.spare,
            seen[0] if seen else None,
            seen[-1] if seen else None,
            epochs if isinstance(epochs, int) else None,
        )


class Engine:
    """A fair queue of jobs in front of a backend (see the module docstring).

    Args:
        backend: What runs the jobs.
        owner_ttl: Seconds without a heartbeat after which a heartbeating owner's
            jobs are cancelled; ``None`` for the policy's ``owner_ttl_s``.
        keep_results: Finished results kept for identical later jobs; ``None``
            for the policy's ``keep_results``.
        policy: The scheduler's constants (:class:`Policy`).
    """

    def __init__(
        self,
        backend: Backend,
        owner_ttl: float | None = None,
        keep_results: int | None = None,
        policy: Policy = POLICY,
    ):
        self.backend = backend
        self.policy = replace(
            policy,
            owner_ttl_s=policy.owner_ttl_s if owner_ttl is None else owner_ttl,
            keep_results=policy.keep_results if keep_results is None else keep_results,
        )
        self.owner_ttl = self.policy.owner_ttl_s
        self._keep = self.policy.keep_results
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._entries: dict[str, _Entry] = {}
        self._by_key: dict[str, str] = {}
        self._tickets: dict[str, Ticket] = {}
        self._queues: OrderedDict[str, deque[str]] = OrderedDict()
        self._served: dict[str, int] = {}  # owner -> serial of its latest start
        self._seen: dict[str, float] = {}  # owner -> its latest sign of life
        self._beats: set[str] = set()  # owners that send heartbeats
        self._finished: OrderedDict[str, _Entry] = OrderedDict()
        self._to_cancel: list[str] = []
        self._recent: OrderedDict[str, Job] = OrderedDict()  # compile key -> job
        self._last_job_event = -float("inf")  # a job started or ended
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
        key, compiled = job.key(), compile_key(job)
        with self._lock:
            if self._closed:
                raise RuntimeError("the engine is shut down")
            entry = self._live(key)
            if entry is None:
                entry = _Entry(f"j{next(self._ids)}", key, job, owner, compiled)
                self._entries[entry.id] = entry
                self._by_key[key] = entry.id
                self._queues.setdefault(owner, deque()).append(entry.id)
            self._seen[owner] = time.monotonic()  # submitting is a sign of life
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
            # Nobody compiles a cancelled setting ahead (it may be the one too big).
            if entry.compile_key is not None:
                self._recent.pop(entry.compile_key, None)

    def heartbeat(self, owner: str) -> None:
        """Say the owner is still there (owners that never beat are never reaped)."""
        with self._lock:
            self._beats.add(owner)
            self._seen[owner] = time.monotonic()

    def status(self, ticket: Ticket) -> Status:
        """Where a ticket's job stands (see :class:`Status`)."""
        with self._lock:
            entry = self._entry_of(ticket)
            if entry is None:
                return Status(CANCELLED)
            latest = entry.progress[-1] if entry.progress else None
            if entry.state == QUEUED:
                now = time.monotonic()
                position, wait = rules.place_in_line(self._view(now), entry.id, now)
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
                cancels, self._to_cancel = self._to_cancel, []
                calls = self._decide()
            for entry_id in cancels:
                self.backend.cancel(entry_id)
            for call in calls:
                call()
            try:
                events = self.backend.poll(0.1)
            except Exception:  # a backend hiccup must not stop the engine
                LOG.exception("engine backend poll failed")
                time.sleep(0.5)
                continue
            with self._lock:
                for event in events:
                    self._handle(event)

    def _view(
        self, now: float, workers: tuple[rules.Worker, ...] = ()
    ) -> rules.Snapshot:
        """The snapshot the policy decides on (plain data, no references)."""
        queues = tuple(
            rules.OwnerQueue(
                owner,
                tuple(
                    rules.Queued(
                        i, self._entries[i].job.estimate, self._entries[i].compile_key
                    )
                    for i in queue
                ),
                self._served.get(owner, 0),
            )
            for owner, queue in self._queues.items()
            if queue
        )
        backend = self.backend
        return rules.Snapshot(
            queues,
            tuple(e.running() for e in self._entries.values() if e.state == RUNNING),
            workers,
            regular=backend.capacity - backend.spare,
            spare=backend.spare,
            cores=backend.cores,
            seen=dict(self._seen),
            heartbeating=frozenset(self._beats),
            recent_keys=tuple(self._recent),
            last_job_event=self._last_job_event,
            can_prepare=backend.can_prepare,
        )

    def _decide(self) -> list[Callable[[], None]]:
        """Ask the policy and carry out its actions on the engine's side.

        Returns:
            The backend's part, to call outside the lock.
        """
        now = time.monotonic()
        actions = rules.decide(
            self._view(now, self.backend.workers()), now, self.policy
        )
        if any(isinstance(a, rules.Reap) for a in actions):
            for action in actions:
                self._reap(action)  # type: ignore[arg-type]
            actions = rules.decide(
                self._view(now, self.backend.workers()), now, self.policy
            )
        calls = [self._carry_out(action, now) for action in actions]
        for owner in [o for o, q in self._queues.items() if not q]:
            del self._queues[owner]
        return calls

    def _carry_out(self, action: rules.Action, now: float) -> Callable[[], None]:
        """The engine's part of one action now; the backend's part returned."""
        backend = self.backend
        if isinstance(action, rules.StartSpare):
            return backend.start_spare
        if isinstance(action, rules.Prepare):
            job = self._recent[action.key]
            return lambda: backend.prepare(action.worker, job)
        if not isinstance(action, rules.Start):
            raise ValueError(
                f"action must be Start, StartSpare or Prepare, got {action!r}"
            )
        entry = self._entries[action.job_id]
        self._queues[entry.owner].remove(entry.id)
        entry.state, entry.started, entry.spare = RUNNING, now, action.spare
        self._served[entry.owner] = max(self._served.values(), default=0) + 1
        self._last_job_event = now
        self.launched += 1
        if entry.compile_key is not None:
            self._recent.pop(entry.compile_key, None)
            self._recent[entry.compile_key] = entry.job
            while len(self._recent) > self.policy.compiled_keys:
                del self._recent[next(iter(self._recent))]
        return lambda: backend.launch(entry.id, entry.job, action.worker)

    def _reap(self, action: rules.Reap) -> None:
        """Forget a silent owner; cancel its jobs if it sent heartbeats."""
        del self._seen[action.owner]
        if not action.cancel:
            return
        LOG.info("cancelling the jobs of %s (no heartbeat)", action.owner)
        self._drop_owner(action.owner)

    def leave(self, owner: str) -> None:
        """The owner is gone (its tab closed): cancel its jobs now, as a reap does."""
        with self._lock:
            self._seen.pop(owner, None)
            self._drop_owner(owner)
        self.backend.wake()

    def _drop_owner(self, owner: str) -> None:
        self._beats.discard(owner)
        for ticket in [t for t in self._tickets.values() if t.owner == owner]:
            self._drop_ticket(ticket.id)

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
            return
        self._last_job_event = time.monotonic()
        if what == "done":
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
