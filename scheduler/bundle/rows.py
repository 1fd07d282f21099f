"""One converter per bundle file: a raw row, read cell by cell, becomes a domain record.

Each converter reads its row through a ``RowReader`` and returns the record,
or None when a cell was wrong (the problem is already recorded).  Checks
within a row (min <= target, a site that exists) live here too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from scheduler.bundle.cells import (
    STANDARD_ROLES,
    CellError,
    bounded,
    choice,
    count,
    describe_days,
    non_negative,
    parse_date,
    parse_day_rule,
    parse_email,
    parse_id,
    parse_site_id,
    parse_skills,
    parse_text,
    parse_time,
    parse_weekdays,
    parse_weight,
    parse_yes_no,
)
from scheduler.bundle.specs import Context, RowReader
from scheduler.domain import (
    FEDERATION,
    SESSION_TYPES,
    Building,
    DayRule,
    DemandRow,
    Fixed,
    ForbiddenSequence,
    Leave,
    LeaveKind,
    Preference,
    PreferenceKind,
    SessionKind,
    SessionLimit,
    SessionType,
    Site,
    SiteKind,
    Staff,
    Travel,
)

MAX_DUTY_HOURS = 48  # a duty longer than two days is a typo, not a rota

# -- row converters, one per file ---------------------------------------------------------


def site_from(r: RowReader) -> Site:
    """A sites.csv row; lat and lon come as a pair or not at all."""
    lat = r.get("lat", bounded(90, "latitude", "52.04"), None)
    lon = r.get("lon", bounded(180, "longitude", "1.01"), None)
    has_lat, has_lon = bool(r.row.cells.get("lat")), bool(r.row.cells.get("lon"))
    if has_lat != has_lon:
        missing = "lon" if has_lat else "lat"
        r.error(missing, "is blank but the other coordinate is given; give both or neither")
    return Site(
        site_id=r.get("site_id", parse_site_id, ""),
        name=r.get("name", parse_text, ""),
        kind=r.get("kind", choice(SiteKind, "site kind"), SiteKind.PRACTICE),
        list_size=r.get("list_size", count("patients", "8000"), 0),
        rooms=r.get("rooms", count("rooms", "4 (0 = no limit)"), 0),
        lat=lat,
        lon=lon,
        building=r.get("building", r.ctx.building, None),
        organisation=r.get("organisation", parse_id, None),
        bank_holidays=r.get("bank_holidays", open_or_closed, None),
        row=r.line,
    )


def open_or_closed(text: str) -> str:
    """Whether a site works on bank holidays."""
    if text not in ("open", "closed"):
        raise CellError(
            f"'{text}' is not allowed; write open (a 365-day service) or closed (or leave it "
            "blank for the network's [calendar] bank_holidays)"
        )
    return text


def building_from(r: RowReader) -> Building:
    """A buildings.csv row: the consulting rooms its sites share."""
    return Building(
        building=r.get("building", parse_id, ""),
        rooms=r.get("rooms", count("rooms", "10 (0 = no limit)"), 0),
        row=r.line,
    )


def session_type_from(r: RowReader) -> SessionType:
    """A session_types.csv row; equal start and end make a 24-hour session (format v2)."""
    session = SessionType(
        session_id=r.get("session_id", parse_id, ""),
        label=r.get("label", parse_text, ""),
        start=r.get("start", parse_time, dt.time(0)),
        end=r.get("end", parse_time, dt.time(0)),
        days=r.get("days", parse_weekdays, frozenset()),
        kind=r.get("kind", choice(SessionKind, "session kind"), SessionKind.CORE),
        row=r.line,
    )
    if r.valid("start", "end") and session.start == session.end:
        r.warn(
            "end",
            f"equals start ({session.start:%H:%M}): a 24-hour session, which only people "
            "whose max_duty_hours is 24 or more can work; an end before start means overnight",
        )
    return session


def staff_from(r: RowReader) -> Staff:
    """A staff.csv row: defaults (min 0, max = contract, sites = home) and hour bounds."""
    ctx = r.ctx
    home = r.get("home_site", ctx.site, "")
    contract = r.get("contract_hours", non_negative("37.5"), 0.0)
    bank = r.get("bank", parse_yes_no, False)
    min_hours = r.get("min_hours", non_negative("20"), 0.0)
    # Bank staff have no contracted week: unless capped, they may work the network's maximum.
    usual_max = ctx.rules.max_week_hours if bank else contract
    max_hours = r.get("max_hours", non_negative("37.5"), usual_max)
    check_staff_hours(r, min_hours, max_hours)
    home_only: frozenset[str] | None = frozenset({home})
    role = r.get("role", parse_text, "")
    if role and role not in ctx.known.roles:
        r.warn(
            "role",
            f"'{role}' is not a standard role ({', '.join(sorted(STANDARD_ROLES))}) "
            "nor named in demand.csv, so this person only fills rows with a blank role",
        )
    return Staff(
        staff_id=r.get("staff_id", parse_id, ""),
        name=r.get("name", parse_text, ""),
        role=role,
        home_site=home,
        employer=r.get("employer", employer_parser(ctx), ""),
        contract_hours=contract,
        min_hours=min_hours,
        max_hours=max_hours,
        skills=r.get("skills", parse_skills, frozenset()),
        sites=r.get("sites", sites_parser(ctx), home_only),
        max_sessions_per_day=r.get("max_sessions_per_day", count("sessions", "2", 1), None),
        max_duty_hours=r.get("max_duty_hours", duty_hours, None),
        min_days_off_per_week=r.get("min_days_off_per_week", count("days", "1", 0, 7), None),
        max_evenings=r.get("max_evenings", count("evening sessions", "1"), 0),
        max_weekend_sessions=r.get("max_weekend_sessions", count("weekend sessions", "1"), 0),
        hourly_rate=r.get("hourly_rate", non_negative("85"), None),
        email=r.get("email", parse_email, None),
        bank=bank,
        **horizon_rules(r),
        row=r.line,
    )


def duty_hours(text: str) -> float:
    """The longest duty in hours: above 0, and no longer than two days."""
    hours = non_negative("13")(text)
    if not 0 < hours <= MAX_DUTY_HOURS:
        raise CellError(
            f"{text} hours is not a possible duty; write hours above 0 and at most "
            f"{MAX_DUTY_HOURS}, e.g. 13"
        )
    return hours


def horizon_rules(r: RowReader) -> dict[str, Any]:
    """The optional horizon-rule columns of a staff row; blank means no limit."""
    rules: dict[str, Any] = {
        "max_consecutive_days": r.get("max_consecutive_days", count("days", "5", 1), None),
        "min_consecutive_days": r.get("min_consecutive_days", count("days", "2", 1), None),
        "min_days_off_in_row": r.get("min_days_off_in_row", count("days", "2", 1), None),
        "max_weekends": r.get("max_weekends", count("weekends", "2"), None),
        "min_horizon_hours": r.get("min_horizon_hours", non_negative("120"), None),
        "max_horizon_hours": r.get("max_horizon_hours", non_negative("150"), None),
    }
    low, high = rules["min_horizon_hours"], rules["max_horizon_hours"]
    if low is not None and high is not None and low > high:
        r.error(
            "min_horizon_hours",
            f"{low:g} is above max_horizon_hours {high:g}; lower one or raise the other",
        )
    low, high = rules["min_consecutive_days"], rules["max_consecutive_days"]
    if low is not None and high is not None and low > high:
        r.error(
            "min_consecutive_days",
            f"{low} is above max_consecutive_days {high}; lower one or raise the other",
        )
    return rules


def check_staff_hours(r: RowReader, min_hours: float, max_hours: float) -> None:
    """Hour bounds that can never be met are errors; a cap above the network's is a warning."""
    cap = r.ctx.rules.max_week_hours
    if not r.valid("contract_hours", "min_hours", "max_hours"):
        return
    if min_hours > max_hours:
        r.error(
            "min_hours",
            f"{min_hours:g} is above max_hours {max_hours:g}; lower min_hours or raise max_hours",
        )
    elif min_hours > cap:
        r.error(
            "min_hours",
            f"{min_hours:g} is above the network's max_week_hours {cap:g}, "
            "so it can never be met; lower it",
        )
    elif max_hours > cap:
        r.warn(
            "max_hours",
            f"{max_hours:g} is above the network's max_week_hours {cap:g}; the network cap applies",
        )


