"""One worker per job: the claim, the heartbeat, and jobs whose worker died.

A worker claims a row with one UPDATE (queued -> running, or running with a
stale heartbeat); one claim wins, so a message delivered twice never solves
twice.  The heartbeat thread writes every ``HEARTBEAT`` seconds and polls
the cancel flag; only the owner of a running row may close it."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Engine, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from scheduler.domain import FIXED, Bundle
from scheduler.jobs.settings import (
    ACTIVE,
    CANCEL_POLL,
    HEARTBEAT,
    HOST,
    INTERRUPTED,
    LOCAL,
    LOST,
    PIN_ROW,
    STALE_AFTER,
    QueueSettings,
)
from scheduler.storage import audit
from scheduler.storage.clock import now, utc
from scheduler.storage.db import reading, session_scope
from scheduler.storage.models.app import SolveJobRecord
from scheduler.usecases.planning import PlanOutcome
from solver import SolveStatus

log = logging.getLogger(__name__)


def rows_changed(result: object) -> int:
    """How many rows an UPDATE changed."""
    return result.rowcount if isinstance(result, CursorResult) else 0


def _started(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (Linux); None if there is none.

    With the process id it names one process even where ids are reused soon,
    as in a container restarted under the same host name.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of proc(5), starttime


def process_owner(pid: int) -> str:
    """A process of this machine as a job's owner: host, process id and start time."""
    return f"{HOST}:{pid}:{_started(pid) or 0}"


def this_process() -> str:
    """This process, as a job's owner."""
    return process_owner(os.getpid())


def _alive(pid: int, started: str) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs."""
    if Path("/proc/self/stat").exists():
        return _started(pid) == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def _dead_here(owner: str | None) -> bool:
    """Whether ``owner`` is a process of this machine that no longer runs."""
    host, pid, started = [*(owner or "").split(":"), "", ""][:3]
    if host != HOST or not pid.isdigit() or owner == this_process():
        return False
    return not _alive(int(pid), started)


@dataclass(frozen=True)
class _Orphan:
    """An active job whose worker is gone, as it was read; the sweep closes it only unchanged."""

    id: int
    message: str
    state: str
    owner: str | None
    attempts: int
    heartbeat_at: dt.datetime | None

    def unchanged(self) -> tuple[Any, ...]:
        """Conditions that hold while nobody has claimed, beaten or closed the job since."""
        return (
            SolveJobRecord.id == self.id,
            SolveJobRecord.state == self.state,
            SolveJobRecord.owner.is_not_distinct_from(self.owner),
            SolveJobRecord.attempts == self.attempts,
            SolveJobRecord.heartbeat_at.is_not_distinct_from(self.heartbeat_at),
        )


def _orphans(session: Session, network_id: int, settings: QueueSettings) -> list[_Orphan]:
    """The network's active jobs whose worker is gone, with the message to close them with."""
    stale = now() - dt.timedelta(seconds=settings.stale_after)
    # Past this the broker has delivered the job again long since, and a worker would
    # have claimed it (twice the timeout: the message waits its turn behind other jobs).
    lost = stale - dt.timedelta(seconds=2 * settings.visibility_timeout)
    statement = select(SolveJobRecord).where(
        SolveJobRecord.network_id == network_id, SolveJobRecord.state.in_(ACTIVE)
    )
    found = []
    for record in session.scalars(statement):
        message = None
        if record.state == "running":
            beat = utc(record.heartbeat_at or record.started_at or record.created_at)
            if record.backend == "celery" and beat < lost:
                message = LOST
            elif record.backend != "celery" and beat < stale:
                message = INTERRUPTED
        elif record.backend == "local" and _dead_here(record.owner):
            message = INTERRUPTED
        if message is not None:
            found.append(
                _Orphan(
                    record.id,
                    message,
                    record.state,
                    record.owner,
                    record.attempts,
                    record.heartbeat_at,
                )
            )
    return found


def sweep_interrupted(
    engine: Engine, network_id: int, settings: QueueSettings = LOCAL
) -> list[int]:
    """Mark failed the network's jobs whose worker died and nothing will run again; their ids.

    A read first, in its own transaction: almost always there is nothing to
    sweep, and the page that asks should not take the write lock for that.
    A job claimed, beaten or closed between the read and the write is left
    alone.
    """
    with reading(engine) as session:
        candidates = _orphans(session, network_id, settings)
    return _close_orphans(engine, network_id, candidates) if candidates else []


def _close_orphans(engine: Engine, network_id: int, candidates: list[_Orphan]) -> list[int]:
    """Mark failed those of ``candidates`` that are still as they were read; their ids."""
    swept = []
    with session_scope(engine) as session:
        for orphan in sorted(candidates, key=lambda o: o.id):
            closed = session.execute(
                update(SolveJobRecord)
                .where(*orphan.unchanged())
                .values(state="failed", message=orphan.message, finished_at=now())
                .execution_options(synchronize_session=False)
            )
            if rows_changed(closed) != 1:
                continue
            swept.append(orphan.id)
            audit.record(
                session,
                "system",
                "solve interrupted",
                f"job {orphan.id}",
                network_id=network_id,
                before={"state": orphan.state},
                after={"state": "failed", "message": orphan.message},
            )
    return swept


class Claim(enum.Enum):
    """What a worker found when it tried to take a job."""

    TAKEN = "taken"  # this process runs it now
    BUSY = "busy"  # another worker runs it and is alive: ask again later
    NOTHING = "nothing"  # finished, cancelled or gone: nothing to do


