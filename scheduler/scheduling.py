"""The scheduler process: each network's ``[jobs]`` run by APScheduler 3, each due run once.

``rotapool scheduler`` is the only process that may start a scheduler: APScheduler 3
runs every job in every process that starts one, so a scheduler inside the web app
would run each job once per worker.  Nothing here starts anything at import time;
the web app imports this module only to show the jobs and their runs.

How a run happens:

- One APScheduler job per (network, kind), id ``<network name>:<kind>``, registered
  with ``replace_existing`` from the network's ``JobSettings`` (``sync_jobs``); the
  jobs of removed networks and disabled kinds are removed.  The process re-reads the
  settings every ``RESYNC_SECONDS``, so a re-import reaches a running scheduler.
- APScheduler calls ``run_scheduled(network_id, kind)``, which works out the run's due
  time from the trigger and the clock (APScheduler 3 does not pass it), **claims** the
  run by inserting a ``job_runs`` row (UNIQUE(job_id, due_at)), runs
  ``scheduler.routine.JOBS[kind]`` in one transaction and records done or failed.
  A second process whose insert fails leaves the run alone: a database lock that
  holds on SQLite and PostgreSQL alike, with no lock table of our own.
- ``run_once`` (``rotapool scheduler --once``) runs what is due now the same way and
  exits, for cron-style use; the claims make it safe beside a running scheduler.

Choices where the issue is silent:

- **The identity of a run** is (job id, the first instant of its due wall-clock time,
  in UTC).  Times are Europe/London; when the clocks go back, 01:30 happens twice and
  both fires name the same run, so the second is refused.  ``WallClockTrigger`` does
  not fire the second 01:30 at all; the identity is the safety net.  A time inside
  the missing hour in March runs once, an hour later by the clock.
- **The job store's table** (``apscheduler_jobs``) is created by APScheduler's own
  job store, not by a migration: its rows are APScheduler's pickles, in its format,
  derived entirely from the networks' settings at every start.  The run history,
  which is ours, is in ``job_runs`` (migration 0006).
- **Misfires**: coalesced; a run may start up to ``GRACE[kind]`` late (e.g. after a
  restart), six hours for the weekly drafts so a restart at breakfast still plans
  them, one hour for the nightly jobs; later than that it waits for its next time.
- **One job at a time** per process: a draft solve already uses both cores of the
  machines we size for.
- **Logs** name jobs (network name and kind), due times, outcomes and run ids; never
  an exception's message, which may quote personal data.  The message is stored in
  ``job_runs.error`` for managers.
- A run whose process died stays ``running``; its due time is never run again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Column, Engine, Float, MetaData, String, Table, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from scheduler import jobs as solve_jobs
from scheduler import routine
from scheduler.domain import JOB_KINDS, JobSettings
from scheduler.routine import JobFunction
from scheduler.storage.db import session_scope
from scheduler.storage.models import JobRunRecord, NetworkRecord
from scheduler.storage.repository import jobs_of, utc

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
JOB_TABLE = "apscheduler_jobs"
MAX_JOB_ID = 191  # APScheduler's id column
RESYNC_SECONDS = 300
HOUR = 3600
GRACE: dict[str, int] = {  # seconds a run may start late
    "drafts": 6 * HOUR,
    "recheck": HOUR,
    "reminder": HOUR,
    "retention": HOUR,
}
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": HOUR}
TIME_OF = {
    "drafts": "draft_time",
    "recheck": "recheck_time",
    "reminder": "reminder_time",
    "retention": "retention_time",
}
WHAT = {
    "drafts": "plan a draft of the week {weeks} ahead",
    "recheck": "re-check published weeks",
    "reminder": "remind of unpublished weeks within {days} days",
    "retention": (
        "delete audit entries after {audit} days and superseded versions of weeks"
        " over {versions} days old"
    ),
}
FULL_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WRITE_ATTEMPTS = 5  # a busy SQLite file refuses a write after its timeout: try again
MAX_ERROR = 2000  # characters of an error kept in the run history
RECENT_RUNS = 30

T = TypeVar("T")


def utc_now() -> dt.datetime:
    """The current instant (tests pass their own clock instead)."""
    return dt.datetime.now(dt.UTC)


# -- triggers and due times -------------------------------------------------------------


def repeated(moment: dt.datetime) -> bool:
    """Whether ``moment`` is the second occurrence of a wall-clock time (clocks went back)."""
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


class WallClockTrigger(CronTrigger):
    """A cron trigger that fires once per wall-clock time.

    When the clocks go back, 01:00-01:59 happens twice and CronTrigger fires at both;
    this one skips the second.  A time in the hour skipped in March fires once, an hour
    later by the clock (as CronTrigger does).  Persisted jobs pickle it by name.
    """

    __slots__ = ()

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        fire: dt.datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and repeated(fire):
            fire = super().get_next_fire_time(fire, fire)
        return fire


def trigger_for(settings: JobSettings, kind: str) -> WallClockTrigger:
    """When the job runs: weekly on ``draft_day`` for drafts, daily for the others."""
    at: dt.time = getattr(settings, TIME_OF[kind])
    day = settings.draft_day if kind == "drafts" else None
    return WallClockTrigger(day_of_week=day, hour=at.hour, minute=at.minute, timezone=LONDON)


def schedule_words(settings: JobSettings, kind: str) -> str:
    """The trigger as a manager reads it: ``every Monday at 06:00``."""
    at: dt.time = getattr(settings, TIME_OF[kind])
    days = FULL_DAYS[settings.draft_day] if kind == "drafts" else "day"
    return f"every {days} at {at:%H:%M}"


def purpose_words(settings: JobSettings, kind: str) -> str:
    """What the job does, with the settings that shape it."""
    return WHAT[kind].format(
        weeks=settings.draft_weeks_ahead,
        days=settings.reminder_days,
        audit=settings.audit_retention_days,
        versions=settings.version_retention_days,
    )


def fire_times(
    trigger: WallClockTrigger, start: dt.datetime, end: dt.datetime
) -> Iterator[dt.datetime]:
    """Every fire time from ``start`` up to and including ``end``."""
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        yield fire
        fire = trigger.get_next_fire_time(fire, fire)


def due_time(trigger: WallClockTrigger, now: dt.datetime, grace: int) -> dt.datetime | None:
    """The run that is due at ``now``: the latest fire time no more than ``grace`` s ago.

    APScheduler 3 does not tell a job which fire time it is running for; this is it,
    read from the same trigger, as it calls the job at or just after that time.
    """
    due = None
    for fire in fire_times(trigger, now - dt.timedelta(seconds=grace), now):
        due = fire
    return due


def run_identity(due: dt.datetime) -> dt.datetime:
    """The instant that names a run: its wall-clock time's first occurrence, in UTC.

    Both 01:30s of the night the clocks go back give the same instant (the first),
    so a second fire at 01:30 claims a run that is already claimed.
    """
    local = due.astimezone(dt.UTC).astimezone(LONDON)  # via UTC: a real wall-clock time
    return local.replace(fold=0).astimezone(dt.UTC)


def when(moment: dt.datetime | None) -> str:
    """An instant as Europe/London wall-clock time with its zone: ``Mon 30 Mar 2026 06:00 BST``."""
    if moment is None:
        return ""
    local = utc(moment).astimezone(dt.UTC).astimezone(LONDON)  # via UTC: a real wall time
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


# -- the jobs the settings ask for ------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One (network, kind) job that a network's ``[jobs]`` settings ask for."""

    job_id: str
    network_id: int
    network: str
    kind: str
    trigger: WallClockTrigger
    schedule: str  # in words
    purpose: str  # what it does, in words
    grace: int  # seconds


