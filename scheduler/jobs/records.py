"""Solve jobs as rows: queued in the database, watched from any process.

A request only writes a queued ``SolveJobRecord`` and hands its id to a back
end once committed (``queue.start``).  Every page, in every process, reads
the state from the database.

A job is idempotent by (network, week, weeks, input hash): the hash covers
everything the solve reads (the network's bundle with its events, the pins
and drafts it starts from, the solver limits).  Asking again while the same
solve is queued or running returns that job; asking again after it saved its
drafts, with nothing changed since, returns that job too (``result_hash``)
instead of solving the same input twice.  A different solve of a week with
an active one is refused (``SolveRunningError``); the database holds at most
one active solve per week (a partial unique index), so two processes cannot
both start one."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.jobs.claims import close_job, rows_changed, this_process
from scheduler.jobs.local import RUNNER
from scheduler.jobs.run import input_hash, read_input, week_labels
from scheduler.jobs.settings import ACTIVE, LOCAL, QueueSettings
from scheduler.storage import audit
from scheduler.storage.clock import now, utc
from scheduler.storage.db import engine_of, reader, reading
from scheduler.storage.models.app import SolveJobRecord
from scheduler.storage.rotas import normalise_week
from scheduler.usecases.planning import MAX_WEEKS
from solver import SolveOptions


class JobInputError(ValueError):
    """A solve cannot be started as asked; ``field`` names the form input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SolveRunningError(RuntimeError):
    """A solve of the same week is already queued or running (``job_id``)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"solve job {job_id} of this week is still running")
        self.job_id = job_id


@dataclass(frozen=True)
class JobView:
    """A job as its page and its JSON show it."""

    id: int
    network_id: int
    week: str
    weeks: int
    keep_pins: bool
    state: str
    requested_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    objective: float | None
    bound: float | None
    elapsed: float | None
    solutions: int
    cancel_requested: bool
    message: str | None
    rota_id: int | None
    attempts: int

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE

    @property
    def gap(self) -> float | None:
        """Relative distance between the best rota found and the bound (0 = proven best)."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)


def job_view(record: SolveJobRecord) -> JobView:
    """The page's view of a job row."""
    return JobView(
        id=record.id,
        network_id=record.network_id,
        week=record.week,
        weeks=record.weeks,
        keep_pins=record.keep_pins,
        state=record.state,
        requested_by=record.requested_by,
        created_at=utc(record.created_at),
        started_at=utc(record.started_at) if record.started_at else None,
        finished_at=utc(record.finished_at) if record.finished_at else None,
        objective=record.objective,
        bound=record.bound,
        elapsed=record.elapsed,
        solutions=record.solutions,
        cancel_requested=record.cancel_requested,
        message=record.message,
        rota_id=record.rota_id,
        attempts=record.attempts,
    )


def wait_for_state(engine: Engine, job_id: int, timeout: float) -> JobView:
    """Poll the job's row until it has finished, wherever it runs; ``TimeoutError`` if not."""
    deadline = time.monotonic() + timeout
    while True:
        with reading(engine) as session:
            record = session.get(SolveJobRecord, job_id)
            view = None if record is None else job_view(record)
        if view is None:
            raise KeyError(f"no solve job {job_id}")
        if view.finished:
            return view
        if time.monotonic() > deadline:
            raise TimeoutError(f"solve job {job_id} is still {view.state}")
        time.sleep(0.1)


# -- what requests do ---------------------------------------------------------------------


def check_weeks(text: str | None) -> int:
    """The ``weeks`` form field: 1 when blank, else a whole number from 1 to MAX_WEEKS."""
    if text is None or not text.strip():
        return 1
    try:
        weeks = int(text)
    except ValueError:
        weeks = 0
    if not 1 <= weeks <= MAX_WEEKS:
        raise JobInputError("weeks", f"give a whole number of weeks from 1 to {MAX_WEEKS}")
    return weeks


