"""Domain records to table rows and back, one pair of functions per bundle file.

Loading rebuilds records equal (``==``) to the ones saved, row numbers
included, so messages about stored data still point at the row of the file
the manager edited."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from scheduler.domain import (
    HORIZON_RULE_FIELDS,
    AccessWindow,
    Building,
    Bundle,
    DayRule,
    DemandRow,
    EnhancedAccess,
    Fixed,
    ForbiddenSequence,
    JobSettings,
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
from scheduler.storage.models.base import NetworkOwned
from scheduler.storage.models.network import (
    BuildingRecord,
    DemandRecord,
    FixedRecord,
    ForbiddenSequenceRecord,
    LeaveRecord,
    PreferenceRecord,
    SessionLimitRecord,
    SessionTypeRecord,
    SiteRecord,
    StaffRecord,
    TravelRecord,
)

SEPARATOR = ";"


# --- small conversions -------------------------------------------------------


def join_set(values: Iterable[object]) -> str:
    """Sorted so the stored text (and the fingerprint) does not depend on set order."""
    return SEPARATOR.join(sorted(str(value) for value in values))


def split_set(text: str) -> frozenset[str]:
    """Inverse of ``join_set`` for text values; '' is the empty set."""
    return frozenset(text.split(SEPARATOR)) if text else frozenset()


def split_days(text: str) -> frozenset[int]:
    """Inverse of ``join_set`` for weekday numbers."""
    return frozenset(int(day) for day in split_set(text))


# --- bundle -> rows ----------------------------------------------------------


def settings_of(bundle: Bundle) -> dict[str, Any]:
    """The network-wide settings that are not tables of their own."""
    return {
        "rules": dataclasses.asdict(bundle.rules),
        "weights": dataclasses.asdict(bundle.weights),
        "enhanced_access": dict(bundle.enhanced_access),
        "enhanced_access_settings": access_record(bundle.enhanced_access_settings),
        "bank_holidays_closed": bundle.bank_holidays_closed,
        "jobs": jobs_record(bundle.jobs),
        "open_sessions": dataclasses.asdict(bundle.open_sessions),
        "swaps": dataclasses.asdict(bundle.swaps),
        "availability": dataclasses.asdict(bundle.availability),
        "file_labels": dict(bundle.file_labels),
    }


def jobs_record(jobs: JobSettings) -> dict[str, Any]:
    """The ``[jobs]`` settings as JSON: times as ``HH:MM``, the enabled jobs sorted."""
    return {name: json_value(value) for name, value in dataclasses.asdict(jobs).items()}


def json_value(value: Any) -> Any:
    """A setting as JSON keeps it: a time as ``HH:MM``, a set as a sorted list."""
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def jobs_of(settings: dict[str, Any]) -> JobSettings:
    """Inverse of ``jobs_record``; a network stored before ``[jobs]`` existed gets the defaults."""
    stored = settings.get("jobs") or {}
    defaults = JobSettings()
    values: dict[str, Any] = {}
    for field in dataclasses.fields(JobSettings):
        if field.name not in stored:
            continue
        value, default = stored[field.name], getattr(defaults, field.name)
        if isinstance(default, dt.time):
            value = dt.time.fromisoformat(value)
        elif isinstance(default, frozenset):
            value = frozenset(value)
        values[field.name] = value
    return JobSettings(**values)


def access_record(access: EnhancedAccess | None) -> dict[str, Any] | None:
    """The ``[enhanced_access]`` settings as JSON (None: the bundle has no such section)."""
    if access is None:
        return None
    return {
        "minutes_per_1000_per_week": access.minutes_per_1000_per_week,
        "adjusted_population": access.adjusted_population,
        "windows": [
            {"days": sorted(w.days), "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"}
            for w in access.windows
        ],
        "bookable_roles": None if access.bookable_roles is None else sorted(access.bookable_roles),
        "gp_role": access.gp_role,
    }


def access_of(settings: dict[str, Any]) -> EnhancedAccess | None:
    """Inverse of ``access_record``; a network stored before these settings existed gets
    the defaults around its numbers when it had an ``[enhanced_access]`` section."""
    if "enhanced_access_settings" not in settings:
        numbers = settings["enhanced_access"]
        if not numbers:
            return None
        return EnhancedAccess(
            minutes_per_1000_per_week=numbers.get("minutes_per_1000_per_week", 60.0),
            adjusted_population=numbers.get("adjusted_population"),
        )
    stored = settings["enhanced_access_settings"]
    if stored is None:
        return None
    windows = tuple(
        AccessWindow(
            frozenset(w["days"]), dt.time.fromisoformat(w["start"]), dt.time.fromisoformat(w["end"])
        )
        for w in stored["windows"]
    )
    roles = stored["bookable_roles"]
    return EnhancedAccess(
        minutes_per_1000_per_week=stored["minutes_per_1000_per_week"],
        adjusted_population=stored["adjusted_population"],
        windows=windows,
        bookable_roles=None if roles is None else frozenset(roles),
        gp_role=stored["gp_role"],
    )


# A row of a bundle table: its column values by attribute name.
Row = dict[str, Any]


def site_row(site: Site) -> Row:
    """A sites.csv row."""
    return dict(
        site_id=site.site_id,
        name=site.name,
        kind=site.kind.value,
        list_size=site.list_size,
        rooms=site.rooms,
        lat=site.lat,
        lon=site.lon,
        building=site.building,
        organisation=site.organisation,
        bank_holidays=site.bank_holidays,
        source_row=site.row,
    )


def building_row(building: Building) -> Row:
    """A buildings.csv row."""
    return dict(building=building.building, rooms=building.rooms, source_row=building.row)


def session_type_row(session_type: SessionType) -> Row:
    """A session_types.csv row."""
    return dict(
        session_id=session_type.session_id,
        label=session_type.label,
        start_time=session_type.start,
        end_time=session_type.end,
        days=join_set(session_type.days),
        kind=session_type.kind.value,
        source_row=session_type.row,
    )


def staff_row(person: Staff) -> Row:
    """A staff.csv row; ``sites`` None (any site) stays NULL, unlike an empty set."""
    return dict(
        staff_id=person.staff_id,
        name=person.name,
        role=person.role,
        home_site=person.home_site,
        employer=person.employer,
        contract_hours=person.contract_hours,
        min_hours=person.min_hours,
        max_hours=person.max_hours,
        skills=join_set(person.skills),
        sites=None if person.sites is None else join_set(person.sites),
        max_sessions_per_day=person.max_sessions_per_day,
        max_duty_hours=person.max_duty_hours,
        min_days_off_per_week=person.min_days_off_per_week,
        max_evenings=person.max_evenings,
        max_weekend_sessions=person.max_weekend_sessions,
        hourly_rate=person.hourly_rate,
        email=person.email,
        bank=person.bank,
        source_row=person.row,
        **{name: getattr(person, name) for name in HORIZON_RULE_FIELDS},
    )


def demand_row(need: DemandRow) -> Row:
    """A demand.csv row."""
    return dict(
        site_id=need.site_id,
        weekdays=join_set(need.day.weekdays),
        day_date=need.day.date,
        session_id=need.session_id,
        role=need.role,
        skill=need.skill,
        min_people=need.min,
        target_people=need.target,
        weight=need.weight,
        source_row=need.row,
    )


def leave_row(leave: Leave) -> Row:
    """A leave.csv row."""
    return dict(
        staff_id=leave.staff_id,
        start_date=leave.start,
        end_date=leave.end,
        kind=leave.kind.value,
        session_id=leave.session_id,
        source_row=leave.row,
    )


def preference_row(preference: Preference) -> Row:
    """A preferences.csv row."""
    return dict(
        staff_id=preference.staff_id,
        weekdays=join_set(preference.day.weekdays),
        day_date=preference.day.date,
        session_id=preference.session_id,
        site_id=preference.site_id,
        preference=preference.preference.value,
        weight=preference.weight,
        source_row=preference.row,
    )


def fixed_row(fixed: Fixed) -> Row:
    """A fixed.csv row."""
    return dict(
        staff_id=fixed.staff_id,
        date=fixed.date,
        session_id=fixed.session_id,
        site_id=fixed.site_id,
        source_row=fixed.row,
    )


def travel_row(travel: Travel) -> Row:
    """A travel.csv row."""
    return dict(
        from_site=travel.from_site,
        to_site=travel.to_site,
        minutes=travel.minutes,
        source_row=travel.row,
    )


def forbidden_sequence_row(seq: ForbiddenSequence) -> Row:
    """A forbidden_sequences.csv row."""
    return dict(
        session_id=seq.session_id,
        next_day_session_id=seq.next_day_session_id,
        source_row=seq.row,
    )


def session_limit_row(limit: SessionLimit) -> Row:
    """A session_limits.csv row."""
    return dict(
        staff_id=limit.staff_id,
        session_id=limit.session_id,
        max_sessions=limit.max_sessions,
        source_row=limit.row,
    )


def bundle_rows(bundle: Bundle) -> list[tuple[type[NetworkOwned], list[Row]]]:
    """Every row of the bundle as column values, table by table, each in file order.

    Plain values, not ORM objects: a bundle of 300,000 rows becomes its rows
    in about a second, before its transaction takes the write lock.
    """
    tables: list[tuple[type[NetworkOwned], Callable[[Any], Row], Sequence[Any]]] = [
        (SiteRecord, site_row, bundle.sites),
        (BuildingRecord, building_row, bundle.buildings),
        (SessionTypeRecord, session_type_row, bundle.session_types),
        (StaffRecord, staff_row, bundle.staff),
        (DemandRecord, demand_row, bundle.demand),
        (LeaveRecord, leave_row, bundle.leave),
        (PreferenceRecord, preference_row, bundle.preferences),
        (FixedRecord, fixed_row, bundle.fixed),
        (TravelRecord, travel_row, bundle.travel),
        (ForbiddenSequenceRecord, forbidden_sequence_row, bundle.forbidden_sequences),
        (SessionLimitRecord, session_limit_row, bundle.session_limits),
    ]
    return [(table, [row(item) for item in items]) for table, row, items in tables if items]


# --- rows -> bundle ----------------------------------------------------------


def day_rule(weekdays: str, date: dt.date | None) -> DayRule:
    """A DayRule back from its two columns."""
    return DayRule(weekdays=split_days(weekdays), date=date)


def site_of(record: SiteRecord) -> Site:
    """A Site back from its row."""
    return Site(
        site_id=record.site_id,
        name=record.name,
        kind=SiteKind(record.kind),
        list_size=record.list_size,
        rooms=record.rooms,
        lat=record.lat,
        lon=record.lon,
        building=record.building,
        organisation=record.organisation,
        bank_holidays=record.bank_holidays,
        row=record.source_row,
    )


def building_of(record: BuildingRecord) -> Building:
    """A Building back from its row."""
    return Building(building=record.building, rooms=record.rooms, row=record.source_row)


def session_type_of(record: SessionTypeRecord) -> SessionType:
    """A SessionType back from its row."""
    return SessionType(
        session_id=record.session_id,
        label=record.label,
        start=record.start_time,
        end=record.end_time,
        days=split_days(record.days),
        kind=SessionKind(record.kind),
        row=record.source_row,
    )


def staff_of(record: StaffRecord) -> Staff:
    """A Staff back from its row."""
    return Staff(
        staff_id=record.staff_id,
        name=record.name,
        role=record.role,
        home_site=record.home_site,
        employer=record.employer,
        contract_hours=record.contract_hours,
        min_hours=record.min_hours,
        max_hours=record.max_hours,
        skills=split_set(record.skills),
        sites=None if record.sites is None else split_set(record.sites),
        max_sessions_per_day=record.max_sessions_per_day,
        max_duty_hours=record.max_duty_hours,
        min_days_off_per_week=record.min_days_off_per_week,
        max_evenings=record.max_evenings,
        max_weekend_sessions=record.max_weekend_sessions,
        bank=bool(record.bank),
        hourly_rate=record.hourly_rate,
        email=record.email,
        row=record.source_row,
        **{name: getattr(record, name) for name in HORIZON_RULE_FIELDS},
    )


def demand_of(record: DemandRecord) -> DemandRow:
    """A DemandRow back from its row."""
    return DemandRow(
        site_id=record.site_id,
        day=day_rule(record.weekdays, record.day_date),
        session_id=record.session_id,
        role=record.role,
        skill=record.skill,
        min=record.min_people,
        target=record.target_people,
        weight=record.weight,
        row=record.source_row,
    )


def leave_of(record: LeaveRecord) -> Leave:
    """A Leave back from its row."""
    return Leave(
        staff_id=record.staff_id,
        start=record.start_date,
        end=record.end_date,
        kind=LeaveKind(record.kind),
        session_id=record.session_id,
        row=record.source_row,
    )


def preference_of(record: PreferenceRecord) -> Preference:
    """A Preference back from its row."""
    return Preference(
        staff_id=record.staff_id,
        day=day_rule(record.weekdays, record.day_date),
        session_id=record.session_id,
        site_id=record.site_id,
        preference=PreferenceKind(record.preference),
        weight=record.weight,
        row=record.source_row,
    )


def fixed_of(record: FixedRecord) -> Fixed:
    """A Fixed back from its row."""
    return Fixed(
        staff_id=record.staff_id,
        date=record.date,
        session_id=record.session_id,
        site_id=record.site_id,
        row=record.source_row,
    )


def travel_of(record: TravelRecord) -> Travel:
    """A Travel back from its row."""
    return Travel(
        from_site=record.from_site,
        to_site=record.to_site,
        minutes=record.minutes,
        row=record.source_row,
    )


def forbidden_sequence_of(record: ForbiddenSequenceRecord) -> ForbiddenSequence:
    """A ForbiddenSequence back from its row."""
    return ForbiddenSequence(record.session_id, record.next_day_session_id, row=record.source_row)


def session_limit_of(record: SessionLimitRecord) -> SessionLimit:
    """A SessionLimit back from its row."""
    return SessionLimit(
        record.staff_id, record.session_id, record.max_sessions, row=record.source_row
    )
