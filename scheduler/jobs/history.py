"""The run history and next runs of the scheduled jobs, for the admin page and ``jobs list``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Float, MetaData, String, Table, inspect, select
from sqlalchemy.orm import Session

from scheduler.jobs.timetable import JOB_TABLE, JobSpec, job_specs, when
from scheduler.storage.clock import utc
from scheduler.storage.models.app import JobRunRecord

RECENT_RUNS = 30


# -- what the jobs list and the web page show -----------------------------------------


@dataclass(frozen=True)
class RunInfo:
    """One row of the run history."""

    id: int
    network_id: int
    job_id: str
    kind: str
    due_at: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    summary: str | None
    error: str | None
    runner: str


def run_info(record: JobRunRecord) -> RunInfo:
    """A run as the pages show it, times in UTC."""
    return RunInfo(
        id=record.id,
        network_id=record.network_id,
        job_id=record.job_id,
        kind=record.kind,
        due_at=utc(record.due_at),
        started_at=utc(record.started_at),
        finished_at=None if record.finished_at is None else utc(record.finished_at),
        outcome=record.outcome,
        summary=record.summary,
        error=record.error,
        runner=record.runner,
    )


def recent_runs(session: Session, network_id: int, limit: int = RECENT_RUNS) -> list[RunInfo]:
    """The network's newest runs, newest first."""
    statement = (
        select(JobRunRecord)
        .where(JobRunRecord.network_id == network_id)
        .order_by(JobRunRecord.started_at.desc(), JobRunRecord.id.desc())
        .limit(limit)
    )
    return [run_info(record) for record in session.scalars(statement)]


def last_run(session: Session, job_id: str) -> RunInfo | None:
    """The job's newest run."""
    statement = (
        select(JobRunRecord)
        .where(JobRunRecord.job_id == job_id)
        .order_by(JobRunRecord.started_at.desc(), JobRunRecord.id.desc())
        .limit(1)
    )
    record = session.scalar(statement)
    return None if record is None else run_info(record)


def stored_next_runs(session: Session) -> dict[str, dt.datetime | None]:
    """Each registered job's next run time, read from the job store without unpickling."""
    connection = session.connection()
    if not inspect(connection).has_table(JOB_TABLE):
        return {}
    table = Table(JOB_TABLE, MetaData(), Column("id", String), Column("next_run_time", Float))
    rows = connection.execute(select(table.c.id, table.c.next_run_time))
    return {
        job_id: None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC)
        for job_id, stamp in rows
    }


@dataclass(frozen=True)
class JobView:
    """A job with its next run (None: paused or not registered) and its last run."""

    spec: JobSpec
    registered: bool  # a scheduler has put it in the job store
    next_run: dt.datetime | None
    last: RunInfo | None


def job_views(session: Session, network_id: int | None = None) -> list[JobView]:
    """The jobs of every network (or of one) as the settings ask for them."""
    stored = stored_next_runs(session)
    return [
        JobView(
            spec, spec.job_id in stored, stored.get(spec.job_id), last_run(session, spec.job_id)
        )
        for spec in job_specs(session, network_id)
    ]


NOT_REGISTERED = "not registered: start rotapool scheduler"


def next_run_words(view: JobView) -> str:
    """The next run as the list shows it."""
    if not view.registered:
        return NOT_REGISTERED
    return when(view.next_run) or "paused"


def last_run_words(run: RunInfo | None) -> str:
    """The last run's outcome and when it started."""
    if run is None:
        return "never run"
    return f"{run.outcome} {when(run.started_at)}"


def jobs_table(views: Sequence[JobView]) -> list[str]:
    """``rotapool jobs list``: one aligned line per job, with a header."""
    if not views:
        return ["No scheduled jobs: no network is imported, or [jobs] enabled is empty."]
    header = ("JOB", "KIND", "NETWORK", "SCHEDULE", "NEXT RUN (Europe/London)", "LAST RUN")
    rows = [
        (
            v.spec.job_id,
            v.spec.kind,
            v.spec.network,
            v.spec.schedule,
            next_run_words(v),
            last_run_words(v.last),
        )
        for v in views
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
    return lines
