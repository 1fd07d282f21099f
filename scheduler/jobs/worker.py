"""Solve jobs on Celery with Redis: the back end that sends them, and ``rotapool worker``.

The message carries only the job's id and its database's kind and name;
everything else is in the job's row.  The worker
settings make each solve run exactly once:

- acknowledged late (``task_acks_late``): a message is removed from Redis
  only when its solve has finished, so a worker that dies mid-solve leaves
  it to be delivered again once the visibility timeout has passed;
- one solve per worker process (the ``solo`` pool, concurrency 1) and
  prefetch 1: a worker holds no message it is not solving;
- the visibility timeout (``VISIBILITY_TIMEOUT``) is checked to exceed the
  longest solve (``settings.queue_settings``), so a message is not delivered
  again while its solve still runs; should it be, the claim in the
  database (``run.run_job``) lets only one worker solve it.

Cancelling goes through the database, not Celery's revoke: the job's
heartbeat polls its cancel flag and stops the search.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from functools import cache
from typing import Any

from celery import Celery
from celery.exceptions import Reject
from kombu.exceptions import OperationalError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from scheduler.jobs.claims import Claim
from scheduler.jobs.local import QueueUnavailableError, database_identity
from scheduler.jobs.run import run_job
from scheduler.jobs.settings import LOCAL, QueueSettings, QueueSettingsError

log = logging.getLogger(__name__)

TASK = "rotapool.solve"
PUBLISH_RETRIES = 2  # quick retries before a request says the queue is unreachable
HEALTH_TIMEOUT = 3.0  # seconds the health check waits for Redis
REQUEUE_PAUSE = 5.0  # seconds before a job that cannot be taken now goes back on the queue


def celery_app(settings: QueueSettings) -> Celery:
    """A Celery app for the queue the settings name, with the task registered."""
    app = Celery("rotapool", broker=settings.broker_url, set_as_current=False)
    # Look for abandoned messages every few seconds, not Kombu's default of minutes.
    restore_every = max(1, min(10, int(settings.visibility_timeout // 6)))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        worker_pool="solo",
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "unacked_restore_interval": restore_every,
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 5,  # a Redis that does not answer fails a request fast
            "socket_timeout": 30,  # nor does a half-open connection hang it
        },
        broker_connection_retry_on_startup=True,
        task_publish_retry_policy={
            "max_retries": PUBLISH_RETRIES,
            "interval_start": 0.2,
            "interval_step": 0.5,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
    )
    app.task(name=TASK, ignore_result=True)(solve_task)
    return app


class CeleryBackend:
    """Sends jobs to the Celery queue; a worker process runs each."""

    name = "celery"

    def __init__(self, settings: QueueSettings) -> None:
        self.settings = settings
        self.app = celery_app(settings)

    def submit(self, engine: Engine, job_id: int) -> None:
        try:
            self.app.send_task(
                TASK,
                args=[job_id, database_identity(engine)],
                queue=self.settings.queue,
                retry=True,
            )
        except OperationalError as err:
            log.error("could not queue solve job %s: %s", job_id, type(err).__name__)
            raise QueueUnavailableError(str(job_id)) from None

    def stop(self, engine: Engine, job_id: int) -> None:
        """Nothing to do here: the job's heartbeat reads the cancel flag within a second."""

    def reachable(self) -> bool:
        """Whether Redis answers now (one attempt, no retries: for the health check)."""
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=0, timeout=HEALTH_TIMEOUT)
        except Exception:
            return False
        return True


@cache
def celery_backend(settings: QueueSettings) -> CeleryBackend:
    """One back end (and connection pool) per queue settings in this process."""
    return CeleryBackend(settings)


# -- the worker side --------------------------------------------------------------------------


class _Worker:
    """The worker process's database and settings, set by ``run_worker``."""

    engine: Engine | None = None
    settings: QueueSettings = LOCAL


WORKER = _Worker()


def solve_task(job_id: int, database: str) -> None:
    """The task: run the job if this worker's database is the one it was queued in."""
    engine = WORKER.engine
    if engine is None:
        raise RuntimeError("this process was not started by `rotapool worker`")
    if database != database_identity(engine):
        log.error(
            "solve job %s belongs to database %s, not this worker's %s; it was not run "
            "(give each database its own SOLVE_QUEUE)",
            job_id,
            database,
            database_identity(engine),
        )
        return
    try:
        found = run_job(engine, job_id, threading.Event(), WORKER.settings.stale_after)
    except SQLAlchemyError as err:
        failure = type(err).__name__
        log.error("could not claim solve job %s (%s); it goes back on the queue", job_id, failure)
        _pause()
        raise Reject("the database did not answer", requeue=True) from None
    if found is Claim.BUSY:
        # Delivered again while a live worker still solves it (a restart of a worker
        # put its messages back): look again later, in case that worker dies too.
        _pause()
        raise Reject("another worker is solving it", requeue=True)


def _pause() -> None:
    """Wait a little before a job goes back on the queue, so a worker does not spin on it."""
    time.sleep(min(REQUEUE_PAUSE, WORKER.settings.stale_after / 3))


def worker_arguments(settings: QueueSettings, loglevel: str = "INFO") -> list[str]:
    """``celery worker`` arguments: one solve at a time, from the solve queue only."""
    return [
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--prefetch-multiplier=1",
        f"--queues={settings.queue}",
        f"--hostname=rotapool-{os.getpid()}@%h",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def worker_command() -> list[str]:
    """The command that starts ``rotapool worker`` with this interpreter (tests, benchmarks)."""
    start = "import sys; from scheduler.cli.main import main; sys.exit(main(['worker']))"
    return [sys.executable, "-c", start]


def run_worker(engine: Engine, settings: QueueSettings, **options: Any) -> None:
    """Take solve jobs from the queue until stopped (SIGTERM finishes the current solve first)."""
    if settings.broker_url is None:
        raise QueueSettingsError(
            "BROKER_URL: set ROTAPOOL_BROKER_URL to the Redis server the web app queues solves on"
        )
    WORKER.engine, WORKER.settings = engine, settings
    celery_app(settings).worker_main(worker_arguments(settings, **options))
