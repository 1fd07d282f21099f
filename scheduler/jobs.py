"""Solves started from the web app, run in the background one at a time.

A request only writes a queued ``SolveJobRecord`` and hands its id to the
runner: a single worker thread per process (the machines we size for have
two cores, and one solve already uses both).  The job thread plans the week,
writes progress to the job's row (each write its own short transaction, at
most every ``PROGRESS_INTERVAL`` seconds) and finally saves the draft(s), so
any page, in any process, reads the state from the database and survives a
reload.

Choices where the issue is silent:

- A cancelled solve saves nothing, even when it had found a rota.
- A job still queued or running in the database but created before this
  process started belonged to a process that died: it is marked failed
  (``INTERRUPTED``) when its page, or a new solve of the network, is looked
  at.  This assumes one serving process (``rotapool serve`` runs waitress,
  which uses threads); several processes would each keep their own queue.
- A solve whose week was edited (or solved again) while it ran saves
  nothing and says so, instead of overwriting that change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
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
ACTIVE = ("queued", "running")
INTERRUPTED = "interrupted: the server restarted before this solve finished; start it again"
PIN_ROW = 0  # the "row" of a pin taken from the draft, told apart from fixed.csv's rows
PROCESS_STARTED = dt.datetime.now(dt.UTC)  # jobs older than this and still active are orphans

JobKey = tuple[str, int]  # (database, job id): tests run several databases in one process


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
    )


# -- the runner ---------------------------------------------------------------------------


class JobRunner:
    """One worker thread per process; a stop Event and a Future per job it was given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._stops: dict[JobKey, threading.Event] = {}
        self._futures: dict[JobKey, Future[None]] = {}

    def _pool(self) -> ThreadPoolExecutor:
        """Made on first use: creating the app or importing this module starts nothing."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rotapool-solve")
        return self._executor

    def submit(self, engine: Engine, job_id: int, options: SolveOptions) -> None:
        """Queue the job; it runs after the jobs queued before it."""
        key = job_key(engine, job_id)
        with self._lock:
            stop = self._stops.setdefault(key, threading.Event())
            future = self._pool().submit(run_job, engine, job_id, options, stop)
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
        """Ask the job to stop at its next chance (before starting, or at its next rota)."""
        with self._lock:
            self._stops.setdefault(job_key(engine, job_id), threading.Event()).set()

    def wait(self, engine: Engine, job_id: int, timeout: float) -> None:
        """Block until the job has finished (tests); ``TimeoutError`` after ``timeout`` seconds."""
        with self._lock:
            future = self._futures.get(job_key(engine, job_id))
        if future is None:
            raise KeyError(f"job {job_id} was never started in this process")
        future.result(timeout=timeout)


RUNNER = JobRunner()


def job_key(engine: Engine, job_id: int) -> JobKey:
    """A job's identity across databases."""
    return (engine.url.render_as_string(hide_password=True), job_id)


def start(engine: Engine, job_id: int, options: SolveOptions) -> None:
    """Hand a committed queued job to this process's runner."""
    RUNNER.submit(engine, job_id, options)


def wait(engine: Engine, job_id: int, timeout: float = 60.0) -> None:
    """Wait for a job started in this process to finish (for tests and scripts)."""
    RUNNER.wait(engine, job_id, timeout)


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


