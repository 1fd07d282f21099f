"""Calendar feeds: secret links, the published life of each session, and the .ics files.

Three kinds of feed, each behind its own link: one person's sessions
(``staff``), everyone at one site (``site``), and every session at the
network's hub sites (``hub``).  Feeds show published rotas only: the events
come from ``calendar_events``, which only ``record_publication`` (called when
a week is published) writes, so a draft can never leak into a calendar.

A link's token is an HMAC of a random nonce under the app's secret key; the
database keeps the nonce and a SHA-256 of the token, never the token, so the
link can be shown again to its owner while a copy of the database alone
opens nothing.  Rotating a link revokes the old row and issues a new nonce.

Each event's UID comes from the session's identity (network, person, date,
session) and the public host, so re-publishing never duplicates an event and
a session moved to another site keeps its UID with a higher SEQUENCE.
Calendar clients refresh slowly and Apple shows removed events struck
through, so a removed session stays in the feed, cancelled, until its date.
Rendering is a pure function of (database state, host, today): DTSTAMP is the
feed's last change (``feed_last_modified``), never the clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from scheduler.domain import Assignment, SessionType, Site, SiteKind, Staff, parse_iso_week
from scheduler.horizon import session_instants
from scheduler.storage.models import (
    CalendarEventRecord,
    FeedTokenRecord,
    NetworkRecord,
    SessionTypeRecord,
    SiteRecord,
    StaffRecord,
)
from scheduler.storage.repository import (
    NetworkLookupError,
    now,
    rows_of,
    session_type_of,
    site_of,
    staff_of,
    utc,
)

FEED_KINDS = ("staff", "site", "hub")
DEFAULT_HOST = "localhost:5000"  # the development server; deployments set PUBLIC_HOST
PRODID = "-//rotapool//rotapool feeds//EN"
REFRESH = "PT1H"  # a string: icalendar would write a timedelta as 1:00:00 in X-PUBLISHED-TTL
HISTORY = dt.timedelta(weeks=8)  # past sessions kept in a feed
TOKEN_PURPOSE = "rotapool-feed:"
NONCE_BYTES = 32
MAX_TOKEN_LENGTH = 128  # far above a real token (43 characters); longer input is not hashed
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


# -- tokens -----------------------------------------------------------------------------------


def _key(secret: str | bytes) -> bytes:
    """The HMAC key; Flask may hold SECRET_KEY as text or bytes."""
    if isinstance(secret, bytes):
        return secret
    return str(secret).encode("utf-8")


def derive_token(secret: str | bytes, nonce: str) -> str:
    """The link token of ``nonce``: HMAC-SHA256 in URL-safe base64 (256 bits, no padding)."""
    digest = hmac.new(_key(secret), (TOKEN_PURPOSE + nonce).encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """What the database keeps to find a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _active_rows(
    session: Session, network_id: int, kind: str, subject: str
) -> list[FeedTokenRecord]:
    """The feed's unrevoked token rows, newest first (at most one in normal use)."""
    statement = (
        select(FeedTokenRecord)
        .where(
            FeedTokenRecord.network_id == network_id,
            FeedTokenRecord.kind == kind,
            FeedTokenRecord.subject == subject,
            FeedTokenRecord.revoked_at.is_(None),
        )
        .order_by(FeedTokenRecord.id.desc())
    )
    return list(session.scalars(statement))


def check_subject(session: Session, network_id: int, kind: str, subject: str) -> None:
    """Refuse a feed of an unknown kind, person or site (``FeedSubjectError``)."""
    if kind not in FEED_KINDS:
        raise FeedSubjectError(f"feed kind {kind!r} is not one of {', '.join(FEED_KINDS)}")
    if session.get(NetworkRecord, network_id) is None:
        raise FeedSubjectError(f"no network with id {network_id}")
    if kind == "staff":
        found = session.scalar(
            select(StaffRecord.id).where(
                StaffRecord.network_id == network_id, StaffRecord.staff_id == subject
            )
        )
        if found is None:
            raise FeedSubjectError(f"staff id {subject!r} is not in the network's staff.csv")
    elif kind == "site":
        found = session.scalar(
            select(SiteRecord.id).where(
                SiteRecord.network_id == network_id, SiteRecord.site_id == subject
            )
        )
        if found is None:
            raise FeedSubjectError(f"site id {subject!r} is not in the network's sites.csv")
    elif subject:
        raise FeedSubjectError("the hub feed has no subject: give '' as its subject")


def revoke_token(session: Session, network_id: int, kind: str, subject: str) -> bool:
    """Disable the feed's link; True when there was an active one."""
    rows = _active_rows(session, network_id, kind, subject)
    moment = now()
    for row in rows:
        row.revoked_at = moment
    session.flush()
    return bool(rows)


