"""Helpers of the validator tests: a week's check and the rule ids it reports."""

from __future__ import annotations

import datetime as dt

from scheduler.checks.validator import ValidationReport, check_rota
from scheduler.domain import (
    Assignment,
    Bundle,
    SessionKind,
)
from tests.factories import (
    WEEK,
    make_session,
    make_site,
)

TUE = "2026-12-01"
PM = make_session("PM", "13:30", "18:00")
EVE = make_session("EVE", "18:30", "20:00", kind=SessionKind.EXTENDED)
SAT = make_session("SAT", "09:00", "17:00", days="Sat", kind=SessionKind.EXTENDED)
NIGHT = make_session("NIGHT", "22:00", "06:00", days="Mon-Sun")


def check(bundle: Bundle, *rota: Assignment, dates: tuple[dt.date, ...] = WEEK) -> ValidationReport:
    """Validate a rota over 2026-W49 unless told otherwise."""
    return check_rota(bundle, dates, rota)


def rule_ids(report: ValidationReport) -> list[str]:
    """The rule ids a report names, in order."""
    return [v.rule_id for v in report.violations]


def only(report: ValidationReport, rule_id: str) -> str:
    """The single violation's message, after checking it is the only one and of this rule."""
    assert rule_ids(report) == [rule_id]
    return report.violations[0].message


def week_of(day: dt.date) -> tuple[dt.date, ...]:
    """The ISO week containing a date."""
    monday = day - dt.timedelta(days=day.weekday())
    return tuple(monday + dt.timedelta(days=i) for i in range(7))


def two_sites(**site_two: object) -> list:
    """P01 and P02, the second with the given overrides."""
    return [make_site(), make_site(site_id="P02", name="Hill Surgery", **site_two)]