def employer_parser(ctx: Context) -> Callable[[str], str]:
    """The employer: a practice (site id), an organisation named in sites.csv, or ``FED``."""
    site = ctx.site

    def parse(text: str) -> str:
        if text == FEDERATION or text in ctx.known.organisations:
            return text
        try:
            return site(text)
        except CellError as err:
            organisations = ""
            if ctx.known.organisations:
                named = ", ".join(sorted(ctx.known.organisations))
                organisations = f", an organisation of sites.csv ({named})"
            raise CellError(
                f"{err}{organisations} (or write {FEDERATION} for the federation)"
            ) from None

    return parse


def sites_parser(ctx: Context) -> Callable[[str], frozenset[str] | None]:
    """Where a person may work: ``*`` for anywhere (None), else a ``;``-list of site ids."""
    site = ctx.site

    def parse(text: str) -> frozenset[str] | None:
        if text == "*":
            return None
        ids = parse_skills(text)
        for site_id in sorted(ids):
            site(site_id)
        if not ids:
            raise CellError(f"'{text}' names no site; write site ids such as P01;HUB1, or *")
        return ids

    return parse


def demand_from(r: RowReader) -> DemandRow:
    """A demand.csv row: target at least min, and the session must run on the day."""
    ctx = r.ctx
    people = count("people", "2")
    demand = DemandRow(
        site_id=r.get("site_id", ctx.site, ""),
        day=r.get("day", parse_day_rule, DayRule()),
        session_id=r.get("session_id", ctx.session, ""),
        role=r.get("role", parse_text, None),
        skill=r.get("skill", parse_text, None),
        min=r.get("min", people, 0),
        target=r.get("target", people, 0),
        weight=r.get("weight", parse_weight, 1.0),
        row=r.line,
    )
    if r.valid("min", "target") and demand.target < demand.min:
        r.error(
            "target",
            f"{demand.target} is below min {demand.min}; "
            "target must be at least min (raise target or lower min)",
        )
    if r.valid("day", "session_id"):
        check_runs_on(r, "day", demand.session_id, day_rule_weekdays(demand.day))
    return demand


