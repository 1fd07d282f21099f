"""The independent validator: the second check of every rota before it is saved or published.

It re-reads the hard rules of SCENARIO_FORMAT.md straight from the bundle and
shares no code with the solver or with ``scheduler.horizon``, so a mistake in
one of them shows up as a disagreement instead of being repeated here.  It
also checks rotas that a manager edited by hand, and says in plain words
which rule an assignment breaks and which bundle row it breaks it against.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from scheduler.domain import (
    DAY_NAMES,
    DEMAND,
    FIXED,
    FORBIDDEN_SEQUENCES,
    NETWORK,
    PREFERENCES,
    SESSION_LIMITS,
    SESSION_TYPES,
    SITES,
    STAFF,
    WEEKEND,
    Assignment,
    Bundle,
    DemandRow,
    Leave,
    Preference,
    PreferenceKind,
    SessionKind,
    SessionType,
    Site,
    Staff,
    iso_week_label,
)

TRAVEL_KMH = 30.0
TRAVEL_ROUND_MINUTES = 5
EARTH_RADIUS_KM = 6371.0
WORKDAYS_PER_WEEK = 5
DAYS_PER_WEEK = 7
SECONDS_PER_HOUR = 3600
UTC = dt.UTC

Finding = tuple[str, tuple[Assignment, ...]]


@dataclass(frozen=True)
class Violation:
    """One broken hard rule, worded for a manager, with the assignments involved."""

    rule_id: str
    label: str
    message: str
    assignments: tuple[Assignment, ...]


@dataclass(frozen=True)
class CoverageLine:
    """How many people one demand row got on one date, and how many it is short."""

    date: dt.date
    site_id: str
    session_id: str
    role: str | None
    skill: str | None
    min: int
    target: int
    weight: float
    assigned: int
    shortfall: int
    demand_row: int


@dataclass(frozen=True)
class ValidationReport:
    """Every broken hard rule plus the coverage of every demand row in force."""

    violations: tuple[Violation, ...]
    coverage: tuple[CoverageLine, ...]

    @property
    def ok(self) -> bool:
        """A rota may be saved or published only when no hard rule is broken."""
        return not self.violations

    @property
    def shortfall(self) -> int:
        """People missing against every ``min``, the first soft goal a manager reviews."""
        return sum(line.shortfall for line in self.coverage)


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


def _day(day: dt.date) -> str:
    """A date as a manager reads it: ``Tue 2026-12-01``."""
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


def _hours(seconds: float) -> str:
    """Hours without needless decimals: 4, 4.5, 4.17."""
    return f"{seconds / SECONDS_PER_HOUR:.2f}".rstrip("0").rstrip(".")


def _count(n: int, noun: str) -> str:
    """A count with its noun in the right number: 1 room, 2 rooms."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _limit(value: float) -> str:
    """A configured limit without a trailing ``.0``."""
    return f"{value:g}"


# -- the rota in context -------------------------------------------------------------


class _Rota:
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
        return f"{a.session_id} at {a.site_id} on {_day(a.date)}"

    def bounds(self, a: Assignment) -> tuple[dt.datetime, dt.datetime] | None:
        """Real start and end of an assignment, or None when its session is unknown."""
        session = self.sessions.get(a.session_id)
        return session_bounds(session, a.date, self.zone) if session else None

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
        """English bank holidays (observed days included) in every year the rota touches."""
        years = sorted({d.year for d in self.dates} | {a.date.year for a in self.assignments})
        return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=years))

    @cached_property
    def demand_by_slot(self) -> dict[tuple[str, str], list[DemandRow]]:
        """Demand rows per (site, session), so each look-up scans only its own rows."""
        out: dict[tuple[str, str], list[DemandRow]] = defaultdict(list)
        for row in self.bundle.demand:
            out[(row.site_id, row.session_id)].append(row)
        return dict(out)

    def rows_in_force(self, site_id: str, day: dt.date, session_id: str) -> list[DemandRow]:
        """Rows for a slot: date rows replace same-key weekday rows; holidays close weekdays."""
        rows = self.demand_by_slot.get((site_id, session_id), [])
        dated = [r for r in rows if r.day.date == day]
        replaced = {r.key for r in dated}
        closed = self.bundle.bank_holidays_closed and day in self.bank_holidays
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


