"""Domain objects in and out of the database, within the caller's transaction.

Nothing here commits: callers wrap calls in ``session_scope`` so an import or
a save is all or nothing.  Loading rebuilds records equal (``==``) to the
ones saved, row numbers included, so messages about stored data still point
at the row of the file the manager edited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import MetaData, delete, func, select, update
from sqlalchemy.orm import Session

from scheduler.domain import (
    HORIZON_RULE_FIELDS,
    LEAVE_REQUESTS,
    AccessWindow,
    Assignment,
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
    Rules,
    SessionKind,
    SessionLimit,
    SessionType,
    Site,
    SiteKind,
    Staff,
    Travel,
    Weights,
    iso_week_label,
    parse_iso_week,
)
from scheduler.storage.models import (
    BUNDLE_TABLES,
    ROTA_STATES,
    AssignmentRecord,
    DemandRecord,
    FeedTokenRecord,
    FixedRecord,
    ForbiddenSequenceRecord,
    LeaveRecord,
    LeaveRequestRecord,
    NetworkOwned,
    NetworkRecord,
    PreferenceRecord,
    RotaRecord,
    SessionLimitRecord,
    SessionTypeRecord,
    SiteRecord,
    StaffRecord,
    TravelRecord,
)

SEPARATOR = ";"

Owned = TypeVar("Owned", bound=NetworkOwned)


class NetworkLookupError(LookupError):
    """No network, or no single network, matches what the caller asked for."""


@dataclass(frozen=True)
class NetworkInfo:
    """What a list of networks shows."""

    id: int
    name: str
    timezone: str
    imported_at: dt.datetime


@dataclass(frozen=True)
class RotaInfo:
    """A stored rota's header: which week, its state and how the solve went."""

    id: int
    network_id: int
    week: str
    state: str
    created_at: dt.datetime
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float | None
    summary: dict[str, Any]
    pinned: frozenset[Assignment] = frozenset()
    revision: int = 0
    version: int | None = None  # publication number of the week, from 1
    published_at: dt.datetime | None = None
    published_by: str | None = None


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


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite drops the zone of stored datetimes; everything is stored in UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def now() -> dt.datetime:
    """The current instant in UTC."""
    return dt.datetime.now(dt.UTC)


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


def site_record(site: Site) -> SiteRecord:
    """A sites.csv row."""
    return SiteRecord(
        site_id=site.site_id,
        name=site.name,
        kind=site.kind.value,
        list_size=site.list_size,
        rooms=site.rooms,
        lat=site.lat,
        lon=site.lon,
        source_row=site.row,
    )


def session_type_record(session_type: SessionType) -> SessionTypeRecord:
    """A session_types.csv row."""
    return SessionTypeRecord(
        session_id=session_type.session_id,
        label=session_type.label,
        start_time=session_type.start,
        end_time=session_type.end,
        days=join_set(session_type.days),
        kind=session_type.kind.value,
        source_row=session_type.row,
    )


def staff_record(person: Staff) -> StaffRecord:
    """A staff.csv row; ``sites`` None (any site) stays NULL, unlike an empty set."""
    return StaffRecord(
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
        max_evenings=person.max_evenings,
        max_weekend_sessions=person.max_weekend_sessions,
        hourly_rate=person.hourly_rate,
        email=person.email,
        source_row=person.row,
        **{name: getattr(person, name) for name in HORIZON_RULE_FIELDS},
    )


