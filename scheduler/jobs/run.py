"""What a claimed solve job does: read its input, solve, save the drafts, close the row.

The drafts and the row's final state are saved in one transaction.  A solve
whose week was edited (or solved again) while it ran saves nothing and says
so, instead of overwriting that change."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from scheduler.domain import Assignment, Bundle, Fixed, iso_week_label, iso_weeks
from scheduler.jobs.claims import (
    Claim,
    Heartbeat,
    claim,
    close_job,
    fail_job,
    failure_message,
    log_failure,
    this_process,
)
from scheduler.jobs.settings import GAVE_UP, MAX_ATTEMPTS, PIN_ROW, PROGRESS_INTERVAL, STALE_AFTER
from scheduler.reports.continuity import with_previous_sessions
from scheduler.reports.fairness import with_fairness_balance
from scheduler.storage.clock import now
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import SolveJobRecord
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.repository import NetworkLookupError
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import figures, load_cells
from scheduler.usecases.planning import (
    InvalidRotaError,
    PlanOutcome,
    plan_week,
    save_draft,
    shortfall_words,
)
from solver import Progress, SolveOptions

log = logging.getLogger(__name__)


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
    labels = week_labels(week, weeks)
    pins = _current_pins(session, network_id, labels) if keep_pins else frozenset()
    bundle = current_bundle(session, network_id)
    bundle = with_fairness_balance(session, network_id, bundle, week)
    bundle = with_previous_sessions(session, network_id, bundle, week)
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


def week_labels(week: str, weeks: int) -> list[str]:
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
            close_job(session, record, "failed", GAVE_UP.format(attempts=record.attempts - 1))
            return None
        if stop.is_set() or record.cancel_requested:
            close_job(
                session, record, "cancelled", "cancelled before it started; nothing was saved"
            )
            return None
        weeks = week_labels(record.week, record.weeks)
        taken = _week_taken(session, record.network_id, weeks) if record.if_free else None
        if taken is not None:
            close_job(
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
    return _plan(engine, job_id, stop, this_process())


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


def _close_finished(
    session: Session, record: SolveJobRecord, plan: JobPlan, outcome: PlanOutcome
) -> None:
    """Close a solve that ran to its end: its drafts saved, or why they were not."""
    result = outcome.result
    if not result.status.has_rota:
        message = failure_message(plan.bundle, outcome, plan.options.time_limit)
        close_job(session, record, "failed", message)
    elif not _drafts_unchanged(session, plan):
        close_job(
            session,
            record,
            "failed",
            f"the draft of {outcome.label} was changed (edited or solved again) while "
            "this solve ran; nothing was saved. Start the solve again to plan from the "
            "current draft.",
        )
    elif plan.if_free and (published := _published_meanwhile(session, plan)):
        close_job(
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
            f"{shortfall_words(result, short)}"
        )
        if outcome.continuity is not None:
            message += f". {outcome.continuity.sentence()}"
        after = read_input(session, plan.network_id, plan.week, plan.weeks, plan.keep_pins)
        close_job(
            session,
            record,
            "done",
            message,
            rota_id=saved[0],
            result_hash=plan.input_hash(after),
        )


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
            close_job(session, record, "cancelled", "cancelled; nothing was saved")
        else:
            _close_finished(session, record, plan, outcome)


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
    owner = this_process()
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
        fail_job(engine, job_id, "the network was deleted; nothing was saved", owner)
    except InvalidRotaError as err:
        # Rule ids only: the error's own text names people and their leave (health data).
        rules = ", ".join(err.rules) or "unknown"
        log.error("solve job %s produced a rota the validator rejects (rules: %s)", job_id, rules)
        fail_job(
            engine,
            job_id,
            "internal error: the rota found failed the validator; nothing was saved",
            owner,
        )
    except Exception as err:
        log_failure(job_id, err)
        fail_job(
            engine,
            job_id,
            "internal error while solving; nothing was saved (see the server log)",
            owner,
        )
    return taken
