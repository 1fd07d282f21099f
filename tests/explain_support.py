"""Small networks for the explanation tests: a week, a few sites, one need, helpers to ask why."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from scheduler.checks.explain import ShortfallNote, explain_shortfalls
from scheduler.domain import (
    Assignment,
    Bundle,
    DayRule,
    DemandRow,
    Fixed,
    Leave,
    Preference,
    Rules,
    SessionKind,
    SessionType,
    Site,
    SiteKind,
    Staff,
    Travel,
    Weights,
    parse_iso_week,
)
from scheduler.horizon import Horizon, Need

WEEK = parse_iso_week("2026-W49")
MON, TUE, WED, THU, FRI, SAT, SUN = WEEK
WEEKDAYS = frozenset(range(5))

AM = SessionType("AM", "Morning", dt.time(8), dt.time(12, 30), WEEKDAYS, SessionKind.CORE)
PM = SessionType("PM", "Afternoon", dt.time(13, 30), dt.time(18, 30), WEEKDAYS, SessionKind.CORE)
EVE = SessionType("EVE", "Evening", dt.time(18, 30), dt.time(20), WEEKDAYS, SessionKind.EXTENDED)
SATURDAY = SessionType(
    "SAT", "Saturday", dt.time(9), dt.time(17), frozenset({5}), SessionKind.EXTENDED
)


# --------------------------------------------------------------------------- factories


def make_site(site_id: str, rooms: int = 0) -> Site:
    kind = SiteKind.HUB if site_id == "HUB" else SiteKind.PRACTICE
    return Site(site_id, f"Site {site_id}", kind, 0 if kind is SiteKind.HUB else 7000, rooms)


def make_staff(staff_id: str = "S1", role: str = "PN", **overrides: Any) -> Staff:
    """A full-time PN with cytology at P01 who may work anywhere; no evenings or weekends."""
    base = Staff(
        staff_id,
        f"Person {staff_id}",
        role,
        "P01",
        "P01",
        37.5,
        0.0,
        37.5,
        skills=frozenset({"cytology"}),
    )
    return replace(base, **overrides)


def make_row(
    site_id: str = "P03",
    day: dt.date = TUE,
    session_id: str = "PM",
    role: str | None = "PN",
    skill: str | None = "cytology",
    *,
    minimum: int = 2,
    row: int = 2,
) -> DemandRow:
    rule = DayRule(weekdays=frozenset({day.weekday()}))
    return DemandRow(site_id, rule, session_id, role, skill, minimum, minimum, row=row)


def make_horizon(
    staff: tuple[Staff, ...],
    demand: tuple[DemandRow, ...] = (),
    *,
    leave: tuple[Leave, ...] = (),
    preferences: tuple[Preference, ...] = (),
    travel: tuple[Travel, ...] = (),
    rules: Rules | None = None,
    rooms: int = 0,
    fixed: tuple[Fixed, ...] = (),
) -> Horizon:
    bundle = Bundle(
        name="Test network",
        timezone="Europe/London",
        rules=rules or Rules(),
        weights=Weights(),
        sites=(make_site("P01"), make_site("P03", rooms), make_site("HUB")),
        session_types=(AM, PM, EVE, SATURDAY),
        staff=staff,
        demand=demand or (make_row(),),
        leave=leave,
        preferences=preferences,
        travel=travel,
        fixed=fixed,
    )
    return Horizon(bundle, WEEK)


def at(day: dt.date, session_id: str, site_id: str, staff_id: str = "S1") -> Assignment:
    return Assignment(day, session_id, site_id, staff_id)


def short_need(
    horizon: Horizon, assignments: tuple[Assignment, ...], need: Need
) -> tuple[Need, int, int]:
    """(need, assigned, short) the way the caller counts them: fitting people in the slot."""
    slot = (need.date, need.session_id, need.site_id)
    assigned = sum(
        1
        for a in assignments
        if (a.date, a.session_id, a.site_id) == slot
        and need.admits(horizon.bundle.person(a.staff_id))
    )
    return need, assigned, need.demand.min - assigned


def explain_all(horizon: Horizon, assignments: tuple[Assignment, ...] = ()) -> list[ShortfallNote]:
    shorts = [short_need(horizon, assignments, n) for n in horizon.needs]
    return explain_shortfalls(horizon, assignments, [s for s in shorts if s[2] > 0])


def only_note(horizon: Horizon, assignments: tuple[Assignment, ...] = ()) -> ShortfallNote:
    (note,) = explain_all(horizon, assignments)
    return note


FREE_ONE = "could cover it but is needed elsewhere or was left for other goals"


def reasons_of(horizon: Horizon, assignments: tuple[Assignment, ...] = ()) -> tuple[str, ...]:
    return only_note(horizon, assignments).reasons
