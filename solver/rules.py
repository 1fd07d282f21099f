"""Every rule of the rota, one small function each, registered once below.

Hard rules add constraints (switchable per bundle row in explain mode); soft
rules record named penalty terms through ``RotaModel.penalise``.  Each rule
has three names: the function (what it does), a stable id, and the label a
manager reads.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations

from ortools.sat.python import cp_model

from scheduler.domain import (
    DAY_NAMES,
    FIXED,
    FORBIDDEN_SEQUENCES,
    NETWORK,
    PREFERENCES,
    SESSION_LIMITS,
    SITES,
    STAFF,
    WEEKEND,
    AccessSpan,
    DemandRow,
    EnhancedAccess,
    Preference,
    PreferenceKind,
    SessionKind,
    SiteKind,
    Staff,
)
from scheduler.horizon import Need
from solver.model import Guard, Key, RotaModel

INF = cp_model.INT_MAX


@dataclass(frozen=True)
class Rule:
    rule_id: str
    label: str
    apply: Callable[[RotaModel], None]


def _day(key: Key) -> str:
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
        keys = _pref_keys(m, pref)
        message = f"{pref.staff_id} is unavailable"
        _forbid(m, keys, Guard("unavailable", PREFERENCES, pref.row, "preference", message))


def _dates_between(m: RotaModel, first: dt.date, last: dt.date) -> list[dt.date]:
    """The horizon's dates from first to last inclusive."""
    return [d for d in m.horizon.dates if first <= d <= last]


def _pref_keys(m: RotaModel, pref: Preference) -> list[Key]:
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
            keys = _keys_in(m, person.staff_id, week)
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


def _keys_in(m: RotaModel, staff_id: str, days: Iterable[dt.date]) -> list[Key]:
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
            worked = m.minutes_worked(_keys_in(m, person.staff_id, week))
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
            keys = [k for k in _keys_in(m, person.staff_id, days) if counts(k)]
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


# -- rules over the whole horizon (``--weeks N``) --------------------------------


def forbid_sequences(m: RotaModel) -> None:
    """A session listed in forbidden_sequences.csv is never followed next day by its pair."""
    after: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for seq in m.bundle.forbidden_sequences:
        after[seq.session_id].append((seq.next_day_session_id, seq.row))
    if not after:
        return
    banned = {sid: frozenset(nxt for nxt, _ in pairs) for sid, pairs in after.items()}
    for person in m.horizon.staff:
        for day in m.horizon.dates[:-1]:
            _forbid_next_day(m, person.staff_id, day, after, banned)


def _forbid_next_day(
    m: RotaModel,
    staff_id: str,
    day: dt.date,
    after: dict[str, list[tuple[str, int]]],
    banned_after: dict[str, frozenset[str]],
) -> None:
    """One person's forbidden pairs from ``day`` to the next date.

    With one session a date, each set S that some session bans becomes one
    clique: every session of today that bans all of S, plus S tomorrow, at
    most one.  Forbidden sets are usually nested (a later finish bans more of
    tomorrow's early starts), so these cliques are few, and they are tighter
    than the pairs: the linear relaxation sees that a late shift today rules
    out a whole block of tomorrow.  Otherwise each option bans tomorrow's set
    while it is worked.
    """
    tomorrow = m.keys_on(staff_id, day + dt.timedelta(days=1))
    today = [k for k in m.keys_on(staff_id, day) if banned_after.get(k[2])]
    if not tomorrow or not today:
        return
    if m.explain:
        _guarded_pairs(m, today, tomorrow, after)
        return
    if not m.one_session_a_day(staff_id):
        for k in today:
            later = [m.x[k2] for k2 in tomorrow if k2[2] in banned_after[k[2]]]
            if later:
                m.model.add(cp_model.LinearExpr.sum(later) == 0).only_enforce_if(m.x[k])
        return
    by_type: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for k in tomorrow:
        by_type[k[2]].append(m.x[k])
    for banned in {banned_after[k[2]] for k in today}:
        later = [x for session_id in banned for x in by_type.get(session_id, ())]
        if later:
            now = [m.x[k] for k in today if banned <= banned_after[k[2]]]
            m.model.add_at_most_one(now + later)


