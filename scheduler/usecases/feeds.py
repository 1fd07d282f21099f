"""Calendar-feed links and the published life of each session.

A link's token is an HMAC of a random nonce under the app's secret key; the
database keeps the nonce and a SHA-256 of the token, never the token, so the
link can be shown again to its owner while a copy of the database alone
opens nothing.  Rotating a link revokes the old row and issues a new nonce.

``record_publication`` (called when a week is published) turns the new
version into calendar events: added, moved (same UID, higher SEQUENCE) or
cancelled."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import Assignment, parse_iso_week
from scheduler.storage.clock import now
from scheduler.storage.feeds import (
    ADDED,
    CANCELLED,
    CONFIRMED,
    FEED_KINDS,
    MOVED,
    REMOVED,
    EventChange,
    FeedSubject,
    FeedSubjectError,
)
from scheduler.storage.models.app import CalendarEventRecord, FeedTokenRecord
from scheduler.storage.models.network import NetworkRecord, SiteRecord, StaffRecord

TOKEN_PURPOSE = "rotapool-feed:"
NONCE_BYTES = 32
MAX_TOKEN_LENGTH = 128  # far above a real token (43 characters); longer input is not hashed


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


def feed_urls(base: str, token: str) -> tuple[str, str]:
    """A feed's address under ``base`` (``https://host``), and the same as webcal://."""
    link = f"{base}/feeds/{token}.ics"
    return link, "webcal://" + link.split("://", 1)[1]


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
