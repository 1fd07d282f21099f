"""What the solve-job tests share: a gate that holds a job still, job rows of any age."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from scheduler.jobs.queue import start, wait
from scheduler.jobs.records import (
    create_job,
)
from scheduler.storage import clock
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import SolveJobRecord
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import load_cells
from scheduler.usecases.planning import PlanOutcome, plan_week
from solver import Progress, SolveOptions
from tests.test_publishing import WEEK

OPTIONS = SolveOptions(time_limit=10, workers=1)
ACTOR = "coordinator@tiny.test"
WAIT = 120.0  # seconds; a safety net, never reached when the code works


def _job(engine: Engine, job_id: int) -> SolveJobRecord:
    with session_scope(engine) as session:
        record = session.get(SolveJobRecord, job_id)
        assert record is not None
        return record


def _run(engine: Engine, network_id: int, **fields: Any) -> SolveJobRecord:
    """Create, start and wait for a job; its final row."""
    values = {"weeks": 1, "keep_pins": False, **fields}
    with session_scope(engine) as session:
        job_id = create_job(session, network_id, WEEK, actor=ACTOR, options=OPTIONS, **values).id
    start(engine, job_id)
    wait(engine, job_id, WAIT)
    return _job(engine, job_id)


def _create(session: Session, network_id: int, week: str = WEEK, **fields: Any) -> int:
    """A new queued job of one week, pins not kept; its id."""
    values = {"weeks": 1, "keep_pins": False, **fields}
    ticket = create_job(session, network_id, week, actor=ACTOR, options=OPTIONS, **values)
    assert ticket.created
    return ticket.id


def _draft(engine: Engine, network_id: int, week: str = WEEK) -> tuple[RotaRecord, Any] | None:
    with session_scope(engine) as session:
        draft = find_rota(session, network_id, week, "draft")
        return None if draft is None else (draft, load_cells(session, draft.id))


def _rota_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(RotaRecord)) or 0


class Gate:
    """A stand-in planner that reports progress, then holds until the test lets it go."""

    def __init__(self, objective: float = 123.0) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.objective = objective
        self.stop: threading.Event | None = None

    def __call__(
        self,
        bundle: Any,
        week: str,
        options: SolveOptions | None,
        progress: Any,
        stop: threading.Event | None,
        *,
        weeks: int = 1,
    ) -> PlanOutcome:
        self.stop = stop
        progress(Progress(self.objective, 100.0, 0.25, 1))
        self.started.set()
        assert self.release.wait(WAIT)
        return plan_week(bundle, week, options, None, stop, weeks=weeks)


def dead_pid() -> int:
    """The id of a process of this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def old_job(network_id: int, week: str, state: str, **fields: Any) -> SolveJobRecord:
    """A job row as another process would have left it."""
    values: dict[str, Any] = {
        "network_id": network_id,
        "week": week,
        "weeks": 1,
        "keep_pins": False,
        "state": state,
        "requested_by": ACTOR,
        "created_at": clock.now() - dt.timedelta(hours=1),
        "solutions": 0,
        "cancel_requested": False,
        "if_free": False,
        "attempts": 1,
        "backend": "local",
        **fields,
    }
    return SolveJobRecord(**values)