def _guarded_pairs(
    m: RotaModel, keys: list[Key], tomorrow: list[Key], after: dict[str, list[tuple[str, int]]]
) -> None:
    """Explain mode: each forbidden pair behind the row that forbids it."""
    for k in keys:
        for next_id, row in after[k[2]]:
            for k2 in tomorrow:
                if k2[2] == next_id:
                    literals = m.guard(
                        "sequence",
                        FORBIDDEN_SEQUENCES,
                        row,
                        "next_day_session_id",
                        f"{k[2]} may not be followed by {next_id} the next day",
                    )
                    m.add_guarded(m.model.add(m.x[k] + m.x[k2] <= 1), literals)


def _working_days(m: RotaModel, staff_id: str) -> list[cp_model.IntVar | None]:
    """Per date of the horizon, in order: the person's works-that-day boolean (None = cannot)."""
    return [m.works(staff_id, day) for day in m.horizon.dates]


def limit_consecutive_days(m: RotaModel) -> None:
    """No run of working days longer than ``max_consecutive_days`` (days outside count as off)."""
    for person in m.horizon.staff:
        cap = person.max_consecutive_days
        if cap is None or cap >= len(m.horizon.dates):
            continue
        days = _working_days(m, person.staff_id)
        literals = m.guard(
            "max_consecutive",
            STAFF,
            person.row,
            "max_consecutive_days",
            f"{person.staff_id} works at most {cap} days in a row",
        )
        for start in range(len(days) - cap):
            window = [w for w in days[start : start + cap + 1] if w is not None]
            if len(window) > cap:  # a date that cannot be worked already breaks the run
                m.add_guarded(m.model.add(cp_model.LinearExpr.sum(window) <= cap), literals)


def require_minimum_runs(m: RotaModel) -> None:
    """Runs of working days and of days off reach their minimum length.

    A run touching the first or last date of the horizon is exempt: the days
    beyond it are unknown, so the run may continue there.  Each too-short run
    ``off, on x l, off`` is forbidden by one clause.
    """
    for person in m.horizon.staff:
        days = _working_days(m, person.staff_id)
        if person.min_consecutive_days and person.min_consecutive_days > 1:
            literals = m.guard(
                "min_runs",
                STAFF,
                person.row,
                "min_consecutive_days",
                f"{person.staff_id} works at least {person.min_consecutive_days} days in a row",
            )
            _forbid_short_runs(m, days, person.min_consecutive_days, True, literals)
        if person.min_days_off_in_row and person.min_days_off_in_row > 1:
            literals = m.guard(
                "min_runs",
                STAFF,
                person.row,
                "min_days_off_in_row",
                f"{person.staff_id} has at least {person.min_days_off_in_row} days off in a row",
            )
            _forbid_short_runs(m, days, person.min_days_off_in_row, False, literals)


def _forbid_short_runs(
    m: RotaModel, days: list[cp_model.IntVar | None], least: int, working: bool, literals: list
) -> None:
    """Forbid every inner run of ``working`` days (True) or days off (False) shorter than least.

    A date with no option is a day off for certain, so clauses that it already
    satisfies are dropped and literals it makes false are left out.
    """
    for start in range(1, len(days) - 1):
        for length in range(1, least):
            end = start + length  # the day after the run
            if end >= len(days):
                break
            clause = _run_clause(days, start, end, working)
            if clause is not None:
                m.add_guarded(m.model.add_bool_or(clause), literals)


def _run_clause(
    days: list[cp_model.IntVar | None], start: int, end: int, working: bool
) -> list | None:
    """``not (days[start-1] off-state, days[start:end] run-state, days[end] off-state)``."""
    clause: list = []
    for index in (start - 1, end):  # the days around the run differ from it
        var = days[index]
        if var is None:
            if not working:
                return None  # an edge day that cannot be worked breaks any run of days off
            continue
        clause.append(var if working else var.Not())
    for var in days[start:end]:  # the run itself
        if var is None:
            if working:
                return None  # a date that cannot be worked is not part of a working run
            continue
        clause.append(var.Not() if working else var)
    return clause