def issue_token(
    session: Session, network_id: int, kind: str, subject: str, secret: str | bytes
) -> str:
    """A new link token for the feed; any earlier one stops working (a rotation).

    Raises ``FeedSubjectError`` for a kind, person or site the network does not have.
    """
    check_subject(session, network_id, kind, subject)
    revoke_token(session, network_id, kind, subject)
    nonce = secrets.token_hex(NONCE_BYTES)
    token = derive_token(secret, nonce)
    session.add(
        FeedTokenRecord(
            network_id=network_id,
            kind=kind,
            subject=subject,
            nonce=nonce,
            token_hash=token_hash(token),
            created_at=now(),
        )
    )
    session.flush()
    return token


def current_token(
    session: Session, network_id: int, kind: str, subject: str, secret: str | bytes
) -> str | None:
    """The feed's active token, derived again from its nonce; None when it has none.

    None too when the secret key changed since it was issued: that token no
    longer opens the feed, so showing it would only mislead.
    """
    for row in _active_rows(session, network_id, kind, subject):
        token = derive_token(secret, row.nonce)
        if hmac.compare_digest(token_hash(token), row.token_hash):
            return token
    return None


def find_feed(session: Session, token: str, secret: str | bytes) -> FeedSubject | None:
    """The feed a link token opens; None for an unknown, revoked or malformed token."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    row = session.scalar(
        select(FeedTokenRecord).where(
            FeedTokenRecord.token_hash == token_hash(token),
            FeedTokenRecord.revoked_at.is_(None),
        )
    )
    if row is None or not hmac.compare_digest(derive_token(secret, row.nonce), token):
        return None
    return FeedSubject(row.network_id, row.kind, row.subject)


def feed_urls(host: str, token: str) -> tuple[str, str]:
    """The https:// and webcal:// addresses of a feed."""
    path = f"{host}/feeds/{token}.ics"
    return f"https://{path}", f"webcal://{path}"


# -- the published life of each session -------------------------------------------------------


Identity = tuple[str, dt.date, str]  # staff_id, date, session_id


def _wanted_sites(week: str, assignments: Iterable[Assignment]) -> dict[Identity, str]:
    """Each published session's site, by identity; ``ValueError`` for a date outside ``week``."""
    dates = set(parse_iso_week(week))
    wanted: dict[Identity, str] = {}
    for item in sorted(assignments):
        if item.date not in dates:
            raise ValueError(f"{item.date} is not a date of {week}")
        wanted.setdefault((item.staff_id, item.date, item.session_id), item.site_id)
    return wanted


def _week_events(
    session: Session, network_id: int, week: str
) -> dict[Identity, CalendarEventRecord]:
    """The events already recorded for the dates of ``week``."""
    dates = parse_iso_week(week)
    statement = select(CalendarEventRecord).where(
        CalendarEventRecord.network_id == network_id,
        CalendarEventRecord.date >= dates[0],
        CalendarEventRecord.date <= dates[-1],
    )
    return {(e.staff_id, e.date, e.session_id): e for e in session.scalars(statement)}


def _change(event: CalendarEventRecord, change: str, from_site: str | None) -> EventChange:
    """The EventChange an updated event records."""
    to_site = None if change == REMOVED else event.site_id
    return EventChange(
        event.network_id,
        event.staff_id,
        event.date,
        event.session_id,
        change,
        from_site,
        to_site,
        event.sequence,
    )


def _update(event: CalendarEventRecord, site_id: str, status: str, at: dt.datetime) -> None:
    """Change an event: new site and status, one more SEQUENCE, modified now."""
    event.site_id, event.status = site_id, status
    event.sequence += 1
    event.modified_at = at


def _publish_one(event: CalendarEventRecord, site_id: str, at: dt.datetime) -> EventChange | None:
    """Bring an existing event in line with its session in the new rota; the change, if any."""
    if event.status == CANCELLED:
        _update(event, site_id, CONFIRMED, at)
        return _change(event, ADDED, None)
    if event.site_id != site_id:
        before = event.site_id
        _update(event, site_id, CONFIRMED, at)
        return _change(event, MOVED, before)
    return None


