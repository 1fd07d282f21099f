"""Rotas as stored: drafts, published versions and superseded ones, with their revisions.

A week has at most one draft and one current publication.  Saving a draft
bumps its revision, so an edit made from a page opened before someone else's
change is refused instead of overwriting it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from scheduler.domain import (
    Assignment,
    iso_week_label,
    parse_iso_week,
)
from scheduler.storage.clock import now, utc
from scheduler.storage.models.network import ROTA_STATES, AssignmentRecord, RotaRecord


@dataclass(frozen=True)
class RotaInfo:
    """A stored rota's header: which week, its state and how the solve went."""

    id: int
    network_id: int
    week: str
    state: str
    created_at: dt.datetime
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float | None
    summary: dict[str, Any]
    pinned: frozenset[Assignment] = frozenset()
    revision: int = 0
    version: int | None = None  # publication number of the week, from 1
    published_at: dt.datetime | None = None
    published_by: str | None = None


# --- rotas -------------------------------------------------------------------


def normalise_week(week: str) -> str:
    """``2026-w49`` and `` 2026-W49`` are the same week; store one spelling."""
    return iso_week_label(parse_iso_week(week)[0])


def check_state(state: str) -> None:
    """Refuse a state the schema would reject, with a message naming the valid ones."""
    if state not in ROTA_STATES:
        raise ValueError(f"rota state {state!r} is not one of {', '.join(ROTA_STATES)}")


def clear_week_for(session: Session, network_id: int, week: str, state: str) -> None:
    """Make room for a new rota: a draft replaces the draft, a publication supersedes."""
    same_week = (RotaRecord.network_id == network_id) & (RotaRecord.week == week)
    if state == "draft":
        session.execute(delete(RotaRecord).where(same_week & (RotaRecord.state == "draft")))
    elif state == "published":
        session.execute(
            update(RotaRecord)
            .where(same_week & (RotaRecord.state == "published"))
            .values(state="superseded")
        )
    session.flush()


def next_revision(session: Session, network_id: int, week: str) -> int:
    """A revision no rota of this week has had (0 for the first): a page shown before a
    new rota of the week is then recognised as stale."""
    statement = select(func.max(RotaRecord.revision)).where(
        RotaRecord.network_id == network_id, RotaRecord.week == week
    )
    highest = session.scalar(statement)
    return 0 if highest is None else highest + 1


def save_rota(
    session: Session,
    network_id: int,
    week: str,
    assignments: Iterable[Assignment],
    *,
    state: str = "draft",
    status: str,
    objective: float | None,
    bound: float | None,
    gap: float | None,
    seconds: float | None,
    summary: dict[str, Any],
    pinned: Iterable[Assignment] = frozenset(),
) -> int:
    """Store a rota for ``week`` and return its id.

    Saving a draft replaces any earlier draft of that week; saving a
    published rota marks the previously published one superseded.
    """
    check_state(state)
    week = normalise_week(week)
    revision = next_revision(session, network_id, week)
    clear_week_for(session, network_id, week, state)
    rota = RotaRecord(
        network_id=network_id,
        week=week,
        state=state,
        created_at=now(),
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=seconds,
        summary=summary,
        revision=revision,
    )
    session.add(rota)
    session.flush()
    pinned_set = frozenset(pinned)
    rows = [
        {
            "rota_id": rota.id,
            "staff_id": item.staff_id,
            "date": item.date,
            "session_id": item.session_id,
            "site_id": item.site_id,
            "pinned": item in pinned_set,
        }
        for item in assignments
    ]
    if rows:  # one executemany: a federation's week is thousands of rows
        session.execute(insert(AssignmentRecord), rows)
    return rota.id


def copied_header(rota: RotaRecord, state: str, revision: int) -> RotaRecord:
    """A new (unsaved) rota of the same week with ``rota``'s solve figures, made now."""
    return RotaRecord(
        network_id=rota.network_id,
        week=rota.week,
        state=state,
        created_at=now(),
        status=rota.status,
        objective=rota.objective,
        bound=rota.bound,
        gap=rota.gap,
        seconds=rota.seconds,
        summary=dict(rota.summary),
        revision=revision,
    )