def limit_weekends_worked(m: RotaModel) -> None:
    """Weekends with any work (Saturday or Sunday) stay within ``max_weekends``."""
    for person in m.horizon.staff:
        cap = person.max_weekends
        if cap is None:
            continue
        weekends = []
        for week in m.horizon.weeks:
            days = [
                w
                for d in week
                if d.weekday() in WEEKEND
                if (w := m.works(person.staff_id, d)) is not None
            ]
            if len(days) == 1:
                weekends.append(days[0])
            elif days:
                worked = m.model.new_bool_var(f"weekend_{person.staff_id}_{week[0]:%Y%m%d}")
                m.model.add_max_equality(worked, days)
                weekends.append(worked)
        if len(weekends) > cap:
            literals = m.guard(
                "max_weekends",
                STAFF,
                person.row,
                "max_weekends",
                f"{person.staff_id} works at most {cap} weekends",
            )
            m.add_guarded(m.model.add(cp_model.LinearExpr.sum(weekends) <= cap), literals)


def keep_horizon_hours(m: RotaModel) -> None:
    """Planned hours over the horizon within max_horizon_hours, planned+leave above the min."""
    for person in m.horizon.staff:
        keys = m.keys_of(person.staff_id)
        high, low = person.max_horizon_hours, person.min_horizon_hours
        cap = None if high is None else math.floor(high * 60 + 1e-6)
        needed = None
        if low is not None:
            needed = math.ceil(low * 60 - m.horizon.leave_minutes(person) - 1e-6)
            needed = needed if needed > 0 else None
        if cap is None and needed is None:
            continue
        worked = m.minutes_worked(keys)
        if not m.explain:  # one constraint with both bounds: the sum is long on a long horizon
            m.model.add_linear_constraint(worked, needed or 0, cap if cap is not None else INF)
            continue
        if cap is not None:
            literals = m.guard(
                "horizon_hours",
                STAFF,
                person.row,
                "max_horizon_hours",
                f"{person.staff_id} works at most {high:g} h over the horizon",
            )
            m.add_guarded(m.model.add(worked <= cap), literals)
        if needed is not None:
            literals = m.guard(
                "horizon_hours",
                STAFF,
                person.row,
                "min_horizon_hours",
                f"{person.staff_id} works at least {low:g} h over the horizon",
            )
            m.add_guarded(m.model.add(worked >= needed), literals)


def limit_sessions_of_a_type(m: RotaModel) -> None:
    """Nobody works more of a session type over the horizon than session_limits.csv allows."""
    by_type: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for key in m.x:
        by_type[(key[0], key[2])].append(key)
    for limit in m.bundle.session_limits:
        keys = by_type.get((limit.staff_id, limit.session_id), [])
        if len(keys) <= limit.max_sessions:
            continue
        literals = m.guard(
            "session_limit",
            SESSION_LIMITS,
            limit.row,
            "max_sessions",
            f"{limit.staff_id} works at most {limit.max_sessions} {limit.session_id} sessions",
        )
        if limit.max_sessions == 0:
            for k in keys:
                m.add_guarded(m.model.add(m.x[k] == 0), literals)
        else:
            m.add_guarded(m.model.add(m.count(keys) <= limit.max_sessions), literals)


# --------------------------------------------------------------------------- soft


def cover_minimum(m: RotaModel) -> None:
    """Every need gets its ``min`` people; each one short is the costliest penalty there is.

    Row weights are divided by the lightest row's weight, so a person short of
    any ``min`` costs at least ``min_cover``: a row weight orders rows within
    this goal and can never let a lower goal outweigh it.
    """
    lightest = min((n.demand.weight for n in m.horizon.needs), default=1.0)
    _cover(
        m,
        "min_cover",
        "Below minimum",
        lambda r: r.min,
        lambda w: m.bundle.weights.min_cover * w / lightest,
    )


def cover_target(m: RotaModel) -> None:
    """Needs get up to their ``target`` people (row weights scaled so none exceeds the goal's)."""
    heaviest = max((n.demand.weight for n in m.horizon.needs), default=1.0)
    _cover(
        m,
        "target_cover",
        "Below target",
        lambda r: r.target,
        lambda w: m.bundle.weights.target_cover * w / heaviest,
    )