def demand_record(need: DemandRow) -> DemandRecord:
    """A demand.csv row."""
    return DemandRecord(
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


def leave_record(leave: Leave) -> LeaveRecord:
    """A leave.csv row."""
    return LeaveRecord(
        staff_id=leave.staff_id,
        start_date=leave.start,
        end_date=leave.end,
        kind=leave.kind.value,
        session_id=leave.session_id,
        source_row=leave.row,
    )


def preference_record(preference: Preference) -> PreferenceRecord:
    """A preferences.csv row."""
    return PreferenceRecord(
        staff_id=preference.staff_id,
        weekdays=join_set(preference.day.weekdays),
        day_date=preference.day.date,
        session_id=preference.session_id,
        site_id=preference.site_id,
        preference=preference.preference.value,
        weight=preference.weight,
        source_row=preference.row,
    )


def fixed_record(fixed: Fixed) -> FixedRecord:
    """A fixed.csv row."""
    return FixedRecord(
        staff_id=fixed.staff_id,
        date=fixed.date,
        session_id=fixed.session_id,
        site_id=fixed.site_id,
        source_row=fixed.row,
    )


def travel_record(travel: Travel) -> TravelRecord:
    """A travel.csv row."""
    return TravelRecord(
        from_site=travel.from_site,
        to_site=travel.to_site,
        minutes=travel.minutes,
        source_row=travel.row,
    )


def forbidden_sequence_record(seq: ForbiddenSequence) -> ForbiddenSequenceRecord:
    """A forbidden_sequences.csv row."""
    return ForbiddenSequenceRecord(
        session_id=seq.session_id,
        next_day_session_id=seq.next_day_session_id,
        source_row=seq.row,
    )


def session_limit_record(limit: SessionLimit) -> SessionLimitRecord:
    """A session_limits.csv row."""
    return SessionLimitRecord(
        staff_id=limit.staff_id,
        session_id=limit.session_id,
        max_sessions=limit.max_sessions,
        source_row=limit.row,
    )


def bundle_records(bundle: Bundle) -> list[NetworkOwned]:
    """Every record of the bundle, each table in file order."""
    return [
        *map(site_record, bundle.sites),
        *map(session_type_record, bundle.session_types),
        *map(staff_record, bundle.staff),
        *map(demand_record, bundle.demand),
        *map(leave_record, bundle.leave),
        *map(preference_record, bundle.preferences),
        *map(fixed_record, bundle.fixed),
        *map(travel_record, bundle.travel),
        *map(forbidden_sequence_record, bundle.forbidden_sequences),
        *map(session_limit_record, bundle.session_limits),
    ]


def save_bundle(session: Session, bundle: Bundle) -> int:
    """Store ``bundle``, replacing the records of a network of the same name.

    A re-imported network keeps its id and its rotas (rotas are history the
    bundle does not carry); its settings and every bundle record are replaced.
    """
    network = session.scalar(select(NetworkRecord).where(NetworkRecord.name == bundle.name))
    if network is None:
        network = NetworkRecord(name=bundle.name)
        session.add(network)
    else:
        for table in BUNDLE_TABLES:
            session.execute(delete(table).where(table.network_id == network.id))
        revoke_departed_feeds(session, network.id, bundle)
    network.timezone = bundle.timezone
    network.settings = settings_of(bundle)
    network.imported_at = now()
    session.flush()
    records = bundle_records(bundle)
    for record in records:
        record.network_id = network.id
    session.add_all(records)
    session.flush()
    return network.id


def revoke_departed_feeds(session: Session, network_id: int, bundle: Bundle) -> None:
    """Disable the calendar links of people and sites a re-imported bundle no longer has.

    Someone who has left must stop receiving the rota, whoever still holds the link.
    """
    staff_ids = [person.staff_id for person in bundle.staff]
    site_ids = [site.site_id for site in bundle.sites]
    departed = ((FeedTokenRecord.kind == "staff") & FeedTokenRecord.subject.not_in(staff_ids)) | (
        (FeedTokenRecord.kind == "site") & FeedTokenRecord.subject.not_in(site_ids)
    )
    session.execute(
        update(FeedTokenRecord)
        .where(
            FeedTokenRecord.network_id == network_id,
            FeedTokenRecord.revoked_at.is_(None),
            departed,
        )
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )


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
        row=record.source_row,
    )


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
        max_evenings=record.max_evenings,
        max_weekend_sessions=record.max_weekend_sessions,
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


def rows_of(session: Session, table: type[Owned], network_id: int) -> Sequence[Owned]:
    """A network's rows of one table in the order they were saved (file order)."""
    statement = select(table).where(table.network_id == network_id).order_by(table.id)
    return session.scalars(statement).all()


def find_network(session: Session, name: str | None) -> NetworkRecord:
    """The network called ``name``, or the only one when ``name`` is None."""
    if name is not None:
        network = session.scalar(select(NetworkRecord).where(NetworkRecord.name == name))
        if network is None:
            known = ", ".join(info.name for info in list_networks(session)) or "none"
            raise NetworkLookupError(f"no network named {name!r} (imported: {known})")
        return network
    networks = session.scalars(select(NetworkRecord).order_by(NetworkRecord.name)).all()
    if not networks:
        raise NetworkLookupError("no network has been imported yet; import a bundle first")
    if len(networks) > 1:
        names = ", ".join(repr(network.name) for network in networks)
        raise NetworkLookupError(f"several networks are stored ({names}); name one")
    return networks[0]


def network_id_of(session: Session, name: str | None = None) -> int:
    """The id of network ``name`` (the only network when None), for saving its rotas."""
    return find_network(session, name).id