def record_publication(
    session: Session,
    network_id: int,
    week: str,
    assignments: Iterable[Assignment],
    at: dt.datetime,
) -> list[EventChange]:
    """Record a newly published rota of ``week`` in the feed events; what changed, in order.

    A new session is added (SEQUENCE 0); one at another site is moved; one
    missing from the new rota is cancelled; a cancelled one that is back is
    added again.  Every change raises SEQUENCE by one; unchanged sessions
    are left exactly as they were.  Runs in the caller's transaction.
    """
    wanted = _wanted_sites(week, assignments)
    existing = _week_events(session, network_id, week)
    changes: list[EventChange] = []
    for identity, site_id in wanted.items():
        event = existing.get(identity)
        if event is None:
            event = _new_event(network_id, identity, site_id, at)
            session.add(event)
            changes.append(_change(event, ADDED, None))
        elif (change := _publish_one(event, site_id, at)) is not None:
            changes.append(change)
    for identity, event in existing.items():
        if identity not in wanted and event.status == CONFIRMED:
            before = event.site_id
            _update(event, event.site_id, CANCELLED, at)
            changes.append(_change(event, REMOVED, before))
    session.flush()
    return sorted(changes, key=lambda c: (c.date, c.session_id, c.staff_id))


def _new_event(
    network_id: int, identity: Identity, site_id: str, at: dt.datetime
) -> CalendarEventRecord:
    """A first-published session: confirmed, SEQUENCE 0."""
    staff_id, date, session_id = identity
    return CalendarEventRecord(
        network_id=network_id,
        staff_id=staff_id,
        date=date,
        session_id=session_id,
        site_id=site_id,
        status=CONFIRMED,
        sequence=0,
        created_at=at,
        modified_at=at,
    )


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


def _window_events(
    session: Session, feed: FeedSubject, today: dt.date
) -> list[CalendarEventRecord]:
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


@dataclass(frozen=True)
class Occurrence:
    """One event as a feed shows it: the stored event, or a change about to be e-mailed."""

    network_id: int
    staff_id: str
    date: dt.date
    session_id: str
    site_id: str
    status: str
    sequence: int
    created_at: dt.datetime
    modified_at: dt.datetime

    @classmethod
    def of(cls, event: CalendarEventRecord) -> Occurrence:
        return cls(
            event.network_id,
            event.staff_id,
            event.date,
            event.session_id,
            event.site_id,
            event.status,
            event.sequence,
            utc(event.created_at),
            utc(event.modified_at),
        )


def event_uid(occurrence: Occurrence, host: str, kind: str = "staff") -> str:
    """The stable UID: a person's feed, and the site and hub feeds, each their own."""
    prefix = "rotapool" if kind == "staff" else f"rotapool-{kind}"
    return (
        f"{prefix}-{occurrence.network_id}-{occurrence.staff_id}-"
        f"{occurrence.date:%Y%m%d}-{occurrence.session_id}@{host}"
    )


def _hours(start: dt.datetime, end: dt.datetime) -> str:
    """Hours really worked, across a clock change too (``3.5``, ``4``)."""
    return f"{(end - start).total_seconds() / 3600:g}"


def _person(directory: Directory, staff_id: str) -> tuple[str, str | None]:
    """A person's name and role; their id alone once they have left the network."""
    person = directory.staff.get(staff_id)
    return (staff_id, None) if person is None else (person.name, person.role)


def _description(
    directory: Directory, occurrence: Occurrence, kind: str, times: tuple[dt.datetime, ...]
) -> str:
    """Role, hours, place and who to ask, one per line; a cancellation says so first."""
    start, end = times
    name, role = _person(directory, occurrence.staff_id)
    site = directory.sites[occurrence.site_id].name
    lines = []
    if occurrence.status == CANCELLED:
        lines.append("Cancelled: this session is no longer in the published rota.")
    if kind != "staff":
        lines.append(f"Who: {name}")
    lines += [
        f"Role: {role or 'not recorded'}",
        f"Hours: {start:%H:%M}-{end:%H:%M} ({_hours(start, end)} hours)",
        f"Where: {site}",
        f"Who to call: your rota coordinator at {directory.network_name}, or {site} on the day.",
    ]
    return "\n".join(lines)


def _summary(directory: Directory, occurrence: Occurrence, kind: str) -> str:
    """``AM surgery - Riverside Road Surgery``; other feeds name the person and role."""
    label = directory.sessions[occurrence.session_id].label
    if kind == "staff":
        return f"{label} - {directory.sites[occurrence.site_id].name}"
    name, role = _person(directory, occurrence.staff_id)
    return f"{label} - {name} ({role})" if role else f"{label} - {name}"


def _times(directory: Directory, occurrence: Occurrence) -> tuple[dt.datetime, dt.datetime]:
    """Start and end in the network's time zone (an overnight session ends the next day)."""
    session_type = directory.sessions[occurrence.session_id]
    zone = directory.zone
    start, end = session_instants(session_type, occurrence.date, zone)
    return start.astimezone(zone), end.astimezone(zone)


