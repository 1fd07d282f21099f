"""Absences and demand changes as stored, and the bundle they make.

``current_bundle`` is the network's bundle as plans and checks use it: as
imported, with approved leave, current absences (as leave rows named
``absences:N``) and current demand changes (as dated demand rows named
``demand changes:N``) and clinicians' availability answers (as dated
preference rows named ``availability:N``: "cannot" is ``unavailable``,
"prefer" is ``prefer``).  ``bundle_with_leave`` (``repository``) is the
same without the events.  Recording and withdrawing events is
``scheduler.usecases.events``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import (
    ABSENCES,
    AVAILABILITY,
    CHANGE_ROW_BASE,
    DAY_NAMES,
    DEMAND_CHANGES,
    Bundle,
    DayRule,
    DemandRow,
    Leave,
    LeaveKind,
    Preference,
    PreferenceKind,
)
from scheduler.horizon import applicable_rows, bank_holidays
from scheduler.storage import repository
from scheduler.storage.clock import utc
from scheduler.storage.models.app import AbsenceRecord, DemandChangeRecord
from scheduler.storage.models.pool import AvailabilityRecord


@dataclass(frozen=True)
class Absence:
    """An absence as pages show it; ``kind`` and ``reason`` are for staff roles only."""

    id: int
    staff_id: str
    start: dt.date
    end: dt.date
    session_id: str | None
    kind: str
    reason: str | None
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn: bool

    @property
    def dates(self) -> tuple[dt.date, ...]:
        days = (self.end - self.start).days + 1
        return tuple(self.start + dt.timedelta(days=i) for i in range(days))

    @property
    def when(self) -> str:
        """``Tue 2026-12-01 to Thu 2026-12-03``, with the session when it is one."""
        first = f"{DAY_NAMES[self.start.weekday()]} {self.start.isoformat()}"
        last = f"{DAY_NAMES[self.end.weekday()]} {self.end.isoformat()}"
        span = first if self.start == self.end else f"{first} to {last}"
        return span if self.session_id is None else f"{span} {self.session_id}"


@dataclass(frozen=True)
class DemandChange:
    """A changed need at one site on one date and session."""

    id: int
    site_id: str
    date: dt.date
    session_id: str
    kind: str  # "set" or "cancel"
    role: str | None
    skill: str | None
    min: int
    target: int
    note: str | None
    cover_request_id: int | None
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn: bool

    @property
    def summary(self) -> str:
        """``P03 Tue 2026-12-01 PM: GP needs 2 (target 2)`` or ``... cancelled``."""
        where = f"{self.site_id} {DAY_NAMES[self.date.weekday()]} {self.date} {self.session_id}"
        if self.kind == "cancel":
            return f"{where}: session cancelled"
        who = self.role or "anyone"
        who = who if self.skill is None else f"{who} with {self.skill}"
        return f"{where}: {who} needs {self.min} (target {self.target})"


# -- storing -------------------------------------------------------------------------


def absence_of(record: AbsenceRecord) -> Absence:
    return Absence(
        id=record.id,
        staff_id=record.staff_id,
        start=record.start_date,
        end=record.end_date,
        session_id=record.session_id,
        kind=record.kind,
        reason=record.reason,
        recorded_by=record.recorded_by,
        recorded_at=utc(record.recorded_at),
        withdrawn=record.withdrawn_at is not None,
    )


def demand_change_of(record: DemandChangeRecord) -> DemandChange:
    return DemandChange(
        id=record.id,
        site_id=record.site_id,
        date=record.date,
        session_id=record.session_id,
        kind=record.kind,
        role=record.role,
        skill=record.skill,
        min=record.min,
        target=record.target,
        note=record.note,
        cover_request_id=record.cover_request_id,
        recorded_by=record.recorded_by,
        recorded_at=utc(record.recorded_at),
        withdrawn=record.withdrawn_at is not None,
    )


def absences(
    session: Session,
    network_id: int,
    dates: Sequence[dt.date] | None = None,
    *,
    current_only: bool = False,
) -> list[Absence]:
    """A network's absences touching these dates (all when None), newest first."""
    statement = select(AbsenceRecord).where(AbsenceRecord.network_id == network_id)
    if dates:
        statement = statement.where(
            AbsenceRecord.start_date <= max(dates), AbsenceRecord.end_date >= min(dates)
        )
    if current_only:
        statement = statement.where(AbsenceRecord.withdrawn_at.is_(None))
    found = [absence_of(r) for r in session.scalars(statement.order_by(AbsenceRecord.id))]
    return sorted(found, key=lambda a: (a.withdrawn, -a.id))


def demand_changes(
    session: Session,
    network_id: int,
    dates: Sequence[dt.date] | None = None,
    *,
    current_only: bool = False,
) -> list[DemandChange]:
    """A network's demand changes on these dates (all when None), newest first."""
    statement = select(DemandChangeRecord).where(DemandChangeRecord.network_id == network_id)
    if dates:
        statement = statement.where(
            DemandChangeRecord.date >= min(dates), DemandChangeRecord.date <= max(dates)
        )
    if current_only:
        statement = statement.where(DemandChangeRecord.withdrawn_at.is_(None))
    records = session.scalars(statement.order_by(DemandChangeRecord.id))
    found = [demand_change_of(r) for r in records]
    return sorted(found, key=lambda c: (c.withdrawn, -c.id))