def _cover(
    m: RotaModel,
    rule_id: str,
    label: str,
    wanted: Callable[[DemandRow], int],
    weight_of: Callable[[float], float],
) -> None:
    for need in m.horizon.needs:
        count = wanted(need.demand)
        if count == 0 or not m.matters(weight_of(need.demand.weight)):
            continue
        short = m.model.new_int_var(0, count, f"{rule_id}_{need.index}")
        m.at_least_zero(short, count - cp_model.LinearExpr.sum(m.fills.get(need.index, [])))
        m.penalise(rule_id, label, _need_subject(need), weight_of(need.demand.weight), short)


def _need_subject(need: Need) -> str:
    return f"{need.site_id} {need.date:%a %Y-%m-%d} {need.session_id} row {need.demand.row}"


def deliver_enhanced_access(m: RotaModel) -> None:
    """Extended sessions cover the Network Standard Hours, with a GP, up to the weekly floor.

    Mirrors ``scheduler.reports.ea``: each stretch of a window (between session
    boundaries) with no bookable clinician, and each without a GP, costs
    ``enhanced_access`` per hour; so does each hour below the floor of a whole
    ISO week in the horizon.  Windows on bank holidays are not required (their
    minutes still count).  What no rota could deliver (no option at all,
    minutes beyond every option) adds nothing: it would move no decision.
    """
    access = m.bundle.enhanced_access_settings
    weight = m.bundle.weights.enhanced_access
    if access is None or not m.matters(weight):
        return
    delivered: dict[dt.date, list[tuple[Key, int]]] = defaultdict(list)  # by Monday
    for span, options in _access_options(m, access).items():
        bookable = [o for o in options if access.bookable(m.bundle.person(o[0][0]).role)]
        gps = [o for o in options if m.bundle.person(o[0][0]).role == access.gp_role]
        if span.date not in m.horizon.bank_holidays:
            _cover_span(m, span, bookable, "Window without a bookable clinician", weight)
            _cover_span(m, span, gps, f"Window without a {access.gp_role}", weight)
        monday = span.date - dt.timedelta(days=span.date.weekday())
        delivered[monday] += [(k, span.overlap(start, end)) for k, start, end in bookable]
    population, _ = access.population(m.bundle.sites)
    floor = math.ceil(access.minutes_per_1000_per_week * population / 1000 - 1e-9)
    for week in m.horizon.weeks:
        if len(week) == len(DAY_NAMES):  # a part week cannot be held to a weekly floor
            _reach_floor(m, week[0], delivered.get(week[0], []), floor, weight)


AccessOption = tuple[Key, dt.datetime, dt.datetime]  # an extended option and its real times


def _access_options(m: RotaModel, access: EnhancedAccess) -> dict[AccessSpan, list[AccessOption]]:
    """Each window of the horizon with the extended options overlapping it."""
    spans = {day: access.spans(day, m.horizon.zone) for day in m.horizon.dates}
    found: dict[AccessSpan, list[AccessOption]] = {s: [] for day in spans.values() for s in day}
    for key in m.x:
        shift = m.shift(key)
        if shift.session.kind is not SessionKind.EXTENDED:
            continue
        for day in (key[1], key[1] + dt.timedelta(days=1)):  # an overnight session reaches on
            for span in spans.get(day, []):
                if shift.start < span.end and shift.end > span.start:
                    found[span].append((key, shift.start, shift.end))
    return found


def _cover_span(
    m: RotaModel, span: AccessSpan, options: list[AccessOption], label: str, weight: float
) -> None:
    """A missed-stretch boolean per stretch of the span that some option could cover."""
    cuts = {span.start, span.end}
    cuts |= {t for _, start, end in options for t in (start, end) if span.start < t < span.end}
    bounds = sorted(cuts)
    zone = m.horizon.zone
    for start, end in itertools.pairwise(bounds):
        covering = [m.x[k] for k, s, e in options if s <= start and e >= end]
        if not covering:
            continue
        missed = m.model.new_bool_var(f"ea_missed_{span.date:%Y%m%d}_{start:%H%M}")
        m.model.add_bool_or([*covering, missed])
        for x in covering:  # never counted as missed when covered
            m.model.add_implication(x, missed.Not())
        local = f"{start.astimezone(zone):%H:%M}-{end.astimezone(zone):%H:%M}"
        when = f"{span.date:%a %Y-%m-%d} {local}"
        minutes = (end - start).total_seconds() / 60
        m.penalise("enhanced_access", label, when, weight * minutes / 60, missed)


