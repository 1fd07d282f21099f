"""Solve jobs: queued in the database, run by a back end, watched from any process.

A request only writes a queued ``SolveJobRecord`` and hands its id to a
back end once committed:

- ``local`` (the default, no other service): a single worker thread in the
  process that asked (the machines we size for have two cores, and one
  solve already uses both);
- ``celery`` when ``BROKER_URL`` (``ROTAPOOL_BROKER_URL``) names a Redis
  server: the id goes on a Celery queue and ``rotapool worker`` processes,
  on any machine that reaches the database, take the jobs one at a time
  (``scheduler.worker``).

Either way the job runs ``run_job``: it claims the row (queued -> running;
one claim wins, so a message delivered twice never solves twice), writes
progress and a heartbeat to it, polls its cancel flag, and saves the
draft(s) in one transaction with the row's final state.  Every page, in
every process, reads the state from the database.

Choices where the issue is silent:

- A job is idempotent by (network, week, weeks, input hash): the hash
  covers everything the solve reads (the network's bundle with its events,
  the pins and drafts it starts from, the solver limits).  Asking again
  while the same solve is queued or running returns that job; asking again
  after it saved its drafts, with nothing changed since, returns that job
  too (``result_hash``) instead of solving the same input twice.  A
  different solve of a week with an active one is refused
  (``SolveRunningError``); the database holds at most one active solve per
  week (a partial unique index), so two processes cannot both start one.
- A cancelled solve saves nothing, even when it had found a rota.  A queued
  job is cancelled at once; a running one stops within about a second (the
  cancel flag is polled every ``CANCEL_POLL`` seconds and the search is
  stopped through ``stop_search``).
- A running job whose heartbeat is older than ``STALE_AFTER`` seconds lost
  its worker.  On the celery back end the broker delivers it again (late
  acknowledgement) and the next worker claims it anew, up to
  ``MAX_ATTEMPTS`` times; on the local back end nothing will, so it is
  marked failed (``INTERRUPTED``) when a page of the network is looked at,
  as is a local job still queued by a process of this machine that died.
- A solve whose week was edited (or solved again) while it ran saves
  nothing and says so, instead of overwriting that change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
import math
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import CursorResult, Engine, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.domain import FIXED, Assignment, Bundle, Fixed, iso_week_label, iso_weeks
from scheduler.editing import figures, load_cells
from scheduler.events import network_bundle
from scheduler.planning import MAX_WEEKS, InvalidRotaError, PlanOutcome, plan_week, save_draft
from scheduler.reports.fairness import with_fairness_balance
from scheduler.storage.db import session_scope
from scheduler.storage.models import RotaRecord, SolveJobRecord
from scheduler.storage.repository import (
    NetworkLookupError,
    find_rota,
    normalise_week,
    now,
    utc,
)
from solver import Progress, SolveOptions, SolveStatus

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5  # seconds between progress writes
CANCEL_POLL = 0.5  # seconds between looks at a running job's cancel flag
HEARTBEAT = 2.0  # seconds between a running job's heartbeat writes
STALE_AFTER = 30.0  # seconds without a heartbeat after which a running job's worker is dead
MAX_ATTEMPTS = 3  # claims of one job before it is failed (a solve that kills its worker)
RESEND_AFTER = 600.0  # seconds a Celery job may wait unclaimed before its message is sent again
DEFAULT_QUEUE = "rotapool-solve"
DEFAULT_VISIBILITY = 3600.0  # seconds a taken job's message stays invisible to other workers
ACTIVE = ("queued", "running")
INTERRUPTED = "interrupted: the server restarted before this solve finished; start it again"
LOST = (
    "interrupted: the worker running this solve stopped and no other worker took it up; "
    "start it again"
)
GAVE_UP = (
    "failed: the worker running this solve stopped {attempts} times; nothing was saved. "
    "Plan fewer weeks at once, or ask the administrator to look at the workers' log."
)
NO_QUEUE = "not started: the job queue could not be reached; nothing was saved. Try again."
PIN_ROW = 0  # the "row" of a pin taken from the draft, told apart from fixed.csv's rows
HOST = socket.gethostname()

JobKey = tuple[str, int]  # (database, job id): tests run several databases in one process


class QueueSettingsError(ValueError):
    """The queue settings cannot work; the message names the setting."""


@dataclass(frozen=True)
class QueueSettings:
    """Where solve jobs go: ``broker_url`` None runs them in this process."""

    broker_url: str | None = None
    queue: str = DEFAULT_QUEUE
    visibility_timeout: float = DEFAULT_VISIBILITY
    stale_after: float = STALE_AFTER

    @property
    def backend(self) -> str:
        return "local" if self.broker_url is None else "celery"


def _seconds(config: Mapping[str, Any], name: str, default: float) -> float:
    value = config.get(name, default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise QueueSettingsError(f"{name}: give a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise QueueSettingsError(f"{name}: give a number of seconds above 0, not {value!r}")
    return seconds


def queue_settings(config: Mapping[str, Any]) -> QueueSettings:
    """The queue from the app's settings (``ROTAPOOL_BROKER_URL``, ...), checked.

    The visibility timeout must be longer than the longest solve plus the
    time a dead worker takes to be noticed: a job's message that becomes
    visible again while its solve is still running would be taken by a
    second worker, which then waits for the heartbeat to go stale.
    """
    url = str(config.get("BROKER_URL") or "").strip() or None
    if url is not None and not url.startswith(("redis://", "rediss://")):
        raise QueueSettingsError(
            "BROKER_URL: give a Redis URL such as redis://127.0.0.1:6379/0, or leave it unset "
            "to solve in the web process"
        )
    settings = QueueSettings(
        broker_url=url,
        queue=str(config.get("SOLVE_QUEUE") or DEFAULT_QUEUE),
        visibility_timeout=_seconds(config, "VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY),
        stale_after=_seconds(config, "JOB_STALE_AFTER", STALE_AFTER),
    )
    if settings.stale_after < 3 * HEARTBEAT:
        raise QueueSettingsError(
            f"JOB_STALE_AFTER: give at least {3 * HEARTBEAT:g} seconds (three heartbeats)"
        )
    longest = _seconds(config, "SOLVE_TIME_LIMIT", SolveOptions().time_limit)
    if url is not None and settings.visibility_timeout <= longest + settings.stale_after:
        raise QueueSettingsError(
            f"VISIBILITY_TIMEOUT: give more than the solve time limit plus JOB_STALE_AFTER "
            f"({longest + settings.stale_after:g} seconds), so no solve is delivered twice"
        )
    return settings


LOCAL = QueueSettings()


def solve_options(config: Mapping[str, Any]) -> SolveOptions:
    """Solver limits of a solve job from the app's settings (``SOLVE_TIME_LIMIT``, ...)."""
    default = SolveOptions()
    return SolveOptions(
        time_limit=float(config.get("SOLVE_TIME_LIMIT", default.time_limit)),
        workers=int(config.get("SOLVE_WORKERS", default.workers)),
    )


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


