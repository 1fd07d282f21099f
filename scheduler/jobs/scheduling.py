"""The scheduler process: each network's ``[jobs]`` run by APScheduler 3, each due run once.

``rotapool scheduler`` is the only process that may start a scheduler: APScheduler 3
runs every job in every process that starts one, so a scheduler inside the web app
would run each job once per worker.  Nothing here starts anything at import time.

How a run happens:

- One APScheduler job per (network, kind), id ``<network name>:<kind>``, registered
  with ``replace_existing`` from the network's ``JobSettings`` (``sync_jobs``); the
  jobs of removed networks and disabled kinds are removed.  The process re-reads the
  settings every ``RESYNC_SECONDS``, so a re-import reaches a running scheduler.
- APScheduler calls ``run_scheduled(network_id, kind)``, which works out the run's due
  time from the trigger and the clock, **claims** the run by inserting a ``job_runs``
  row (UNIQUE(job_id, due_at)), runs ``routine.JOBS[kind]`` in one transaction and
  records done or failed.  A second process whose insert fails leaves the run alone.
- ``run_once`` (``rotapool scheduler --once``) runs what is due now the same way and
  exits, for cron-style use; the claims make it safe beside a running scheduler.

Choices where the issue was silent:

- **The job store's table** (``apscheduler_jobs``) is created by APScheduler's own
  job store, not by a migration: its rows are derived entirely from the networks'
  settings at every start.  The run history, which is ours, is in ``job_runs``.
- **Misfires**: coalesced; a run may start up to ``GRACE[kind]`` late (six hours for
  the weekly drafts, one hour for the nightly jobs); later than that it waits.
- **One job at a time** per process: a draft solve already uses both cores.
- **Logs** name jobs, due times, outcomes and run ids; never an exception's message,
  which may quote personal data.  The message is stored in ``job_runs.error``."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from sqlalchemy import Engine, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from scheduler.jobs import routine
from scheduler.jobs.queue import resend_unclaimed
from scheduler.jobs.routine import JobFunction
from scheduler.jobs.settings import queue_settings
from scheduler.jobs.timetable import (
    JOB_DEFAULTS,
    JOB_TABLE,
    LONDON,
    JobSpec,
    T,
    WallClockTrigger,
    due_time,
    job_specs,
    run_identity,
    spec_of,
    utc_now,
    when,
)
from scheduler.storage.db import reader, reading, session_scope
from scheduler.storage.models.app import JobRunRecord

log = logging.getLogger(__name__)
RESYNC_SECONDS = 300
WRITE_ATTEMPTS = 5  # a busy SQLite file refuses a write after its timeout: try again
MAX_ERROR = 2000  # characters of an error kept in the run history


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


# Job states stored before this module moved (up to commit 43f1d72) name it by its old
# path; sync_jobs stores every job again under the new names the first time it runs.
OLD_MODULE = "scheduler.scheduling"


def accept_old_job_states() -> None:
    """Let job states pickled under the module's old name load, so no stored job is lost.

    APScheduler pickles the trigger's class and names the job's function by module
    path; a state it cannot load, it deletes, and the job's next run time with it.
    """
    if OLD_MODULE not in sys.modules:
        alias = types.ModuleType(OLD_MODULE, "The old name of scheduler.jobs.scheduling.")
        vars(alias).update(WallClockTrigger=WallClockTrigger, run_scheduled=run_scheduled)
        sys.modules[OLD_MODULE] = alias


def build_scheduler(engine: Engine) -> Scheduler:
    """A scheduler on the application database's job store; not started."""
    accept_old_job_states()
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
    with reader(engine).connect() as connection:
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
    """``routine.JOBS``, looked up when a run starts (tests replace it)."""
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
    with reading(runner.engine) as session:
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
    resend_unclaimed(engine, queue_settings(config))
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
                    resend_unclaimed(engine, queue_settings(config))
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
