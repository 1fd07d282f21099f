"""A rota indexed for the validator's rules, and the small helpers the rules share.

``Rota`` answers the questions every rule asks (a person's sessions, a
session's real start and end, the rows in force) once; the rules in
``hard_rules`` and ``horizon_rules`` only compare."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cached_property
from zoneinfo import ZoneInfo

from scheduler.domain import (
    DAY_NAMES,
    Assignment,
    Bundle,
    DemandRow,
    Leave,
    SessionType,
    Site,
    Staff,
    iso_week_label,
)
from scheduler.horizon import bank_holidays

TRAVEL_KMH = 30.0
TRAVEL_ROUND_MINUTES = 5
EARTH_RADIUS_KM = 6371.0
WORKDAYS_PER_WEEK = 5
DAYS_PER_WEEK = 7
SECONDS_PER_HOUR = 3600
UTC = dt.UTC

Finding = tuple[str, tuple[Assignment, ...]]


# -- time and distance -----------------------------------------------------------


def session_bounds(
    session: SessionType, day: dt.date, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """Real start and end in UTC, so that subtracting them counts hours actually worked."""
    end_day = day + dt.timedelta(days=1) if session.end <= session.start else day
    start = dt.datetime.combine(day, session.start, tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(end_day, session.end, tzinfo=zone).astimezone(UTC)
    return start, end


def straight_line_minutes(a: Site, b: Site) -> int:
    """Travel estimated from coordinates at 30 km/h, rounded up to 5 minutes; 0 without them."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return 0
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (a.lat, a.lon, b.lat, b.lon))
    half = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(half))
    slots = math.ceil(km / TRAVEL_KMH * 60 / TRAVEL_ROUND_MINUTES - 1e-9)
    return int(slots * TRAVEL_ROUND_MINUTES)


def fits_row(row: DemandRow, person: Staff) -> bool:
    """Whether a person's role and skills meet a demand row (blank = anything)."""
    role_ok = row.role is None or row.role == person.role
    return role_ok and (row.skill is None or row.skill in person.skills)


# -- words -------------------------------------------------------------------------


def day_text(day: dt.date) -> str:
    """A date as a manager reads it: ``Tue 2026-12-01``."""
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


def seconds_as_hours(seconds: float) -> str:
    """Hours without needless decimals: 4, 4.5, 4.17."""
    return f"{seconds / SECONDS_PER_HOUR:.2f}".rstrip("0").rstrip(".")