def load_bundle(session: Session, name: str | None = None) -> Bundle:
    """Rebuild the stored bundle of network ``name`` (the only network when None)."""
    network = find_network(session, name)
    settings = network.settings
    return Bundle(
        name=network.name,
        timezone=network.timezone,
        rules=Rules(**settings["rules"]),
        weights=Weights(**settings["weights"]),
        sites=tuple(map(site_of, rows_of(session, SiteRecord, network.id))),
        session_types=tuple(map(session_type_of, rows_of(session, SessionTypeRecord, network.id))),
        staff=tuple(map(staff_of, rows_of(session, StaffRecord, network.id))),
        demand=tuple(map(demand_of, rows_of(session, DemandRecord, network.id))),
        leave=tuple(map(leave_of, rows_of(session, LeaveRecord, network.id))),
        preferences=tuple(map(preference_of, rows_of(session, PreferenceRecord, network.id))),
        fixed=tuple(map(fixed_of, rows_of(session, FixedRecord, network.id))),
        travel=tuple(map(travel_of, rows_of(session, TravelRecord, network.id))),
        forbidden_sequences=tuple(
            map(forbidden_sequence_of, rows_of(session, ForbiddenSequenceRecord, network.id))
        ),
        session_limits=tuple(
            map(session_limit_of, rows_of(session, SessionLimitRecord, network.id))
        ),
        enhanced_access=dict(settings["enhanced_access"]),
        enhanced_access_settings=access_of(settings),
        bank_holidays_closed=settings["bank_holidays_closed"],
        jobs=jobs_of(settings),
        file_labels=dict(settings["file_labels"]),
    )


def network_bundle(session: Session, network_id: int) -> Bundle:
    """The network's bundle as imported, with approved leave (``events.network_bundle`` adds
    absences and demand changes: that is what plans and checks use)."""
    network = session.get(NetworkRecord, network_id)
    if network is None:
        raise NetworkLookupError(f"no network with id {network_id}")
    bundle = load_bundle(session, network.name)
    return dataclasses.replace(bundle, leave=bundle.leave + approved_leave(session, network_id))


def network_info(network: NetworkRecord) -> NetworkInfo:
    """The list view of one network."""
    return NetworkInfo(network.id, network.name, network.timezone, utc(network.imported_at))


def list_networks(session: Session) -> list[NetworkInfo]:
    """Every stored network, by name."""
    networks = session.scalars(select(NetworkRecord).order_by(NetworkRecord.name))
    return [network_info(network) for network in networks]


# --- rotas -------------------------------------------------------------------


def normalise_week(week: str) -> str:
    """``2026-w49`` and `` 2026-W49`` are the same week; store one spelling."""
    return iso_week_label(parse_iso_week(week)[0])


def check_state(state: str) -> None:
    """Refuse a state the schema would reject, with a message naming the valid ones."""
    if state not in ROTA_STATES:
        raise ValueError(f"rota state {state!r} is not one of {', '.join(ROTA_STATES)}")


def clear_week_for(session: Session, network_id: int, week: str, state: str) -> None:
    """Make room for a new rota: a draft replaces the draft, a publication supersedes."""
    same_week = (RotaRecord.network_id == network_id) & (RotaRecord.week == week)
    if state == "draft":
        session.execute(delete(RotaRecord).where(same_week & (RotaRecord.state == "draft")))
    elif state == "published":
        session.execute(
            update(RotaRecord)
            .where(same_week & (RotaRecord.state == "published"))
            .values(state="superseded")
        )
    session.flush()


def next_revision(session: Session, network_id: int, week: str) -> int:
    """A revision no rota of this week has had (0 for the first): a page shown before a
    new rota of the week is then recognised as stale."""
    statement = select(func.max(RotaRecord.revision)).where(
        RotaRecord.network_id == network_id, RotaRecord.week == week
    )
    highest = session.scalar(statement)
    return 0 if highest is None else highest + 1


def save_rota(
    session: Session,
    network_id: int,
    week: str,
    assignments: Iterable[Assignment],
    *,
    state: str = "draft",
    status: str,
    objective: float | None,
    bound: float | None,
    gap: float | None,
    seconds: float | None,
    summary: dict[str, Any],
    pinned: Iterable[Assignment] = frozenset(),
) -> int:
    """Store a rota for ``week`` and return its id.

    Saving a draft replaces any earlier draft of that week; saving a
    published rota marks the previously published one superseded.
    """
    check_state(state)
    week = normalise_week(week)
    revision = next_revision(session, network_id, week)
    clear_week_for(session, network_id, week, state)
    rota = RotaRecord(
        network_id=network_id,
        week=week,
        state=state,
        created_at=now(),
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=seconds,
        summary=summary,
        revision=revision,
    )
    session.add(rota)
    session.flush()
    pinned_set = frozenset(pinned)
    session.add_all(assignment_record(rota.id, item, item in pinned_set) for item in assignments)
    session.flush()
    return rota.id


def assignment_record(rota_id: int, item: Assignment, pinned: bool) -> AssignmentRecord:
    """One assignment row of rota ``rota_id``."""
    return AssignmentRecord(
        rota_id=rota_id,
        staff_id=item.staff_id,
        date=item.date,
        session_id=item.session_id,
        site_id=item.site_id,
        pinned=pinned,
    )