def _reach_floor(
    m: RotaModel, monday: dt.date, delivered: list[tuple[Key, int]], floor: int, weight: float
) -> None:
    """Minutes below the week's floor, up to what every option together could deliver."""
    goal = min(floor, sum(minutes for _, minutes in delivered))
    if goal <= 0:
        return
    keys, minutes = [k for k, _ in delivered], [n for _, n in delivered]
    done = cp_model.LinearExpr.weighted_sum([m.x[k] for k in keys], minutes)
    short = m.model.new_int_var(0, goal, f"ea_short_{monday:%G-W%V}")
    m.at_least_zero(short, goal - done)
    label = "Below the enhanced-access floor"
    m.penalise("enhanced_access", label, f"{monday:%G-W%V}", weight / 60, short)


def avoid_overstaffing(m: RotaModel) -> None:
    """Nobody is put on a row beyond its ``target`` unless a pin or ``min_hours`` forces it.

    Spare contracted time then shows as spare capacity instead of as extra
    people in a clinic that did not ask for them.
    """
    weight = m.bundle.weights.over_target
    if not m.matters(weight):
        return
    for need in m.horizon.needs:
        fills = m.fills.get(need.index, [])
        if len(fills) <= need.demand.target:
            continue
        over = m.model.new_int_var(0, len(fills), f"over_{need.index}")
        m.at_least_zero(over, cp_model.LinearExpr.sum(fills) - need.demand.target)
        m.penalise("over_target", "Above target", _need_subject(need), weight, over)


def keep_home_site(m: RotaModel) -> None:
    """People stay at their home practice unless moving them buys real cover."""
    weight = m.bundle.weights.away_from_home
    if not m.matters(weight):
        return
    for key, x in m.x.items():
        if key[3] != m.bundle.person(key[0]).home_site:
            m.penalise(
                "away_from_home",
                "Away from home site",
                f"{key[0]} at {key[3]} {_day(key)} {key[2]}",
                weight,
                x,
            )


def share_evenings_fairly(m: RotaModel) -> None:
    """Each further evening a person works costs more than the last, so evenings spread out."""
    _share(m, "fair_evenings", "Evenings shared unevenly", lambda k: m.shift(k).is_evening)


def share_weekends_fairly(m: RotaModel) -> None:
    """Each further weekend session a person works costs more than the last."""
    _share(m, "fair_weekends", "Weekends shared unevenly", lambda k: m.shift(k).is_weekend)


def _share(m: RotaModel, rule_id: str, label: str, counts: Callable[[Key], bool]) -> None:
    weight = m.bundle.weights.fair_share
    if not m.matters(weight):
        return
    for person in m.horizon.staff:
        keys = [k for k in m.keys_of(person.staff_id) if counts(k)]
        total = m.count(keys)
        for k in range(2, len(keys) + 1):
            extra = m.model.new_int_var(0, len(keys), f"{rule_id}_{person.staff_id}_{k}")
            m.at_least_zero(extra, total - (k - 1))
            m.penalise(rule_id, label, f"{person.staff_id} session {k}", weight, extra)


