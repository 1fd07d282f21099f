"""Calendar feeds as stored: who a feed is for, its events, and how fresh it is.

Three kinds of feed, each behind its own link: one person's sessions
(``staff``), everyone at one site (``site``), and every session at the
network's hub sites (``hub``).  Feeds show published rotas only: the events
come from ``calendar_events``, which only ``record_publication`` writes when
a week is published, so a draft can never leak into a calendar."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from scheduler.domain import SessionType, Site, SiteKind, Staff
from scheduler.storage.clock import utc
from scheduler.storage.models.app import CalendarEventRecord
from scheduler.storage.models.network import (
    NetworkRecord,
    SessionTypeRecord,
    SiteRecord,
    StaffRecord,
)
from scheduler.storage.records import session_type_of, site_of, staff_of
from scheduler.storage.repository import NetworkLookupError, rows_of

FEED_KINDS = ("staff", "site", "hub")
HISTORY = dt.timedelta(weeks=8)  # past sessions kept in a feed
CONFIRMED, CANCELLED = "confirmed", "cancelled"
ADDED, MOVED, REMOVED = "added", "moved", "removed"


class FeedSubjectError(LookupError):
    """The feed asked for names no person, site or hub of the network; the message says which."""


@dataclass(frozen=True)
class FeedSubject:
    """What a feed link shows: one person, one site, or the network's hub sessions."""

    network_id: int
    kind: str  # one of FEED_KINDS
    subject: str  # staff_id, site_id, or '' for the hub feed


@dataclass(frozen=True)
class EventChange:
    """One session whose published state changed when a week was published."""

    network_id: int
    staff_id: str
    date: dt.date
    session_id: str
    change: str  # "added" | "moved" | "removed"
    from_site: str | None  # None when added
    to_site: str | None  # None when removed
    sequence: int  # the event's SEQUENCE after the change


# -- what a feed holds ------------------------------------------------------------------------


def _hub_sites(network_id: int) -> ColumnElement[bool]:
    """Events at a hub site of the network."""
    hubs = select(SiteRecord.site_id).where(
        SiteRecord.network_id == network_id, SiteRecord.kind == SiteKind.HUB.value
    )
    return CalendarEventRecord.site_id.in_(hubs)


def _subject_filter(feed: FeedSubject) -> ColumnElement[bool]:
    """The events of the feed's subject, in any window."""
    mine = CalendarEventRecord.network_id == feed.network_id
    if feed.kind == "staff":
        return mine & (CalendarEventRecord.staff_id == feed.subject)
    if feed.kind == "site":
        return mine & (CalendarEventRecord.site_id == feed.subject)
    if feed.kind == "hub":
        return mine & _hub_sites(feed.network_id)
    raise FeedSubjectError(f"feed kind {feed.kind!r} is not one of {', '.join(FEED_KINDS)}")


def _change_scope(feed: FeedSubject) -> ColumnElement[bool]:
    """Events whose change can alter the feed.

    A person's feed changes only with their own events; a site's or the hub's
    also when a session moves away from it, which leaves no event there, so
    those follow every event of the network.
    """
    if feed.kind == "staff":
        return _subject_filter(feed)
    return CalendarEventRecord.network_id == feed.network_id


def _network(session: Session, network_id: int) -> NetworkRecord:
    """The network's row; ``NetworkLookupError`` when it is gone."""
    network = session.get(NetworkRecord, network_id)
    if network is None:
        raise NetworkLookupError(f"no network with id {network_id}")
    return network


def feed_last_modified(session: Session, feed: FeedSubject) -> dt.datetime:
    """When the feed's content last changed (an event, or the network's import); UTC.

    The feed's DTSTAMP and a good HTTP Last-Modified.
    """
    latest = session.scalar(
        select(func.max(CalendarEventRecord.modified_at)).where(_change_scope(feed))
    )
    imported = utc(_network(session, feed.network_id).imported_at)
    return imported if latest is None else max(imported, utc(latest))


def feed_version(session: Session, feed: FeedSubject) -> str:
    """A short text that changes whenever the feed's content could change.

    Every change of an event adds a row or raises a SEQUENCE, so the count
    and the sum of SEQUENCEs change even when two publications share a
    timestamp; a re-import (names, labels) changes the import time.  The
    content also depends on the host and on today's date (what has passed):
    a cache keyed on this must add both.
    """
    count, sequences, latest = session.execute(
        select(
            func.count(CalendarEventRecord.id),
            func.coalesce(func.sum(CalendarEventRecord.sequence), 0),
            func.max(CalendarEventRecord.modified_at),
        ).where(_change_scope(feed))
    ).one()
    imported = utc(_network(session, feed.network_id).imported_at)
    stamp = "" if latest is None else utc(latest).isoformat()
    text = f"{feed.network_id}|{feed.kind}|{feed.subject}|{count}|{sequences}|{stamp}|"
    text += imported.isoformat()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def window_events(session: Session, feed: FeedSubject, today: dt.date) -> list[CalendarEventRecord]:
    """The feed's events: confirmed ones from HISTORY ago on, cancelled ones not yet passed."""
    statement = select(CalendarEventRecord).where(
        _subject_filter(feed),
        CalendarEventRecord.date >= today - HISTORY,
        (CalendarEventRecord.status == CONFIRMED) | (CalendarEventRecord.date >= today),
    )
    return list(session.scalars(statement))


# -- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """The names a feed shows: the network's sites, session types and people."""

    network_name: str
    timezone: str
    sites: dict[str, Site]
    sessions: dict[str, SessionType]
    staff: dict[str, Staff]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_directory(session: Session, network_id: int) -> Directory:
    """Only the three tables a feed names things from, not the whole bundle."""
    network = _network(session, network_id)
    return Directory(
        network.name,
        network.timezone,
        {s.site_id: s for s in map(site_of, rows_of(session, SiteRecord, network_id))},
        {
            s.session_id: s
            for s in map(session_type_of, rows_of(session, SessionTypeRecord, network_id))
        },
        {s.staff_id: s for s in map(staff_of, rows_of(session, StaffRecord, network_id))},
    )