def _shown(directory: Directory, occurrence: Occurrence) -> bool:
    """Events of a session type or site that a re-import removed cannot be placed or timed."""
    return occurrence.session_id in directory.sessions and occurrence.site_id in directory.sites


def make_event(
    directory: Directory,
    occurrence: Occurrence,
    host: str,
    kind: str,
    stamp: dt.datetime,
) -> Event:
    """One VEVENT."""
    start, end = _times(directory, occurrence)
    event = Event()
    event.add("uid", event_uid(occurrence, host, kind))
    event.add("summary", _summary(directory, occurrence, kind))
    event.add("location", directory.sites[occurrence.site_id].name)
    event.add("description", _description(directory, occurrence, kind, (start, end)))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", stamp)
    event.add("created", occurrence.created_at)
    event.add("last-modified", occurrence.modified_at)
    event.add("sequence", occurrence.sequence)
    event.add("status", occurrence.status.upper())
    # A cancelled session no longer makes the person busy.
    event.add("transp", "TRANSPARENT" if occurrence.status == CANCELLED else "OPAQUE")
    return event


def _calendar(name: str, timezone: str) -> Calendar:
    """The VCALENDAR header every feed and attachment shares."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone)
    calendar.add("refresh-interval", vText(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    return calendar


def _finish(calendar: Calendar, events: list[tuple[dt.datetime, dt.datetime, Event]]) -> bytes:
    """Add the events in time order and the VTIMEZONE they need; the .ics bytes (CRLF)."""
    events.sort(key=lambda item: (item[0], str(item[2]["uid"])))
    for _start, _end, event in events:
        calendar.add_component(event)
    if events:
        first = min(start for start, _end, _event in events).date()
        last = max(end for _start, end, _event in events).date()
        calendar.add_missing_timezones(dt.date(first.year, 1, 1), dt.date(last.year + 1, 1, 1))
    return bytes(calendar.to_ical())


def feed_name(directory: Directory, feed: FeedSubject) -> str:
    """The calendar's name as the user's calendar app lists it."""
    if feed.kind == "staff":
        return f"rotapool - {_person(directory, feed.subject)[0]}"
    if feed.kind == "site":
        site = directory.sites.get(feed.subject)
        return f"rotapool - {site.name if site else feed.subject}"
    return f"rotapool - {directory.network_name} hub sessions"


def render_feed(session: Session, feed: FeedSubject, host: str, today: dt.date) -> bytes:
    """The feed's .ics (UTF-8, CRLF), as of ``today`` in the network's time zone."""
    directory = load_directory(session, feed.network_id)
    stamp = feed_last_modified(session, feed)
    events = []
    for record in _window_events(session, feed, today):
        occurrence = Occurrence.of(record)
        if _shown(directory, occurrence):
            start, end = _times(directory, occurrence)
            events.append((start, end, make_event(directory, occurrence, host, feed.kind, stamp)))
    return _finish(_calendar(feed_name(directory, feed), directory.timezone), events)


def event_calendar(session: Session, change: EventChange, host: str) -> bytes:
    """A one-event .ics of a changed session, to attach to the notice e-mail.

    Same UID and SEQUENCE as in the person's feed, so a calendar that already
    has the event updates it (or marks it cancelled) instead of adding another.
    """
    directory = load_directory(session, change.network_id)
    occurrence = _change_occurrence(session, change)
    person = FeedSubject(change.network_id, "staff", change.staff_id)
    calendar = _calendar(feed_name(directory, person), directory.timezone)
    if not _shown(directory, occurrence):
        return _finish(calendar, [])
    start, end = _times(directory, occurrence)
    event = make_event(directory, occurrence, host, "staff", occurrence.modified_at)
    return _finish(calendar, [(start, end, event)])


def _change_occurrence(session: Session, change: EventChange) -> Occurrence:
    """The event as the change left it (times of creation and change from the stored event)."""
    stored = session.scalar(
        select(CalendarEventRecord).where(
            CalendarEventRecord.network_id == change.network_id,
            CalendarEventRecord.staff_id == change.staff_id,
            CalendarEventRecord.date == change.date,
            CalendarEventRecord.session_id == change.session_id,
        )
    )
    moment = now() if stored is None else utc(stored.modified_at)
    created = moment if stored is None else utc(stored.created_at)
    return Occurrence(
        change.network_id,
        change.staff_id,
        change.date,
        change.session_id,
        change.to_site or change.from_site or "",
        CANCELLED if change.change == REMOVED else CONFIRMED,
        change.sequence,
        created,
        moment,
    )