def job_id_for(network: str, kind: str) -> str:
    """``<network name>:<kind>``; a name too long for the id column is cut and hashed."""
    room = MAX_JOB_ID - 1 - max(len(k) for k in JOB_KINDS)
    if len(network) > room:
        digest = hashlib.sha256(network.encode()).hexdigest()[:8]
        network = f"{network[: room - 9]}~{digest}"
    return f"{network}:{kind}"


def network_specs(network: NetworkRecord) -> list[JobSpec]:
    """The enabled jobs of one network, in ``JOB_KINDS`` order."""
    settings = jobs_of(network.settings)
    return [
        JobSpec(
            job_id=job_id_for(network.name, kind),
            network_id=network.id,
            network=network.name,
            kind=kind,
            trigger=trigger_for(settings, kind),
            schedule=schedule_words(settings, kind),
            purpose=purpose_words(settings, kind),
            grace=GRACE[kind],
        )
        for kind in JOB_KINDS
        if kind in settings.enabled
    ]


def job_specs(session: Session, network_id: int | None = None) -> list[JobSpec]:
    """Every job of every stored network (or of one), by network name."""
    statement = select(NetworkRecord).order_by(NetworkRecord.name)
    if network_id is not None:
        statement = statement.where(NetworkRecord.id == network_id)
    return [spec for network in session.scalars(statement) for spec in network_specs(network)]


