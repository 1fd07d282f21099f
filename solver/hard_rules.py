"""The solver's weekly hard rules: one small function each, adding constraints.

Each can be switched off per bundle row in explain mode (``Guard``), which is
how a conflict is traced back to the rows that cause it.  Rules over the
whole horizon are in ``horizon_rules``; the registry is ``solver.rules``."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations

from ortools.sat.python import cp_model

from scheduler.domain import (
    DAY_NAMES,
    FIXED,
    NETWORK,
    PREFERENCES,
    SITES,
    STAFF,
    WEEKEND,
    Preference,
    PreferenceKind,
    SessionKind,
    Staff,
)
from solver.model import Guard, Key, RotaModel

INF = cp_model.INT_MAX


def key_day(key: Key) -> str:
    return f"{key[1]:%a %Y-%m-%d}"


# --------------------------------------------------------------------------- hard


def fill_a_demand_row(m: RotaModel) -> None:
    """Each assignment fills exactly one demand row it fits (options exist only where one fits)."""
    for key, pairs in m.fill_of.items():
        if len(pairs) > 1:
            m.model.add(cp_model.LinearExpr.sum([y for _, y in pairs]) == m.x[key])


def forbid_two_places_at_once(m: RotaModel) -> None:
    """A person's sessions on one date never overlap and leave time to travel between sites."""
    for person in m.horizon.staff:
        if m.one_session_a_day(person.staff_id) and not m.explain:
            continue  # one session a date: ``limit_sessions_per_day`` already forbids any clash
        literals: list | None = None
        for day_keys in _keys_by_day(m, person.staff_id).values():
            for group in _clashing_groups(m, day_keys):
                if literals is None:
                    literals = m.guard(
                        "overlap",
                        STAFF,
                        person.row,
                        "staff_id",
                        f"{person.staff_id} cannot be in two places at once",
                    )
                m.add_guarded(m.model.add_at_most_one([m.x[k] for k in group]), literals)


def _keys_by_day(m: RotaModel, staff_id: str) -> dict[object, list[Key]]:
    by_day: dict[object, list[Key]] = defaultdict(list)
    for key in m.keys_of(staff_id):
        by_day[key[1]].append(key)
    return by_day


def _clashing_groups(m: RotaModel, keys: list[Key]) -> Iterable[list[Key]]:
    """Groups of one date's options of which at most one can be worked."""
    by_session: dict[str, list[Key]] = defaultdict(list)
    for key in keys:
        by_session[key[2]].append(key)
    for group in by_session.values():
        if len(group) > 1:
            yield group
    for first, second in combinations(by_session.values(), 2):
        a, b = m.shift(first[0]), m.shift(second[0])
        if a.start < b.end and b.start < a.end:
            yield first + second
            continue
        earlier, later = (first, second) if a.start < b.start else (second, first)
        gap = (m.shift(later[0]).start - m.shift(earlier[0]).end).total_seconds() / 60
        if gap >= m.horizon.max_travel_minutes:
            continue
        for k1 in earlier:
            for k2 in later:
                if gap < m.horizon.travel_minutes(k1[3], k2[3]):
                    yield [k1, k2]


def forbid_work_on_leave(m: RotaModel) -> None:
    """Nobody works a session they are on leave for."""
    for leave in m.bundle.leave:
        keys = [
            k
            for day in _dates_between(m, leave.start, leave.end)
            for k in m.keys_on(leave.staff_id, day)
            if leave.session_id in (None, k[2])
        ]
        message = f"{leave.staff_id} is on leave {leave.start} to {leave.end}"
        _forbid(m, keys, Guard("leave", leave.source, leave.row, "start", message))


def forbid_unavailable(m: RotaModel) -> None:
    """Nobody works where their preferences say ``unavailable``."""
    for pref in m.bundle.preferences:
        if pref.preference is not PreferenceKind.UNAVAILABLE:
            continue
        keys = pref_keys(m, pref)
        message = f"{pref.staff_id} is unavailable"
        _forbid(m, keys, Guard("unavailable", PREFERENCES, pref.row, "preference", message))


def _dates_between(m: RotaModel, first: dt.date, last: dt.date) -> list[dt.date]:
    """The horizon's dates from first to last inclusive."""
    return [d for d in m.horizon.dates if first <= d <= last]


def pref_keys(m: RotaModel, pref: Preference) -> list[Key]:
    """The options a preference row speaks of (a dated row looks up its one date)."""
    days = [pref.day.date] if pref.day.date is not None else m.horizon.dates
    return [k for day in days for k in m.keys_on(pref.staff_id, day) if _pref_covers(pref, k)]