def assignment_record(rota_id: int, item: Assignment, pinned: bool) -> AssignmentRecord:
    """One assignment row of rota ``rota_id``."""
    return AssignmentRecord(
        rota_id=rota_id,
        staff_id=item.staff_id,
        date=item.date,
        session_id=item.session_id,
        site_id=item.site_id,
        pinned=pinned,
    )


def find_rota(session: Session, network_id: int, week: str, state: str) -> RotaRecord | None:
    """The rota of that week in ``state`` ("latest" = newest in any state)."""
    if state != "latest":
        check_state(state)
    statement = select(RotaRecord).where(
        RotaRecord.network_id == network_id, RotaRecord.week == normalise_week(week)
    )
    if state != "latest":
        statement = statement.where(RotaRecord.state == state)
    return session.scalar(statement.order_by(RotaRecord.id.desc()).limit(1))


def rota_info(rota: RotaRecord, pinned: frozenset[Assignment] = frozenset()) -> RotaInfo:
    """The header of a stored rota."""
    return RotaInfo(
        id=rota.id,
        network_id=rota.network_id,
        week=rota.week,
        state=rota.state,
        created_at=utc(rota.created_at),
        status=rota.status,
        objective=rota.objective,
        bound=rota.bound,
        gap=rota.gap,
        seconds=rota.seconds,
        summary=rota.summary,
        pinned=pinned,
        revision=rota.revision,
        version=rota.version,
        published_at=None if rota.published_at is None else utc(rota.published_at),
        published_by=rota.published_by,
    )


def load_rota(
    session: Session, network_id: int, week: str, state: str = "draft"
) -> tuple[RotaInfo, list[Assignment]] | None:
    """A stored rota of ``week`` with its assignments in sorted order, or None."""
    rota = find_rota(session, network_id, week, state)
    if rota is None:
        return None
    records = session.scalars(select(AssignmentRecord).where(AssignmentRecord.rota_id == rota.id))
    pinned: set[Assignment] = set()
    assignments: list[Assignment] = []
    for record in records:
        item = Assignment(record.date, record.session_id, record.site_id, record.staff_id)
        assignments.append(item)
        if record.pinned:
            pinned.add(item)
    return rota_info(rota, frozenset(pinned)), sorted(assignments)


def list_rotas(session: Session, network_id: int) -> list[RotaInfo]:
    """Every rota of a network, newest week first (no assignments: a list view)."""
    statement = (
        select(RotaRecord)
        .where(RotaRecord.network_id == network_id)
        .order_by(RotaRecord.week.desc(), RotaRecord.id.desc())
    )
    return [rota_info(rota) for rota in session.scalars(statement)]


def week_rotas(session: Session, network_id: int, week: str) -> list[RotaInfo]:
    """Every rota of one week, newest first: the draft, the published one and their history."""
    statement = (
        select(RotaRecord)
        .where(RotaRecord.network_id == network_id, RotaRecord.week == normalise_week(week))
        .order_by(RotaRecord.id.desc())
    )
    return [rota_info(rota) for rota in session.scalars(statement)]


def published_assignments(
    session: Session, network_id: int, first: dt.date, last: dt.date
) -> list[Assignment]:
    """Every session of the network's current publications dated ``first`` to ``last``.

    Only what is published counts for reports and invoices: drafts and
    superseded versions never do.
    """
    statement = (
        select(AssignmentRecord)
        .join(RotaRecord, AssignmentRecord.rota_id == RotaRecord.id)
        .where(
            RotaRecord.network_id == network_id,
            RotaRecord.state == "published",
            AssignmentRecord.date >= first,
            AssignmentRecord.date <= last,
        )
    )
    return sorted(
        Assignment(r.date, r.session_id, r.site_id, r.staff_id) for r in session.scalars(statement)
    )


def count_assignments(session: Session, rota_id: int) -> int:
    """How many assignments a rota has, without loading them."""
    statement = select(func.count()).where(AssignmentRecord.rota_id == rota_id)
    return session.scalar(statement) or 0