def spec_of(session: Session, network_id: int, kind: str) -> JobSpec | None:
    """The network's job of this kind, or None when the network or the job is gone."""
    return next((s for s in job_specs(session, network_id) if s.kind == kind), None)


# -- the APScheduler side -----------------------------------------------------------------


class Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one last look for due jobs at shutdown.

    APScheduler 3's loop wakes once more after ``shutdown()`` and processes due jobs with
    its executors already closed: it logs errors and moves their next run times on.
    That would happen each time a paused scheduler (sync, ``--once``) is closed.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait: float | None = super()._process_jobs()
        return wait


def build_scheduler(engine: Engine) -> Scheduler:
    """A scheduler on the application database's job store; not started."""
    return Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=dict(JOB_DEFAULTS),
        timezone=LONDON,
    )


def ensure_job_table(engine: Engine) -> None:
    """Create the job store's table if missing; two processes may race to create it."""
    table = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE).jobs_t
    for attempt in range(WRITE_ATTEMPTS):
        try:
            table.create(engine, checkfirst=True)
            return
        except SQLAlchemyError:  # created (or being created) by the other process
            if has_job_table(engine):
                return
            time.sleep(0.2 * (attempt + 1))
    table.create(engine, checkfirst=True)


def has_job_table(engine: Engine) -> bool:
    """Whether a scheduler has ever started on this database."""
    with engine.connect() as connection:
        return inspect(connection).has_table(JOB_TABLE)


def start_paused(scheduler: Scheduler, engine: Engine) -> None:
    """Open the job store without running anything yet (for syncing, listing, --once)."""
    ensure_job_table(engine)
    scheduler.start(paused=True)


def same_job(job: Job, spec: JobSpec) -> bool:
    """Whether a stored job already runs this spec (its next run time then stays)."""
    return (
        isinstance(job.trigger, WallClockTrigger)
        and str(job.trigger) == str(spec.trigger)
        and tuple(job.args) == (spec.network_id, spec.kind)
        and job.misfire_grace_time == spec.grace
    )


@dataclass(frozen=True)
class Synced:
    """What ``sync_jobs`` did."""

    kept: int
    replaced: int
    removed: int


def sync_jobs(scheduler: Scheduler, specs: Sequence[JobSpec]) -> Synced:
    """Make the job store hold exactly ``specs``: each under its id, ``replace_existing``.

    An unchanged job keeps its stored next run time, so a run missed while the
    scheduler was stopped still runs within its grace time; a changed one starts afresh.
    """
    stored = {job.id: job for job in scheduler.get_jobs()}
    kept = 0
    for spec in specs:
        old = stored.get(spec.job_id)
        extra = {}
        if old is not None and same_job(old, spec) and old.next_run_time is not None:
            extra["next_run_time"] = old.next_run_time
            kept += 1
        # JobLookupError: another process removed the job between our insert's conflict
        # and the update that replaces it; it saw the network gone, and so will we.
        with suppress(JobLookupError):
            scheduler.add_job(
                run_scheduled,
                spec.trigger,
                args=(spec.network_id, spec.kind),
                id=spec.job_id,
                name=spec.job_id,
                misfire_grace_time=spec.grace,
                replace_existing=True,
                **extra,
            )
    gone = sorted(stored.keys() - {spec.job_id for spec in specs})
    for job_id in gone:
        with suppress(JobLookupError):  # another scheduler process removed it first
            scheduler.remove_job(job_id)
    return Synced(kept, len(specs) - kept, len(gone))


def sync_from_database(scheduler: Scheduler, engine: Engine) -> list[JobSpec]:
    """Sync the job store with every network's settings; the specs it now holds."""
    with session_scope(engine) as session:
        specs = job_specs(session)
    synced = sync_jobs(scheduler, specs)
    log.info(
        "jobs synced: %d unchanged, %d added or changed, %d removed",
        synced.kept,
        synced.replaced,
        synced.removed,
    )
    return specs