def day_rule_weekdays(rule: DayRule) -> frozenset[int]:
    """The weekdays a day rule touches."""
    return frozenset({rule.date.weekday()}) if rule.date else rule.weekdays


def check_runs_on(r: RowReader, column: str, session_id: str, days: frozenset[int]) -> None:
    """A row for a session on a day it does not run would never apply."""
    session = r.ctx.sessions.get(session_id)
    if session is None or days <= session.days:
        return
    missing = describe_days(days - session.days)
    label = r.ctx.known.labels.get(SESSION_TYPES, SESSION_TYPES)
    r.error(
        column,
        f"session '{session_id}' does not run on {missing} "
        f"(it runs {describe_days(session.days)}); fix the day, or the session's days "
        f"in {label}",
    )


def leave_from(r: RowReader) -> Leave:
    """A leave.csv row; the end date is inclusive and may not come before the start."""
    ctx = r.ctx
    leave = Leave(
        staff_id=r.get("staff_id", ctx.person, ""),
        start=r.get("start", parse_date, dt.date.min),
        end=r.get("end", parse_date, dt.date.min),
        kind=r.get("kind", choice(LeaveKind, "leave kind"), LeaveKind.OTHER),
        session_id=r.get("session_id", ctx.session, None),
        row=r.line,
    )
    if r.valid("start", "end") and leave.end < leave.start:
        r.error(
            "end",
            f"{leave.end} is before start {leave.start}; "
            "leave runs from start to end inclusive, so swap them",
        )
    return leave


def preference_from(r: RowReader) -> Preference:
    """A preferences.csv row."""
    ctx = r.ctx
    return Preference(
        staff_id=r.get("staff_id", ctx.person, ""),
        day=r.get("day", parse_day_rule, DayRule()),
        session_id=r.get("session_id", ctx.session, None),
        site_id=r.get("site_id", ctx.site, None),
        preference=r.get("preference", choice(PreferenceKind, "preference"), PreferenceKind.AVOID),
        weight=r.get("weight", parse_weight, 1.0),
        row=r.line,
    )


def fixed_from(r: RowReader) -> Fixed:
    """A fixed.csv row: a real date on which the session runs."""
    ctx = r.ctx
    fixed = Fixed(
        staff_id=r.get("staff_id", ctx.person, ""),
        date=r.get("date", parse_date, dt.date.min),
        session_id=r.get("session_id", ctx.session, ""),
        site_id=r.get("site_id", ctx.site, ""),
        row=r.line,
    )
    if r.valid("date", "session_id"):
        check_runs_on(r, "date", fixed.session_id, frozenset({fixed.date.weekday()}))
    return fixed


def travel_from(r: RowReader) -> Travel:
    """A travel.csv row."""
    ctx = r.ctx
    return Travel(
        from_site=r.get("from_site", ctx.site, ""),
        to_site=r.get("to_site", ctx.site, ""),
        minutes=r.get("minutes", count("minutes", "15"), 0),
        row=r.line,
    )


def forbidden_sequence_from(r: RowReader) -> ForbiddenSequence:
    """A forbidden_sequences.csv row: ``session_id`` may not be followed next day by the other."""
    ctx = r.ctx
    return ForbiddenSequence(
        session_id=r.get("session_id", ctx.session, ""),
        next_day_session_id=r.get("next_day_session_id", ctx.session, ""),
        row=r.line,
    )


def session_limit_from(r: RowReader) -> SessionLimit:
    """A session_limits.csv row: at most so many sessions of a type over the horizon."""
    ctx = r.ctx
    return SessionLimit(
        staff_id=r.get("staff_id", ctx.person, ""),
        session_id=r.get("session_id", ctx.session, ""),
        max_sessions=r.get("max_sessions", count("sessions", "4"), 0),
        row=r.line,
    )
