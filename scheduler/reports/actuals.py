"""What was worked: the published rotas' sessions merged with the timesheets.

A session is *planned* when the current publication of its week holds it, and
*recorded* when a timesheet row (``TimesheetRecord``) says what happened:
worked as planned, not worked, worked at different times, or worked although
never planned.  A row counts as an *actual* once a coordinator confirmed it;
until then the plan stands (a clinician's flag changes no figure, it asks a
coordinator to look).  Reports read ``Entry.seconds``: the confirmed actual's
real time where there is one, the planned session's otherwise, clock changes
included (``session_bounds``, the rule of every other figure).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.checks.rota_facts import session_bounds
from scheduler.domain import Assignment, Bundle, SessionKind
from scheduler.storage.clock import utc
from scheduler.storage.models.pool import TimesheetRecord
from scheduler.storage.rotas import published_assignments

Key = tuple[str, dt.date, str]  # staff_id, date, session_id: one person's session of a day

OUTCOME_WORDS = {
    "worked": "worked",
    "not_worked": "not worked",
    "changed": "different times",
}


@dataclass(frozen=True)
class Recorded:
    """One timesheet row as read from the database (plain values, no ORM object)."""

    staff_id: str
    date: dt.date
    session_id: str
    site_id: str
    outcome: str
    start: str | None
    end: str | None
    note: str | None
    confirmed_by: str | None
    confirmed_at: dt.datetime | None
    flagged_at: dt.datetime | None
    flag_note: str | None

    @property
    def key(self) -> Key:
        return (self.staff_id, self.date, self.session_id)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    def facts(self) -> dict[str, object]:
        """What the audit log keeps of it (no free text: a note may say why someone was away)."""
        return {
            "site": self.site_id,
            "outcome": self.outcome,
            "start": self.start,
            "end": self.end,
            "confirmed": self.confirmed,
            "flagged": self.flagged_at is not None,
        }


def recorded(row: TimesheetRecord) -> Recorded:
    return Recorded(
        row.staff_id,
        row.date,
        row.session_id,
        row.site_id,
        row.outcome,
        row.start,
        row.end,
        row.note,
        row.confirmed_by,
        None if row.confirmed_at is None else utc(row.confirmed_at),
        None if row.flagged_at is None else utc(row.flagged_at),
        row.flag_note,
    )


@dataclass(frozen=True)
class Entry:
    """One person's session of one day: planned, recorded, or both."""

    date: dt.date
    session_id: str
    site_id: str  # the recorded site when there is a row, else the planned one
    staff_id: str
    planned: bool
    record: Recorded | None
    seconds: int  # counted time: the confirmed actual's, else the plan's; 0 when not worked
    extended: bool  # an enhanced-access (``extended``) session
    start: str  # the clock times counted, 'HH:MM'
    end: str

    @property
    def key(self) -> Key:
        return (self.staff_id, self.date, self.session_id)

    @property
    def confirmed(self) -> bool:
        return self.record is not None and self.record.confirmed

    @property
    def flagged(self) -> bool:
        return self.record is not None and self.record.flagged_at is not None

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5

    @property
    def status(self) -> str:
        """``confirmed`` or ``planned``: where the counted figure comes from."""
        return "confirmed" if self.confirmed else "planned"

    @property
    def outcome_text(self) -> str:
        """How a page names what happened: worked, not worked, 13:30-17:00, or not confirmed."""
        if self.record is None or not self.record.confirmed:
            return "not confirmed"
        if self.record.outcome == "changed":
            return f"worked {self.start}-{self.end}"
        words = OUTCOME_WORDS[self.record.outcome]
        return words if self.planned else f"{words} (not planned)"

    @property
    def assignment(self) -> Assignment:
        return Assignment(self.date, self.session_id, self.site_id, self.staff_id)


def _clock(text: str, day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(text), tzinfo=zone).astimezone(dt.UTC)