def even_out_hub_duty(m: RotaModel) -> None:
    """Practices take hub duty in line with their list share, counting what they did before.

    ``Bundle.fairness_balance`` is each practice's hub hours beyond its list
    share of the practices' total over the weeks before the horizon (from
    published rotas).  Per practice, ``|balance + its hub hours - share x all
    practices' hub hours|`` costs ``practice_fairness`` per hour (counted in
    whole minutes, the share to the nearest minute), so a practice that did
    more than its share does less now.  Hours count for a person's home
    practice.  Without a balance (no history) the rule adds nothing.
    """
    weight, balance = m.bundle.weights.practice_fairness, m.bundle.fairness_balance
    listed = [s for s in m.bundle.sites if s.kind is SiteKind.PRACTICE and s.list_size > 0]
    if not balance or not m.matters(weight) or not listed:
        return
    duty = _hub_options_by_practice(m)
    everyone = [k for keys in duty.values() for k in keys]
    if not everyone:
        return  # nobody can work at a hub: no rota changes any balance
    # The share's large numbers meet only one whole variable per practice, never the
    # assignment booleans: CP-SAT's presolve chokes on sums of booleans with such coefficients.
    unit = math.gcd(*(s.list_size for s in listed))
    lists, most = sum(s.list_size for s in listed) // unit, m.most_minutes(everyone)
    total = m.model.new_int_var(0, most, "hub_duty_total")
    m.model.add(total == m.minutes_worked(everyone))
    for site in [s for s in m.bundle.sites if s.kind is SiteKind.PRACTICE]:
        own, size = duty.get(site.site_id, []), site.list_size // unit
        fair = m.model.new_int_var(0, most, f"hub_duty_fair_{site.site_id}")
        half = lists // 2  # fair = size / lists x total to the nearest minute: one value fits
        m.model.add_linear_constraint(lists * fair - size * total, -half, lists - 1 - half)
        carried = round(balance.get(site.site_id, 0.0) * 60)
        span = abs(carried) + m.most_minutes(own) + most
        off = m.model.new_int_var(0, span, f"hub_duty_off_{site.site_id}")
        m.model.add_abs_equality(off, carried + m.minutes_worked(own) - fair)
        m.penalise(
            "practice_fairness", "Hub duty away from list share", site.site_id, weight / 60, off
        )


def _hub_options_by_practice(m: RotaModel) -> dict[str, list[Key]]:
    """Options at a hub of people whose home site is a practice, by that practice."""
    kinds = {s.site_id: s.kind for s in m.bundle.sites}
    duty: dict[str, list[Key]] = defaultdict(list)
    for key in m.x:
        if kinds.get(key[3]) is SiteKind.HUB:
            home = m.bundle.person(key[0]).home_site
            if kinds.get(home) is SiteKind.PRACTICE:
                duty[home].append(key)
    return duty


def honour_preferences(m: RotaModel) -> None:
    """``avoid`` costs when worked; ``prefer`` costs when a preferred session is not worked."""
    weight = m.bundle.weights.preference
    if not m.matters(weight):
        return
    for pref in m.bundle.preferences:
        if pref.preference is PreferenceKind.UNAVAILABLE:
            continue
        keys = _pref_keys(m, pref)
        subject = f"{pref.staff_id} ({m.bundle.label(PREFERENCES)}:{pref.row})"
        if pref.preference is PreferenceKind.AVOID:
            for k in keys:
                m.penalise(
                    "preference", "Avoided session worked", subject, weight * pref.weight, m.x[k]
                )
        else:
            _penalise_unmet_prefer(m, pref, keys, subject, weight * pref.weight)


def _penalise_unmet_prefer(
    m: RotaModel, pref: Preference, keys: Iterable[Key], subject: str, coef: float
) -> None:
    """Each preferred session not worked costs; one the person cannot work at all costs too."""
    by_shift: dict[tuple, list[Key]] = defaultdict(list)
    for k in keys:
        by_shift[(k[1], k[2])].append(k)
    if pref.session_id is not None:  # a named session that cannot be given is still unmet
        days = [pref.day.date] if pref.day.date is not None else m.horizon.dates
        for day in days:
            if pref.day.matches(day) and (day, pref.session_id) in m.horizon.shifts:
                by_shift.setdefault((day, pref.session_id), [])
    for shift_keys in by_shift.values():
        if not shift_keys:
            m.penalise("preference", "Preferred session impossible", subject, coef, m.always)
            continue
        missed = m.model.new_bool_var(f"missed_{subject}")
        m.model.add(missed + m.count(shift_keys) >= 1)
        for k in shift_keys:  # and never counted as missed when worked
            m.model.add_implication(m.x[k], missed.Not())
        m.penalise("preference", "Preferred session not worked", subject, coef, missed)