# -- the back ends --------------------------------------------------------------------------


class Backend(Protocol):
    """Where a committed queued job is sent to be run."""

    name: str

    def submit(self, engine: Engine, job_id: int) -> None:
        """Send the job to be run; raises ``QueueUnavailableError`` when it cannot."""

    def stop(self, engine: Engine, job_id: int) -> None:
        """Stop the job at once where this process can (the cancel flag does the rest)."""


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


def backend_for(settings: QueueSettings) -> Backend:
    """The back end the settings name."""
    if settings.broker_url is None:
        return RUNNER
    from scheduler.worker import celery_backend  # noqa: PLC0415  (Celery only when used)

    return celery_backend(settings)


def start(engine: Engine, job_id: int, settings: QueueSettings = LOCAL) -> None:
    """Hand a committed queued job to its back end.

    When the queue cannot take it, the job is marked failed (so no page
    waits for it) and ``QueueUnavailableError`` is raised.
    """
    try:
        backend_for(settings).submit(engine, job_id)
    except QueueUnavailableError:
        _fail(engine, job_id, NO_QUEUE, owner=None)
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
    with session_scope(engine) as session:
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


def wait_for_state(engine: Engine, job_id: int, timeout: float) -> JobView:
    """Poll the job's row until it has finished, wherever it runs; ``TimeoutError`` if not."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
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
    with Session(session.get_bind()) as reader:
        digest = input_hash(
            read_input(reader, network_id, week, weeks, keep_pins),
            week=week,
            weeks=weeks,
            keep_pins=keep_pins,
            if_free=if_free,
            options=options,
        )
        reader.rollback()
    record = SolveJobRecord(
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
        owner=_me() if settings.backend == "local" else None,
        attempts=0,
    )
    for _ in range(3):  # an active job that finishes between INSERT and read: try again
        savepoint = session.begin_nested()
        try:
            session.add(record)
            session.flush()
            break
        except IntegrityError:
            savepoint.rollback()
            active = _the_active_one(session, network_id, week, weeks, digest)
            if active is not None:
                return Ticket(active, False)
    else:
        raise RuntimeError(f"could not queue a solve of {week}: its active job kept changing")
    clash = _overlapping(session, network_id, week, weeks, record.id)
    if clash is not None:
        savepoint.rollback()
        raise SolveRunningError(clash)
    done = _already_done(session, network_id, week, weeks, digest)
    if done is not None:
        savepoint.rollback()
        return Ticket(done, False)
    savepoint.commit()
    audit.record(
        session,
        actor,
        "solve started",
        f"{week} job {record.id}",
        network_id=network_id,
        after={"job_id": record.id, "week": week, "weeks": weeks, "keep_pins": keep_pins},
    )
    return Ticket(record.id, True)


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
    mine = set(_week_labels(week, weeks))
    statement = select(SolveJobRecord.id, SolveJobRecord.week, SolveJobRecord.weeks).where(
        SolveJobRecord.network_id == network_id,
        SolveJobRecord.state.in_(ACTIVE),
        SolveJobRecord.id != job_id,
    )
    for other, start, count in session.execute(statement.order_by(SolveJobRecord.id)):
        if mine & set(_week_labels(start, count)):
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


def _rows_changed(result: object) -> int:
    """How many rows an UPDATE changed."""
    return result.rowcount if isinstance(result, CursorResult) else 0


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
    if _rows_changed(queued) != 1:
        flagged = session.execute(
            update(SolveJobRecord)
            .where(*owned, SolveJobRecord.state == "running")
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
    if _rows_changed(flagged) != 1:
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
    if _rows_changed(queued) == 1:
        _end(session, record, "cancelled", "cancelled before it started; nothing was saved")
    RUNNER.stop(engine, job_id)
    return True


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


def _me() -> str:
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
    if host != HOST or not pid.isdigit() or owner == _me():
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
    with session_scope(engine) as session:
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
            if _rows_changed(closed) != 1:
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


# -- the job thread -----------------------------------------------------------------------


class ProgressWriter:
    """The solver's progress callback: writes the job row at most every ``interval`` seconds.

    Each write is its own short transaction and also reads the cancel flag,
    so a cancel asked through another process stops the search too.  A
    failed write is logged and skipped: progress is a courtesy, the result
    is what counts.
    """

    def __init__(
        self,
        engine: Engine,
        job_id: int,
        stop: threading.Event,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        owner: str | None = None,
    ) -> None:
        self._engine = engine
        self._job_id = job_id
        self._stop = stop
        self._owner = owner  # when given, only this owner's running job is written
        self._interval = PROGRESS_INTERVAL if interval is None else interval
        self._clock = clock
        self._last = -math.inf
        self.solutions = 0

    def __call__(self, progress: Progress) -> None:
        self.solutions = progress.solutions
        moment = self._clock()
        if moment - self._last < self._interval:
            return
        self._last = moment
        self.write(progress)

    def write(self, progress: Progress) -> None:
        """Store one progress report and pick up a cancel asked elsewhere."""
        mine = [SolveJobRecord.id == self._job_id]
        if self._owner is not None:
            mine += [SolveJobRecord.owner == self._owner, SolveJobRecord.state == "running"]
        try:
            with session_scope(self._engine) as session:
                session.execute(
                    update(SolveJobRecord)
                    .where(*mine)
                    .values(
                        objective=progress.objective,
                        bound=progress.bound,
                        elapsed=round(progress.seconds, 3),
                        solutions=progress.solutions,
                    )
                )
                flag = select(SolveJobRecord.cancel_requested).where(
                    SolveJobRecord.id == self._job_id
                )
                if session.scalar(flag):
                    self._stop.set()
        except SQLAlchemyError as err:
            log.warning(
                "could not record the progress of solve job %s (%s)",
                self._job_id,
                type(err).__name__,
            )


@dataclass(frozen=True)
class JobInput:
    """What a solve reads: the bundle as planned (pins fixed), the pins, the drafts' marks."""

    bundle: Bundle
    pins: frozenset[Assignment]
    drafts: dict[str, tuple[int, int] | None]  # week -> (draft id, revision)


