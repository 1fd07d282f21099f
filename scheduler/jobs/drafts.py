"""The drafts job: queue a solve of the week N weeks ahead, never over anyone's work.

It only enqueues: the solve job saves its draft only if the week still has
neither a draft nor a publication when the solve ends; its outcome is on the
job's page and in the audit log, not in the run history."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from scheduler.domain import (
    iso_week_label,
)
from scheduler.jobs.alerts import ACTOR, job_settings
from scheduler.jobs.local import QueueUnavailableError
from scheduler.jobs.queue import start
from scheduler.jobs.records import SolveRunningError, create_job
from scheduler.jobs.settings import QueueSettings, queue_settings, solve_options
from scheduler.storage.db import engine_of, reader
from scheduler.storage.rotas import find_rota

log = logging.getLogger(__name__)


# -- drafts ---------------------------------------------------------------------------------


def weeks_ahead(now: dt.datetime, weeks: int) -> str:
    """The ISO week ``weeks`` after the week of ``now``."""
    return iso_week_label(now.date() + dt.timedelta(weeks=weeks))


def _taken(session: Session, network_id: int, week: str) -> str | None:
    """Why the week may not get a new draft, or None when it is free."""
    if find_rota(session, network_id, week, "draft") is not None:
        return "it already has a draft"
    if find_rota(session, network_id, week, "published") is not None:
        return "it is already published"
    return None


def run_drafts(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Queue a draft of the week ``draft_weeks_ahead`` ahead, unless it has any rota yet.

    The scheduler only enqueues: the solve job runs on the solve queue (a
    worker, or this process's solve thread) once this run has committed,
    and saves only into a week still without a draft or a publication.
    """
    with Session(reader(engine_of(session))) as own:  # read without this run's write lock
        week = weeks_ahead(now, job_settings(own, network_id).draft_weeks_ahead)
        taken = _taken(own, network_id, week)
        own.rollback()
    if taken:
        return f"skipped {week}: {taken}"
    settings = queue_settings(config)
    try:
        ticket = create_job(
            session,
            network_id,
            week,
            weeks=1,
            keep_pins=False,
            actor=ACTOR,
            options=solve_options(config),
            if_free=True,
            settings=settings,
        )
    except SolveRunningError as err:
        return f"skipped {week}: solve job {err.job_id} of it is already queued or running"
    if not ticket.created:
        return f"skipped {week}: solve job {ticket.id} already planned it from the same data"
    engine = engine_of(session)
    sa_event.listen(
        session, "after_commit", lambda _: _start(engine, ticket.id, settings), once=True
    )
    return f"queued solve job {ticket.id} to draft {week}"


def _start(engine: Engine, job_id: int, settings: QueueSettings) -> None:
    """Send a committed draft job to the queue; a queue that is down fails the job (logged)."""
    try:
        start(engine, job_id, settings)
    except QueueUnavailableError:
        log.error("the draft solve job %s could not be queued; it was marked failed", job_id)