def _pref_covers(pref: Preference, key: Key) -> bool:
    return (
        pref.day.matches(key[1])
        and pref.session_id in (None, key[2])
        and pref.site_id in (None, key[3])
    )


def _forbid(m: RotaModel, keys: list[Key], source: Guard) -> None:
    """Switch off these options, all behind one guard naming the bundle row."""
    if not keys:
        return
    literals = m.guard(source.rule_id, source.file, source.row, source.column, source.message)
    for k in keys:
        m.add_guarded(m.model.add(m.x[k] == 0), literals)


def limit_sessions_per_day(m: RotaModel) -> None:
    """At most ``max_sessions_per_day`` sessions start on any one date."""
    for person in m.horizon.staff:
        cap = _sessions_cap(m, person)
        busy = [keys for keys in _keys_by_day(m, person.staff_id).values() if len(keys) > cap]
        if busy:
            literals = _cap_guard(m, person, "max_sessions_per_day", f"at most {cap} a day")
            for keys in busy:
                if cap == 1:
                    m.add_guarded(m.model.add_at_most_one([m.x[k] for k in keys]), literals)
                else:
                    m.add_guarded(m.model.add(m.count(keys) <= cap), literals)


def _sessions_cap(m: RotaModel, person: Staff) -> int:
    if person.max_sessions_per_day is not None:
        return person.max_sessions_per_day
    return m.bundle.rules.max_sessions_per_day


def _cap_guard(m: RotaModel, person: Staff, column: str, text: str) -> list:
    """Guard naming the staff row when the person overrides the rule, else network.toml."""
    if column == "max_sessions_per_day" and person.max_sessions_per_day is None:
        return m.guard(column, NETWORK, 1, f"rules.{column}", f"{person.staff_id}: {text}")
    return m.guard(column, STAFF, person.row, column, f"{person.staff_id}: {text}")


def require_daily_rest(m: RotaModel) -> None:
    """Sessions on different dates leave at least ``min_rest_hours`` between them."""
    rest = dt.timedelta(hours=m.bundle.rules.min_rest_hours)
    literals: list | None = None
    for person in m.horizon.staff:
        for a, b in _too_close(m, person.staff_id, rest):
            if literals is None:
                literals = m.guard(
                    "rest",
                    NETWORK,
                    1,
                    "rules.min_rest_hours",
                    f"at least {m.bundle.rules.min_rest_hours:g} h rest between days",
                )
            m.add_guarded(m.model.add_at_most_one([m.x[k] for k in a + b]), literals)


def _too_close(
    m: RotaModel, staff_id: str, rest: dt.timedelta
) -> Iterable[tuple[list[Key], list[Key]]]:
    """Pairs of a person's shifts on different dates with less than ``rest`` between them.

    A session lasts under a day, so only dates a few days apart can clash, and
    a pair of dates whose latest end and earliest start are far enough apart
    is skipped whole: a year-long horizon stays linear.
    """
    by_day: dict[dt.date, dict[str, list[Key]]] = defaultdict(lambda: defaultdict(list))
    for key in m.keys_of(staff_id):
        by_day[key[1]][key[2]].append(key)
    reach = dt.timedelta(days=2 + math.ceil(rest / dt.timedelta(days=1)))
    days = sorted(by_day)
    for i, first in enumerate(days):
        for second in days[i + 1 :]:
            if second - first > reach:
                break
            if m.horizon.earliest_start(second) - m.horizon.latest_end(first) >= rest:
                continue
            for a, keys_a in by_day[first].items():
                end = m.horizon.shifts[(first, a)].end
                for b, keys_b in by_day[second].items():
                    if m.horizon.shifts[(second, b)].start - end < rest:
                        yield keys_a, keys_b


def cap_weekly_hours(m: RotaModel) -> None:
    """Planned hours in each ISO week stay within ``max_hours`` and ``max_week_hours``."""
    week_cap = m.bundle.rules.max_week_hours
    for person in m.horizon.staff:
        for week in m.horizon.weeks:
            keys = keys_in(m, person.staff_id, week)
            possible = m.most_minutes(keys)
            if possible <= min(person.max_hours, week_cap) * 60:
                continue  # no choice of this week's options can break either cap
            worked = m.minutes_worked(keys)
            if possible > person.max_hours * 60:
                literals = m.guard(
                    "max_hours",
                    STAFF,
                    person.row,
                    "max_hours",
                    f"{person.staff_id} works at most {person.max_hours:g} h a week",
                )
                m.add_guarded(m.model.add(worked <= math.floor(person.max_hours * 60)), literals)
            if week_cap < person.max_hours and possible > week_cap * 60:
                literals = m.guard(
                    "max_hours",
                    NETWORK,
                    1,
                    "rules.max_week_hours",
                    f"nobody works more than {week_cap:g} h a week",
                )
                m.add_guarded(m.model.add(worked <= math.floor(week_cap * 60)), literals)