def create_job(
    session: Session, network_id: int, week: str, *, weeks: int, keep_pins: bool, actor: str
) -> int:
    """A queued job row (and its audit entry); the caller starts it once committed.

    Raises ``SolveRunningError`` when a solve of the same week is already
    queued or running: two would only race to save the same draft.  The
    INSERT comes first so that on SQLite the transaction holds the write
    lock before it reads.
    """
    week = normalise_week(week)
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
    )
    session.add(record)
    session.flush()
    earlier = active_job(session, network_id, week)
    if earlier is not None and earlier != record.id:
        raise SolveRunningError(earlier)
    audit.record(
        session,
        actor,
        "solve started",
        f"{week} job {record.id}",
        network_id=network_id,
        after={"job_id": record.id, "week": week, "weeks": weeks, "keep_pins": keep_pins},
    )
    return record.id


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
    """Ask a queued or running job to stop; False when it had already finished.

    The flag in the database lets another process's job see the request; the
    Event stops this process's job at once.  The UPDATE comes first so that
    on SQLite the transaction holds the write lock before it reads.
    """
    flagged = session.execute(
        update(SolveJobRecord)
        .where(
            SolveJobRecord.id == job_id,
            SolveJobRecord.network_id == network_id,
            SolveJobRecord.state.in_(ACTIVE),
        )
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    if _rows_changed(flagged) != 1:
        return False
    record = session.get(SolveJobRecord, job_id)
    audit.record(
        session,
        actor,
        "solve cancelled",
        f"{record.week if record else '?'} job {job_id}",
        network_id=network_id,
        before={"state": record.state if record else None},
        after={"cancel_requested": True},
    )
    RUNNER.stop(engine, job_id)
    return True


def _orphans(session: Session, network_id: int) -> list[int]:
    """The network's jobs still active in the database but older than this process."""
    statement = select(SolveJobRecord.id).where(
        SolveJobRecord.network_id == network_id,
        SolveJobRecord.state.in_(ACTIVE),
        SolveJobRecord.created_at < PROCESS_STARTED,
    )
    return list(session.scalars(statement))


def sweep_interrupted(engine: Engine, network_id: int) -> list[int]:
    """Mark failed the network's jobs a dead process left queued or running; their ids.

    A read first, in its own transaction: almost always there is nothing to
    sweep, and the page that asks should not take the write lock for that.
    """
    with session_scope(engine) as session:
        candidates = _orphans(session, network_id)
    if not candidates:
        return []
    with session_scope(engine) as session:
        session.execute(
            update(SolveJobRecord)
            .where(SolveJobRecord.id.in_(candidates), SolveJobRecord.state.in_(ACTIVE))
            .values(state="failed", message=INTERRUPTED, finished_at=now())
            .execution_options(synchronize_session=False)
        )
        for job_id in candidates:
            audit.record(
                session,
                "system",
                "solve interrupted",
                f"job {job_id}",
                network_id=network_id,
                before={"state": "queued or running"},
                after={"state": "failed", "message": INTERRUPTED},
            )
    return candidates


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
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._job_id = job_id
        self._stop = stop
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
        try:
            with session_scope(self._engine) as session:
                session.execute(
                    update(SolveJobRecord)
                    .where(SolveJobRecord.id == self._job_id)
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
        except SQLAlchemyError:
            log.warning(
                "could not record the progress of solve job %s", self._job_id, exc_info=True
            )


@dataclass(frozen=True)
class JobPlan:
    """What a job solves, read when it starts."""

    network_id: int
    week: str
    weeks: int
    actor: str
    bundle: Bundle
    pins: frozenset[Assignment]
    drafts: dict[str, tuple[int, int] | None]  # week -> (draft id, revision) at the start


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


def _begin(engine: Engine, job_id: int, stop: threading.Event) -> JobPlan | None:
    """Mark the job running and read what it needs; None when it was cancelled before starting."""
    with session_scope(engine) as session:
        started = session.execute(
            update(SolveJobRecord)
            .where(SolveJobRecord.id == job_id, SolveJobRecord.state == "queued")
            .values(state="running", started_at=now())
        )
        record = session.get(SolveJobRecord, job_id)
        if record is None or _rows_changed(started) != 1:
            return None  # swept as interrupted, or gone with its network
        if stop.is_set() or record.cancel_requested:
            _end(session, record, "cancelled", "cancelled before it started; nothing was saved")
            return None
        weeks = _week_labels(record.week, record.weeks)
        pins = _current_pins(session, record.network_id, weeks) if record.keep_pins else frozenset()
        bundle = network_bundle(session, record.network_id)
        bundle = with_fairness_balance(session, record.network_id, bundle, record.week)
        return JobPlan(
            record.network_id,
            record.week,
            record.weeks,
            record.requested_by,
            with_pins(bundle, pins),
            pins,
            _draft_marks(session, record.network_id, weeks),
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


def _finish(
    engine: Engine,
    job_id: int,
    plan: JobPlan,
    outcome: PlanOutcome,
    *,
    stop: threading.Event,
    writer: ProgressWriter,
    time_limit: float,
) -> None:
    """Save the rota (or say why not) and close the job, in one transaction."""
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
            update(SolveJobRecord).where(SolveJobRecord.id == job_id).values(**progress_figures)
        )
        record = session.get(SolveJobRecord, job_id)
        if record is None:
            return
        if stop.is_set() or record.cancel_requested:
            _end(session, record, "cancelled", "cancelled; nothing was saved")
        elif not result.status.has_rota:
            _end(session, record, "failed", failure_message(plan.bundle, outcome, time_limit))
        elif not _drafts_unchanged(session, plan):
            _end(
                session,
                record,
                "failed",
                f"the draft of {outcome.label} was changed (edited or solved again) while "
                "this solve ran; nothing was saved. Start the solve again to plan from the "
                "current draft.",
            )
        else:
            saved = _save_drafts(session, plan, outcome)
            short = outcome.report.shortfall if outcome.report else 0
            message = (
                f"saved a draft of {outcome.label} ({result.status.value}); "
                f"{short} people short of minimum"
            )
            _end(session, record, "done", message, rota_id=saved[0])


def _fail(engine: Engine, job_id: int, message: str) -> None:
    """Close a job that went wrong; a failure here is only logged."""
    try:
        with session_scope(engine) as session:
            session.execute(  # a write first, as everywhere here (SQLite's write lock)
                update(SolveJobRecord)
                .where(SolveJobRecord.id == job_id, SolveJobRecord.state.in_(ACTIVE))
                .values(finished_at=now())
            )
            record = session.get(SolveJobRecord, job_id)
            if record is not None and record.state in ACTIVE:
                _end(session, record, "failed", message)
    except SQLAlchemyError:
        log.exception("could not mark solve job %s failed", job_id)


def log_failure(job_id: int, err: BaseException) -> None:
    """Log where a job failed, without the error's text: it may quote names or leave."""
    where = "".join(traceback.format_tb(err.__traceback__))
    log.error("solve job %s failed with %s at:\n%s", job_id, type(err).__name__, where)


def run_job(engine: Engine, job_id: int, options: SolveOptions, stop: threading.Event) -> None:
    """The whole life of one job in the worker thread; never raises."""
    try:
        plan = _begin(engine, job_id, stop)
        if plan is None:
            return
        writer = ProgressWriter(engine, job_id, stop)
        outcome = plan_week(plan.bundle, plan.week, options, writer, stop, weeks=plan.weeks)
        _finish(
            engine, job_id, plan, outcome, stop=stop, writer=writer, time_limit=options.time_limit
        )
    except NetworkLookupError:
        _fail(engine, job_id, "the network was deleted; nothing was saved")
    except InvalidRotaError as err:
        # Rule ids only: the error's own text names people and their leave (health data).
        rules = ", ".join(err.rules) or "unknown"
        log.error("solve job %s produced a rota the validator rejects (rules: %s)", job_id, rules)
        _fail(
            engine, job_id, "internal error: the rota found failed the validator; nothing was saved"
        )
    except Exception as err:
        log_failure(job_id, err)
        _fail(
            engine, job_id, "internal error while solving; nothing was saved (see the server log)"
        )