def active_job(session: Session, network_id: int, week: str) -> int | None:
    """A queued or running solve starting at this week, if there is one."""
    statement = select(SolveJobRecord.id).where(
        SolveJobRecord.network_id == network_id,
        SolveJobRecord.week == normalise_week(week),
        SolveJobRecord.state.in_(ACTIVE),
    )
    return session.scalar(statement.order_by(SolveJobRecord.id).limit(1))


class Ticket(NamedTuple):
    """The job a solve request gave: a new one, or the same solve asked for before."""

    id: int
    created: bool


def create_job(
    session: Session,
    network_id: int,
    week: str,
    *,
    weeks: int,
    keep_pins: bool,
    actor: str,
    options: SolveOptions | None = None,
    if_free: bool = False,
    settings: QueueSettings = LOCAL,
) -> Ticket:
    """A queued job row (and its audit entry), or the same solve asked for before.

    The caller starts a created job once committed.  Returns the active job
    when an identical solve is queued or running, and the finished one when
    it saved its drafts and nothing it reads has changed since; raises
    ``SolveRunningError`` when a different solve of the week is active.  The
    input is read on a connection of its own, so that on SQLite the INSERT
    is this transaction's first statement and takes the write lock.
    """
    week = normalise_week(week)
    options = options or SolveOptions()
    digest = _job_digest(
        session,
        network_id,
        week,
        weeks=weeks,
        keep_pins=keep_pins,
        if_free=if_free,
        options=options,
    )
    record = _queued_record(
        network_id,
        week,
        weeks=weeks,
        keep_pins=keep_pins,
        actor=actor,
        digest=digest,
        options=options,
        settings=settings,
        if_free=if_free,
    )
    asked_before = _insert_unless_asked_before(session, record)
    if asked_before is not None:
        return asked_before
    audit.record(
        session,
        actor,
        "solve started",
        f"{week} job {record.id}",
        network_id=network_id,
        after={"job_id": record.id, "week": week, "weeks": weeks, "keep_pins": keep_pins},
    )
    return Ticket(record.id, True)


def _insert_unless_asked_before(session: Session, record: SolveJobRecord) -> Ticket | None:
    """Add the queued row; or the job of the same solve asked before (None when added).

    Raises ``SolveRunningError`` when a different solve of an overlapping week is active.
    """
    digest = str(record.input_hash)
    for _ in range(3):  # an active job that finishes between INSERT and read: try again
        savepoint = session.begin_nested()
        try:
            session.add(record)
            session.flush()
            break
        except IntegrityError:
            savepoint.rollback()
            active = _the_active_one(session, record.network_id, record.week, record.weeks, digest)
            if active is not None:
                return Ticket(active, False)
    else:
        raise RuntimeError(
            f"could not queue a solve of {record.week}: its active job kept changing"
        )
    clash = _overlapping(session, record.network_id, record.week, record.weeks, record.id)
    if clash is not None:
        savepoint.rollback()
        raise SolveRunningError(clash)
    done = _already_done(session, record.network_id, record.week, record.weeks, digest)
    if done is not None:
        savepoint.rollback()
        return Ticket(done, False)
    savepoint.commit()
    return None


def _job_digest(
    session: Session,
    network_id: int,
    week: str,
    *,
    weeks: int,
    keep_pins: bool,
    if_free: bool,
    options: SolveOptions,
) -> str:
    """The hash of everything the solve would read, read on a connection of its own."""
    with Session(reader(engine_of(session))) as own:
        digest = input_hash(
            read_input(own, network_id, week, weeks, keep_pins),
            week=week,
            weeks=weeks,
            keep_pins=keep_pins,
            if_free=if_free,
            options=options,
        )
        own.rollback()
    return digest


