"""Factories for domain objects with sensible defaults, so each test states only what matters.

Times may be given as ``"08:00"``, days as ``"Mon-Fri"`` / ``"Tue;Thu"`` or a
date, and site lists as ``"P01;P02"`` or ``"*"``.  ``make_bundle`` numbers
records that leave ``row`` at 0 as a spreadsheet would (header = 1), so
messages name real-looking rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from scheduler.domain import (
    DAY_NAMES,
    Assignment,
    Bundle,
    DayRule,
    DemandRow,
    Fixed,
    Leave,
    LeaveKind,
    Preference,
    PreferenceKind,
    Rules,
    SessionKind,
    SessionType,
    Site,
    SiteKind,
    Staff,
    Travel,
    Weights,
)

# ISO week 2026-W49: Monday 2026-11-30 to Sunday 2026-12-06.
MONDAY = dt.date(2026, 11, 30)
WEEK = tuple(MONDAY + dt.timedelta(days=i) for i in range(7))

Record = TypeVar("Record")


def as_time(value: str | dt.time) -> dt.time:
    """Accept ``"08:00"`` so tests read like the bundle files."""
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(value)


def as_date(value: str | dt.date) -> dt.date:
    """Accept ``"2026-12-01"`` so tests read like the bundle files."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def weekdays(text: str) -> frozenset[int]:
    """Parse ``Mon-Fri``, ``Sat`` or ``Tue;Thu`` into weekday numbers (0 = Monday)."""
    out: set[int] = set()
    for part in text.replace(",", ";").split(";"):
        first, _, last = part.strip().partition("-")
        lo = DAY_NAMES.index(first)
        hi = DAY_NAMES.index(last) if last else lo
        out.update(range(lo, hi + 1))
    return frozenset(out)


def day_rule(value: str | dt.date | DayRule) -> DayRule:
    """A weekday text, an ISO date text or a date, as the bundle's DayRule."""
    if isinstance(value, DayRule):
        return value
    if isinstance(value, dt.date):
        return DayRule(date=value)
    if value[:1].isdigit():
        return DayRule(date=dt.date.fromisoformat(value))
    return DayRule(weekdays=weekdays(value))


def site_set(value: str | Iterable[str] | None) -> frozenset[str] | None:
    """``"*"`` or None = any site; otherwise a ``;``-separated text or an iterable."""
    if value is None or value == "*":
        return None
    items = value.split(";") if isinstance(value, str) else value
    return frozenset(s.strip() for s in items if s.strip())


def make_site(**overrides: Any) -> Site:
    """A practice with no room limit and no coordinates."""
    fields: dict[str, Any] = {
        "site_id": "P01",
        "name": "Riverside Surgery",
        "kind": SiteKind.PRACTICE,
        "list_size": 8000,
        "rooms": 0,
    }
    fields.update(overrides)
    return Site(**fields)


def make_session(
    session_id: str = "AM",
    start: str | dt.time = "08:00",
    end: str | dt.time = "12:30",
    days: str | Iterable[int] = "Mon-Fri",
    kind: SessionKind | str = SessionKind.CORE,
    **overrides: Any,
) -> SessionType:
    """A weekday morning surgery unless told otherwise."""
    return SessionType(
        session_id=session_id,
        label=overrides.pop("label", session_id),
        start=as_time(start),
        end=as_time(end),
        days=weekdays(days) if isinstance(days, str) else frozenset(days),
        kind=SessionKind(kind),
        **overrides,
    )


def make_staff(role: str = "GP", **overrides: Any) -> Staff:
    """A full-time clinician at P01; max_hours follows contract_hours and sites the home site."""
    contract = overrides.pop("contract_hours", 37.5)
    home = overrides.pop("home_site", "P01")
    fields: dict[str, Any] = {
        "staff_id": "S0001",
        "name": "Ann Example",
        "role": role,
        "home_site": home,
        "employer": home,
        "contract_hours": contract,
        "min_hours": 0.0,
        "max_hours": contract,
        "sites": frozenset({home}),
    }
    if "sites" in overrides:
        overrides["sites"] = site_set(overrides["sites"])
    if "skills" in overrides and isinstance(overrides["skills"], str):
        overrides["skills"] = frozenset(s for s in overrides["skills"].split(";") if s)
    fields.update(overrides)
    return Staff(**fields)