# -- 1. eligible ---------------------------------------------------------------------


def _unknown_parts(ctx: _Rota, a: Assignment) -> str | None:
    """Why an assignment names something the bundle lacks, if it does."""
    if a.staff_id not in ctx.staff:
        return f"{a.staff_id} is not in {ctx.bundle.label(STAFF)}"
    if a.site_id not in ctx.sites:
        return f"site {a.site_id} is not in {ctx.bundle.label(SITES)}"
    session = ctx.sessions.get(a.session_id)
    if session is None:
        return f"session {a.session_id} is not in {ctx.bundle.label(SESSION_TYPES)}"
    if not session.runs_on(a.date):
        where = ctx.ref(SESSION_TYPES, session.row)
        return f"{a.session_id} does not run on {DAY_NAMES[a.date.weekday()]}s ({where})"
    return None


def _demand_problem(ctx: _Rota, a: Assignment, person: Staff) -> str | None:
    """Why no demand row in force takes this person here, if none does."""
    rows = ctx.rows_in_force(a.site_id, a.date, a.session_id)
    if any(fits_row(r, person) for r in rows):
        return None
    if not rows:
        closing = [
            r
            for r in ctx.demand_by_slot.get((a.site_id, a.session_id), [])
            if r.closes and r.day.date == a.date
        ]
        if closing:
            where = ctx.ref(closing[0].source, closing[0].source_row)
            return f"{ctx.slot(a)} is cancelled ({where})"
        holiday = " (a bank holiday)" if a.date in ctx.bank_holidays else ""
        return f"{ctx.bundle.label(DEMAND)} needs nobody for {ctx.slot(a)}{holiday}"
    skills = ", ".join(sorted(person.skills)) or "no skills"
    refs = ctx.ref(rows[0].source, rows[0].source_row)
    if len(rows) > 1:
        refs = ", ".join(ctx.ref(r.source, r.source_row) for r in rows)
    return f"no need for {ctx.slot(a)} fits a {person.role} with {skills} ({refs})"


def require_eligible(ctx: _Rota) -> list[Finding]:
    """Each assignment must fill a real need the person is qualified and allowed to fill."""
    found: list[Finding] = []
    for a in ctx.assignments:
        reason = _unknown_parts(ctx, a)
        if reason:
            found.append((f"{reason}, but {a.staff_id} is assigned {ctx.slot(a)}", (a,)))
            continue
        person = ctx.staff[a.staff_id]
        if not person.may_work_at(a.site_id):
            allowed = ", ".join(sorted(person.sites or ()))
            where = ctx.ref(STAFF, person.row)
            found.append(
                (
                    f"{ctx.who(a.staff_id)} may only work at {allowed} ({where}) "
                    f"but is assigned {ctx.slot(a)}",
                    (a,),
                )
            )
        reason = _demand_problem(ctx, a, person)
        if reason:
            found.append((f"{reason}, but {ctx.who(a.staff_id)} is assigned there", (a,)))
    return found


# -- 2. overlap ----------------------------------------------------------------------