def keys_in(m: RotaModel, staff_id: str, days: Iterable[dt.date]) -> list[Key]:
    """A person's options on the given dates."""
    return [k for day in days for k in m.keys_on(staff_id, day)]


def meet_minimum_hours(m: RotaModel) -> None:
    """Planned plus leave hours reach ``min_hours`` in each whole ISO week of the horizon."""
    for person in m.horizon.staff:
        for week in m.horizon.weeks:
            if len(week) < len(DAY_NAMES):
                continue
            leave = m.horizon.leave_minutes(person, week)
            needed = math.ceil(person.min_hours * 60 - leave - 1e-6)
            if needed <= 0:
                continue
            worked = m.minutes_worked(keys_in(m, person.staff_id, week))
            literals = m.guard(
                "min_hours",
                STAFF,
                person.row,
                "min_hours",
                f"{person.staff_id} works at least {person.min_hours:g} h a week",
            )
            m.add_guarded(m.model.add(worked >= needed), literals)


def limit_evenings(m: RotaModel) -> None:
    """Weekday ``extended`` sessions stay within ``max_evenings`` in each ISO week."""
    extended = {s.session_id for s in m.bundle.session_types if s.kind is SessionKind.EXTENDED}
    if not extended:
        return  # no evening sessions at all
    _limit_count(
        m,
        "max_evenings",
        lambda day: day.weekday() not in WEEKEND,
        lambda k: k[2] in extended,
        lambda p: p.max_evenings,
    )


def limit_weekend_sessions(m: RotaModel) -> None:
    """Saturday and Sunday sessions stay within ``max_weekend_sessions`` in each ISO week."""
    _limit_count(
        m,
        "max_weekend_sessions",
        lambda day: day.weekday() in WEEKEND,
        lambda k: True,
        lambda p: p.max_weekend_sessions,
    )


def _limit_count(
    m: RotaModel,
    column: str,
    on_day: Callable[[dt.date], bool],
    counts: Callable[[Key], bool],
    cap_of: Callable[[Staff], int],
) -> None:
    """At most ``cap_of(person)`` of the counted sessions in each ISO week."""
    weeks = [[d for d in week if on_day(d)] for week in m.horizon.weeks]
    for person in m.horizon.staff:
        cap = cap_of(person)
        literals: list | None = None
        one_a_day = m.one_session_a_day(person.staff_id) and not m.explain
        for days in weeks:
            if one_a_day and len(days) <= cap:
                continue  # at one session a date, too few dates to break the cap
            keys = [k for k in keys_in(m, person.staff_id, days) if counts(k)]
            if len(keys) <= cap:
                continue
            if literals is None:
                literals = m.guard(
                    column, STAFF, person.row, column, f"{person.staff_id}: at most {cap} a week"
                )
            m.add_guarded(m.model.add(m.count(keys) <= cap), literals)


def limit_rooms(m: RotaModel) -> None:
    """At a site with rooms, no more people in one session than rooms."""
    if not any(site.rooms > 0 for site in m.bundle.sites):
        return  # no site limits its rooms
    by_slot: dict[tuple, list[Key]] = defaultdict(list)
    for key in m.x:
        by_slot[(key[1], key[2], key[3])].append(key)
    for site in m.bundle.sites:
        crowded = [
            keys
            for slot, keys in by_slot.items()
            if slot[2] == site.site_id and 0 < site.rooms < len(keys)
        ]
        if crowded:
            literals = m.guard(
                "rooms", SITES, site.row, "rooms", f"{site.site_id} has {site.rooms} rooms"
            )
            for keys in crowded:
                m.add_guarded(m.model.add(m.count(keys) <= site.rooms), literals)


def keep_fixed_assignments(m: RotaModel) -> None:
    """Every pinned assignment inside the horizon is in the rota."""
    for fixed in m.bundle.fixed:
        key = (fixed.staff_id, fixed.date, fixed.session_id, fixed.site_id)
        if key in m.x:
            literals = m.guard(
                "fixed",
                FIXED,
                fixed.row,
                "staff_id",
                f"{fixed.staff_id} is pinned to {fixed.site_id} {fixed.session_id} on {fixed.date}",
            )
            m.add_guarded(m.model.add(m.x[key] == 1), literals)
