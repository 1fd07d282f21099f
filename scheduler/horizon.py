"""A bundle laid out over the dates being planned: shifts, needs, leave and travel.

The bundle speaks in weekdays and recurring rows; the solver needs concrete
sessions on concrete dates with real instants (clock changes included) and
one need per demand row and date.  This module does that expansion once.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from scheduler.domain import (
    WEEKEND,
    Bundle,
    DemandRow,
    Leave,
    Preference,
    PreferenceKind,
    SessionKind,
    SessionType,
    Staff,
)

TRAVEL_KMH = 30.0
TRAVEL_ROUND_MINUTES = 5


@dataclass(frozen=True)
class Shift:
    """One session type on one date, with its real start and end instants."""

    date: dt.date
    session: SessionType
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @cached_property
    def minutes(self) -> int:
        """Its length (worked out once: every person's model of a year asks for each)."""
        return round((self.end - self.start).total_seconds() / 60)

    @property
    def is_evening(self) -> bool:
        return self.session.kind is SessionKind.EXTENDED and self.date.weekday() not in WEEKEND

    @property
    def is_weekend(self) -> bool:
        return self.date.weekday() in WEEKEND


@dataclass(frozen=True)
class Need:
    """A demand row applied to one date."""

    index: int
    demand: DemandRow
    date: dt.date

    @property
    def site_id(self) -> str:
        return self.demand.site_id

    @property
    def session_id(self) -> str:
        return self.demand.session_id

    def admits(self, person: Staff) -> bool:
        """Whether this person's role and skills fit the row (site rights checked apart)."""
        row = self.demand
        role_ok = row.role is None or row.role == person.role
        return role_ok and (row.skill is None or row.skill in person.skills)


def session_instants(
    session: SessionType, day: dt.date, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """Real start and end (in UTC) of a session on a date given in the network's wall-clock time.

    Aware datetimes sharing a zone subtract as wall-clock times in Python, so
    both ends are converted to UTC: a session across a clock change then
    lasts the hours really worked.
    """
    end_day = day + dt.timedelta(days=1) if session.overnight else day
    start = dt.datetime.combine(day, session.start, tzinfo=zone)
    end = dt.datetime.combine(end_day, session.end, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def haversine_minutes(a: tuple[float, float], b: tuple[float, float]) -> int:
    """Straight-line travel at 30 km/h, rounded up to 5 minutes."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * 6371.0 * math.asin(math.sqrt(h))
    minutes = km / TRAVEL_KMH * 60
    return int(math.ceil(minutes / TRAVEL_ROUND_MINUTES - 1e-9) * TRAVEL_ROUND_MINUTES)


@dataclass(frozen=True)
class BankHolidaySites:
    """A bank holiday of the plan: which sites close (their weekday needs stop) and which open."""

    date: dt.date
    name: str
    closed: tuple[str, ...]
    open: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(),
            "name": self.name,
            "closed": list(self.closed),
            "open": list(self.open),
        }

    def text(self) -> str:
        """``Fri 2026-12-25 Christmas Day: closed P01, P02; open MIU``."""
        parts = [
            f"{word} {', '.join(ids)}"
            for word, ids in (("closed", self.closed), ("open", self.open))
            if ids
        ]
        said = "; ".join(parts)
        return f"{self.date:%a %Y-%m-%d} {self.name}: {said}"


def bank_holidays(years: Iterable[int]) -> dict[dt.date, str]:
    """England and Wales bank holidays in these years, with their names, as published.

    Worked out once per set of years (every check of a rota asks, and the
    ``holidays`` package builds a calendar each time); a copy is returned.
    """
    return dict(_bank_holidays(frozenset(years)))


@functools.lru_cache(maxsize=32)
def _bank_holidays(years: frozenset[int]) -> tuple[tuple[dt.date, str], ...]:
    """The bank holidays of ``bank_holidays``, remembered.

    When Christmas Day, Boxing Day or New Year's Day falls on a weekend, the bank holiday
    is the substitute weekday: the ``holidays`` package lists the weekend date as well
    (Saturday 26 December 2026), which is an ordinary Saturday. A bank holiday is always
    a weekday, so the weekend dates are left out.
    """
    # The country's own class: ``country_holidays`` first imports every country the package
    # knows, a fifth of a second of every command's start.
    england = holidays.UnitedKingdom(subdiv="ENG", years=sorted(years))
    return tuple(
        (day, str(name).removesuffix(" (observed)"))
        for day, name in sorted(england.items())
        if day.weekday() not in WEEKEND
    )


Span = tuple[dt.datetime, dt.datetime]  # a session's real start and end


def duties(spans: Iterable[Span], rest: dt.timedelta) -> list[Span]:
    """Sessions grouped into duties, as (first start, last end) in order: sessions less than
    ``rest`` apart (the end of one to the start of the next) are one duty (format v2, rule 5)."""
    found: list[Span] = []
    for start, end in sorted(spans):
        if found and start - found[-1][1] < rest:
            found[-1] = (found[-1][0], max(found[-1][1], end))
        else:
            found.append((start, end))
    return found


def bank_holiday_sites(bundle: Bundle, dates: Iterable[dt.date]) -> list[BankHolidaySites]:
    """Each bank holiday among ``dates``, with the sites closed and open on it (a page asks
    this without building a whole Horizon)."""
    dates = sorted(set(dates))
    names = bank_holidays(d.year for d in dates)
    closed = {s.site_id for s in bundle.sites if bundle.closed_on_bank_holidays(s.site_id)}
    every = [s.site_id for s in bundle.sites]
    return [
        BankHolidaySites(
            day,
            names[day],
            tuple(s for s in every if s in closed),
            tuple(s for s in every if s not in closed),
        )
        for day in dates
        if day in names
    ]


def applicable_rows(rows: Iterable[DemandRow], day: dt.date, bank_holiday: bool) -> list[DemandRow]:
    """Demand rows in force on a date: date rows replace weekday rows with the same key."""
    rows = list(rows)
    dated = [r for r in rows if r.day.date == day]
    replaced = {r.key for r in dated}
    weekly = [
        r
        for r in rows
        if r.day.date is None and r.day.matches(day) and r.key not in replaced and not bank_holiday
    ]
    return sorted((r for r in weekly + dated if not r.closes), key=lambda r: r.row)


def rows_by_date(rows: Iterable[DemandRow]) -> dict[dt.date | None, list[DemandRow]]:
    """Dated rows under their date, weekday rows under None: a long horizon looks up each date."""
    out: dict[dt.date | None, list[DemandRow]] = {}
    for row in rows:
        out.setdefault(row.day.date, []).append(row)
    return out


class Horizon:
    """The bundle over a run of consecutive dates: one ISO week, or several (``--weeks N``)."""

    def __init__(self, bundle: Bundle, dates: Sequence[dt.date]) -> None:
        self.bundle = bundle
        self.dates = tuple(dates)
        self.zone = ZoneInfo(bundle.timezone)
        self.staff = bundle.staff
        self.shifts = self._build_shifts()
        self.needs = self._build_needs()
        self._touched: dict[tuple[dt.date, str], list[dt.date]] = {}

    def for_part(self, bundle: Bundle, needs: tuple[Need, ...]) -> Horizon:
        """This horizon for a bundle of some of its people: its dates and shifts, these needs.

        The shifts are shared, not laid out again (a year of 32 sessions a day takes
        a fifth of a second, once per person when a rota is built person by person),
        so the part must keep the bundle's sessions and time zone.
        """
        if bundle.session_types != self.bundle.session_types or bundle.timezone != self.zone.key:
            raise ValueError("a part of a horizon keeps its sessions and time zone")
        part = Horizon.__new__(Horizon)
        part.bundle, part.dates, part.zone = bundle, self.dates, self.zone
        part.staff = bundle.staff
        part.shifts, part._touched = self.shifts, self._touched
        part.needs = needs
        return part

    def _build_shifts(self) -> dict[tuple[dt.date, str], Shift]:
        shifts = {}
        for day in self.dates:
            for session in self.bundle.session_types:
                if session.runs_on(day):
                    start, end = session_instants(session, day, self.zone)
                    shifts[(day, session.session_id)] = Shift(day, session, start, end)
        return shifts

    def earliest_start(self, day: dt.date) -> dt.datetime:
        """When the first session of a date starts (for quick checks of rest between days)."""
        return self._day_bounds[day][0]

    def latest_end(self, day: dt.date) -> dt.datetime:
        """When the last session of a date ends."""
        return self._day_bounds[day][1]

    @cached_property
    def _day_bounds(self) -> dict[dt.date, tuple[dt.datetime, dt.datetime]]:
        bounds: dict[dt.date, tuple[dt.datetime, dt.datetime]] = {}
        for (day, _), shift in self.shifts.items():
            first, last = bounds.get(day, (shift.start, shift.end))
            bounds[day] = (min(first, shift.start), max(last, shift.end))
        return bounds

    @cached_property
    def bank_holidays(self) -> frozenset[dt.date]:
        """The horizon's bank holidays (England and Wales, substitute days, never a weekend)."""
        return frozenset(d for d in bank_holidays(d.year for d in self.dates) if d in self.dates)

    def bank_holiday_sites(self) -> list[BankHolidaySites]:
        """Each bank holiday of the horizon, with the sites closed and open on it."""
        return bank_holiday_sites(self.bundle, self.dates)

    def dates_touched(self, shift: Shift) -> list[dt.date]:
        """The local dates with working moments of a session: its own, and the next for a
        night past midnight (weekly days off count these)."""
        slot = (shift.date, shift.session_id)
        if slot not in self._touched:
            last = (shift.end - dt.timedelta(microseconds=1)).astimezone(self.zone).date()
            days = (last - shift.date).days + 1
            self._touched[slot] = [shift.date + dt.timedelta(days=i) for i in range(days)]
        return self._touched[slot]

    def closed_sites(self, day: dt.date) -> frozenset[str]:
        """Sites whose weekday demand rows stop on this date (a bank holiday they close on)."""
        if day not in self.bank_holidays:
            return frozenset()
        return frozenset(
            s.site_id for s in self.bundle.sites if self.bundle.closed_on_bank_holidays(s.site_id)
        )

    def _build_needs(self) -> tuple[Need, ...]:
        needs: list[Need] = []
        by_date = rows_by_date(self.bundle.demand)
        weekly = by_date.get(None, [])
        for day in self.dates:
            closed = self.closed_sites(day)
            rows = weekly + by_date.get(day, [])
            open_rows = [r for r in rows if r.site_id not in closed]
            shut_rows = [r for r in rows if r.site_id in closed]
            in_force = applicable_rows(open_rows, day, False)
            in_force += applicable_rows(shut_rows, day, True)
            for row in sorted(in_force, key=lambda r: r.row):
                if (day, row.session_id) in self.shifts:
                    needs.append(Need(len(needs), row, day))
        return tuple(needs)

    # -- leave and availability ------------------------------------------------

    @cached_property
    def _leave_by_staff(self) -> dict[str, list[Leave]]:
        out: dict[str, list[Leave]] = {}
        for leave in self.bundle.leave:
            out.setdefault(leave.staff_id, []).append(leave)
        return out

    def whole_days_off(self, staff_id: str) -> set[dt.date]:
        """Dates of the horizon on which whole-day leave keeps this person off every session."""
        days: set[dt.date] = set()
        first, last = self.dates[0], self.dates[-1]
        for leave in self._leave_by_staff.get(staff_id, ()):
            if leave.session_id is None:
                day = max(leave.start, first)
                while day <= min(leave.end, last):
                    days.add(day)
                    day += dt.timedelta(days=1)
        return days

    def leave_on(self, staff_id: str, day: dt.date, session_id: str) -> Leave | None:
        """The leave row that keeps this person off this session, if any."""
        for leave in self._leave_by_staff.get(staff_id, ()):
            if leave.covers(day) and leave.session_id in (None, session_id):
                return leave
        return None

    @cached_property
    def weeks(self) -> tuple[tuple[dt.date, ...], ...]:
        """The dates grouped by ISO week, in order: weekly rules hold in each one."""
        out: dict[tuple[int, int], list[dt.date]] = {}
        for day in self.dates:
            out.setdefault(day.isocalendar()[:2], []).append(day)
        return tuple(tuple(days) for days in out.values())

    def leave_minutes(self, person: Staff, dates: Iterable[dt.date] | None = None) -> float:
        """Leave counted towards hours: contract/5 per whole weekday, else the session's length."""
        total = 0.0
        for day in self.dates if dates is None else dates:
            rows = [lv for lv in self._leave_by_staff.get(person.staff_id, ()) if lv.covers(day)]
            if any(lv.session_id is None for lv in rows):
                if day.weekday() not in WEEKEND:
                    total += person.contract_hours * 60 / 5
                continue
            sessions = {lv.session_id for lv in rows}
            total += sum(
                self.shifts[(day, sid)].minutes
                for sid in sessions
                if sid is not None and (day, sid) in self.shifts
            )
        return total

    @cached_property
    def _prefs_by_staff(self) -> dict[str, list[Preference]]:
        out: dict[str, list[Preference]] = {}
        for pref in self.bundle.preferences:
            out.setdefault(pref.staff_id, []).append(pref)
        return out

    def preferences_for(
        self, staff_id: str, day: dt.date, session_id: str, site_id: str
    ) -> list[Preference]:
        return [
            p
            for p in self._prefs_by_staff.get(staff_id, ())
            if p.day.matches(day)
            and p.session_id in (None, session_id)
            and p.site_id in (None, site_id)
        ]

    def unavailable(
        self, staff_id: str, day: dt.date, session_id: str, site_id: str
    ) -> Preference | None:
        for pref in self.preferences_for(staff_id, day, session_id, site_id):
            if pref.preference is PreferenceKind.UNAVAILABLE:
                return pref
        return None

    # -- travel ----------------------------------------------------------------

    @cached_property
    def _travel_table(self) -> dict[tuple[str, str], int]:
        table: dict[tuple[str, str], int] = {}
        for t in self.bundle.travel:
            table.setdefault((t.to_site, t.from_site), t.minutes)
        for t in self.bundle.travel:  # an explicit direction beats the mirrored one
            table[(t.from_site, t.to_site)] = t.minutes
        return table

    @cached_property
    def _travel_cache(self) -> dict[tuple[str, str], int]:
        return {}

    @cached_property
    def max_travel_minutes(self) -> int:
        """The longest trip between any two sites: gaps at least this long never clash."""
        ids = [s.site_id for s in self.bundle.sites]
        return max((self.travel_minutes(a, b) for a in ids for b in ids), default=0)

    def travel_minutes(self, a: str, b: str) -> int:
        """Minutes from site a to site b (computed once per pair)."""
        key = (a, b)
        if key not in self._travel_cache:
            self._travel_cache[key] = self._travel_minutes(a, b)
        return self._travel_cache[key]

    def _travel_minutes(self, a: str, b: str) -> int:
        """travel.csv first; a pair it lacks is estimated from coordinates, else 0."""
        if a == b:
            return 0
        if (a, b) in self._travel_table:
            return self._travel_table[(a, b)]
        sa, sb = self.bundle.site(a), self.bundle.site(b)
        if sa.lat is None or sa.lon is None or sb.lat is None or sb.lon is None:
            return 0
        return haversine_minutes((sa.lat, sa.lon), (sb.lat, sb.lon))