def claim(engine: Engine, job_id: int, stale_after: float = STALE_AFTER) -> Claim:
    """Take the job for this process, in a transaction of its own.

    The claim takes a queued job, or a running one whose heartbeat is stale
    (its worker died and the broker delivered it again).  One UPDATE does
    it, so of two workers given the same job only one takes it.  Database
    errors are left to the caller: the job stays as it was.
    """
    moment = now()
    with session_scope(engine) as session:
        claimed = session.execute(
            update(SolveJobRecord)
            .where(
                SolveJobRecord.id == job_id,
                or_(
                    SolveJobRecord.state == "queued",
                    (SolveJobRecord.state == "running")
                    & (SolveJobRecord.heartbeat_at < moment - dt.timedelta(seconds=stale_after)),
                ),
            )
            .values(
                state="running",
                started_at=moment,
                heartbeat_at=moment,
                owner=this_process(),
                attempts=SolveJobRecord.attempts + 1,
            )
        )
        if rows_changed(claimed) == 1:
            return Claim.TAKEN
        state = session.scalar(select(SolveJobRecord.state).where(SolveJobRecord.id == job_id))
    return Claim.BUSY if state == "running" else Claim.NOTHING


class Heartbeat:
    """While a job solves: writes its heartbeat and sets ``stop`` when it should stop.

    It stops the solve when the job is cancelled (from any process), when
    another worker has claimed it (this one was taken for dead), or when it
    was closed meanwhile.  A failed read or write is logged and tried again
    at the next poll.
    """

    def __init__(
        self,
        engine: Engine,
        job_id: int,
        owner: str,
        stop: threading.Event,
        poll: float | None = None,
    ) -> None:
        self._engine = engine
        self._job_id = job_id
        self._owner = owner
        self._stop = stop
        self._poll = CANCEL_POLL if poll is None else poll
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"rotapool-heartbeat-{job_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        last_beat = time.monotonic()
        while not self._done.wait(self._poll):
            beat = time.monotonic() - last_beat >= HEARTBEAT
            try:
                if self.check(beat):
                    self._stop.set()
            except SQLAlchemyError as err:
                log.warning(
                    "could not check on solve job %s (%s)", self._job_id, type(err).__name__
                )
                continue
            if beat:
                last_beat = time.monotonic()

    def check(self, beat: bool) -> bool:
        """Write the heartbeat when ``beat``; whether the job should stop."""
        mine = (SolveJobRecord.id == self._job_id, SolveJobRecord.owner == self._owner)
        unit = session_scope if beat else reading  # only a beat writes
        with unit(self._engine) as session:
            if beat:  # a write first, as everywhere here (SQLite's write lock)
                session.execute(
                    update(SolveJobRecord)
                    .where(*mine, SolveJobRecord.state == "running")
                    .values(heartbeat_at=now())
                )
            row = session.execute(
                select(
                    SolveJobRecord.state, SolveJobRecord.owner, SolveJobRecord.cancel_requested
                ).where(SolveJobRecord.id == self._job_id)
            ).first()
        return (
            row is None
            or row.cancel_requested
            or (row.state, row.owner)
            != (
                "running",
                self._owner,
            )
        )


def close_job(
    session: Session, record: SolveJobRecord, state: str, message: str, **extra: Any
) -> None:
    """Finish the job row in ``state`` and record it in the audit log."""
    record.state, record.message, record.finished_at = state, message, now()
    for name, value in extra.items():
        setattr(record, name, value)
    session.flush()
    audit.record(
        session,
        record.requested_by,
        "solve finished",
        f"{record.week} job {record.id}",
        network_id=record.network_id,
        after={"state": state, "message": message, "rota_id": record.rota_id},
    )


def failure_message(bundle: Bundle, outcome: PlanOutcome, time_limit: float) -> str:
    """Why no rota was saved, naming rows but no people (the job list is not private)."""
    if outcome.result.status is SolveStatus.CONFLICT:
        rows = sorted(
            {
                "a cell pinned in the draft"
                if c.file == bundle.label(FIXED) and c.row == PIN_ROW
                else f"{c.file}:{c.row}"
                for c in outcome.result.conflicts
            }
        )
        return (
            "the hard rules of these weeks contradict each other, so no rota exists; "
            f"nothing was saved. Check: {', '.join(rows) or 'the bundle'}."
        )
    return (
        f"no rota was found within the time limit of {time_limit:g} seconds; nothing was saved. "
        "Try again, or plan fewer weeks at once."
    )


def fail_job(engine: Engine, job_id: int, message: str, owner: str | None) -> None:
    """Close a job that went wrong (only if ``owner`` runs it, when given); errors are logged."""
    try:
        with session_scope(engine) as session:
            mine = [SolveJobRecord.id == job_id, SolveJobRecord.state.in_(ACTIVE)]
            if owner is not None:
                mine.append(SolveJobRecord.owner == owner)
            closing = session.execute(  # a write first, as everywhere here (SQLite's write lock)
                update(SolveJobRecord).where(*mine).values(finished_at=now())
            )
            record = session.get(SolveJobRecord, job_id)
            if record is not None and rows_changed(closing) == 1:
                close_job(session, record, "failed", message)
    except SQLAlchemyError as err:  # its text may quote the row's values (e-mail addresses)
        log.error("could not mark solve job %s failed (%s)", job_id, type(err).__name__)


def log_failure(job_id: int, err: BaseException) -> None:
    """Log where a job failed, without the error's text: it may quote names or leave."""
    where = "".join(traceback.format_tb(err.__traceback__))
    log.error("solve job %s failed with %s at:\n%s", job_id, type(err).__name__, where)
