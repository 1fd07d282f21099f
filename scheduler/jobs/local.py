"""The local back end: one solve thread in the process that asked (no other service).

The machines we size for have two cores, and one solve already uses both, so
jobs run one at a time in the order they were sent."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from sqlalchemy import Engine

from scheduler.jobs.claims import Claim
from scheduler.jobs.run import run_job
from scheduler.jobs.settings import JobKey

# -- the back ends --------------------------------------------------------------------------


class Backend(Protocol):
    """Where a committed queued job is sent to be run."""

    name: str

    def submit(self, engine: Engine, job_id: int) -> None:
        """Send the job to be run; raises ``QueueUnavailableError`` when it cannot."""

    def stop(self, engine: Engine, job_id: int) -> None:
        """Stop the job at once where this process can (the cancel flag does the rest)."""

    def reachable(self) -> bool:
        """Whether the back end can take a job now (the health check asks)."""


class QueueUnavailableError(RuntimeError):
    """The job could not be handed to the queue; it was marked failed."""


class JobRunner:
    """The local back end: one worker thread per process; a stop Event and a Future per job."""

    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._stops: dict[JobKey, threading.Event] = {}
        self._futures: dict[JobKey, Future[Claim]] = {}

    def _pool(self) -> ThreadPoolExecutor:
        """Made on first use: creating the app or importing this module starts nothing."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rotapool-solve")
        return self._executor

    def submit(self, engine: Engine, job_id: int) -> None:
        """Queue the job; it runs after the jobs queued before it."""
        key = job_key(engine, job_id)
        with self._lock:
            stop = self._stops.setdefault(key, threading.Event())
            future = self._pool().submit(run_job, engine, job_id, stop)
            self._futures[key] = future
        future.add_done_callback(lambda _: self._forget_stop(key))

    def forget_finished(self) -> None:
        """Drop the futures of finished jobs (a test's database may reuse their ids)."""
        with self._lock:
            for key in [k for k, f in self._futures.items() if f.done()]:
                del self._futures[key]

    def _forget_stop(self, key: JobKey) -> None:
        with self._lock:
            self._stops.pop(key, None)

    def reachable(self) -> bool:
        """Always: the solve thread is part of this process."""
        return True

    def stop(self, engine: Engine, job_id: int) -> None:
        """Ask the job to stop at once, if it runs in this process."""
        with self._lock:
            stop = self._stops.get(job_key(engine, job_id))
        if stop is not None:
            stop.set()

    def wait(self, engine: Engine, job_id: int, timeout: float) -> None:
        """Block until the job has finished (tests); ``TimeoutError`` after ``timeout`` seconds."""
        with self._lock:
            future = self._futures.get(job_key(engine, job_id))
        if future is None:
            raise KeyError(f"job {job_id} was never started in this process")
        future.result(timeout=timeout)


RUNNER = JobRunner()


def job_key(engine: Engine, job_id: int) -> JobKey:
    """A job's identity across databases (the URL without its password)."""
    return (database_label(engine), job_id)


def database_label(engine: Engine) -> str:
    """The engine's database, safe to log (no password)."""
    return engine.url.render_as_string(hide_password=True)


def database_identity(engine: Engine) -> str:
    """The engine's kind and database name: the same wherever a process reaches it from."""
    return f"{engine.url.get_backend_name()}:{engine.url.database}"
