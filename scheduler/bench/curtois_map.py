"""A Curtois-Qu instance in rotapool's own terms, so the product's solver plans it unchanged.

The mapping is one ward as one site; each shift type is a session type (and
a skill, so ``MaxShifts = 0`` means "not qualified"); each cover row is a
dated demand row with ``min = target = Requirement``; requests are
preferences; fixed days off are leave; the contract limits are staff.csv's
horizon columns, ``session_limits.csv`` and ``forbidden_sequences.csv``.
The weights make the product's objective the instance's penalty exactly:
only cover (under and over) and preferences are weighed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from scheduler.bench.curtois_check import Roster
from scheduler.bench.curtois_format import CurtoisInstance
from scheduler.domain import (
    Assignment,
    Bundle,
    DayRule,
    DemandRow,
    ForbiddenSequence,
    Leave,
    LeaveKind,
    Preference,
    PreferenceKind,
    Rules,
    SessionKind,
    SessionLimit,
    SessionType,
    Site,
    SiteKind,
    Staff,
    Weights,
)

START = dt.date(2014, 1, 6)  # a Monday, the start date of the instances' XML form
WARD = "WARD"
ROLE = "NURSE"
DAY_START = dt.time(0, 0)
HOURS_IN_A_WEEK = 168.0


class UnsupportedInstanceError(ValueError):
    """An instance using something the mapping cannot express faithfully."""


def dates_of(instance: CurtoisInstance) -> tuple[dt.date, ...]:
    """The calendar dates of days 0 .. H-1."""
    return tuple(START + dt.timedelta(days=d) for d in range(instance.horizon))


def to_bundle(instance: CurtoisInstance) -> Bundle:
    """The instance as a rotapool bundle whose objective equals the instance's penalty."""
    under, over = _cover_weights(instance)
    return Bundle(
        name=instance.name,
        timezone="UTC",  # the instances know no clock changes
        # Successions come from the instance's lists, not from clock times.
        rules=Rules(min_rest_hours=0.0, max_week_hours=HOURS_IN_A_WEEK, max_sessions_per_day=1),
        weights=Weights(
            min_cover=under,
            target_cover=0,
            over_target=over,
            away_from_home=0,
            fair_share=0,
            preference=1,
            contract_hours=0,
            cost=0,
        ),
        sites=(Site(WARD, instance.name, SiteKind.PRACTICE, list_size=0, rooms=0, row=2),),
        session_types=tuple(_session_types(instance)),
        staff=tuple(_staff(instance)),
        demand=tuple(_demand(instance, under)),
        leave=tuple(_leave(instance)),
        preferences=tuple(_preferences(instance)),
        forbidden_sequences=tuple(
            ForbiddenSequence(s.shift_id, nxt, row=i + 2)
            for i, s in enumerate(instance.shift_types)
            for nxt in sorted(s.forbidden_next)
        ),
        session_limits=tuple(_session_limits(instance)),
        bank_holidays_closed=False,
    )


def _cover_weights(instance: CurtoisInstance) -> tuple[float, float]:
    """The lightest under-cover weight (rows are weighted against it) and the over weight."""
    unders = {c.under_weight for c in instance.cover}
    overs = {c.over_weight for c in instance.cover}
    if len(overs) > 1:
        raise UnsupportedInstanceError(
            f"{instance.name}: over-cover weights differ between rows ({sorted(overs)}); "
            "rotapool weighs over-staffing the same on every row"
        )
    return float(min(unders, default=1)), float(next(iter(overs), 1))


def _session_types(instance: CurtoisInstance) -> Iterable[SessionType]:
    for i, shift in enumerate(instance.shift_types):
        if not 0 < shift.minutes < 24 * 60:
            raise UnsupportedInstanceError(
                f"{instance.name}: shift {shift.shift_id} lasts {shift.minutes} minutes; "
                "a session must be shorter than a day"
            )
        end = dt.datetime.combine(START, DAY_START) + dt.timedelta(minutes=shift.minutes)
        yield SessionType(
            session_id=shift.shift_id,
            label=shift.shift_id,
            start=DAY_START,
            end=end.time(),
            days=frozenset(range(7)),
            kind=SessionKind.CORE,
            row=i + 2,
        )


def _staff(instance: CurtoisInstance) -> Iterable[Staff]:
    for i, e in enumerate(instance.employees):
        yield Staff(
            staff_id=e.employee_id,
            name=e.employee_id,
            role=ROLE,
            home_site=WARD,
            employer=WARD,
            contract_hours=0.0,
            min_hours=0.0,
            max_hours=HOURS_IN_A_WEEK,
            skills=frozenset(t for t, n in e.max_shifts.items() if n > 0),
            sites=frozenset({WARD}),
            max_weekend_sessions=2,
            max_consecutive_days=e.max_consecutive_shifts,
            min_consecutive_days=e.min_consecutive_shifts,
            min_days_off_in_row=e.min_consecutive_days_off,
            max_weekends=e.max_weekends,
            min_horizon_hours=e.min_total_minutes / 60,
            max_horizon_hours=e.max_total_minutes / 60,
            row=i + 2,
        )


def _session_limits(instance: CurtoisInstance) -> Iterable[SessionLimit]:
    """Per-type caps that can bind (0 is expressed as a missing skill instead)."""
    row = 2
    for e in instance.employees:
        for shift_id, cap in e.max_shifts.items():
            if 0 < cap < instance.horizon:
                yield SessionLimit(e.employee_id, shift_id, cap, row=row)
                row += 1


def _demand(instance: CurtoisInstance, lightest: float) -> Iterable[DemandRow]:
    """One dated row per (day, shift); a pair the instance omits wants nobody."""
    dates = dates_of(instance)
    given = {(c.day, c.shift_id): c for c in instance.cover}
    row = 2
    for day in range(instance.horizon):
        for shift in instance.shift_types:
            cover = given.get((day, shift.shift_id))
            wanted = cover.requirement if cover else 0
            weight = cover.under_weight / lightest if cover else 1.0
            yield DemandRow(
                WARD,
                DayRule(date=dates[day]),
                shift.shift_id,
                role=None,
                skill=shift.shift_id,
                min=wanted,
                target=wanted,
                weight=weight,
                row=row,
            )
            row += 1


def _leave(instance: CurtoisInstance) -> Iterable[Leave]:
    dates = dates_of(instance)
    row = 2
    for e in instance.employees:
        for day in sorted(instance.days_off.get(e.employee_id, ())):
            yield Leave(e.employee_id, dates[day], dates[day], LeaveKind.OTHER, row=row)
            row += 1


def _preferences(instance: CurtoisInstance) -> Iterable[Preference]:
    dates = dates_of(instance)
    requests = [(r, PreferenceKind.PREFER) for r in instance.on_requests] + [
        (r, PreferenceKind.AVOID) for r in instance.off_requests
    ]
    for i, (r, kind) in enumerate(requests):
        yield Preference(
            r.employee_id,
            DayRule(date=dates[r.day]),
            r.shift_id,
            WARD,
            kind,
            weight=float(r.weight),
            row=i + 2,
        )


def roster_of(instance: CurtoisInstance, assignments: Iterable[Assignment]) -> Roster:
    """The product's assignments as an instance roster: (employee, day) -> shift."""
    index = {day: i for i, day in enumerate(dates_of(instance))}
    return {(a.staff_id, index[a.date]): a.session_id for a in assignments}
