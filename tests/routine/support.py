"""What the scheduled-job tests share: a fixed moment, the runner's call, rotas and alerts.

Each job runs on the tiny network at a fixed moment, Monday 23 November 2026
at 06:00 in London (the Monday of 2026-W48), inside a transaction as the
runner calls it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from scheduler.domain import Assignment
from scheduler.jobs.queue import wait
from scheduler.jobs.routine import JobFunction
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import (
    AuditRecord,
    JobRunRecord,
    LoginFailureRecord,
    LoginSessionRecord,
    SolveJobRecord,
    UserRecord,
    WeekAlertRecord,
)
from scheduler.storage.models.network import AssignmentRecord, NetworkRecord, RotaRecord
from scheduler.usecases.events import record_absence
from scheduler.usecases.publishing import publish_week
from tests.web_support import save_week

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=LONDON)  # Monday of 2026-W48
DRAFT_WEEK = "2026-W51"  # three weeks after NOW's week
WEEK = "2026-W49"
TUE = dt.date(2026, 12, 1)
HOST = "rota.example.test"
SENDER = "rota@example.test"
FAST = {"SOLVE_TIME_LIMIT": 10, "SOLVE_WORKERS": 1}
WAIT = 120.0  # seconds; a safety net, never reached when the code works
# A published week-2026-W49 rota far from full: S05's session is pinned by fixed.csv.
CELLS = (
    Assignment(TUE, "AM", "P01", "S01"),
    Assignment(TUE, "AM", "P01", "S05"),
    Assignment(TUE, "PM", "P01", "S02"),
)
S01_AWAY = (
    "Grace Rees (S01) is absent on Tue 1 Dec but is on the published rota for "
    "Morning surgery (AM) at Mill Lane Surgery (P01)"
)
S01_SHORT = (
    "Mill Lane Surgery (P01), Tue 1 Dec, Morning surgery (AM): "
    "needs at least 1 GP, has 0 who can work: 1 short"
)
Job = JobFunction


def run(
    engine: Engine,
    job: Job,
    network_id: int,
    now: dt.datetime = NOW,
    config: Mapping[str, Any] | None = None,
) -> str:
    """Call a job as the runner does: in one transaction, committed afterwards."""
    with session_scope(engine) as session:
        return job(session, network_id, now, {"PUBLIC_HOST": HOST, **(config or {})})


def publish(engine: Engine, network_id: int, week: str, cells: tuple[Assignment, ...]) -> None:
    with session_scope(engine) as session:
        save_week(session, network_id, week, cells)
        publish_week(session, network_id, week, "test")


def alerts(engine: Engine, network_id: int, kind: str) -> list[WeekAlertRecord]:
    with session_scope(engine) as session:
        statement = select(WeekAlertRecord).where(
            WeekAlertRecord.network_id == network_id, WeekAlertRecord.kind == kind
        )
        return list(session.scalars(statement.order_by(WeekAlertRecord.id)))


def open_messages(engine: Engine, network_id: int, kind: str) -> set[str]:
    return {a.message for a in alerts(engine, network_id, kind) if a.cleared_at is None}


def queued_job(summary: str) -> int:
    """The id of the solve job a drafts run says it queued."""
    match = re.fullmatch(r"queued solve job (\d+) to draft (\S+)", summary)
    assert match is not None, summary
    return int(match.group(1))


def finished_job(engine: Engine, summary: str) -> SolveJobRecord:
    """Wait for the queued draft job (the local back end runs it here) and read its row."""
    job_id = queued_job(summary)
    wait(engine, job_id, WAIT)
    with session_scope(engine) as session:
        record = session.get(SolveJobRecord, job_id)
        assert record is not None
        return record


def set_jobs(engine: Engine, network_id: int, **values: object) -> None:
    """Change the network's stored ``[jobs]`` settings, as a re-import would."""
    with session_scope(engine) as session:
        network = session.get(NetworkRecord, network_id)
        assert network is not None
        network.settings = {**network.settings, "jobs": values}


# -- re-check --------------------------------------------------------------------------------


def record_s01_absence(engine: Engine, network_id: int) -> int:
    with session_scope(engine) as session:
        bundle = current_bundle(session, network_id)
        form = {"start": TUE.isoformat(), "kind": "sick", "reason": "flu"}
        absence = record_absence(session, network_id, bundle, staff_id="S01", form=form, actor="t")
    return absence.id


# -- retention -------------------------------------------------------------------------------

DAY = dt.timedelta(days=1)
AUDIT_CUTOFF = NOW - 730 * DAY  # the default audit_retention_days


def add_rows(engine: Engine, network_id: int) -> None:
    """Rows on both sides of each retention period (365 days for versions, 730 for the rest)."""
    old, recent = AUDIT_CUTOFF - DAY, AUDIT_CUTOFF + DAY
    with session_scope(engine) as session:
        for at, network in ((old, network_id), (old, network_id), (recent, network_id)):
            session.add(AuditRecord(at=at, actor="a", network_id=network, action="x", subject="s"))
        session.add(AuditRecord(at=old, actor="a", network_id=None, action="x", subject="s"))
        session.add_all(
            LoginFailureRecord(email="someone@example.test", at=at) for at in (old, recent)
        )
        account = session.scalars(select(UserRecord.id).order_by(UserRecord.id)).first()
        assert account is not None
        for number, ends in enumerate((NOW - DAY, NOW + DAY)):  # one login ended, one still open
            session.add(
                LoginSessionRecord(
                    user_id=account, digest=f"{number:064}", started_at=ends - DAY, expires_at=ends
                )
            )
        runs = ((old, "done"), (old, "failed"), (old, "running"), (recent, "done"))
        for number, (at, outcome) in enumerate(runs):
            session.add(
                JobRunRecord(
                    network_id=network_id,
                    job_id=f"{network_id}:recheck:{number}",
                    kind="recheck",
                    due_at=at,
                    started_at=at,
                    outcome=outcome,
                    runner="test",
                )
            )
        for cleared in (old, recent, None):
            session.add(
                WeekAlertRecord(
                    network_id=network_id,
                    week="2024-W10",
                    kind="reminder",
                    message="m",
                    created_at=old - DAY,
                    cleared_at=cleared,
                )
            )
        # 2025-W46 ended on Sun 16 Nov 2025, more than 365 days before NOW; 2025-W47 on the
        # 23rd, exactly 365 days before: kept.  Each later publication supersedes the one before.
        for week in ("2025-W46", "2025-W46", "2025-W46", "2025-W47", "2025-W47"):
            save_week(
                session, network_id, week, [Assignment(TUE, "AM", "P01", "S01")], state="published"
            )
        save_week(session, network_id, "2024-W11", [], state="draft")


def counts(engine: Engine, network_id: int) -> dict[str, object]:
    with session_scope(engine) as session:

        def count(table: Any, *where: Any) -> int:
            return session.scalar(select(func.count()).select_from(table).where(*where)) or 0

        rotas = session.execute(
            select(RotaRecord.week, RotaRecord.state)
            .where(RotaRecord.network_id == network_id)
            .order_by(RotaRecord.week, RotaRecord.id)
        ).all()
        return {
            "audit": count(AuditRecord, AuditRecord.at < NOW - 700 * DAY),
            "failures": count(LoginFailureRecord),
            "logins": count(LoginSessionRecord),
            "runs": count(JobRunRecord),
            "alerts": count(WeekAlertRecord),
            "rotas": [tuple(row) for row in rotas],
            "assignments": count(AssignmentRecord),
        }
