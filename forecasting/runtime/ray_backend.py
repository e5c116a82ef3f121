"""The Ray backend: the engine's jobs as Ray tasks, one CPU each.

The same ``job.run(report)`` as the local workers run, inside a Ray worker that
imported TensorFlow once. Ray places the tasks; the engine's policy only chooses
which job goes next (:mod:`forecasting.runtime.policy`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from forecasting.runtime.policy import READY, Worker
from forecasting.runtime.protocol import Cancelled, Event, Job
from forecasting.runtime.workers import failure, warm_up

_WARM: dict[str, bool] = {}


def _ray_task(
    job_id: str, job: Job, sink: Any, threads: int, initializer: str | None
) -> Any:
    """Run one job inside a Ray worker (TensorFlow is imported once per worker)."""
    if not _WARM:
        warm_up(initializer, threads)
        _WARM["done"] = True

    def report(payload: dict[str, Any]) -> None:
        sink.put.remote(job_id, payload)

    try:
        return job.run(report)
    except Exception as err:
        message, kind = failure(err)
        raise JobError(message, kind) from None


class JobError(Exception):
    """A job's failure as it travels back from a Ray task."""

    def __init__(self, message: str, kind: str):
        super().__init__(message, kind)
        self.message, self.kind = message, kind


class _ProgressSink:
    """A Ray actor collecting progress payloads from the tasks."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def put(self, job_id: str, payload: dict[str, Any]) -> None:
        self.items.append((job_id, payload))

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        items, self.items = self.items, []
        return items


class RayBackend:
    """The same jobs as Ray tasks (one CPU each).

    Args:
        address: A Ray cluster's address; ``None`` starts a local Ray (or uses
            the one already initialised in this process).
        workers: Tasks at once; ``None`` for the cluster's CPUs.
        initializer: As :class:`~forecasting.runtime.local.LocalBackend`'s,
            called once per Ray worker.

    Its slots are ``workers`` numbered places (no spare ones, no compiling ahead):
    the policy chooses a free one, which only counts the jobs running.
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        initializer: str | None = None,
    ):
        import ray

        if not ray.is_initialized():
            package = str(Path(__file__).resolve().parents[1])  # forecasting/
            ray.init(
                address=address,
                runtime_env={"py_modules": [package]},
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
        self._ray = ray
        self.initializer = initializer
        self.capacity = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._task = ray.remote(_ray_task).options(num_cpus=1, max_retries=0)
        self._sink = ray.remote(_ProgressSink).options(num_cpus=0).remote()
        self.spare, self.cores, self.can_prepare = 0, self.capacity, False
        self._refs: dict[str, Any] = {}
        self._slots: dict[int, str] = {}  # slot -> the job in it

    def workers(self) -> tuple[Worker, ...]:  # noqa: D102
        return tuple(Worker(i, READY, self._slots.get(i)) for i in range(self.capacity))

    def launch(self, job_id: str, job: Job, worker: int) -> None:  # noqa: D102
        self._slots[worker] = job_id
        self._refs[job_id] = self._task.remote(
            job_id, job, self._sink, 1, self.initializer
        )

    def start_spare(self) -> None:  # noqa: D102
        pass  # no spare slots

    def prepare(self, worker: int, job: Job) -> None:  # noqa: D102
        pass  # Ray places the tasks: no worker to compile ahead on

    def cancel(self, job_id: str) -> None:  # noqa: D102
        ref = self._refs.get(job_id)
        if ref is not None:
            self._ray.cancel(ref)

    def wake(self) -> None:  # noqa: D102
        pass  # poll() returns every 0.1 s anyway

    def poll(self, timeout: float) -> list[Event]:  # noqa: D102
        ray = self._ray
        events: list[Event] = [
            ("progress", job_id, payload)
            for job_id, payload in ray.get(self._sink.drain.remote())
        ]
        if not self._refs:
            time.sleep(timeout)
            return events
        ids = {ref: job_id for job_id, ref in self._refs.items()}
        ready, _ = ray.wait(list(ids), num_returns=len(ids), timeout=timeout)
        for ref in ready:
            job_id = ids[ref]
            del self._refs[job_id]
            self._slots = {k: v for k, v in self._slots.items() if v != job_id}
            events.append(self._outcome(job_id, ref))
        return events

    def _outcome(self, job_id: str, ref: Any) -> Event:
        ray = self._ray
        try:
            return ("done", job_id, ray.get(ref))
        except ray.exceptions.TaskCancelledError:
            return ("cancelled", job_id)
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, JobError):
                return ("failed", job_id, cause.message, cause.kind)
            if isinstance(cause, KeyboardInterrupt | Cancelled):
                return ("cancelled", job_id)
            return ("failed", job_id, f"The Ray task failed: {cause or err}", "Error")
        except ray.exceptions.RayError as err:
            return (
                "failed",
                job_id,
                f"The Ray worker running this job stopped ({type(err).__name__}); "
                "the other jobs go on. Press Train to try again.",
                "WorkerDied",
            )

    def close(self) -> None:  # noqa: D102
        for ref in self._refs.values():
            self._ray.cancel(ref, force=True)
        self._refs.clear()
        self._slots.clear()