def stay_close_to_contract_hours(m: RotaModel) -> None:
    """Planned plus leave hours stay near contract hours each ISO week (per minute)."""
    per_minute = m.bundle.weights.contract_hours / 60
    if not m.matters(per_minute):
        return
    for person in m.horizon.staff:
        for week in m.horizon.weeks:
            keys = _keys_in(m, person.staff_id, week)
            worked = m.minutes_worked(keys)
            share = person.contract_hours * 60 * len(week) / len(DAY_NAMES)
            target = round(share - m.horizon.leave_minutes(person, week))
            span = sum(m.minutes(k) for k in keys) + abs(target) + 1
            subject = person.staff_id
            if len(m.horizon.weeks) > 1:
                subject += f" {week[0]:%G-W%V}"
            under = m.model.new_int_var(0, span, f"under_{subject}")
            over = m.model.new_int_var(0, span, f"over_{subject}")
            m.at_least_zero(under, target - worked)
            m.at_least_zero(over, worked - target)
            m.penalise("contract_hours", "Under contract hours", subject, per_minute, under)
            m.penalise("contract_hours", "Over contract hours", subject, per_minute, over)


def keep_cost_down(m: RotaModel) -> None:
    """Among otherwise equal rotas, the cheaper staff time wins."""
    weight = m.bundle.weights.cost
    if not m.matters(weight):
        return
    for key, x in m.x.items():
        rate = m.bundle.person(key[0]).hourly_rate or 0.0
        if rate:
            m.penalise("cost", "Staff cost", key[0], weight * rate * m.minutes(key) / 60, x)


HARD_RULES: tuple[Rule, ...] = (
    Rule("eligible", "Not eligible for this session", fill_a_demand_row),
    Rule("overlap", "In two places at once", forbid_two_places_at_once),
    Rule("leave", "On leave", forbid_work_on_leave),
    Rule("unavailable", "Marked unavailable", forbid_unavailable),
    Rule("sessions_per_day", "Too many sessions in a day", limit_sessions_per_day),
    Rule("rest", "Too little rest between days", require_daily_rest),
    Rule("max_hours", "Over weekly hours", cap_weekly_hours),
    Rule("min_hours", "Under minimum hours", meet_minimum_hours),
    Rule("evenings", "Too many evenings", limit_evenings),
    Rule("weekends", "Too many weekend sessions", limit_weekend_sessions),
    Rule("rooms", "More people than rooms", limit_rooms),
    Rule("fixed", "Pinned session missing", keep_fixed_assignments),
    Rule("sequence", "Forbidden sequence of sessions", forbid_sequences),
    Rule("max_consecutive", "Too many days in a row", limit_consecutive_days),
    Rule("min_runs", "Too short a run of days on or off", require_minimum_runs),
    Rule("max_weekends", "Too many weekends worked", limit_weekends_worked),
    Rule("horizon_hours", "Outside hours over the horizon", keep_horizon_hours),
    Rule("session_limit", "Too many sessions of one type", limit_sessions_of_a_type),
)

SOFT_RULES: tuple[Rule, ...] = (
    Rule("min_cover", "Below minimum", cover_minimum),
    Rule("enhanced_access", "Enhanced access not met", deliver_enhanced_access),
    Rule("target_cover", "Below target", cover_target),
    Rule("over_target", "Above target", avoid_overstaffing),
    Rule("away_from_home", "Away from home site", keep_home_site),
    Rule("fair_evenings", "Evenings shared unevenly", share_evenings_fairly),
    Rule("fair_weekends", "Weekends shared unevenly", share_weekends_fairly),
    Rule("practice_fairness", "Hub duty away from list share", even_out_hub_duty),
    Rule("preference", "Preferences not honoured", honour_preferences),
    Rule("contract_hours", "Away from contract hours", stay_close_to_contract_hours),
    Rule("cost", "Staff cost", keep_cost_down),
)


def build(m: RotaModel, *, soft: bool = True) -> RotaModel:
    """Add every registered rule to the model, hard first; soft ones only when optimising."""
    for rule in HARD_RULES:
        rule.apply(m)
    if soft:
        for rule in SOFT_RULES:
            rule.apply(m)
        m.objective()
    return m
