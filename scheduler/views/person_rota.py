"""One person's rota over a few weeks: their sessions, and hours against their contract.

What a clinician opens on their phone.  Only published rotas count as "your
sessions": a draft can still change, so it is shown (labelled) to managers
and coordinators only.  Hours are real hours between the session's start
and end in the network's time zone, as the validator counts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.domain import Assignment, Bundle, Leave, Staff, iso_week_label, parse_iso_week
from scheduler.horizon import duties, session_instants
from scheduler.storage.repository import approved_leave
from scheduler.storage.rotas import load_rota

WEEKS_SHOWN = 4  # this week and the next three: far enough to plan a life around
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class PersonSession:
    """One session the person works, with where and how long."""

    date: dt.date
    session_id: str
    label: str
    start: dt.time
    end: dt.time
    site_id: str
    site_name: str
    hours: float
    away: bool  # at a site other than the person's home site
    starts_at: dt.datetime  # real instants (UTC), for duties
    ends_at: dt.datetime

    @property
    def overnight(self) -> bool:
        """Ends on the next date (an out-of-hours night)."""
        return self.end <= self.start


@dataclass(frozen=True)
class Duty:
    """Sessions less than the daily rest apart, worked as one stretch (format v2, rule 5)."""

    start: dt.datetime  # local time
    end: dt.datetime
    sessions: int

    @property
    def hours(self) -> float:
        return round((self.end - self.start).total_seconds() / SECONDS_PER_HOUR, 2)


@dataclass(frozen=True)
class PersonWeek:
    """The person's sessions in one ISO week of one rota (published or draft)."""

    week: str
    state: str  # "published" or "draft"
    found: bool  # False: the week has no rota in this state yet
    sessions: tuple[PersonSession, ...]
    contract_hours: float
    leave_days: int  # dates of the week with any leave of theirs
    duties: tuple[Duty, ...] = ()

    @property
    def hours(self) -> float:
        return round(sum(s.hours for s in self.sessions), 2)

    @property
    def difference(self) -> float:
        """Planned hours minus contract hours (negative: under contract)."""
        return round(self.hours - self.contract_hours, 2)


def current_week(timezone: str, today: dt.date | None = None) -> str:
    """The ISO week it is now where the network is."""
    return iso_week_label(today or dt.datetime.now(ZoneInfo(timezone)).date())


def shift_week(week: str, weeks: int) -> str:
    """The ISO week ``weeks`` after ``week`` (before it when negative)."""
    return iso_week_label(parse_iso_week(week)[0] + dt.timedelta(weeks=weeks))


def following_weeks(first_week: str, count: int = WEEKS_SHOWN) -> tuple[str, ...]:
    """``count`` consecutive ISO week labels from ``first_week``."""
    return tuple(shift_week(first_week, i) for i in range(count))


def person_session(bundle: Bundle, person: Staff, item: Assignment) -> PersonSession:
    """An assignment as the person reads it: which session, where, how many hours."""
    session_type = bundle.session_type(item.session_id)
    start, end = session_instants(session_type, item.date, ZoneInfo(bundle.timezone))
    return PersonSession(
        date=item.date,
        session_id=item.session_id,
        label=session_type.label,
        start=session_type.start,
        end=session_type.end,
        site_id=item.site_id,
        site_name=bundle.site(item.site_id).name,
        hours=round((end - start).total_seconds() / SECONDS_PER_HOUR, 2),
        away=item.site_id != person.home_site,
        starts_at=start,
        ends_at=end,
    )


def duties_of(bundle: Bundle, sessions: Sequence[PersonSession]) -> tuple[Duty, ...]:
    """The person's duties among these sessions, in local time."""
    zone = ZoneInfo(bundle.timezone)
    rest = dt.timedelta(hours=bundle.rules.min_rest_hours)
    spans = [(s.starts_at, s.ends_at) for s in sessions]
    return tuple(
        Duty(
            first.astimezone(zone),
            last.astimezone(zone),
            sum(1 for s in sessions if first <= s.starts_at < last),
        )
        for first, last in duties(spans, rest)
    )


def leave_days(leave: Iterable[Leave], staff_id: str, days: Sequence[dt.date]) -> int:
    """How many of ``days`` the person has any leave on (leave.csv or approved requests)."""
    mine = [lv for lv in leave if lv.staff_id == staff_id]
    return sum(1 for day in days if any(lv.covers(day) for lv in mine))


def person_week(
    session: Session,
    network_id: int,
    week: str,
    state: str,
    *,
    bundle: Bundle,
    person: Staff,
    leave: Sequence[Leave],
) -> PersonWeek:
    """The person's part of one week's rota in ``state``."""
    stored = load_rota(session, network_id, week, state)
    assignments = stored[1] if stored is not None else []
    sessions = tuple(
        person_session(bundle, person, a) for a in assignments if a.staff_id == person.staff_id
    )
    return PersonWeek(
        week=week,
        state=state,
        found=stored is not None,
        sessions=sessions,
        contract_hours=person.contract_hours,
        leave_days=leave_days(leave, person.staff_id, parse_iso_week(week)),
        duties=duties_of(bundle, sessions),
    )


def person_weeks(
    session: Session,
    network_id: int,
    bundle: Bundle,
    person: Staff,
    first_week: str,
    *,
    include_draft: bool,
    count: int = WEEKS_SHOWN,
) -> list[PersonWeek]:
    """Published weeks from ``first_week``; each followed by its draft when asked for."""
    # A bundle from bundle_with_leave or current_bundle holds approved leave already: keep one.
    leave = tuple(dict.fromkeys((*bundle.leave, *approved_leave(session, network_id))))
    states = ("published", "draft") if include_draft else ("published",)
    return [
        person_week(session, network_id, week, state, bundle=bundle, person=person, leave=leave)
        for week in following_weeks(first_week, count)
        for state in states
    ]