def read_input(
    session: Session, network_id: int, week: str, weeks: int, keep_pins: bool
) -> JobInput:
    """Everything a solve of these weeks reads from the database."""
    labels = _week_labels(week, weeks)
    pins = _current_pins(session, network_id, labels) if keep_pins else frozenset()
    bundle = network_bundle(session, network_id)
    bundle = with_fairness_balance(session, network_id, bundle, week)
    return JobInput(with_pins(bundle, pins), pins, _draft_marks(session, network_id, labels))


def _canonical(value: Any) -> Any:
    """``value`` as plain JSON data in one order, whatever the order of its sets."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return [type(value).__name__, *(_canonical(getattr(value, f.name)) for f in fields)]
    if isinstance(value, Mapping):
        return sorted(([_canonical(k), _canonical(v)] for k, v in value.items()), key=_dumps)
    if isinstance(value, set | frozenset):
        return sorted((_canonical(item) for item in value), key=_dumps)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    """A leaf of ``_canonical``: JSON's own types as they are, others as text."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return repr(value)  # floats (exactly) and anything else


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def input_hash(
    job_input: JobInput,
    *,
    week: str,
    weeks: int,
    keep_pins: bool,
    if_free: bool,
    options: SolveOptions,
) -> str:
    """The idempotency key's hash: equal exactly when a solve would read the same input."""
    data = [
        week,
        weeks,
        keep_pins,
        if_free,
        float(options.time_limit),  # 10 and 10.0 are the same limit
        int(options.workers),
        int(options.seed),
        job_input.bundle,
        job_input.pins,
        job_input.drafts,
    ]
    return hashlib.sha256(_dumps(_canonical(data)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class JobPlan:
    """What a job solves, read when it starts, and who runs it."""

    network_id: int
    week: str
    weeks: int
    keep_pins: bool
    if_free: bool
    actor: str
    options: SolveOptions
    owner: str
    bundle: Bundle
    pins: frozenset[Assignment]
    drafts: dict[str, tuple[int, int] | None]  # week -> (draft id, revision) at the start

    def input_hash(self, job_input: JobInput) -> str:
        return input_hash(
            job_input,
            week=self.week,
            weeks=self.weeks,
            keep_pins=self.keep_pins,
            if_free=self.if_free,
            options=self.options,
        )


def _week_labels(week: str, weeks: int) -> list[str]:
    """The ISO weeks of a horizon, in order."""
    return list(dict.fromkeys(iso_week_label(day) for day in iso_weeks(week, weeks)))


def _draft_marks(
    session: Session, network_id: int, weeks: list[str]
) -> dict[str, tuple[int, int] | None]:
    """Each week's draft as (id, revision), to see later whether it changed meanwhile."""
    marks: dict[str, tuple[int, int] | None] = {}
    for week in weeks:
        draft = find_rota(session, network_id, week, "draft")
        marks[week] = None if draft is None else (draft.id, draft.revision)
    return marks


def _current_pins(session: Session, network_id: int, weeks: list[str]) -> frozenset[Assignment]:
    """The pinned cells of each week's draft, else of its published rota."""
    pins: set[Assignment] = set()
    for week in weeks:
        rota = find_rota(session, network_id, week, "draft") or find_rota(
            session, network_id, week, "published"
        )
        if rota is not None:
            pins |= load_cells(session, rota.id).pinned
    return frozenset(pins)


def with_pins(bundle: Bundle, pins: frozenset[Assignment]) -> Bundle:
    """The bundle with the draft's pins as fixed assignments the solver must keep."""
    extra = tuple(
        Fixed(cell.staff_id, cell.date, cell.session_id, cell.site_id, row=PIN_ROW)
        for cell in sorted(pins)
    )
    return dataclasses.replace(bundle, fixed=bundle.fixed + extra)


def _options(record: SolveJobRecord) -> SolveOptions:
    """The solver limits the job was asked with."""
    default = SolveOptions()
    return SolveOptions(
        time_limit=default.time_limit if record.time_limit is None else record.time_limit,
        workers=default.workers if record.workers is None else record.workers,
    )


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
                owner=_me(),
                attempts=SolveJobRecord.attempts + 1,
            )
        )
        if _rows_changed(claimed) == 1:
            return Claim.TAKEN
        state = session.scalar(select(SolveJobRecord.state).where(SolveJobRecord.id == job_id))
    return Claim.BUSY if state == "running" else Claim.NOTHING