def make_demand(
    site_id: str = "P01",
    day: str | dt.date | DayRule = "Mon-Fri",
    session_id: str = "AM",
    *,
    role: str | None = None,
    skill: str | None = None,
    min: int = 1,  # the bundle's own column name
    target: int | None = None,
    **overrides: Any,
) -> DemandRow:
    """One person of any role at P01 every weekday morning; target defaults to min."""
    return DemandRow(
        site_id=site_id,
        day=day_rule(day),
        session_id=session_id,
        role=role,
        skill=skill,
        min=min,
        target=min if target is None else target,
        **overrides,
    )


def make_leave(
    staff_id: str = "S0001",
    start: str | dt.date = "2026-12-01",
    end: str | dt.date | None = None,
    kind: LeaveKind | str = LeaveKind.ANNUAL,
    session_id: str | None = None,
    **overrides: Any,
) -> Leave:
    """Whole-day annual leave on one date unless told otherwise."""
    first = as_date(start)
    return Leave(
        staff_id=staff_id,
        start=first,
        end=first if end is None else as_date(end),
        kind=LeaveKind(kind),
        session_id=session_id,
        **overrides,
    )


def make_preference(
    staff_id: str = "S0001",
    day: str | dt.date | DayRule = "Tue",
    session_id: str | None = None,
    site_id: str | None = None,
    preference: PreferenceKind | str = PreferenceKind.UNAVAILABLE,
    **overrides: Any,
) -> Preference:
    """An ``unavailable`` row for a whole weekday unless told otherwise."""
    return Preference(
        staff_id=staff_id,
        day=day_rule(day),
        session_id=session_id,
        site_id=site_id,
        preference=PreferenceKind(preference),
        **overrides,
    )


def make_fixed(
    staff_id: str = "S0001",
    date: str | dt.date = "2026-12-01",
    session_id: str = "AM",
    site_id: str = "P01",
    **overrides: Any,
) -> Fixed:
    """A pinned session on Tuesday of 2026-W49 unless told otherwise."""
    return Fixed(staff_id, as_date(date), session_id, site_id, **overrides)


def make_travel(from_site: str = "P01", to_site: str = "P02", minutes: int = 15) -> Travel:
    """A travel.csv row."""
    return Travel(from_site, to_site, minutes)


def assign(
    staff_id: str = "S0001",
    date: str | dt.date = "2026-12-01",
    session_id: str = "AM",
    site_id: str = "P01",
) -> Assignment:
    """An assignment in the bundle's column order (staff, date, session, site)."""
    return Assignment(as_date(date), session_id, site_id, staff_id)


def numbered(records: Sequence[Record]) -> tuple[Record, ...]:
    """Give records still at row 0 their spreadsheet row (header = 1)."""
    out = []
    for i, record in enumerate(records, start=2):
        row = getattr(record, "row", 0)
        out.append(dataclasses.replace(cast(Any, record), row=i) if row == 0 else record)
    return tuple(out)


def make_bundle(
    sites: Sequence[Site] | None = None,
    session_types: Sequence[SessionType] | None = None,
    staff: Sequence[Staff] | None = None,
    demand: Sequence[DemandRow] | None = None,
    **overrides: Any,
) -> Bundle:
    """One practice, a weekday AM session, one GP and one need for anyone each weekday AM."""
    fields: dict[str, Any] = {
        "name": "Test Network",
        "timezone": "Europe/London",
        "rules": Rules(),
        "weights": Weights(),
        "sites": numbered(sites if sites is not None else [make_site()]),
        "session_types": numbered(session_types if session_types is not None else [make_session()]),
        "staff": numbered(staff if staff is not None else [make_staff()]),
        "demand": numbered(demand if demand is not None else [make_demand()]),
    }
    for name in ("leave", "preferences", "fixed", "travel"):
        if name in overrides:
            overrides[name] = numbered(overrides[name])
    if isinstance(overrides.get("rules"), dict):
        overrides["rules"] = Rules(**overrides["rules"])
    fields.update(overrides)
    return Bundle(**fields)