def _entry(
    bundle: Bundle, key: Key, planned_site: str | None, row: Recorded | None
) -> Entry | None:
    """The entry of one key, or None when its session is no longer in session_types.csv."""
    staff_id, day, session_id = key
    kind = next((s for s in bundle.session_types if s.session_id == session_id), None)
    if kind is None:
        return None
    zone = ZoneInfo(bundle.timezone)
    first, last = session_bounds(kind, day, zone)
    start, end = f"{kind.start:%H:%M}", f"{kind.end:%H:%M}"
    counted = row if row is not None and row.confirmed else None
    if counted is not None and counted.outcome == "changed" and counted.start and counted.end:
        start, end = counted.start, counted.end
        first, last = _clock(start, day, zone), _clock(end, day, zone)
    seconds = int((last - first).total_seconds())
    if counted is not None and counted.outcome == "not_worked":
        seconds = 0
    if counted is None and planned_site is None:
        seconds = 0  # an unplanned session counts once confirmed
    site = row.site_id if row is not None else planned_site or ""
    extended = kind.kind is SessionKind.EXTENDED
    return Entry(day, session_id, site, staff_id, planned_site is not None, row, seconds,
                 extended, start, end)  # fmt: skip


def load_records(
    session: Session,
    network_id: int,
    first: dt.date,
    last: dt.date,
    staff_id: str | None = None,
) -> dict[Key, Recorded]:
    """The timesheet rows dated ``first`` to ``last`` (of one person when ``staff_id``)."""
    statement = select(TimesheetRecord).where(
        TimesheetRecord.network_id == network_id,
        TimesheetRecord.date >= first,
        TimesheetRecord.date <= last,
    )
    if staff_id is not None:
        statement = statement.where(TimesheetRecord.staff_id == staff_id)
    return {r.key: r for r in map(recorded, session.scalars(statement))}


def merge(
    bundle: Bundle, planned: Iterable[Assignment], records: dict[Key, Recorded]
) -> list[Entry]:
    """Planned sessions and timesheet rows as one list of entries, by date, session, person."""
    sites: dict[Key, str | None] = {(a.staff_id, a.date, a.session_id): a.site_id for a in planned}
    for key in records:
        sites.setdefault(key, None)
    found = (_entry(bundle, key, site, records.get(key)) for key, site in sites.items())
    entries = [e for e in found if e is not None]
    return sorted(entries, key=lambda e: (e.date, e.session_id, e.site_id, e.staff_id))


def load_entries(
    session: Session,
    network_id: int,
    bundle: Bundle,
    first: dt.date,
    last: dt.date,
    *,
    staff_id: str | None = None,
) -> list[Entry]:
    """Every entry of the period from the current publications and the timesheets."""
    planned = published_assignments(session, network_id, first, last)
    if staff_id is not None:
        planned = [a for a in planned if a.staff_id == staff_id]
    return merge(bundle, planned, load_records(session, network_id, first, last, staff_id))


def gone_keys(
    session: Session, network_id: int, bundle: Bundle, first: dt.date, last: dt.date
) -> list[Key]:
    """Published sessions and timesheet rows of the period whose session type or person is
    no longer in the network: no figure can count them, and a report says how many."""
    kinds = {s.session_id for s in bundle.session_types}
    people = {p.staff_id for p in bundle.staff}
    keys = {(a.staff_id, a.date, a.session_id) for a in published_assignments(
        session, network_id, first, last)}  # fmt: skip
    keys |= set(load_records(session, network_id, first, last))
    return sorted(k for k in keys if k[2] not in kinds or k[0] not in people)


@dataclass(frozen=True)
class Counted:
    """The sessions a figure is made of: what they count, and how many are confirmed."""

    assignments: tuple[Assignment, ...]
    seconds: dict[Assignment, int]
    confirmed: int
    planned: int  # counted as planned: no confirmed timesheet yet


def counted(entries: Sequence[Entry]) -> Counted:
    """The worked sessions of ``entries`` (not-worked and unconfirmed unplanned ones drop out)."""
    worked = [e for e in entries if e.seconds > 0]
    confirmed = sum(1 for e in entries if e.confirmed)
    unconfirmed = sum(1 for e in entries if e.planned and not e.confirmed)
    return Counted(
        tuple(e.assignment for e in worked),
        {e.assignment: e.seconds for e in worked},
        confirmed,
        unconfirmed,
    )
