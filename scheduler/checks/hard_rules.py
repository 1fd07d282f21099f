"""The validator's checks of the weekly hard rules, one function each.

Each takes the indexed ``Rota`` and returns its findings: a message naming
the person, the date and the bundle row, and the assignments involved.
Rules over the whole plan (runs, weekends, hours over the horizon) are in
``horizon_rules``."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence

from scheduler.checks.rota_facts import (
    DAYS_PER_WEEK,
    SECONDS_PER_HOUR,
    WORKDAYS_PER_WEEK,
    Finding,
    Rota,
    count_text,
    day_text,
    fits_row,
    limit_text,
    seconds_as_hours,
    session_bounds,
)
from scheduler.domain import (
    BUILDINGS,
    DAY_NAMES,
    DEMAND,
    FIXED,
    NETWORK,
    SESSION_TYPES,
    SITES,
    STAFF,
    WEEKEND,
    Assignment,
    Leave,
    Preference,
    PreferenceKind,
    SessionKind,
    Staff,
    iso_week_label,
)

# -- 1. eligible ---------------------------------------------------------------------


def _unknown_parts(ctx: Rota, a: Assignment) -> str | None:
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


def _demand_problem(ctx: Rota, a: Assignment, person: Staff) -> str | None:
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


def require_eligible(ctx: Rota) -> list[Finding]:
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


def _clash(ctx: Rota, first: Assignment, second: Assignment) -> str | None:
    """Why two assignments, the first starting no later, cannot both be worked."""
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


def forbid_overlap(ctx: Rota) -> list[Finding]:
    """Nobody can be in two places at once or travel faster than the roads allow.

    Sessions of different dates count too: a night running into the next morning.
    """
    found: list[Finding] = []
    for staff_id, mine in ctx.by_person.items():
        timed = sorted((a for a in mine if ctx.bounds(a)), key=lambda a: (ctx.bounds(a), a))
        for i, first in enumerate(timed):
            for second in timed[i + 1 :]:
                if second.date - first.date > dt.timedelta(days=2):
                    break  # a session lasts under a day: no later one can clash
                reason = _clash(ctx, first, second)
                if reason:
                    found.append((f"{ctx.who(staff_id)} is assigned {reason}", (first, second)))
    return found


# -- 3. leave and unavailable ----------------------------------------------------------


def _leave_hit(ctx: Rota, a: Assignment) -> Leave | None:
    """The first leave row that keeps this person off this session, whole days first."""
    rows = [lv for lv in ctx.leave_of(a.staff_id) if lv.covers(a.date)]
    whole = [lv for lv in rows if lv.session_id is None]
    partial = [lv for lv in rows if lv.session_id == a.session_id]
    return (whole + partial)[0] if whole or partial else None


def forbid_work_on_leave(ctx: Rota) -> list[Finding]:
    """Nobody works on a day, or a session, they are on leave."""
    found: list[Finding] = []
    for a in ctx.assignments:
        leave = _leave_hit(ctx, a)
        if leave is None:
            continue
        part = f"for {leave.session_id} " if leave.session_id else ""
        found.append(
            (
                f"{ctx.who(a.staff_id)} is on {leave.kind.value} leave {part}on {day_text(a.date)} "
                f"({ctx.ref(leave.source, leave.row)}) "
                f"but is assigned {a.session_id} at {a.site_id}",
                (a,),
            )
        )
    return found


def _unavailable_hit(prefs: Sequence[Preference], a: Assignment) -> Preference | None:
    """The first ``unavailable`` preference of the person that matches this assignment."""
    for pref in prefs:
        if (
            pref.preference is PreferenceKind.UNAVAILABLE
            and pref.day.matches(a.date)
            and pref.session_id in (None, a.session_id)
            and pref.site_id in (None, a.site_id)
        ):
            return pref
    return None


def forbid_work_when_unavailable(ctx: Rota) -> list[Finding]:
    """A person marked unavailable for a day, session or site (in preferences.csv or in
    their own availability answers) is never put there."""
    by_staff: dict[str, list[Preference]] = defaultdict(list)
    for pref in ctx.bundle.preferences:  # answers pile up week by week: look up by person
        if pref.preference is PreferenceKind.UNAVAILABLE:
            by_staff[pref.staff_id].append(pref)
    found: list[Finding] = []
    for a in ctx.assignments:
        hit = _unavailable_hit(by_staff.get(a.staff_id, ()), a)
        if hit is None:
            continue
        found.append(
            (
                f"{ctx.who(a.staff_id)} is marked unavailable on {day_text(a.date)} "
                f"({ctx.ref(hit.source, hit.row)}) but is assigned {a.session_id} at {a.site_id}",
                (a,),
            )
        )
    return found


# -- 4. sessions per day -----------------------------------------------------------------


def limit_sessions_per_day(ctx: Rota) -> list[Finding]:
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
                        f"{ctx.who(staff_id)} has {len(today)} sessions on {day_text(day)} "
                        f"({listed}) "
                        f"but may do at most {limit} ({source})",
                        today,
                    )
                )
    return found


# -- 5. duties and daily rest ----------------------------------------------------------------


def _duties(ctx: Rota, mine: Sequence[Assignment]) -> list[list[Assignment]]:
    """A person's assignments cut into duties: less than ``min_rest_hours`` apart is one duty."""
    rest = dt.timedelta(hours=ctx.bundle.rules.min_rest_hours)
    timed = sorted((a for a in mine if ctx.bounds(a)), key=lambda a: (ctx.bounds(a), a))
    duties: list[list[Assignment]] = []
    duty_end: dt.datetime | None = None
    for a in timed:
        start, end = ctx.bounds(a) or (None, None)
        assert start is not None and end is not None
        if duty_end is None or start - duty_end >= rest:
            duties.append([a])
            duty_end = end
        else:
            duties[-1].append(a)
            duty_end = max(duty_end, end)
    return duties


