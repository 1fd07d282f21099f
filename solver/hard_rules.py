"""The solver's weekly hard rules: one small function each, adding constraints.

Each can be switched off per bundle row in explain mode (``Guard``), which is
how a conflict is traced back to the rows that cause it.  Rules over the
whole horizon are in ``horizon_rules``; the registry is ``solver.rules``."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable

from ortools.sat.python import cp_model

from scheduler.domain import (
    BUILDINGS,
    DAY_NAMES,
    FIXED,
    NETWORK,
    SITES,
    STAFF,
    WEEKEND,
    Preference,
    PreferenceKind,
    SessionKind,
    Staff,
)
from scheduler.horizon import Shift
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
    """A person's sessions never overlap (a night running into the next day included) and
    leave time to travel between sites."""
    for person in m.horizon.staff:
        skip_same_date = m.one_session_a_day(person.staff_id) and not m.explain
        literals: list | None = None
        for group in _clashing_groups(m, _slots_of(m, person.staff_id), skip_same_date):
            if literals is None:
                literals = m.guard(
                    "overlap",
                    STAFF,
                    person.row,
                    "staff_id",
                    f"{person.staff_id} cannot be in two places at once",
                )
            m.add_guarded(m.model.add_at_most_one([m.x[k] for k in group]), literals)


Slot = tuple[Shift, list[Key]]  # one session on one date, and the person's options in it


def _keys_by_day(m: RotaModel, staff_id: str) -> dict[object, list[Key]]:
    by_day: dict[object, list[Key]] = defaultdict(list)
    for key in m.keys_of(staff_id):
        by_day[key[1]].append(key)
    return by_day


def _slots_of(m: RotaModel, staff_id: str) -> list[Slot]:
    """A person's options grouped by session and date, in order of real start.

    Three rules ask for them: they are grouped once per person and model (read only).
    """
    cached = m.memo.get(("slots", staff_id))
    if cached is not None:
        return cached
    by_slot: dict[tuple[dt.date, str], list[Key]] = defaultdict(list)
    for key in m.keys_of(staff_id):
        by_slot[(key[1], key[2])].append(key)
    slots = [(m.horizon.shifts[slot], keys) for slot, keys in by_slot.items()]
    m.memo[("slots", staff_id)] = sorted(slots, key=lambda s: (s[0].start, s[0].session_id))
    return m.memo[("slots", staff_id)]


def _clashing_groups(m: RotaModel, slots: list[Slot], skip_same_date: bool) -> Iterable[list[Key]]:
    """Groups of a person's options of which at most one can be worked.

    With one session a date (``skip_same_date``), ``limit_sessions_per_day`` already
    keeps apart the sessions of one date; sessions of different dates still can clash.
    """
    travel = dt.timedelta(minutes=m.horizon.max_travel_minutes)
    for i, (first, keys_1) in enumerate(slots):
        if len(keys_1) > 1 and not skip_same_date:
            yield keys_1
        for j in range(i + 1, len(slots)):  # not a slice: a year's slots copied per slot
            second, keys_2 = slots[j]
            if second.start >= first.end + travel:
                break  # in order of start: no later slot can clash with the first
            if skip_same_date and first.date == second.date:
                continue
            if second.start < first.end:  # they overlap in time
                yield keys_1 + keys_2
                continue
            gap = (second.start - first.end).total_seconds() / 60
            for k1 in keys_1:
                for k2 in keys_2:
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
        _forbid(m, keys, Guard("unavailable", pref.source, pref.row, "preference", message))


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
    """Duties: sessions less than ``min_rest_hours`` apart are one duty, which lasts at most
    the person's ``max_duty_hours`` from its first start to its last end.

    For each pair of a person's sessions too far apart to be one duty, some session
    between them (the first one included) must be followed by a full rest: a boolean
    per session says so, and forbids any session starting within the rest after it.
    Only pairs starting less than a duty plus a rest apart need this: a longer duty
    has a shorter one inside it that already breaks the limit.
    """
    rest = dt.timedelta(hours=m.bundle.rules.min_rest_hours)
    for person in m.horizon.staff:
        cap = dt.timedelta(hours=person.duty_hours(m.bundle.rules))
        slots = _slots_of(m, person.staff_id)
        breaks: dict[int, cp_model.IntVar] = {}
        literals: list | None = None
        for first, keys in slots:
            if first.end - first.start > cap:  # one session alone is longer than a duty may be
                if literals is None:
                    literals = _duty_guard(m, person, cap)
                for key in keys:
                    m.add_guarded(m.model.add(m.x[key] == 0), literals)
        for i, (first, keys_1) in enumerate(slots):
            for j in range(i + 1, len(slots)):
                last, keys_2 = slots[j]
                if last.start >= first.start + cap + rest:
                    break
                if last.start < first.end or last.end - first.start <= cap:
                    continue  # overlapping (another rule), or short enough to be one duty
                if not _may_be_one_duty(slots, i, j, rest):
                    continue  # no chain of sessions bridges the rest between them
                if literals is None:
                    literals = _duty_guard(m, person, cap)
                between = [
                    k
                    for k in range(i, j)
                    if slots[k][0].start >= first.start
                    and first.end <= slots[k][0].end <= last.start - rest
                ]
                worked = m.count(keys_1 + keys_2)
                rests = [
                    _rest_after(m, slots, k, rest, made=breaks, literals=literals) for k in between
                ]
                m.add_guarded(m.model.add(worked - 1 <= cp_model.LinearExpr.sum(rests)), literals)


def _may_be_one_duty(slots: list[Slot], i: int, j: int, rest: dt.timedelta) -> bool:
    """Whether sessions ``i`` and ``j`` can fall in one duty: directly less than ``rest``
    apart, or through sessions between them each starting less than ``rest`` after one
    before it ends (the chain a person would work)."""
    first, last = slots[i][0], slots[j][0]
    ends = [first.end]
    for k in range(i + 1, j):
        middle = slots[k][0]
        if middle.start < first.end or middle.end > last.start:
            continue  # overlaps one of the pair: never worked with both
        if any(end <= middle.start < end + rest for end in ends):
            ends.append(middle.end)
    return any(end <= last.start < end + rest for end in ends)


def _rest_after(
    m: RotaModel,
    slots: list[Slot],
    index: int,
    rest: dt.timedelta,
    *,
    made: dict[int, cp_model.IntVar],
    literals: list,
) -> cp_model.IntVar:
    """A boolean: the session ``index`` is worked and no session starts in the rest after it."""
    if index in made:
        return made[index]
    shift, keys = slots[index]
    var = m.model.new_bool_var(f"rest_{keys[0][0]}_{shift.date:%Y%m%d}_{shift.session_id}")
    made[index] = var
    m.model.add(var <= m.count(keys))
    for later, later_keys in slots[index + 1 :]:
        if later.start >= shift.end + rest:
            break
        if later.start >= shift.end:
            m.add_guarded(m.model.add(var + m.count(later_keys) <= 1), literals)
    return var


def _duty_guard(m: RotaModel, person: Staff, cap: dt.timedelta) -> list:
    """The guard of a person's duty limit: their staff row when they override it, else the
    network's rule."""
    hours = cap.total_seconds() / 3600
    text = f"{person.staff_id}: duties of at most {hours:g} h"
    if person.max_duty_hours is not None:
        return m.guard("rest", STAFF, person.row, "max_duty_hours", text)
    column = "rules.max_duty_hours" if m.bundle.rules.max_duty_hours else "rules.min_rest_hours"
    return m.guard("rest", NETWORK, 1, column, text)


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
    """At no moment more people at a site than its rooms, nor in a building than the
    building's rooms (its sites share them)."""
    groups = [
        (
            frozenset({site.site_id}),
            site.rooms,
            (SITES, site.row, f"{site.site_id} has {site.rooms} rooms"),
        )
        for site in m.bundle.sites
        if site.rooms > 0
    ]
    for building in m.bundle.buildings:
        if building.rooms > 0:
            members = m.bundle.sites_in(building.building)
            text = f"building {building.building} has {building.rooms} rooms"
            groups.append((members, building.rooms, (BUILDINGS, building.row, text)))
    if not groups:
        return  # nothing limits rooms
    by_site: dict[str, dict[tuple[dt.date, str], list[Key]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for key in m.x:
        by_site[key[3]][(key[1], key[2])].append(key)
    for members, rooms, (file, row, text) in groups:
        slots: dict[tuple[dt.date, str], list[Key]] = defaultdict(list)
        for site_id in sorted(members):
            for slot, keys in by_site.get(site_id, {}).items():
                slots[slot].extend(keys)
        crowds = _crowds(m, slots, rooms)
        if crowds:
            literals = m.guard("rooms", file, row, "rooms", text)
            for keys in crowds:
                m.add_guarded(m.model.add(m.count(keys) <= rooms), literals)


def _crowds(
    m: RotaModel, slots: dict[tuple[dt.date, str], list[Key]], rooms: int
) -> list[list[Key]]:
    """The options worked at each moment a session starts, where they could exceed ``rooms``.

    The most people at once is reached as some session starts, so those moments suffice;
    with sessions that do not overlap this is one group per session, as before v2.
    """
    timed = sorted(
        ((m.horizon.shifts[slot], keys) for slot, keys in slots.items()), key=lambda s: s[0].start
    )
    starts = [shift.start for shift, _ in timed]
    seen: set[frozenset[Key]] = set()
    crowds = []
    for shift, _ in timed:
        moment = shift.start
        first = bisect.bisect_left(starts, moment - dt.timedelta(days=2))
        present = [
            key
            for other, keys in timed[first : bisect.bisect_right(starts, moment)]
            if other.end > moment
            for key in keys
        ]
        group = frozenset(present)
        if len(present) > rooms and group not in seen:
            seen.add(group)
            crowds.append(present)
    return crowds


def require_days_off(m: RotaModel) -> None:
    """In each ISO week, at least the person's ``min_days_off_per_week`` dates without work at
    any moment (a night ending in the morning makes that date a working day too)."""
    dates = set(m.horizon.dates)
    for person in m.horizon.staff:
        needed = person.days_off_per_week(m.bundle.rules)
        if needed <= 0:
            continue
        touching: dict[dt.date, list[Key]] = defaultdict(list)
        for shift, keys in _slots_of(m, person.staff_id):
            for day in m.horizon.dates_touched(shift):
                if day in dates:
                    touching[day].extend(keys)
        literals: list | None = None
        for week in m.horizon.weeks:
            most = len(DAY_NAMES) - needed
            days = [day for day in week if touching.get(day)]
            if len(days) <= most:
                continue  # too few dates with any option to break the rule
            if literals is None:
                literals = _days_off_guard(m, person, needed)
            busy = [_busy(m, person.staff_id, day, touching[day]) for day in days]
            m.add_guarded(m.model.add(cp_model.LinearExpr.sum(busy) <= most), literals)


def _busy(m: RotaModel, staff_id: str, day: dt.date, keys: list[Key]) -> cp_model.IntVar:
    """A boolean at least as true as any of these options (those touching the date)."""
    if all(k[1] == day for k in keys):
        works = m.works(staff_id, day)
        if works is not None:
            return works
    var = m.model.new_bool_var(f"busy_{staff_id}_{day:%Y%m%d}")
    for key in keys:
        m.model.add_implication(m.x[key], var)
    return var


def _days_off_guard(m: RotaModel, person: Staff, needed: int) -> list:
    text = f"{person.staff_id}: {needed} days off a week"
    if person.min_days_off_per_week is not None:
        return m.guard("days_off", STAFF, person.row, "min_days_off_per_week", text)
    return m.guard("days_off", NETWORK, 1, "rules.min_days_off_per_week", text)


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