def _week_taken(session: Session, network_id: int, weeks: Iterable[str]) -> str | None:
    """A week that has a draft or a publication already, if any."""
    statement = select(RotaRecord.week).where(
        RotaRecord.network_id == network_id,
        RotaRecord.week.in_(tuple(weeks)),
        RotaRecord.state.in_(("draft", "published")),
    )
    return session.scalars(statement.order_by(RotaRecord.week).limit(1)).first()


def _plan(engine: Engine, job_id: int, stop: threading.Event, owner: str) -> JobPlan | None:
    """What the claimed job solves; None when it was closed instead of run."""
    with session_scope(engine) as session:
        # A write first, as everywhere here (SQLite's write lock).
        session.execute(
            update(SolveJobRecord)
            .where(SolveJobRecord.id == job_id, SolveJobRecord.owner == owner)
            .values(heartbeat_at=now())
        )
        record = session.get(SolveJobRecord, job_id)
        if record is None or (record.state, record.owner) != ("running", owner):
            return None
        if record.attempts > MAX_ATTEMPTS:
            _end(session, record, "failed", GAVE_UP.format(attempts=record.attempts - 1))
            return None
        if stop.is_set() or record.cancel_requested:
            _end(session, record, "cancelled", "cancelled before it started; nothing was saved")
            return None
        weeks = _week_labels(record.week, record.weeks)
        taken = _week_taken(session, record.network_id, weeks) if record.if_free else None
        if taken is not None:
            _end(
                session,
                record,
                "cancelled",
                f"not needed: {taken} got a rota before this solve started; nothing was saved",
            )
            return None
        job_input = read_input(
            session, record.network_id, record.week, record.weeks, record.keep_pins
        )
        return JobPlan(
            network_id=record.network_id,
            week=record.week,
            weeks=record.weeks,
            keep_pins=record.keep_pins,
            if_free=record.if_free,
            actor=record.requested_by,
            options=_options(record),
            owner=owner,
            bundle=job_input.bundle,
            pins=job_input.pins,
            drafts=job_input.drafts,
        )