# -- claiming and running ----------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    """What became of one due run in this process."""

    job_id: str
    due_at: dt.datetime  # the run's identity (UTC)
    outcome: str  # done, failed, or "claimed elsewhere" (another runner has it)
    summary: str | None = None
    error: str | None = None

    def line(self) -> str:
        """One line for the console."""
        text = f"{self.job_id} due {when(self.due_at)}: {self.outcome}"
        detail = self.summary or self.error
        return f"{text}: {detail}" if detail else text


CLAIMED_ELSEWHERE = "claimed elsewhere"


def routine_jobs() -> Mapping[str, JobFunction]:
    """``scheduler.routine.JOBS``, looked up when a run starts (tests replace it)."""
    return routine.JOBS


def runner_name() -> str:
    """Which process ran a run: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


INTERRUPTED = (
    "interrupted: the scheduler process stopped during the run, whose work was rolled back; "
    "it is not repeated, so run the job by hand if it is still needed"
)


def close_interrupted(engine: Engine, host: str | None = None) -> int:
    """Record as failed the runs left ``running`` by a dead scheduler process on this host.

    A run's own work is one transaction, so a process that died mid-run left
    nothing half-done, only its claim; without this the history would say
    "running" for ever.  Processes on other hosts cannot be checked from here.
    """
    host = host or socket.gethostname()
    with session_scope(engine) as session:
        stale = [
            record
            for record in session.scalars(
                select(JobRunRecord).where(JobRunRecord.outcome == "running")
            )
            if _dead(record.runner, host)
        ]
        for record in stale:
            record.outcome, record.error, record.finished_at = "failed", INTERRUPTED, utc_now()
    return len(stale)


def _dead(runner: str, host: str) -> bool:
    """Whether ``host:pid`` names a process of this host that no longer runs."""
    name, _, pid_text = runner.rpartition(":")
    if name != host or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class Runner:
    """Claims, runs and records due runs for one process."""

    def __init__(
        self,
        engine: Engine,
        config: Mapping[str, Any],
        clock: Callable[[], dt.datetime] | None = None,
        jobs: Mapping[str, JobFunction] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock or utc_now
        self.jobs = jobs
        self.name = runner_name()

    def run(self, spec: JobSpec, due: dt.datetime) -> RunResult:
        """Run ``spec``'s job for ``due`` unless some runner has claimed that run already."""
        due_at = run_identity(due)
        run_id = self.claim(spec, due_at)
        if run_id is None:
            log.info("%s due %s: claimed by another runner; skipped", spec.job_id, when(due_at))
            return RunResult(spec.job_id, due_at, CLAIMED_ELSEWHERE)
        log.info("%s due %s: started (run %d)", spec.job_id, when(due_at), run_id)
        try:
            summary = self.call(spec)
        except Exception as err:  # any failure is recorded; the scheduler carries on
            error = f"{type(err).__name__}: {err}"[:MAX_ERROR]
            self.finish(run_id, "failed", None, error)
            where = traceback.extract_tb(err.__traceback__)[-1:]
            place = f"{where[0].filename}:{where[0].lineno}" if where else "?"
            log.error(
                "%s due %s: failed with %s at %s (run %d; the message is in the run history)",
                spec.job_id,
                when(due_at),
                type(err).__name__,
                place,
                run_id,
            )
            return RunResult(spec.job_id, due_at, "failed", error=error)
        self.finish(run_id, "done", summary, None)
        log.info("%s due %s: done (run %d)", spec.job_id, when(due_at), run_id)
        return RunResult(spec.job_id, due_at, "done", summary=summary)

    def claim(self, spec: JobSpec, due_at: dt.datetime) -> int | None:
        """Insert the run's ``running`` row; None when another runner's row is there first.

        Each try inserts a new row object: one from a refused commit keeps the id its
        INSERT was given, which another runner's row may have taken meanwhile.
        """

        def insert(session: Session) -> int:
            record = JobRunRecord(
                network_id=spec.network_id,
                job_id=spec.job_id,
                kind=spec.kind,
                due_at=due_at,
                started_at=self.clock(),
                outcome="running",
                runner=self.name,
            )
            session.add(record)
            session.flush()  # the INSERT: refused here when the run is claimed
            return record.id

        try:
            return self.write(insert)
        except IntegrityError:
            return None

    def call(self, spec: JobSpec) -> str:
        """The job function, in one transaction; its one-line summary."""
        jobs = self.jobs if self.jobs is not None else routine_jobs()
        function = jobs[spec.kind]
        with session_scope(self.engine) as session:
            summary = function(
                session, spec.network_id, self.clock().astimezone(LONDON), self.config
            )
        return str(summary)

    def finish(self, run_id: int, outcome: str, summary: str | None, error: str | None) -> None:
        """Record how the run ended."""
        values = {
            "outcome": outcome,
            "summary": summary,
            "error": error,
            "finished_at": self.clock(),
        }
        statement = update(JobRunRecord).where(JobRunRecord.id == run_id).values(**values)
        self.write(lambda session: session.execute(statement))

    def write(self, work: Callable[[Session], T]) -> T:
        """A short transaction that writes first (so SQLite waits for its lock instead of
        refusing a read lock's upgrade), tried again while the file stays locked."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with session_scope(self.engine) as session:
                    return work(session)
            except OperationalError:  # SQLite: locked past its timeout by another process
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


class Current:
    """The runner of this process's scheduler: ``run_scheduled`` gets only ids from APScheduler."""

    runner: Runner | None = None


