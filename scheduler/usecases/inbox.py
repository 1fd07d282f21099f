"""One inbox for everyone: what concerns a person, kept as the record; e-mails repeat it.

A clinician's items are addressed to their ``staff_id`` (so an account made
later sees them too); a manager's or coordinator's to their account
(``tell_coordinators`` writes one row per such account of the network).
Items are written in the transaction of the change they describe, so a
change that rolls back leaves no item.  Texts are plain words a person can
act on; a leave kind or reason never goes into one (only managers and
coordinators may see those, and an item may be read on a shared phone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from scheduler.checks.wording import short_day
from scheduler.storage.clock import now, utc
from scheduler.storage.feeds import EventChange
from scheduler.storage.models.app import UserRecord
from scheduler.storage.models.pool import InboxRecord

# What an item is about: the inbox groups and labels by it.
INBOX_KINDS = {
    "change": "Change to your sessions",
    "decision": "Decision on your request",
    "open": "Open session you could take",
    "swap": "Swap",
    "timesheet": "Timesheet",
    "availability": "Availability",
    "request": "Waiting for a decision",
}
SHOWN = 100  # the newest items a page shows; older ones stay in the table


@dataclass(frozen=True)
class Recipient:
    """Whose inbox: a clinician (``staff_id``) and/or one account (``user_id``)."""

    user_id: int
    staff_id: str | None


@dataclass(frozen=True)
class InboxItem:
    """One item as a page shows it."""

    id: int
    kind: str
    label: str
    text: str
    link: str | None
    created_at: dt.datetime
    read: bool


def person_link(network_id: int, staff_id: str, page: str = "") -> str:
    """The path of a person's page, or of one of its pages (``open``, ``swaps``)."""
    path = f"/n/{network_id}/people/{quote(staff_id, safe='')}"
    return f"{path}/{page}" if page else path


def tell(
    session: Session,
    network_id: int,
    *,
    staff_id: str | None = None,
    user_id: int | None = None,
    kind: str,
    text: str,
    link: str | None = None,
) -> None:
    """Put one item in a person's inbox, in the caller's transaction."""
    if kind not in INBOX_KINDS:
        raise ValueError(f"unknown inbox kind {kind!r}")
    if staff_id is None and user_id is None:
        raise ValueError("an inbox item needs a staff_id or a user_id")
    session.add(
        InboxRecord(
            network_id=network_id,
            staff_id=staff_id,
            user_id=user_id,
            kind=kind,
            text=text,
            link=link,
            created_at=now(),
        )
    )


def tell_coordinators(
    session: Session, network_id: int, *, kind: str, text: str, link: str | None = None
) -> int:
    """Put one item in the inbox of every active manager and coordinator of the network."""
    users = session.scalars(
        select(UserRecord.id).where(
            UserRecord.active.is_(True),
            UserRecord.role.in_(("manager", "coordinator")),
            or_(UserRecord.network_id == network_id, UserRecord.network_id.is_(None)),
        )
    ).all()
    for user_id in users:
        tell(session, network_id, user_id=user_id, kind=kind, text=text, link=link)
    return len(users)


def tell_practice(
    session: Session, network_id: int, site_id: str, *, kind: str, text: str, link: str | None
) -> int:
    """Put one item in the inbox of every active account of the practice (its site)."""
    users = session.scalars(
        select(UserRecord.id).where(
            UserRecord.active.is_(True),
            UserRecord.role == "practice",
            UserRecord.site_id == site_id,
            or_(UserRecord.network_id == network_id, UserRecord.network_id.is_(None)),
        )
    ).all()
    for user_id in users:
        tell(session, network_id, user_id=user_id, kind=kind, text=text, link=link)
    return len(users)


def _mine(network_id: int | None, who: Recipient) -> ColumnElement[bool]:
    """This person's items: their account's, and their staff_id's in that network (None:
    an account of every network, whose items are its own account's only)."""
    mine = InboxRecord.user_id == who.user_id
    if who.staff_id is None or network_id is None:
        return mine if network_id is None else and_(InboxRecord.network_id == network_id, mine)
    return and_(
        InboxRecord.network_id == network_id,
        or_(mine, InboxRecord.staff_id == who.staff_id),
    )


def unread_count(session: Session, network_id: int | None, who: Recipient) -> int:
    """How many items this person has not opened (the navigation shows it)."""
    statement = (
        select(func.count())
        .select_from(InboxRecord)
        .where(_mine(network_id, who), InboxRecord.read_at.is_(None))
    )
    return int(session.scalar(statement) or 0)


def items(session: Session, network_id: int | None, who: Recipient) -> list[InboxItem]:
    """This person's newest items, unread first, newest first within each."""
    records = session.scalars(
        select(InboxRecord)
        .where(_mine(network_id, who))
        .order_by(
            InboxRecord.read_at.is_not(None), InboxRecord.created_at.desc(), InboxRecord.id.desc()
        )
        .limit(SHOWN)
    ).all()
    return [
        InboxItem(
            id=r.id,
            kind=r.kind,
            label=INBOX_KINDS.get(r.kind, r.kind),
            text=r.text,
            link=r.link,
            created_at=utc(r.created_at),
            read=r.read_at is not None,
        )
        for r in records
    ]


def link_of(session: Session, network_id: int | None, who: Recipient, item_id: int) -> str | None:
    """The page an item of this person's points to, or None (not theirs, or no page)."""
    statement = select(InboxRecord.link).where(_mine(network_id, who), InboxRecord.id == item_id)
    return session.scalar(statement)


def mark_read(
    session: Session, network_id: int | None, who: Recipient, item_id: int | None = None
) -> int:
    """Mark one item (or every item) of this person read; another person's item is untouched."""
    statement = (
        update(InboxRecord)
        .where(_mine(network_id, who), InboxRecord.read_at.is_(None))
        .values(read_at=now())
    )
    if item_id is not None:
        statement = statement.where(InboxRecord.id == item_id)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


# -- what publications tell ---------------------------------------------------------------

SHOWN_CHANGES = 3  # changes spelled out in one item; the rest are counted


def change_words(change: EventChange) -> str:
    """``Wed 2 Dec EVE moved from P01 to P02`` (also ``added at``, ``removed from``)."""
    day = short_day(change.date)
    if change.change == "moved":
        what = f"moved from {change.from_site} to {change.to_site}"
    elif change.change == "added":
        what = f"added at {change.to_site}"
    else:
        what = f"removed from {change.from_site}" if change.from_site else "removed"
    return f"{day} {change.session_id} {what}"


def tell_changes(session: Session, changes: Sequence[EventChange], today: dt.date) -> int:
    """One item per person whose published sessions from today on changed; how many items."""
    by_person: dict[tuple[int, str], list[EventChange]] = {}
    for change in sorted(changes, key=lambda c: (c.date, c.session_id)):
        if change.date >= today:
            by_person.setdefault((change.network_id, change.staff_id), []).append(change)
    for (network_id, staff_id), theirs in by_person.items():
        words = "; ".join(change_words(c) for c in theirs[:SHOWN_CHANGES])
        more = len(theirs) - SHOWN_CHANGES
        if more > 0:
            words += f" (and {more} more)"
        tell(
            session,
            network_id,
            staff_id=staff_id,
            kind="change",
            text=f"Your published sessions changed: {words}.",
            link=person_link(network_id, staff_id),
        )
    return len(by_person)