def count_text(n: int, noun: str) -> str:
    """A count with its noun in the right number: 1 room, 2 rooms."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def limit_text(value: float) -> str:
    """A configured limit without a trailing ``.0``."""
    return f"{value:g}"


# -- the rota in context -------------------------------------------------------------


class Rota:
    """The bundle, the dates and the assignments, with the look-ups every rule needs."""

    def __init__(self, bundle: Bundle, dates: Sequence[dt.date], rota: Iterable[Assignment]):
        self.bundle = bundle
        self.dates = tuple(sorted(set(dates)))
        self.assignments = tuple(sorted(set(rota)))
        self.zone = ZoneInfo(bundle.timezone)
        self.staff = {p.staff_id: p for p in bundle.staff}
        self.sites = {s.site_id: s for s in bundle.sites}
        self.sessions = {s.session_id: s for s in bundle.session_types}

    def ref(self, logical_file: str, row: int) -> str:
        """Where a record came from, e.g. ``leave.csv:2``."""
        return f"{self.bundle.label(logical_file)}:{row}"

    def who(self, staff_id: str) -> str:
        """A person as ``S0005 Ben Nolan``."""
        person = self.staff.get(staff_id)
        return f"{staff_id} {person.name}" if person else staff_id

    def slot(self, a: Assignment) -> str:
        """An assignment without the person: ``AM at P01 on Tue 2026-12-01``."""
        return f"{a.session_id} at {a.site_id} on {day_text(a.date)}"

    def bounds(self, a: Assignment) -> tuple[dt.datetime, dt.datetime] | None:
        """Real start and end of an assignment, or None when its session is unknown.

        Worked out once per session and date: every rule about time asks it.
        """
        key = (a.session_id, a.date)
        if key not in self._bounds:
            session = self.sessions.get(a.session_id)
            self._bounds[key] = session_bounds(session, a.date, self.zone) if session else None
        return self._bounds[key]

    @cached_property
    def _bounds(self) -> dict[tuple[str, dt.date], tuple[dt.datetime, dt.datetime] | None]:
        return {}

    def seconds(self, a: Assignment) -> int:
        """Seconds actually worked in an assignment (clock changes included)."""
        span = self.bounds(a)
        return int((span[1] - span[0]).total_seconds()) if span else 0

    @cached_property
    def by_person(self) -> dict[str, list[Assignment]]:
        """Each known person's assignments in date order."""
        out: dict[str, list[Assignment]] = defaultdict(list)
        for a in self.assignments:
            if a.staff_id in self.staff:
                out[a.staff_id].append(a)
        return dict(out)

    @cached_property
    def bank_holidays(self) -> frozenset[dt.date]:
        """Bank holidays (England and Wales, as published) in every year the rota touches."""
        years = {d.year for d in self.dates} | {a.date.year for a in self.assignments}
        return frozenset(bank_holidays(years))

    @cached_property
    def demand_by_slot(self) -> dict[tuple[str, str], list[DemandRow]]:
        """Demand rows per (site, session), so each look-up scans only its own rows."""
        out: dict[tuple[str, str], list[DemandRow]] = defaultdict(list)
        for row in self.bundle.demand:
            out[(row.site_id, row.session_id)].append(row)
        return dict(out)

    def rows_in_force(self, site_id: str, day: dt.date, session_id: str) -> list[DemandRow]:
        """Rows for a slot: date rows replace same-key weekday rows; holidays close weekdays.

        Worked out once per slot: coverage and eligibility both ask for every assignment.
        """
        key = (site_id, day, session_id)
        if key not in self._rows_in_force:
            self._rows_in_force[key] = self._rows_for(site_id, day, session_id)
        return self._rows_in_force[key]

    @cached_property
    def _rows_in_force(self) -> dict[tuple[str, dt.date, str], list[DemandRow]]:
        return {}

    def _rows_for(self, site_id: str, day: dt.date, session_id: str) -> list[DemandRow]:
        rows = self.demand_by_slot.get((site_id, session_id), [])
        dated = [r for r in rows if r.day.date == day]
        replaced = {r.key for r in dated}
        closed = day in self.bank_holidays and self.bundle.closed_on_bank_holidays(site_id)
        weekly = [
            r
            for r in rows
            if r.day.date is None and r.day.matches(day) and r.key not in replaced and not closed
        ]
        return sorted((r for r in weekly + dated if not r.closes), key=lambda r: r.row)

    @cached_property
    def travel_table(self) -> dict[tuple[str, str], int]:
        """travel.csv minutes, mirrored unless the other direction is given too."""
        table = {(t.to_site, t.from_site): t.minutes for t in self.bundle.travel}
        table.update({(t.from_site, t.to_site): t.minutes for t in self.bundle.travel})
        return table

    def travel(self, a: str, b: str) -> int:
        """Minutes from site a to site b: travel.csv, else coordinates, else 0."""
        if a == b:
            return 0
        if (a, b) in self.travel_table:
            return self.travel_table[(a, b)]
        if a in self.sites and b in self.sites:
            return straight_line_minutes(self.sites[a], self.sites[b])
        return 0

    @cached_property
    def weeks(self) -> dict[str, tuple[dt.date, ...]]:
        """The given dates grouped by ISO week."""
        out: dict[str, list[dt.date]] = defaultdict(list)
        for day in self.dates:
            out[iso_week_label(day)].append(day)
        return {label: tuple(days) for label, days in out.items()}

    def week_of(self, staff_id: str, days: Sequence[dt.date]) -> list[Assignment]:
        """A person's assignments on the given days."""
        return [a for a in self.by_person.get(staff_id, ()) if a.date in days]

    def leave_of(self, staff_id: str) -> list[Leave]:
        """A person's leave rows in file order."""
        return [lv for lv in self.bundle.leave if lv.staff_id == staff_id]