def _queued_record(
    network_id: int,
    week: str,
    *,
    weeks: int,
    keep_pins: bool,
    actor: str,
    digest: str,
    options: SolveOptions,
    settings: QueueSettings,
    if_free: bool,
) -> SolveJobRecord:
    """A new job row, queued, not yet added to the session."""
    return SolveJobRecord(
        network_id=network_id,
        week=week,
        weeks=weeks,
        keep_pins=keep_pins,
        state="queued",
        requested_by=actor,
        created_at=now(),
        solutions=0,
        cancel_requested=False,
        input_hash=digest,
        time_limit=options.time_limit,
        workers=options.workers,
        if_free=if_free,
        backend=settings.backend,
        owner=this_process() if settings.backend == "local" else None,
        attempts=0,
    )


def _the_active_one(
    session: Session, network_id: int, week: str, weeks: int, digest: str
) -> int | None:
    """The week's active job when it is this same solve, else ``SolveRunningError``.

    None when no job of the week is active any more.
    """
    statement = select(SolveJobRecord).where(
        SolveJobRecord.network_id == network_id,
        SolveJobRecord.week == week,
        SolveJobRecord.state.in_(ACTIVE),
    )
    active = session.scalars(statement.limit(1)).first()
    if active is None:
        return None
    if (active.weeks, active.input_hash) == (weeks, digest):
        return active.id
    raise SolveRunningError(active.id)


def _overlapping(
    session: Session, network_id: int, week: str, weeks: int, job_id: int
) -> int | None:
    """An active job of the network, other than ``job_id``, that plans one of these weeks."""
    mine = set(week_labels(week, weeks))
    statement = select(SolveJobRecord.id, SolveJobRecord.week, SolveJobRecord.weeks).where(
        SolveJobRecord.network_id == network_id,
        SolveJobRecord.state.in_(ACTIVE),
        SolveJobRecord.id != job_id,
    )
    for other, start, count in session.execute(statement.order_by(SolveJobRecord.id)):
        if mine & set(week_labels(start, count)):
            return int(other)
    return None


def _already_done(
    session: Session, network_id: int, week: str, weeks: int, digest: str
) -> int | None:
    """A job that saved the drafts this same input would be solved from, if any."""
    statement = select(SolveJobRecord.id).where(
        SolveJobRecord.network_id == network_id,
        SolveJobRecord.week == week,
        SolveJobRecord.weeks == weeks,
        SolveJobRecord.state == "done",
        SolveJobRecord.result_hash == digest,
    )
    return session.scalar(statement.order_by(SolveJobRecord.id.desc()).limit(1))


def find_job(session: Session, network_id: int, job_id: int) -> JobView | None:
    """The job, if it belongs to this network."""
    record = session.get(SolveJobRecord, job_id)
    if record is None or record.network_id != network_id:
        return None
    return job_view(record)


def request_cancel(
    session: Session, engine: Engine, network_id: int, job_id: int, actor: str
) -> bool:
    """Cancel a queued job at once, or ask a running one to stop; False when it had finished.

    The flag in the database reaches a job running in any process (its
    heartbeat polls it); the Event stops a job of this process at once.
    The UPDATEs come first so that on SQLite the transaction holds the
    write lock before it reads.
    """
    owned = (SolveJobRecord.id == job_id, SolveJobRecord.network_id == network_id)
    queued = session.execute(
        update(SolveJobRecord)
        .where(*owned, SolveJobRecord.state == "queued")
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    flagged = queued
    if rows_changed(queued) != 1:
        flagged = session.execute(
            update(SolveJobRecord)
            .where(*owned, SolveJobRecord.state == "running")
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
    if rows_changed(flagged) != 1:
        return False
    record = session.get(SolveJobRecord, job_id)
    if record is None:
        return False
    session.refresh(record)
    audit.record(
        session,
        actor,
        "solve cancelled",
        f"{record.week} job {job_id}",
        network_id=network_id,
        before={"state": record.state},
        after={"cancel_requested": True},
    )
    if rows_changed(queued) == 1:
        close_job(session, record, "cancelled", "cancelled before it started; nothing was saved")
    RUNNER.stop(engine, job_id)
    return True