def _moment(ctx: Rota, instant: dt.datetime) -> str:
    """A real instant as the network's wall clock reads it: ``Mon 13:30``."""
    local = instant.astimezone(ctx.zone)
    return f"{DAY_NAMES[local.weekday()]} {local:%H:%M}"


def _rest_text(ctx: Rota, duty: Sequence[Assignment]) -> str:
    """The shortest rest inside a duty, in words (none when its sessions overlap or touch)."""
    bounds = [ctx.bounds(a) for a in duty]
    gaps = [
        (later[0] - earlier[1]).total_seconds()
        for earlier, later in itertools.pairwise(bounds)
        if earlier is not None and later is not None
    ]
    shortest = max(min(gaps, default=0.0), 0.0)
    return f"{seconds_as_hours(shortest)} h rest"


def _rule_source(ctx: Rota, person: Staff, column: str) -> str:
    """Where a person's limit comes from: their staff row when they set it, else network.toml."""
    if getattr(person, column) is not None:
        return f"{column}, {ctx.ref(STAFF, person.row)}"
    return f"rules.{column} in {ctx.bundle.label(NETWORK)}"


def require_daily_rest(ctx: Rota) -> list[Finding]:
    """Working Time Regulations, as duties: sessions less than ``min_rest_hours`` apart form
    one duty, which lasts at most ``max_duty_hours`` from its first start to its last end."""
    found: list[Finding] = []
    rest = ctx.bundle.rules.min_rest_hours
    for staff_id, mine in ctx.by_person.items():
        person = ctx.staff[staff_id]
        cap = person.duty_hours(ctx.bundle.rules)
        source = _rule_source(ctx, person, "max_duty_hours")
        for duty in _duties(ctx, mine):
            bounds = [ctx.bounds(a) for a in duty]
            start = min(b[0] for b in bounds if b)
            end = max(b[1] for b in bounds if b)
            length = (end - start).total_seconds()
            if length <= cap * SECONDS_PER_HOUR:
                continue  # one session alone is a duty too: a night longer than the limit
            listed = ", ".join(ctx.slot(a) for a in duty)
            span = f"{ctx.who(staff_id)} would work {_moment(ctx, start)} to {_moment(ctx, end)}"
            why = f"one duty of {seconds_as_hours(length)} h"
            if len(duty) > 1:
                span += f" with {_rest_text(ctx, duty)}"
                why += f", as sessions less than {limit_text(rest)} h apart are one duty"
            found.append(
                (
                    f"{span} ({listed}): {why}; the longest duty is {limit_text(cap)} h ({source})",
                    tuple(duty),
                )
            )
    return found