def _begin(
    engine: Engine, job_id: int, stop: threading.Event, stale_after: float = STALE_AFTER
) -> JobPlan | None:
    """Claim the job and read what it needs; None when there is nothing for this worker to do."""
    if claim(engine, job_id, stale_after) is not Claim.TAKEN:
        return None
    return _plan(engine, job_id, stop, _me())


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
        with session_scope(self._engine) as session:
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


def _end(session: Session, record: SolveJobRecord, state: str, message: str, **extra: Any) -> None:
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


def _save_drafts(session: Session, plan: JobPlan, outcome: PlanOutcome) -> list[int]:
    """One draft per ISO week of the horizon, pins kept pinned; all in the caller's transaction."""
    summary = outcome.summary()
    coverage = outcome.report.coverage if outcome.report else ()
    saved = []
    for week in outcome.weeks:
        cells = outcome.assignments_in(week)
        in_week = [line for line in coverage if iso_week_label(line.date) == week]
        rota_id = save_draft(
            session,
            plan.network_id,
            week,
            cells,
            result=outcome.result,
            summary={**summary, **figures(in_week, len(cells)), "week": week},
            pinned=plan.pins & frozenset(cells),
        )
        saved.append(rota_id)
    return saved


def _drafts_unchanged(session: Session, plan: JobPlan) -> bool:
    """Whether every week's draft is still the one the job started from (rows locked)."""
    for week, mark in plan.drafts.items():
        statement = select(RotaRecord.id, RotaRecord.revision).where(
            RotaRecord.network_id == plan.network_id,
            RotaRecord.week == week,
            RotaRecord.state == "draft",
        )
        row = session.execute(statement.with_for_update()).first()
        if (None if row is None else (row[0], row[1])) != mark:
            return False
    return True


def _published_meanwhile(session: Session, plan: JobPlan) -> str | None:
    """A week of a draft-only-into-free-weeks job that was published while it solved."""
    statement = select(RotaRecord.week).where(
        RotaRecord.network_id == plan.network_id,
        RotaRecord.week.in_(tuple(plan.drafts)),
        RotaRecord.state == "published",
    )
    return session.scalars(statement.order_by(RotaRecord.week).limit(1)).first()


