"""The home page of managers and coordinators: the weeks ahead with the next step of each,
and an inbox of what waits for them (read in one transaction, counted, never loaded whole)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from scheduler.domain import iso_week_label, parse_iso_week
from scheduler.storage.models.app import (
    CoverRequestRecord,
    JobRunRecord,
    LeaveRequestRecord,
    OpenSessionRecord,
    SolveJobRecord,
    TransferRecord,
    WeekAlertRecord,
)
from scheduler.storage.models.pool import SwapRecord
from scheduler.storage.rotas import RotaInfo, list_rotas

WEEKS_AHEAD = 6
RECENT_FAILURES = dt.timedelta(days=7)


@dataclass(frozen=True)
class WeekStep:
    """One week ahead: what it has and what to do next.

    ``action``: ``plan`` (no rota), ``solving`` (a solve is running), ``publish``
    (a draft waits), ``fix`` (published with people short) or ``open`` (nothing waits).
    """

    week: str
    monday: dt.date
    draft: RotaInfo | None
    published: RotaInfo | None
    short: int | None  # people short of a minimum in the rota shown first
    alerts: int
    action: str
    job_id: int | None = None  # the solve running for the week


def _short(rota: RotaInfo | None) -> int | None:
    if rota is None:
        return None
    value = rota.summary.get("shortfall")
    return int(value) if isinstance(value, (int, float)) else None


def weeks_ahead(
    session: Session, network_id: int, today: dt.date, count: int = WEEKS_AHEAD
) -> list[WeekStep]:
    """This week and the next ones, each with its rotas, people short and next step."""
    labels = [iso_week_label(today + dt.timedelta(weeks=i)) for i in range(count)]
    rotas = [r for r in list_rotas(session, network_id) if r.week in labels]
    alerts = dict(
        session.execute(
            select(WeekAlertRecord.week, func.count())
            .where(
                WeekAlertRecord.network_id == network_id,
                WeekAlertRecord.week.in_(labels),
                WeekAlertRecord.cleared_at.is_(None),
            )
            .group_by(WeekAlertRecord.week)
        ).all()
    )
    solving: dict[str, int] = dict(
        session.execute(
            select(SolveJobRecord.week, SolveJobRecord.id).where(
                SolveJobRecord.network_id == network_id,
                SolveJobRecord.state.in_(("queued", "running")),
            )
        ).all()
    )
    steps = []
    for label in labels:
        draft = next((r for r in rotas if r.week == label and r.state == "draft"), None)
        published = next((r for r in rotas if r.week == label and r.state == "published"), None)
        short = _short(draft or published)
        if label in solving:
            action = "solving"
        elif draft is not None:
            action = "publish"
        elif published is None:
            action = "plan"
        else:
            action = "fix" if short else "open"
        steps.append(
            WeekStep(
                label,
                parse_iso_week(label)[0],
                draft,
                published,
                short,
                int(alerts.get(label, 0)),
                action,
                solving.get(label),
            )
        )
    return steps


@dataclass(frozen=True)
class Inbox:
    """What waits for a manager or coordinator of one network."""

    leave: int  # leave requests to decide
    cover: int  # practices' cover requests to decide
    lending: tuple[tuple[str, int], ...]  # (week, proposals awaiting acceptance)
    bookings: tuple[tuple[str, int], ...]  # (week, open-session bookings to approve)
    alerts: tuple[tuple[str, int], ...]  # (week, alerts not cleared)
    failed_solves: int  # in the last RECENT_FAILURES
    failed_runs: int  # scheduled jobs, in the last RECENT_FAILURES
    swaps: tuple[tuple[str, int], ...] = ()  # (week, swaps and give-aways to approve)

    @property
    def total(self) -> int:
        return (
            self.leave
            + self.cover
            + sum(n for _, n in self.lending)
            + sum(n for _, n in self.bookings)
            + sum(n for _, n in self.swaps)
            + sum(n for _, n in self.alerts)
            + self.failed_solves
            + self.failed_runs
        )


Kind = tuple[type, tuple[Any, ...]]  # a table and the conditions of its waiting rows


def _waiting(network: Callable[[Any], Any], since: dt.datetime) -> dict[str, Kind]:
    """What waits, by kind: each a table and its conditions, ``network`` naming the networks."""
    return {
        "leave": (
            LeaveRequestRecord,
            (
                network(LeaveRequestRecord),
                or_(
                    LeaveRequestRecord.state == "requested",
                    LeaveRequestRecord.cancel_asked_at.is_not(None),
                ),
            ),
        ),
        "cover": (
            CoverRequestRecord,
            (network(CoverRequestRecord), CoverRequestRecord.state == "requested"),
        ),
        "lending": (TransferRecord, (network(TransferRecord), TransferRecord.state == "proposed")),
        "bookings": (
            OpenSessionRecord,
            (network(OpenSessionRecord), OpenSessionRecord.state == "requested"),
        ),
        "swaps": (SwapRecord, (network(SwapRecord), SwapRecord.state == "accepted")),
        "alerts": (
            WeekAlertRecord,
            (network(WeekAlertRecord), WeekAlertRecord.cleared_at.is_(None)),
        ),
        "failed_solves": (
            SolveJobRecord,
            (
                network(SolveJobRecord),
                SolveJobRecord.state == "failed",
                SolveJobRecord.created_at >= since,
            ),
        ),
        "failed_runs": (
            JobRunRecord,
            (
                network(JobRunRecord),
                JobRunRecord.outcome == "failed",
                JobRunRecord.started_at >= since,
            ),
        ),
    }


def inbox(session: Session, network_id: int, moment: dt.datetime) -> Inbox:
    """Counts of what waits, by kind, for one network."""
    kinds = _waiting(lambda model: model.network_id == network_id, moment - RECENT_FAILURES)

    def count(kind: str) -> int:
        model, where = kinds[kind]
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def by_week(kind: str) -> tuple[tuple[str, int], ...]:
        model, where = kinds[kind]
        week = model.week  # type: ignore[attr-defined]
        statement = select(week, func.count()).where(*where).group_by(week).order_by(week)
        return tuple((str(w), int(n)) for w, n in session.execute(statement).all())

    return Inbox(
        leave=count("leave"),
        cover=count("cover"),
        lending=by_week("lending"),
        bookings=by_week("bookings"),
        alerts=by_week("alerts"),
        failed_solves=count("failed_solves"),
        failed_runs=count("failed_runs"),
        swaps=by_week("swaps"),
    )


def waiting_total(session: Session, network_id: int | None, moment: dt.datetime) -> int:
    """How many things wait in one network (None: in every network), in one query: the
    navigation shows it on every page."""

    def network(model: Any) -> Any:
        return model.network_id == network_id if network_id is not None else true()

    kinds = _waiting(network, moment - RECENT_FAILURES).values()
    counts = [
        select(func.count()).select_from(model).where(*where).scalar_subquery()
        for model, where in kinds
    ]
    return int(session.scalar(select(sum(counts[1:], counts[0]))) or 0)