# -- into the bundle -----------------------------------------------------------------


def current_bundle(session: Session, network_id: int) -> Bundle:
    """The network's bundle as plans and checks use it: as imported, with approved leave,
    current absences (as leave), current demand changes (as dated demand rows) and the
    clinicians' availability answers (as dated preference rows)."""
    bundle = with_events(
        repository.bundle_with_leave(session, network_id),
        absences(session, network_id, current_only=True),
        demand_changes(session, network_id, current_only=True),
    )
    return with_availability(session, network_id, bundle)


def with_availability(
    session: Session, network_id: int, bundle: Bundle, dates: Sequence[dt.date] | None = None
) -> Bundle:
    """The bundle with the availability answers on these dates (all when None) as dated
    preference rows (``availability_preferences``)."""
    statement = select(AvailabilityRecord).where(AvailabilityRecord.network_id == network_id)
    if dates:
        statement = statement.where(AvailabilityRecord.date.between(min(dates), max(dates)))
    answers = availability_preferences(
        bundle, session.scalars(statement.order_by(AvailabilityRecord.id))
    )
    if not answers:
        return bundle
    return dataclasses.replace(bundle, preferences=bundle.preferences + answers)


AVAILABILITY_KINDS = {"cannot": PreferenceKind.UNAVAILABLE, "prefer": PreferenceKind.PREFER}


def availability_preferences(
    bundle: Bundle, records: Iterable[AvailabilityRecord]
) -> tuple[Preference, ...]:
    """Availability answers as dated preference rows of weight 1, named ``availability:N``.

    "cannot" is the hard ``unavailable`` of preferences.csv; "prefer" its soft
    ``prefer``. Answers about people or sessions no longer in the bundle are left out.
    """
    staff = {p.staff_id for p in bundle.staff}
    sessions = {s.session_id for s in bundle.session_types}
    return tuple(
        Preference(
            staff_id=r.staff_id,
            day=DayRule(date=r.date),
            session_id=r.session_id or None,
            site_id=None,
            preference=AVAILABILITY_KINDS[r.kind],
            row=r.id,
            source=AVAILABILITY,
        )
        for r in records
        if r.staff_id in staff and (not r.session_id or r.session_id in sessions)
    )


def absence_leave(found: Iterable[Absence]) -> tuple[Leave, ...]:
    """Current absences as leave rows, named ``absences:N`` in every message."""
    return tuple(
        Leave(
            staff_id=a.staff_id,
            start=a.start,
            end=a.end,
            kind=LeaveKind(a.kind),
            session_id=a.session_id,
            row=a.id,
            source=ABSENCES,
        )
        for a in sorted(found, key=lambda a: a.id)
        if not a.withdrawn
    )


def _change_rows(bundle: Bundle, change: DemandChange) -> list[DemandRow]:
    """The dated demand rows a change stands for."""
    row_number = CHANGE_ROW_BASE + change.id
    day = DayRule(date=change.date)
    if change.kind == "set":
        return [
            DemandRow(
                change.site_id,
                day,
                change.session_id,
                change.role,
                change.skill,
                change.min,
                change.target,
                row=row_number,
                source=DEMAND_CHANGES,
            )
        ]
    # Asked of the holidays alone: a Horizon of the date would time its sessions, which
    # overflows for an overnight one on the calendar's last day (a typo for a year).
    closed = change.date in bank_holidays([change.date.year]) and bundle.closed_on_bank_holidays(
        change.site_id
    )
    in_force = [
        r
        for r in applicable_rows(bundle.demand, change.date, closed)
        if (r.site_id, r.session_id) == (change.site_id, change.session_id)
    ]
    # Cancelled: every row of the session is closed that date (nobody may be assigned).
    return [
        dataclasses.replace(
            r, day=day, min=0, target=0, row=row_number, source=DEMAND_CHANGES, closes=True
        )
        for r in in_force
    ]


def with_events(
    bundle: Bundle, found_absences: Iterable[Absence], found_changes: Iterable[DemandChange]
) -> Bundle:
    """The bundle as it stands after these events: absences as leave, changes as dated rows.

    Changes apply oldest first; a later change replaces an earlier one (and
    any dated row of the bundle) with the same site, date, session, role and skill.
    """
    demand = list(bundle.demand)
    for change in sorted((c for c in found_changes if not c.withdrawn), key=lambda c: c.id):
        rows = _change_rows(bundle, change)
        keys = {(r.day.date, r.key) for r in rows}
        if change.kind == "cancel":  # also every dated row of the session
            keys |= {
                (r.day.date, r.key)
                for r in demand
                if r.day.date == change.date
                and (r.site_id, r.session_id) == (change.site_id, change.session_id)
            }
        demand = [r for r in demand if (r.day.date, r.key) not in keys] + rows
    return dataclasses.replace(
        bundle, demand=tuple(demand), leave=bundle.leave + absence_leave(found_absences)
    )


def event_dates(
    found_absences: Iterable[Absence], found_changes: Iterable[DemandChange]
) -> set[dt.date]:
    """Every date a current event touches."""
    days: set[dt.date] = set()
    for a in found_absences:
        if not a.withdrawn:
            days.update(a.dates)
    days.update(c.date for c in found_changes if not c.withdrawn)
    return days