def _finish(
    engine: Engine,
    job_id: int,
    plan: JobPlan,
    outcome: PlanOutcome,
    *,
    stop: threading.Event,
    writer: ProgressWriter,
) -> None:
    """Save the rota (or say why not) and close the job, in one transaction.

    Nothing is written when the job is no longer this worker's: another
    worker claimed it, or it was closed meanwhile.
    """
    result = outcome.result
    progress_figures = {
        "objective": result.objective,
        "bound": result.bound,
        "elapsed": round(result.seconds, 3),
        "solutions": writer.solutions,
    }
    with session_scope(engine) as session:
        # A write first: on SQLite it takes the write lock before anything is read.
        session.execute(
            update(SolveJobRecord)
            .where(
                SolveJobRecord.id == job_id,
                SolveJobRecord.owner == plan.owner,
                SolveJobRecord.state == "running",
            )
            .values(**progress_figures)
        )
        record = session.get(SolveJobRecord, job_id)
        if record is None or (record.state, record.owner) != ("running", plan.owner):
            return
        if stop.is_set() or record.cancel_requested:
            _end(session, record, "cancelled", "cancelled; nothing was saved")
        elif not result.status.has_rota:
            message = failure_message(plan.bundle, outcome, plan.options.time_limit)
            _end(session, record, "failed", message)
        elif not _drafts_unchanged(session, plan):
            _end(
                session,
                record,
                "failed",
                f"the draft of {outcome.label} was changed (edited or solved again) while "
                "this solve ran; nothing was saved. Start the solve again to plan from the "
                "current draft.",
            )
        elif plan.if_free and (published := _published_meanwhile(session, plan)):
            _end(
                session,
                record,
                "failed",
                f"{published} was published while this solve ran; nothing was saved",
            )
        else:
            saved = _save_drafts(session, plan, outcome)
            short = outcome.report.shortfall if outcome.report else 0
            message = (
                f"saved a draft of {outcome.label} ({result.status.value}); "
                f"{short} people short of minimum"
            )
            after = read_input(session, plan.network_id, plan.week, plan.weeks, plan.keep_pins)
            _end(
                session,
                record,
                "done",
                message,
                rota_id=saved[0],
                result_hash=plan.input_hash(after),
            )


def _fail(engine: Engine, job_id: int, message: str, owner: str | None) -> None:
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
            if record is not None and _rows_changed(closing) == 1:
                _end(session, record, "failed", message)
    except SQLAlchemyError as err:  # its text may quote the row's values (e-mail addresses)
        log.error("could not mark solve job %s failed (%s)", job_id, type(err).__name__)


def log_failure(job_id: int, err: BaseException) -> None:
    """Log where a job failed, without the error's text: it may quote names or leave."""
    where = "".join(traceback.format_tb(err.__traceback__))
    log.error("solve job %s failed with %s at:\n%s", job_id, type(err).__name__, where)


def run_job(
    engine: Engine, job_id: int, stop: threading.Event, stale_after: float = STALE_AFTER
) -> Claim:
    """The whole life of one job in the worker given it; what the claim found.

    Only a database error while claiming is raised (the job is untouched, so
    the queue may try again); everything after the claim ends in the job's
    row, never in an exception.
    """
    taken = claim(engine, job_id, stale_after)
    if taken is not Claim.TAKEN:
        return taken
    owner = _me()
    try:
        plan = _plan(engine, job_id, stop, owner)
        if plan is None:
            return taken
        writer = ProgressWriter(engine, job_id, stop, owner=owner)
        with Heartbeat(engine, job_id, plan.owner, stop):
            outcome = plan_week(
                plan.bundle, plan.week, plan.options, writer, stop, weeks=plan.weeks
            )
        _finish(engine, job_id, plan, outcome, stop=stop, writer=writer)
    except NetworkLookupError:
        _fail(engine, job_id, "the network was deleted; nothing was saved", owner)
    except InvalidRotaError as err:
        # Rule ids only: the error's own text names people and their leave (health data).
        rules = ", ".join(err.rules) or "unknown"
        log.error("solve job %s produced a rota the validator rejects (rules: %s)", job_id, rules)
        _fail(
            engine,
            job_id,
            "internal error: the rota found failed the validator; nothing was saved",
            owner,
        )
    except Exception as err:
        log_failure(job_id, err)
        _fail(
            engine,
            job_id,
            "internal error while solving; nothing was saved (see the server log)",
            owner,
        )
    return taken
