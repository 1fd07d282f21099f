"""The open-sessions digest: once a day, each person hears of the open places they could take.

``digest_for`` works out, place by place, who could book each open place now
(``open_sessions.who_may_book``: the capacity sift, then the validator), so a
network of hundreds costs one eligibility check per place, not per person.
``send_digest`` (the scheduled ``digest`` job) then puts one inbox item per
person and queues one e-mail per person with an address, skipping whoever
opted out and whoever already had today's; a person opts out (or back in) on
their page.  The network can turn the digest off (``[open_sessions] digest``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import Assignment, Bundle, Staff
from scheduler.storage.models.pool import DigestRecord
from scheduler.usecases.inbox import person_link, tell
from scheduler.usecases.open_sessions import (
    OPEN,
    OpenSession,
    list_places,
    published_cells,
    who_may_book,
)

SHOWN_PLACES = 10  # places listed in one digest; the page has the rest


@dataclass(frozen=True)
class Digest:
    """One person's digest: the open places they could book now, soonest first."""

    person: Staff
    places: tuple[OpenSession, ...]

    @property
    def page(self) -> str:
        """The path of the person's open-sessions page."""
        network_id = self.places[0].network_id
        return person_link(network_id, self.person.staff_id, "open")


def digest_for(
    session: Session, network_id: int, bundle: Bundle, moment: dt.datetime
) -> list[Digest]:
    """Everyone who could book at least one open place now, with those places."""
    fits: dict[str, list[OpenSession]] = defaultdict(list)
    published: dict[str, frozenset[Assignment]] = {}
    for place in list_places(session, network_id, states=(OPEN,)):
        if place.closes_at <= moment:
            continue
        if place.week not in published:
            published[place.week] = published_cells(session, network_id, place.week)
        for person in who_may_book(bundle, published[place.week], place):
            fits[person.staff_id].append(place)
    return [
        Digest(bundle.person(staff_id), tuple(places)) for staff_id, places in sorted(fits.items())
    ]


def _records(session: Session, network_id: int) -> dict[str, DigestRecord]:
    statement = select(DigestRecord).where(DigestRecord.network_id == network_id)
    return {r.staff_id: r for r in session.scalars(statement)}


def wants_digest(session: Session, network_id: int, staff_id: str) -> bool:
    """Whether the person gets the daily e-mail (everyone does until they opt out)."""
    record = _records(session, network_id).get(staff_id)
    return record is None or not record.opted_out


def set_digest(session: Session, network_id: int, staff_id: str, *, wanted: bool) -> None:
    """Opt the person out of the daily e-mail, or back in."""
    record = _records(session, network_id).get(staff_id)
    if record is None:
        session.add(DigestRecord(network_id=network_id, staff_id=staff_id, opted_out=not wanted))
    else:
        record.opted_out = not wanted
    session.flush()


def place_words(place: OpenSession, bundle: Bundle) -> str:
    """``Wed 2 Dec 18:30-20:00 at Riverside Hub (HUB1)``."""
    shift = next((s for s in bundle.session_types if s.session_id == place.session_id), None)
    hours = f"{shift.start:%H:%M}-{shift.end:%H:%M}" if shift else place.session_id
    site = next((s.name for s in bundle.sites if s.site_id == place.site_id), place.site_id)
    return f"{place.date:%a} {place.date.day} {place.date:%b} {hours} at {site} ({place.site_id})"


def due_digests(
    session: Session, network_id: int, bundle: Bundle, moment: dt.datetime
) -> list[Digest]:
    """The digests to send now: each person's first of the day, unless they opted out.

    Marks each one sent today and puts its inbox item, in the caller's transaction.
    """
    today = moment.date()
    records = _records(session, network_id)
    due = []
    for digest in digest_for(session, network_id, bundle, moment):
        record = records.get(digest.person.staff_id)
        if record is not None and (record.opted_out or record.last_sent_on == today):
            continue
        if record is None:
            record = DigestRecord(network_id=network_id, staff_id=digest.person.staff_id)
            record.opted_out = False
            session.add(record)
        record.last_sent_on = today
        count = len(digest.places)
        listed = "; ".join(place_words(p, bundle) for p in digest.places[:3])
        more = f" and {count - 3} more" if count > 3 else ""
        tell(
            session,
            network_id,
            staff_id=digest.person.staff_id,
            kind="open",
            text=f"{count} open session{'s' if count != 1 else ''} you could take: {listed}{more}.",
            link=digest.page,
        )
        due.append(digest)
    session.flush()
    return due