def find_rota(session: Session, network_id: int, week: str, state: str) -> RotaRecord | None:
    """The rota of that week in ``state`` ("latest" = newest in any state)."""
    if state != "latest":
        check_state(state)
    statement = select(RotaRecord).where(
        RotaRecord.network_id == network_id, RotaRecord.week == normalise_week(week)
    )
    if state != "latest":
        statement = statement.where(RotaRecord.state == state)
    return session.scalar(statement.order_by(RotaRecord.id.desc()).limit(1))


def rota_info(rota: RotaRecord, pinned: frozenset[Assignment] = frozenset()) -> RotaInfo:
    """The header of a stored rota."""
    return RotaInfo(
        id=rota.id,
        network_id=rota.network_id,
        week=rota.week,
        state=rota.state,
        created_at=utc(rota.created_at),
        status=rota.status,
        objective=rota.objective,
        bound=rota.bound,
        gap=rota.gap,
        seconds=rota.seconds,
        summary=rota.summary,
        pinned=pinned,
        revision=rota.revision,
        version=rota.version,
        published_at=None if rota.published_at is None else utc(rota.published_at),
        published_by=rota.published_by,
    )


def load_rota(
    session: Session, network_id: int, week: str, state: str = "draft"
) -> tuple[RotaInfo, list[Assignment]] | None:
    """A stored rota of ``week`` with its assignments in sorted order, or None."""
    rota = find_rota(session, network_id, week, state)
    if rota is None:
        return None
    records = session.scalars(select(AssignmentRecord).where(AssignmentRecord.rota_id == rota.id))
    pinned: set[Assignment] = set()
    assignments: list[Assignment] = []
    for record in records:
        item = Assignment(record.date, record.session_id, record.site_id, record.staff_id)
        assignments.append(item)
        if record.pinned:
            pinned.add(item)
    return rota_info(rota, frozenset(pinned)), sorted(assignments)


def list_rotas(session: Session, network_id: int) -> list[RotaInfo]:
    """Every rota of a network, newest week first (no assignments: a list view)."""
    statement = (
        select(RotaRecord)
        .where(RotaRecord.network_id == network_id)
        .order_by(RotaRecord.week.desc(), RotaRecord.id.desc())
    )
    return [rota_info(rota) for rota in session.scalars(statement)]


def week_rotas(session: Session, network_id: int, week: str) -> list[RotaInfo]:
    """Every rota of one week, newest first: the draft, the published one and their history."""
    statement = (
        select(RotaRecord)
        .where(RotaRecord.network_id == network_id, RotaRecord.week == normalise_week(week))
        .order_by(RotaRecord.id.desc())
    )
    return [rota_info(rota) for rota in session.scalars(statement)]


def published_assignments(
    session: Session, network_id: int, first: dt.date, last: dt.date
) -> list[Assignment]:
    """Every session of the network's current publications dated ``first`` to ``last``.

    Only what is published counts for reports and invoices: drafts and
    superseded versions never do.
    """
    statement = (
        select(AssignmentRecord)
        .join(RotaRecord, AssignmentRecord.rota_id == RotaRecord.id)
        .where(
            RotaRecord.network_id == network_id,
            RotaRecord.state == "published",
            AssignmentRecord.date >= first,
            AssignmentRecord.date <= last,
        )
    )
    return sorted(
        Assignment(r.date, r.session_id, r.site_id, r.staff_id) for r in session.scalars(statement)
    )


def count_assignments(session: Session, rota_id: int) -> int:
    """How many assignments a rota has, without loading them."""
    statement = select(func.count()).where(AssignmentRecord.rota_id == rota_id)
    return session.scalar(statement) or 0


# --- test support ------------------------------------------------------------


def database_fingerprint(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (found by reflection, so Alembic's too), in key order.

    Two equal fingerprints mean the database holds the same data: what tests
    of "a failed import changes nothing" compare.
    """
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    fingerprint: dict[str, list[tuple[Any, ...]]] = {}
    for table in metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = session.execute(table.select().order_by(*order))
        fingerprint[table.name] = [tuple(row) for row in rows]
    return fingerprint


# --- leave requests ----------------------------------------------------------


def approved_leave(session: Session, network_id: int) -> tuple[Leave, ...]:
    """Leave a manager approved in the web app, as whole-day leave rows for planning.

    ``row`` is the request's id (the number the leave requests page shows),
    so a message about the row can be traced back to the request.
    """
    statement = (
        select(LeaveRequestRecord)
        .where(
            LeaveRequestRecord.network_id == network_id,
            LeaveRequestRecord.state == "approved",
        )
        .order_by(LeaveRequestRecord.id)
    )
    return tuple(
        Leave(
            staff_id=record.staff_id,
            start=record.start_date,
            end=record.end_date,
            kind=LeaveKind(record.kind),
            row=record.id,
            source=LEAVE_REQUESTS,
        )
        for record in session.scalars(statement)
    )
