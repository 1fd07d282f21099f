"""The solver's hard rules over the whole horizon: sequences, runs, weekends, hours, limits."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from ortools.sat.python import cp_model

from scheduler.domain import (
    FORBIDDEN_SEQUENCES,
    SESSION_LIMITS,
    STAFF,
    WEEKEND,
)
from solver.hard_rules import INF
from solver.model import Key, RotaModel

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