# -- 6. weekly hours -------------------------------------------------------------------------


def cap_weekly_hours(ctx: Rota) -> list[Finding]:
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
                        f"{ctx.who(staff_id)} is planned {seconds_as_hours(worked)} hours "
                        f"in {week} "
                        f"but may work at most {limit_text(cap)} ({source})",
                        mine,
                    )
                )
    return found


def _leave_seconds(ctx: Rota, person: Staff, days: Sequence[dt.date]) -> float:
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


def require_minimum_hours(ctx: Rota) -> list[Finding]:
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
                        f"{ctx.who(person.staff_id)} is planned {seconds_as_hours(worked)} "
                        "hours plus "
                        f"{seconds_as_hours(leave)} hours of leave in {week}, under the minimum of "
                        f"{limit_text(person.min_hours)} (min_hours, {ctx.ref(STAFF, person.row)})",
                        mine,
                    )
                )
    return found


# -- 7. evenings and weekends -------------------------------------------------------------------


def _is_evening(ctx: Rota, a: Assignment) -> bool:
    """An extended session starting Monday to Friday."""
    session = ctx.sessions.get(a.session_id)
    extended = session is not None and session.kind is SessionKind.EXTENDED
    return extended and a.date.weekday() not in WEEKEND


def _count_limit(
    ctx: Rota, chosen: Callable[[Assignment], bool], field_name: str, what: str
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
                counted = count_text(len(picked), f"{what} session")
                found.append(
                    (
                        f"{ctx.who(staff_id)} has {counted} in {week} "
                        f"({listed}) but may do at most {limit} "
                        f"({field_name}, {ctx.ref(STAFF, person.row)})",
                        picked,
                    )
                )
    return found


def limit_evenings(ctx: Rota) -> list[Finding]:
    """Weekday extended-access sessions stay within each person's agreed evenings."""
    return _count_limit(ctx, lambda a: _is_evening(ctx, a), "max_evenings", "evening")


def limit_weekend_sessions(ctx: Rota) -> list[Finding]:
    """Saturday and Sunday sessions stay within each person's agreed weekend sessions."""
    return _count_limit(
        ctx, lambda a: a.date.weekday() in WEEKEND, "max_weekend_sessions", "weekend"
    )


# -- 8. rooms ----------------------------------------------------------------------------------


def _crowds(
    ctx: Rota, there: Sequence[Assignment], rooms: int
) -> list[tuple[dt.datetime, tuple[Assignment, ...]]]:
    """Moments at which more of these assignments are worked at once than there are rooms.

    The most people at once is reached as some assignment starts, so only starts are
    looked at; of the moments with the same people, the first is kept.
    """
    timed = [(ctx.bounds(a), a) for a in there]
    crowds: list[tuple[dt.datetime, tuple[Assignment, ...]]] = []
    seen: set[tuple[Assignment, ...]] = set()
    for moment in sorted({b[0] for b, _ in timed if b}):
        present = tuple(sorted(a for b, a in timed if b and b[0] <= moment < b[1]))
        if len(present) > rooms and present not in seen:
            seen.add(present)
            crowds.append((moment, present))
    return crowds


def _when(ctx: Rota, moment: dt.datetime, present: Sequence[Assignment]) -> str:
    """``in AM on Tue 2026-12-01``, or for sessions that overlap, the moment they meet."""
    slots = sorted({(a.date, a.session_id) for a in present})
    if len(slots) == 1:
        return f"in {slots[0][1]} on {day_text(slots[0][0])}"
    local = moment.astimezone(ctx.zone)
    sessions = ", ".join(sorted({session_id for _, session_id in slots}))
    return f"at once at {local:%H:%M} on {day_text(local.date())} ({sessions})"


def limit_people_to_rooms(ctx: Rota) -> list[Finding]:
    """At no moment more people working at a site than its rooms, nor in a building than the
    building's rooms (its sites share them)."""
    by_site: dict[str, list[Assignment]] = defaultdict(list)
    for a in ctx.assignments:
        by_site[a.site_id].append(a)
    found: list[Finding] = []
    for site_id, there in sorted(by_site.items()):
        site = ctx.sites.get(site_id)
        if site is None or site.rooms <= 0:
            continue
        for moment, present in _crowds(ctx, there, site.rooms):
            names = ", ".join(ctx.who(a.staff_id) for a in present)
            found.append(
                (
                    f"{site_id} {site.name} has {len(present)} people "
                    f"{_when(ctx, moment, present)} ({names}) "
                    f"but only {count_text(site.rooms, 'room')} ({ctx.ref(SITES, site.row)})",
                    present,
                )
            )
    for building in ctx.bundle.buildings:
        if building.rooms <= 0:
            continue
        members = sorted(s.site_id for s in ctx.bundle.sites if s.building == building.building)
        inside = [a for site_id in members for a in by_site.get(site_id, ())]
        for moment, present in _crowds(ctx, inside, building.rooms):
            names = ", ".join(f"{ctx.who(a.staff_id)} at {a.site_id}" for a in present)
            found.append(
                (
                    f"building {building.building} ({', '.join(members)}) has {len(present)} "
                    f"people {_when(ctx, moment, present)} "
                    f"({names}) but only {count_text(building.rooms, 'room')} "
                    f"({ctx.ref(BUILDINGS, building.row)})",
                    present,
                )
            )
    return found


# -- 10. weekly days off -----------------------------------------------------------------------


def _days_touched(ctx: Rota, a: Assignment) -> set[dt.date]:
    """Calendar dates (local) on which an assignment has any working moment."""
    bounds = ctx.bounds(a)
    if bounds is None:
        return {a.date}
    start = bounds[0].astimezone(ctx.zone)
    last = (bounds[1] - dt.timedelta(microseconds=1)).astimezone(ctx.zone)
    return {
        start.date() + dt.timedelta(days=i) for i in range((last.date() - start.date()).days + 1)
    }


def require_days_off(ctx: Rota) -> list[Finding]:
    """Each ISO week, each person has ``min_days_off_per_week`` dates with no work at any moment
    (a night ending at 08:00 makes its second date a working day; leave days are days off)."""
    found: list[Finding] = []
    for staff_id, mine in ctx.by_person.items():
        person = ctx.staff[staff_id]
        needed = person.days_off_per_week(ctx.bundle.rules)
        source = _rule_source(ctx, person, "min_days_off_per_week")
        worked: dict[str, set[dt.date]] = defaultdict(set)
        by_week: dict[str, list[Assignment]] = defaultdict(list)
        for a in mine:
            for day in _days_touched(ctx, a):
                worked[iso_week_label(day)].add(day)
                by_week[iso_week_label(day)].append(a)
        for week, days in sorted(worked.items()):
            off = DAYS_PER_WEEK - len(days)
            if off >= needed:
                continue
            found.append(
                (
                    f"{ctx.who(staff_id)} works on {len(days)} days of {week} "
                    f"({', '.join(day_text(d) for d in sorted(days))}), leaving "
                    f"{count_text(off, 'day')} off; at least {count_text(needed, 'day')} off "
                    f"a week ({source})",
                    tuple(sorted(set(by_week[week]))),
                )
            )
    return found


# -- 9. fixed ------------------------------------------------------------------------------------


def keep_pinned_sessions(ctx: Rota) -> list[Finding]:
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
