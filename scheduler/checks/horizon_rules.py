"""The validator's checks of the rules that span the plan: sequences, runs, horizon hours.

These come from the Curtois-Qu benchmark's contracts and from networks that
plan several weeks at once: forbidden sequences of sessions on consecutive
days, days in a row, minimum runs on and off, weekends worked, hours over
the horizon and sessions of one type."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from scheduler.checks.hard_rules import _leave_seconds
from scheduler.checks.rota_facts import (
    SECONDS_PER_HOUR,
    Finding,
    Rota,
    count_text,
    day_text,
    limit_text,
    seconds_as_hours,
)
from scheduler.domain import (
    FORBIDDEN_SEQUENCES,
    SESSION_LIMITS,
    STAFF,
    WEEKEND,
    Assignment,
    iso_week_label,
)

# -- 10. rules over the whole horizon -------------------------------------------------------


def _worked_dates(ctx: Rota, staff_id: str) -> set[dt.date]:
    """Dates on which a person starts at least one session."""
    return {a.date for a in ctx.by_person.get(staff_id, ())}


def _runs(ctx: Rota, worked: set[dt.date], working: bool) -> list[tuple[int, int]]:
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


def _span(ctx: Rota, run: tuple[int, int]) -> str:
    first, last = ctx.dates[run[0]], ctx.dates[run[1]]
    return day_text(first) if first == last else f"{day_text(first)} to {day_text(last)}"


def forbid_forbidden_sequences(ctx: Rota) -> list[Finding]:
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


def limit_consecutive_days(ctx: Rota) -> list[Finding]:
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


def require_minimum_runs(ctx: Rota) -> list[Finding]:
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
                        f"{ctx.who(person.staff_id)} has a run of {count_text(length, 'day')} of "
                        f"{what} ({_span(ctx, run)}) but needs at least {least} "
                        f"({column}, {ctx.ref(STAFF, person.row)})",
                        tuple(ctx.week_of(person.staff_id, ctx.dates[run[0] - 1 : run[1] + 2])),
                    )
                )
    return found


def limit_weekends_worked(ctx: Rota) -> list[Finding]:
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
                    f"{ctx.who(staff_id)} works {count_text(len(weeks), 'weekend')} "
                    f"({', '.join(weeks)}) but may work at most {person.max_weekends} "
                    f"(max_weekends, {ctx.ref(STAFF, person.row)})",
                    tuple(weekend),
                )
            )
    return found


def keep_horizon_hours(ctx: Rota) -> list[Finding]:
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
                    f"{ctx.who(person.staff_id)} is planned {seconds_as_hours(worked)} hours "
                    "over the plan "
                    f"but may work at most {limit_text(high)} (max_horizon_hours, {ref})",
                    mine,
                )
            )
        leave = _leave_seconds(ctx, person, ctx.dates) if low else 0.0
        if low is not None and worked + leave < low * SECONDS_PER_HOUR - 1e-6:
            found.append(
                (
                    f"{ctx.who(person.staff_id)} is planned {seconds_as_hours(worked)} hours plus "
                    f"{seconds_as_hours(leave)} hours of leave over the plan, under the minimum of "
                    f"{limit_text(low)} (min_horizon_hours, {ref})",
                    mine,
                )
            )
    return found


def limit_sessions_of_a_type(ctx: Rota) -> list[Finding]:
    """Nobody works more sessions of a type than session_limits.csv allows over the plan."""
    found: list[Finding] = []
    for limit in ctx.bundle.session_limits:
        picked = tuple(
            a for a in ctx.by_person.get(limit.staff_id, ()) if a.session_id == limit.session_id
        )
        if len(picked) > limit.max_sessions:
            found.append(
                (
                    f"{ctx.who(limit.staff_id)} works {count_text(len(picked), 'session')} of "
                    f"{limit.session_id} but may work at most {limit.max_sessions} "
                    f"({ctx.ref(SESSION_LIMITS, limit.row)})",
                    picked,
                )
            )
    return found