@contextmanager
def active(runner: Runner) -> Iterator[Runner]:
    """Make ``runner`` the one ``run_scheduled`` uses while the scheduler runs."""
    Current.runner = runner
    try:
        yield runner
    finally:
        Current.runner = None


def run_scheduled(network_id: int, kind: str) -> None:
    """What APScheduler calls (persisted by name): the due run of one network's job."""
    runner = Current.runner
    if runner is None:
        raise RuntimeError("run_scheduled runs only inside `rotapool scheduler`")
    now = runner.clock()
    with session_scope(runner.engine) as session:
        spec = spec_of(session, network_id, kind)
    if spec is None:
        log.warning("%s job of network %d is no longer in its settings; skipped", kind, network_id)
        return
    due = due_time(spec.trigger, now, spec.grace)
    if due is None:
        log.warning("%s: nothing due at %s under the current settings; skipped", spec.job_id, now)
        return
    runner.run(spec, due)


def advance(scheduler: Scheduler, now: dt.datetime) -> None:
    """Move stored next run times that are past to the next fire time after ``now``."""
    for job in scheduler.get_jobs():
        if job.next_run_time is not None and job.next_run_time <= now:
            following = job.trigger.get_next_fire_time(None, now)
            with suppress(JobLookupError):  # removed by another process meanwhile
                scheduler.modify_job(job.id, next_run_time=following)


def run_once(
    engine: Engine,
    config: Mapping[str, Any],
    clock: Callable[[], dt.datetime] | None = None,
    jobs: Mapping[str, JobFunction] | None = None,
) -> list[RunResult]:
    """Sync the jobs, run each run due now (within its grace time) once, and return."""
    close_interrupted(engine)
    solve_jobs.resend_unclaimed(engine, solve_jobs.queue_settings(config))
    runner = Runner(engine, config, clock, jobs)
    scheduler = build_scheduler(engine)
    start_paused(scheduler, engine)
    try:
        specs = sync_from_database(scheduler, engine)
        now = runner.clock()
        results = []
        for spec in specs:
            due = due_time(spec.trigger, now, spec.grace)
            if due is not None:
                results.append(runner.run(spec, due))
        advance(scheduler, now)
    finally:
        scheduler.shutdown(wait=True)
    return results


def serve(
    engine: Engine,
    config: Mapping[str, Any],
    stop: threading.Event,
    resync_seconds: float = RESYNC_SECONDS,
) -> None:
    """Run the jobs until ``stop`` is set, re-reading the settings every ``resync_seconds``."""
    close_interrupted(engine)
    scheduler = build_scheduler(engine)
    with active(Runner(engine, config)):
        start_paused(scheduler, engine)
        try:
            sync_from_database(scheduler, engine)
            scheduler.resume()
            log.info("scheduler running (%s); stop with SIGTERM or Ctrl+C", runner_name())
            while not stop.wait(resync_seconds):
                try:
                    sync_from_database(scheduler, engine)
                    solve_jobs.resend_unclaimed(engine, solve_jobs.queue_settings(config))
                except SQLAlchemyError as err:  # the database is away: keep the jobs we have
                    log.error("re-reading the job settings failed (%s)", type(err).__name__)
        finally:
            scheduler.shutdown(wait=True)
    log.info("scheduler stopped")


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (call from the main thread)."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        log.info("%s received; finishing the running job", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)
    return stop


def log_to_stderr() -> None:
    """Timestamped log lines on stderr (systemd's journal keeps them)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


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
