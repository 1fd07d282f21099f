"""Sending a committed job to its back end, and sending again what was lost.

``BROKER_URL`` unset: the local thread; a Redis URL: Celery and the
``rotapool worker`` processes.  A Celery job left unclaimed ``RESEND_AFTER``
seconds after it was sent is sent again (a Redis restart without
persistence, or a process killed between saving and sending); a duplicate
message is harmless, because only one claim can win."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, func, select, update

from scheduler.jobs.claims import fail_job
from scheduler.jobs.local import RUNNER, Backend, QueueUnavailableError
from scheduler.jobs.settings import LOCAL, NO_QUEUE, RESEND_AFTER, QueueSettings
from scheduler.storage.clock import now
from scheduler.storage.db import reading, session_scope
from scheduler.storage.models.app import SolveJobRecord

log = logging.getLogger(__name__)


def backend_for(settings: QueueSettings) -> Backend:
    """The back end the settings name."""
    if settings.broker_url is None:
        return RUNNER
    from scheduler.jobs.worker import celery_backend  # noqa: PLC0415  (Celery only when used)

    return celery_backend(settings)


def queue_reachable(settings: QueueSettings) -> bool:
    """Whether the queue the settings name can take a job now (always, without Redis)."""
    return backend_for(settings).reachable()


def start(engine: Engine, job_id: int, settings: QueueSettings = LOCAL) -> None:
    """Hand a committed queued job to its back end.

    When the queue cannot take it, the job is marked failed (so no page
    waits for it) and ``QueueUnavailableError`` is raised.
    """
    try:
        backend_for(settings).submit(engine, job_id)
    except QueueUnavailableError:
        fail_job(engine, job_id, NO_QUEUE, owner=None)
        raise
    if settings.broker_url is not None:
        _mark_sent(engine, job_id)


def _mark_sent(engine: Engine, job_id: int) -> None:
    """Record when the job's message went to Redis (``resend_unclaimed`` counts from it)."""
    with session_scope(engine) as session:
        session.execute(
            update(SolveJobRecord).where(SolveJobRecord.id == job_id).values(sent_at=now())
        )


def resend_unclaimed(
    engine: Engine, settings: QueueSettings, older_than: float = RESEND_AFTER
) -> list[int]:
    """Send again the Celery jobs still queued ``older_than`` seconds after they were sent.

    Their message may be lost: Redis restarted without persistence, or the
    process that saved the job died before sending it.  A second message
    for a job whose first one is only waiting its turn does no harm: one
    claim wins, and the other message finds nothing to do.  The scheduler
    calls this every time it re-reads the settings.
    """
    if settings.broker_url is None:
        return []
    cutoff = now() - dt.timedelta(seconds=older_than)
    with reading(engine) as session:
        statement = select(SolveJobRecord.id).where(
            SolveJobRecord.state == "queued",
            SolveJobRecord.backend == "celery",
            func.coalesce(SolveJobRecord.sent_at, SolveJobRecord.created_at) < cutoff,
        )
        waiting = list(session.scalars(statement.order_by(SolveJobRecord.id)))
    sent = []
    for job_id in waiting:
        try:
            backend_for(settings).submit(engine, job_id)
        except QueueUnavailableError:
            log.error("the job queue could not be reached; %s job(s) wait", len(waiting))
            break
        _mark_sent(engine, job_id)
        sent.append(job_id)
    if sent:
        log.info("sent %s queued solve job(s) again: %s", len(sent), sent)
    return sent


def wait(engine: Engine, job_id: int, timeout: float = 60.0) -> None:
    """Wait for a job started in this process to finish (for tests and scripts)."""
    RUNNER.wait(engine, job_id, timeout)
