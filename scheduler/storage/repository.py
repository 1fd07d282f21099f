"""Domain objects in and out of the database, within the caller's transaction.

Nothing here commits: callers wrap calls in ``session_scope`` so an import or
a save is all or nothing.  Loading rebuilds records equal (``==``) to the
ones saved, row numbers included, so messages about stored data still point
at the row of the file the manager edited."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import MetaData, delete, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from scheduler.domain import (
    LEAVE_REQUESTS,
    Bundle,
    Leave,
    LeaveKind,
    Rules,
    Weights,
)
from scheduler.network_settings import AvailabilitySettings, OpenSessionSettings, SwapSettings
from scheduler.storage.clock import now, utc
from scheduler.storage.models.app import FeedTokenRecord, LeaveRequestRecord
from scheduler.storage.models.base import NetworkOwned
from scheduler.storage.models.network import (
    BUNDLE_TABLES,
    BuildingRecord,
    DemandRecord,
    FixedRecord,
    ForbiddenSequenceRecord,
    LeaveRecord,
    NetworkRecord,
    PreferenceRecord,
    SessionLimitRecord,
    SessionTypeRecord,
    SiteRecord,
    StaffRecord,
    TravelRecord,
)
from scheduler.storage.records import (
    access_of,
    building_of,
    bundle_rows,
    demand_of,
    fixed_of,
    forbidden_sequence_of,
    jobs_of,
    leave_of,
    preference_of,
    session_limit_of,
    session_type_of,
    settings_of,
    site_of,
    staff_of,
    travel_of,
)

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


def save_bundle(session: Session, bundle: Bundle) -> int:
    """Store ``bundle``, replacing the records of a network of the same name.

    A re-imported network keeps its id and its rotas (rotas are history the
    bundle does not carry); its settings and every bundle record are replaced.
    """
    rows = bundle_rows(bundle)  # before any statement: a new transaction has no lock yet
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
    for kind, kind_rows in rows:
        # A bulk insert, not the session's unit of work: tracking hundreds of thousands
        # of objects would hold the write lock for most of a minute.
        values = [{**row, "network_id": network.id} for row in kind_rows]
        session.execute(insert(sa_inspect(kind).local_table), values)
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
        buildings=tuple(map(building_of, rows_of(session, BuildingRecord, network.id))),
        enhanced_access=dict(settings["enhanced_access"]),
        enhanced_access_settings=access_of(settings),
        bank_holidays_closed=settings["bank_holidays_closed"],
        jobs=jobs_of(settings),
        open_sessions=OpenSessionSettings(**(settings.get("open_sessions") or {})),
        swaps=SwapSettings(**(settings.get("swaps") or {})),
        availability=AvailabilitySettings(**(settings.get("availability") or {})),
        file_labels=dict(settings["file_labels"]),
    )


def bundle_with_leave(session: Session, network_id: int) -> Bundle:
    """The network's bundle as imported, with approved leave (``storage.events.current_bundle`` adds
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