def _clash(ctx: _Rota, first: Assignment, second: Assignment) -> str | None:
    """Why two same-day assignments, the first starting no later, cannot both be worked."""
    one, two = ctx.bounds(first), ctx.bounds(second)
    if one is None or two is None:
        return None
    if two[0] < one[1] and one[0] < two[1]:
        return f"{ctx.slot(first)} and {ctx.slot(second)}, which overlap in time"
    gap = int((two[0] - one[1]).total_seconds() // 60)
    need = ctx.travel(first.site_id, second.site_id)
    if gap < need:
        return (
            f"{ctx.slot(first)} and {ctx.slot(second)} with {gap} minutes between them, "
            f"but travelling from {first.site_id} to {second.site_id} takes {need} minutes"
        )
    return None


def forbid_overlap(ctx: _Rota) -> list[Finding]:
    """Nobody can be in two places at once or travel faster than the roads allow."""
    found: list[Finding] = []
    for staff_id, mine in ctx.by_person.items():
        timed = sorted((a for a in mine if ctx.bounds(a)), key=lambda a: (ctx.bounds(a), a))
        for i, first in enumerate(timed):
            for second in timed[i + 1 :]:
                reason = _clash(ctx, first, second) if first.date == second.date else None
                if reason:
                    found.append((f"{ctx.who(staff_id)} is assigned {reason}", (first, second)))
    return found


# -- 3. leave and unavailable ----------------------------------------------------------


def _leave_hit(ctx: _Rota, a: Assignment) -> Leave | None:
    """The first leave row that keeps this person off this session, whole days first."""
    rows = [lv for lv in ctx.leave_of(a.staff_id) if lv.covers(a.date)]
    whole = [lv for lv in rows if lv.session_id is None]
    partial = [lv for lv in rows if lv.session_id == a.session_id]
    return (whole + partial)[0] if whole or partial else None


def forbid_work_on_leave(ctx: _Rota) -> list[Finding]:
    """Nobody works on a day, or a session, they are on leave."""
    found: list[Finding] = []
    for a in ctx.assignments:
        leave = _leave_hit(ctx, a)
        if leave is None:
            continue
        part = f"for {leave.session_id} " if leave.session_id else ""
        found.append(
            (
                f"{ctx.who(a.staff_id)} is on {leave.kind.value} leave {part}on {_day(a.date)} "
                f"({ctx.ref(leave.source, leave.row)}) "
                f"but is assigned {a.session_id} at {a.site_id}",
                (a,),
            )
        )
    return found


def _unavailable_hit(ctx: _Rota, a: Assignment) -> Preference | None:
    """The first ``unavailable`` preference that matches this assignment."""
    for pref in ctx.bundle.preferences:
        if (
            pref.staff_id == a.staff_id
            and pref.preference is PreferenceKind.UNAVAILABLE
            and pref.day.matches(a.date)
            and pref.session_id in (None, a.session_id)
            and pref.site_id in (None, a.site_id)
        ):
            return pref
    return None


def forbid_work_when_unavailable(ctx: _Rota) -> list[Finding]:
    """A person marked unavailable for a day, session or site is never put there."""
    found: list[Finding] = []
    for a in ctx.assignments:
        pref = _unavailable_hit(ctx, a)
        if pref is None:
            continue
        found.append(
            (
                f"{ctx.who(a.staff_id)} is marked unavailable on {_day(a.date)} "
                f"({ctx.ref(PREFERENCES, pref.row)}) but is assigned {a.session_id} at {a.site_id}",
                (a,),
            )
        )
    return found


# -- 4. sessions per day -----------------------------------------------------------------


def limit_sessions_per_day(ctx: _Rota) -> list[Finding]:
    """Nobody starts more sessions on one date than their limit allows."""
    found: list[Finding] = []
    for staff_id, mine in ctx.by_person.items():
        person = ctx.staff[staff_id]
        limit = person.max_sessions_per_day
        source = ctx.ref(STAFF, person.row)
        if limit is None:
            limit, source = ctx.bundle.rules.max_sessions_per_day, ctx.bundle.label(NETWORK)
        for day in sorted({a.date for a in mine}):
            today = tuple(a for a in mine if a.date == day)
            if len(today) > limit:
                listed = ", ".join(f"{a.session_id} at {a.site_id}" for a in today)
                found.append(
                    (
                        f"{ctx.who(staff_id)} has {len(today)} sessions on {_day(day)} ({listed}) "
                        f"but may do at most {limit} ({source})",
                        today,
                    )
                )
    return found


# -- 5. rest --------------------------------------------------------------------------------


def _short_rest(ctx: _Rota, first: Assignment, second: Assignment) -> str | None:
    """Why the rest between sessions on two different dates is too short, if it is."""
    one, two = ctx.bounds(first), ctx.bounds(second)
    if one is None or two is None:
        return None
    need = ctx.bundle.rules.min_rest_hours
    rest = (two[0] - one[1]).total_seconds()
    if rest >= need * SECONDS_PER_HOUR:
        return None
    if rest <= 0:
        return f"is assigned {ctx.slot(first)}, which runs into {ctx.slot(second)}"
    return (
        f"has only {_hours(rest)} hours of rest between {ctx.slot(first)} "
        f"and {ctx.slot(second)}; at least {_limit(need)} are needed"
    )


def require_daily_rest(ctx: _Rota) -> list[Finding]:
    """Working Time Regulations: enough rest between sessions on different dates.

    Sessions last under a day, so only sessions starting within the rest
    period plus two days of each other can be too close.
    """
    reach = dt.timedelta(days=2 + math.ceil(ctx.bundle.rules.min_rest_hours / 24))
    found: list[Finding] = []
    for staff_id, mine in ctx.by_person.items():
        for i, first in enumerate(mine):
            for second in mine[i + 1 :]:
                if second.date - first.date > reach:
                    break
                reason = _short_rest(ctx, first, second) if first.date < second.date else None
                if reason:
                    found.append((f"{ctx.who(staff_id)} {reason}", (first, second)))
    return found


# -- 6. weekly hours -------------------------------------------------------------------------


def cap_weekly_hours(ctx: _Rota) -> list[Finding]:
    """Planned hours stay within the person's maximum and the network's weekly cap."""
    found: list[Finding] = []
    for week, days in ctx.weeks.items():
        for staff_id in ctx.by_person:
            person = ctx.staff[staff_id]
            mine = tuple(ctx.week_of(staff_id, days))
            worked = sum(ctx.seconds(a) for a in mine)
            cap, source = person.max_hours, f"max_hours, {ctx.ref(STAFF, person.row)}"
            if ctx.bundle.rules.max_week_hours < cap:
                cap, source = ctx.bundle.rules.max_week_hours, "max_week_hours in network.toml"
            if worked > cap * SECONDS_PER_HOUR:
                found.append(
                    (
                        f"{ctx.who(staff_id)} is planned {_hours(worked)} hours in {week} "
                        f"but may work at most {_limit(cap)} ({source})",
                        mine,
                    )
                )
    return found


def _leave_seconds(ctx: _Rota, person: Staff, days: Sequence[dt.date]) -> float:
    """Leave counted towards hours: contract/5 per whole weekday, else each session's length."""
    total = 0.0
    for day in days:
        rows = [lv for lv in ctx.leave_of(person.staff_id) if lv.covers(day)]
        if any(lv.session_id is None for lv in rows):
            if day.weekday() not in WEEKEND:
                total += person.contract_hours * SECONDS_PER_HOUR / WORKDAYS_PER_WEEK
            continue
        for session_id in sorted({lv.session_id for lv in rows if lv.session_id}):
            session = ctx.sessions.get(session_id)
            if session and session.runs_on(day):
                start, end = session_bounds(session, day, ctx.zone)
                total += (end - start).total_seconds()
    return total


def require_minimum_hours(ctx: _Rota) -> list[Finding]:
    """Planned plus leave hours reach the person's minimum over a whole ISO week."""
    found: list[Finding] = []
    for week, days in ctx.weeks.items():
        if len(days) < DAYS_PER_WEEK:
            continue
        for person in ctx.bundle.staff:
            mine = tuple(ctx.week_of(person.staff_id, days))
            worked = sum(ctx.seconds(a) for a in mine)
            leave = _leave_seconds(ctx, person, days)
            if worked + leave < person.min_hours * SECONDS_PER_HOUR - 1e-6:
                found.append(
                    (
                        f"{ctx.who(person.staff_id)} is planned {_hours(worked)} hours plus "
                        f"{_hours(leave)} hours of leave in {week}, under the minimum of "
                        f"{_limit(person.min_hours)} (min_hours, {ctx.ref(STAFF, person.row)})",
                        mine,
                    )
                )
    return found


# -- 7. evenings and weekends -------------------------------------------------------------------


def _is_evening(ctx: _Rota, a: Assignment) -> bool:
    """An extended session starting Monday to Friday."""
    session = ctx.sessions.get(a.session_id)
    extended = session is not None and session.kind is SessionKind.EXTENDED
    return extended and a.date.weekday() not in WEEKEND


def _count_limit(
    ctx: _Rota, chosen: Callable[[Assignment], bool], field_name: str, what: str
) -> list[Finding]:
    """People with more chosen sessions in an ISO week than their per-person limit."""
    found: list[Finding] = []
    for week, days in ctx.weeks.items():
        for staff_id in ctx.by_person:
            person = ctx.staff[staff_id]
            picked = tuple(a for a in ctx.week_of(staff_id, days) if chosen(a))
            limit = int(getattr(person, field_name))
            if len(picked) > limit:
                listed = ", ".join(ctx.slot(a) for a in picked)
                counted = _count(len(picked), f"{what} session")
                found.append(
                    (
                        f"{ctx.who(staff_id)} has {counted} in {week} "
                        f"({listed}) but may do at most {limit} "
                        f"({field_name}, {ctx.ref(STAFF, person.row)})",
                        picked,
                    )
                )
    return found


def limit_evenings(ctx: _Rota) -> list[Finding]:
    """Weekday extended-access sessions stay within each person's agreed evenings."""
    return _count_limit(ctx, lambda a: _is_evening(ctx, a), "max_evenings", "evening")


def limit_weekend_sessions(ctx: _Rota) -> list[Finding]:
    """Saturday and Sunday sessions stay within each person's agreed weekend sessions."""
    return _count_limit(
        ctx, lambda a: a.date.weekday() in WEEKEND, "max_weekend_sessions", "weekend"
    )


# -- 8. rooms ----------------------------------------------------------------------------------


def limit_people_to_rooms(ctx: _Rota) -> list[Finding]:
    """A site never has more people in one session than consulting rooms."""
    slots: dict[tuple[dt.date, str, str], list[Assignment]] = defaultdict(list)
    for a in ctx.assignments:
        slots[(a.date, a.session_id, a.site_id)].append(a)
    found: list[Finding] = []
    for (day, session_id, site_id), there in sorted(slots.items()):
        site = ctx.sites.get(site_id)
        if site is None or site.rooms <= 0 or len(there) <= site.rooms:
            continue
        names = ", ".join(ctx.who(a.staff_id) for a in there)
        found.append(
            (
                f"{site_id} {site.name} has {len(there)} people in {session_id} on {_day(day)} "
                f"({names}) but only {_count(site.rooms, 'room')} ({ctx.ref(SITES, site.row)})",
                tuple(there),
            )
        )
    return found


# -- 9. fixed ------------------------------------------------------------------------------------


def keep_pinned_sessions(ctx: _Rota) -> list[Finding]:
    """Every pinned assignment dated within the plan is in the rota."""
    present = set(ctx.assignments)
    found: list[Finding] = []
    for pin in ctx.bundle.fixed:
        wanted = Assignment(pin.date, pin.session_id, pin.site_id, pin.staff_id)
        if pin.date in ctx.dates and wanted not in present:
            found.append(
                (
                    f"{ctx.who(pin.staff_id)} is pinned to {ctx.slot(wanted)} "
                    f"({ctx.ref(FIXED, pin.row)}) but that session is missing from the rota",
                    (),
                )
            )
    return found


# -- 10. rules over the whole horizon -------------------------------------------------------


def _worked_dates(ctx: _Rota, staff_id: str) -> set[dt.date]:
    """Dates on which a person starts at least one session."""
    return {a.date for a in ctx.by_person.get(staff_id, ())}


def _runs(ctx: _Rota, worked: set[dt.date], working: bool) -> list[tuple[int, int]]:
    """Maximal runs of working days (or of days off) as (first index, last index) of the dates."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, day in enumerate(ctx.dates):
        inside = (day in worked) == working
        if inside and start is None:
            start = i
        if not inside and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(ctx.dates) - 1))
    return runs


def _span(ctx: _Rota, run: tuple[int, int]) -> str:
    first, last = ctx.dates[run[0]], ctx.dates[run[1]]
    return _day(first) if first == last else f"{_day(first)} to {_day(last)}"


def forbid_forbidden_sequences(ctx: _Rota) -> list[Finding]:
    """A session is never followed on the next date by one forbidden_sequences.csv bans."""
    banned = {(f.session_id, f.next_day_session_id): f.row for f in ctx.bundle.forbidden_sequences}
    found: list[Finding] = []
    if not banned:
        return found
    for staff_id, mine in ctx.by_person.items():
        by_date: dict[dt.date, list[Assignment]] = defaultdict(list)
        for a in mine:
            by_date[a.date].append(a)
        for a in mine:
            for b in by_date.get(a.date + dt.timedelta(days=1), ()):
                row = banned.get((a.session_id, b.session_id))
                if row is not None:
                    found.append(
                        (
                            f"{ctx.who(staff_id)} works {ctx.slot(a)} and then {ctx.slot(b)}, "
                            f"a sequence {ctx.ref(FORBIDDEN_SEQUENCES, row)} forbids",
                            (a, b),
                        )
                    )
    return found


def limit_consecutive_days(ctx: _Rota) -> list[Finding]:
    """No run of working days is longer than the person's max_consecutive_days."""
    found: list[Finding] = []
    for staff_id, mine in ctx.by_person.items():
        person = ctx.staff[staff_id]
        cap = person.max_consecutive_days
        if cap is None:
            continue
        for run in _runs(ctx, _worked_dates(ctx, staff_id), working=True):
            if run[1] - run[0] + 1 > cap:
                found.append(
                    (
                        f"{ctx.who(staff_id)} works {run[1] - run[0] + 1} days in a row "
                        f"({_span(ctx, run)}) but may work at most {cap} "
                        f"(max_consecutive_days, {ctx.ref(STAFF, person.row)})",
                        tuple(a for a in mine if ctx.dates[run[0]] <= a.date <= ctx.dates[run[1]]),
                    )
                )
    return found


def require_minimum_runs(ctx: _Rota) -> list[Finding]:
    """Runs of working days and of days off are long enough, except at the plan's edges.

    A run that touches the first or the last date may continue outside the
    plan, so it is never too short.
    """
    found: list[Finding] = []
    last = len(ctx.dates) - 1
    for person in ctx.bundle.staff:
        worked = _worked_dates(ctx, person.staff_id)
        for working, least, column, what in (
            (True, person.min_consecutive_days, "min_consecutive_days", "working days"),
            (False, person.min_days_off_in_row, "min_days_off_in_row", "days off"),
        ):
            if not least:
                continue
            for run in _runs(ctx, worked, working):
                length = run[1] - run[0] + 1
                if run[0] == 0 or run[1] == last or length >= least:
                    continue
                found.append(
                    (
                        f"{ctx.who(person.staff_id)} has a run of {_count(length, 'day')} of "
                        f"{what} ({_span(ctx, run)}) but needs at least {least} "
                        f"({column}, {ctx.ref(STAFF, person.row)})",
                        tuple(ctx.week_of(person.staff_id, ctx.dates[run[0] - 1 : run[1] + 2])),
                    )
                )
    return found


def limit_weekends_worked(ctx: _Rota) -> list[Finding]:
    """Weekends with any Saturday or Sunday session stay within max_weekends."""
    found: list[Finding] = []
    for staff_id, mine in ctx.by_person.items():
        person = ctx.staff[staff_id]
        if person.max_weekends is None:
            continue
        weekend = [a for a in mine if a.date.weekday() in WEEKEND]
        weeks = sorted({iso_week_label(a.date) for a in weekend})
        if len(weeks) > person.max_weekends:
            found.append(
                (
                    f"{ctx.who(staff_id)} works {_count(len(weeks), 'weekend')} "
                    f"({', '.join(weeks)}) but may work at most {person.max_weekends} "
                    f"(max_weekends, {ctx.ref(STAFF, person.row)})",
                    tuple(weekend),
                )
            )
    return found


def keep_horizon_hours(ctx: _Rota) -> list[Finding]:
    """Hours over the whole plan stay within max_horizon_hours and reach min_horizon_hours."""
    found: list[Finding] = []
    for person in ctx.bundle.staff:
        mine = tuple(ctx.by_person.get(person.staff_id, ()))
        worked = sum(ctx.seconds(a) for a in mine)
        ref = ctx.ref(STAFF, person.row)
        high, low = person.max_horizon_hours, person.min_horizon_hours
        if high is not None and worked > high * SECONDS_PER_HOUR + 1e-6:
            found.append(
                (
                    f"{ctx.who(person.staff_id)} is planned {_hours(worked)} hours over the plan "
                    f"but may work at most {_limit(high)} (max_horizon_hours, {ref})",
                    mine,
                )
            )
        leave = _leave_seconds(ctx, person, ctx.dates) if low else 0.0
        if low is not None and worked + leave < low * SECONDS_PER_HOUR - 1e-6:
            found.append(
                (
                    f"{ctx.who(person.staff_id)} is planned {_hours(worked)} hours plus "
                    f"{_hours(leave)} hours of leave over the plan, under the minimum of "
                    f"{_limit(low)} (min_horizon_hours, {ref})",
                    mine,
                )
            )
    return found


def limit_sessions_of_a_type(ctx: _Rota) -> list[Finding]:
    """Nobody works more sessions of a type than session_limits.csv allows over the plan."""
    found: list[Finding] = []
    for limit in ctx.bundle.session_limits:
        picked = tuple(
            a for a in ctx.by_person.get(limit.staff_id, ()) if a.session_id == limit.session_id
        )
        if len(picked) > limit.max_sessions:
            found.append(
                (
                    f"{ctx.who(limit.staff_id)} works {_count(len(picked), 'session')} of "
                    f"{limit.session_id} but may work at most {limit.max_sessions} "
                    f"({ctx.ref(SESSION_LIMITS, limit.row)})",
                    picked,
                )
            )
    return found


RuleCheck = Callable[[_Rota], list[Finding]]

RULES: tuple[tuple[str, str, RuleCheck], ...] = (
    ("eligible", "Not eligible for this session", require_eligible),
    ("overlap", "In two places at once", forbid_overlap),
    ("leave", "On leave", forbid_work_on_leave),
    ("unavailable", "Marked unavailable", forbid_work_when_unavailable),
    ("sessions_per_day", "Too many sessions in a day", limit_sessions_per_day),
    ("rest", "Too little rest between days", require_daily_rest),
    ("max_hours", "Over weekly hours", cap_weekly_hours),
    ("min_hours", "Under minimum hours", require_minimum_hours),
    ("evenings", "Too many evenings", limit_evenings),
    ("weekends", "Too many weekend sessions", limit_weekend_sessions),
    ("rooms", "More people than rooms", limit_people_to_rooms),
    ("fixed", "Pinned session missing", keep_pinned_sessions),
    ("sequence", "Forbidden sequence of sessions", forbid_forbidden_sequences),
    ("max_consecutive", "Too many days in a row", limit_consecutive_days),
    ("min_runs", "Too short a run of days on or off", require_minimum_runs),
    ("max_weekends", "Too many weekends worked", limit_weekends_worked),
    ("horizon_hours", "Outside hours over the horizon", keep_horizon_hours),
    ("session_limit", "Too many sessions of one type", limit_sessions_of_a_type),
)


# -- coverage -----------------------------------------------------------------------------------


def _augment(row: int, fits: dict[int, list[str]], holder: dict[str, int], seen: set[str]) -> bool:
    """Give a row one more person along an augmenting path; no other row loses a person."""
    for staff_id in fits[row]:
        if staff_id in seen or holder.get(staff_id) == row:
            continue
        seen.add(staff_id)
        previous = holder.get(staff_id)
        if previous is None or _augment(previous, fits, holder, seen):
            holder[staff_id] = row
            return True
    return False


def allocate(rows: Sequence[DemandRow], people: Sequence[Staff]) -> list[int]:
    """People per row, maximising weighted met ``min`` units, then ``target``, then the rest."""
    fits = {i: sorted(p.staff_id for p in people if fits_row(r, p)) for i, r in enumerate(rows)}
    order = sorted(range(len(rows)), key=lambda i: (-rows[i].weight, rows[i].row, i))
    holder: dict[str, int] = {}
    for cap in (lambda r: r.min, lambda r: max(r.min, r.target)):
        for i in order:
            while sum(1 for h in holder.values() if h == i) < cap(rows[i]):
                if not _augment(i, fits, holder, set()):
                    break
    for staff_id in sorted(p.staff_id for p in people):
        home = next((i for i in order if staff_id in fits[i]), None)
        if staff_id not in holder and home is not None:
            holder[staff_id] = home
    return [sum(1 for h in holder.values() if h == i) for i in range(len(rows))]


def _coverage_in(ctx: _Rota) -> list[CoverageLine]:
    """One line per demand row in force on each planned date whose session runs then."""
    present: dict[tuple[dt.date, str, str], set[str]] = defaultdict(set)
    for a in ctx.assignments:
        if a.staff_id in ctx.staff:
            present[(a.date, a.site_id, a.session_id)].add(a.staff_id)
    slots = sorted({(d, r.site_id, r.session_id) for d in ctx.dates for r in ctx.bundle.demand})
    lines: list[CoverageLine] = []
    for day, site_id, session_id in slots:
        session = ctx.sessions.get(session_id)
        if session is None or not session.runs_on(day):
            continue
        rows = ctx.rows_in_force(site_id, day, session_id)
        people = [ctx.staff[s] for s in sorted(present[(day, site_id, session_id)])]
        for row, got in zip(rows, allocate(rows, people), strict=True):
            lines.append(_line(day, row, got))
    return lines


def _line(day: dt.date, row: DemandRow, got: int) -> CoverageLine:
    """A coverage line for one demand row on one date."""
    return CoverageLine(
        date=day,
        site_id=row.site_id,
        session_id=row.session_id,
        role=row.role,
        skill=row.skill,
        min=row.min,
        target=row.target,
        weight=row.weight,
        assigned=got,
        shortfall=max(0, row.min - got),
        demand_row=row.row,
    )


def _coverage(ctx: _Rota) -> tuple[CoverageLine, ...]:
    """Coverage sorted by date, session start, site and demand row."""
    start = {s.session_id: s.start for s in ctx.bundle.session_types}
    lines = _coverage_in(ctx)
    return tuple(
        sorted(lines, key=lambda c: (c.date, start[c.session_id], c.site_id, c.demand_row))
    )


def coverage_of(
    bundle: Bundle, dates: Sequence[dt.date], assignments: Iterable[Assignment]
) -> tuple[CoverageLine, ...]:
    """How well the rota meets every demand row in force on the given dates."""
    return _coverage(_Rota(bundle, dates, assignments))


def check_rota(
    bundle: Bundle, dates: Sequence[dt.date], assignments: Iterable[Assignment]
) -> ValidationReport:
    """Every hard-rule violation of a rota, in rule order, plus its coverage."""
    ctx = _Rota(bundle, dates, assignments)
    violations = tuple(
        Violation(rule_id, label, message, involved)
        for rule_id, label, check in RULES
        for message, involved in check(ctx)
    )
    return ValidationReport(violations, _coverage(ctx))
