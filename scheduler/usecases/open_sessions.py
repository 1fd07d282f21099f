"""Open sessions: places in a published week offered to the network's people, who book them.

A manager or coordinator offers a place (a site's session on a date, for a role
and skill) or every unmet minimum of a published week at once.  Whoever fits
the role and skill and could work it without breaking a hard rule *now* may
book it; the first to book gets it.  A booking is checked by the validator
against the whole published week, then published as the week's next version
(so only the booker's calendar and notices change) and, when the week has a
draft being worked on, written into the draft too.  A place closes when its
session starts.

Booking is ``scheduler.usecases.open_bookings``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from scheduler.checks.capacity import RotaIndex
from scheduler.checks.rota_facts import session_bounds
from scheduler.checks.validator import added_by_change, check_rota
from scheduler.domain import Assignment, Bundle, Staff, iso_week_label
from scheduler.storage import audit
from scheduler.storage.clock import utc
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import OpenSessionRecord
from scheduler.storage.rotas import find_rota, normalise_week
from scheduler.usecases.editing import load_cells, week_dates

OPEN = "open"
STATES = ("open", "requested", "booked", "withdrawn", "expired")  # as the table's check says
NOTE_LENGTH = 200


class OpenSessionError(ValueError):
    """An offer that does not make sense, naming the field and what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class BookingRefusedError(RuntimeError):
    """A booking that cannot be made: taken, closed, or it would break a hard rule."""


@dataclass(frozen=True)
class OpenSession:
    """An offered place and what became of it."""

    id: int
    network_id: int
    week: str
    date: dt.date
    session_id: str
    site_id: str
    role: str | None
    skill: str | None
    rate: float | None
    note: str | None
    state: str
    offered_by: str
    closes_at: dt.datetime
    booked_staff_id: str | None = None
    version: int | None = None
    offered_at: dt.datetime | None = None

    @property
    def cell_of(self) -> tuple[dt.date, str, str]:
        return (self.date, self.site_id, self.session_id)

    @property
    def need(self) -> str:
        """``GP``, ``PN with cytology``, ``anyone``."""
        who = self.role or "anyone"
        return who if self.skill is None else f"{who} with {self.skill}"

    @property
    def where(self) -> str:
        """``P08 Tue 01 Dec AM``."""
        return f"{self.site_id} {self.date:%a %d %b} {self.session_id}"

    def admits(self, person: Staff) -> bool:
        """Whether the person has the role and the skill the place asks for."""
        role_ok = self.role is None or person.role == self.role
        return role_ok and (self.skill is None or self.skill in person.skills)


def open_session_of(record: OpenSessionRecord) -> OpenSession:
    return OpenSession(
        id=record.id,
        network_id=record.network_id,
        week=record.week,
        date=record.date,
        session_id=record.session_id,
        site_id=record.site_id,
        role=record.role,
        skill=record.skill,
        rate=record.rate,
        note=record.note,
        state=record.state,
        offered_by=record.offered_by,
        closes_at=utc(record.closes_at),
        booked_staff_id=record.booked_staff_id,
        version=record.version,
        offered_at=utc(record.offered_at),
    )


# -- offering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A place as the offer form or the command line gives it, checked against the bundle."""

    date: dt.date
    session_id: str
    site_id: str
    role: str | None
    skill: str | None
    rate: float | None
    note: str | None


def _text(fields: Mapping[str, str], name: str) -> str:
    return (fields.get(name) or "").strip()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OpenSessionError("date", f"{text!r} is not a date; write it as 2026-12-01") from None


def _rate(text: str) -> float | None:
    if not text:
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 <= rate < 10_000:
        raise OpenSessionError("rate", f"{text!r} is not an hourly rate in pounds, e.g. 95.50")
    return rate


def parse_offer(bundle: Bundle, fields: Mapping[str, str]) -> Offer:
    """The offer the fields describe; ``OpenSessionError`` names the first wrong field."""
    site_id, session_id = _text(fields, "site_id"), _text(fields, "session_id")
    if site_id not in {s.site_id for s in bundle.sites}:
        raise OpenSessionError("site_id", f"{site_id!r} is not a site of the network")
    session = next((s for s in bundle.session_types if s.session_id == session_id), None)
    if session is None:
        known = ", ".join(s.session_id for s in bundle.session_types)
        raise OpenSessionError("session_id", f"{session_id!r} is not a session ({known})")
    day = _date(_text(fields, "date"))
    if not session.runs_on(day):
        raise OpenSessionError("session_id", f"{session_id} does not run on {day:%A}s")
    role, skill = _text(fields, "role") or None, _text(fields, "skill") or None
    if role is not None and role not in {p.role for p in bundle.staff}:
        raise OpenSessionError("role", f"nobody in the network has the role {role!r}")
    if skill is not None and not any(skill in p.skills for p in bundle.staff):
        raise OpenSessionError("skill", f"nobody in the network has the skill {skill!r}")
    note = _text(fields, "note") or None
    if note is not None and len(note) > NOTE_LENGTH:
        raise OpenSessionError("note", f"write at most {NOTE_LENGTH} characters")
    return Offer(day, session_id, site_id, role, skill, _rate(_text(fields, "rate")), note)


def starts_at(bundle: Bundle, offer: Offer | OpenSession) -> dt.datetime:
    """When the place's session starts (UTC): the place closes then."""
    session = next(s for s in bundle.session_types if s.session_id == offer.session_id)
    return session_bounds(session, offer.date, ZoneInfo(bundle.timezone))[0]


def offer_place(
    session: Session, network_id: int, offer: Offer, actor: str, moment: dt.datetime
) -> OpenSession:
    """Store an offer of a place in a published week; raises ``OpenSessionError`` when the
    week is not published or the session has started."""
    week = iso_week_label(offer.date)
    if find_rota(session, network_id, week, "published") is None:
        raise OpenSessionError("date", f"{week} is not published; publish it, then offer places")
    bundle = current_bundle(session, network_id)
    lead = dt.timedelta(hours=bundle.open_sessions.closes_hours_before)
    closes = starts_at(bundle, offer) - lead
    if closes <= moment:
        raise OpenSessionError("date", "that place has closed (its session starts too soon)")
    record = OpenSessionRecord(
        network_id=network_id,
        week=week,
        date=offer.date,
        session_id=offer.session_id,
        site_id=offer.site_id,
        role=offer.role,
        skill=offer.skill,
        rate=offer.rate,
        note=offer.note,
        state=OPEN,
        offered_by=actor,
        offered_at=moment,
        closes_at=closes,
    )
    session.add(record)
    session.flush()
    found = open_session_of(record)
    audit.record(
        session,
        actor,
        "open session offered",
        f"{found.where} {found.need}",
        network_id=network_id,
        after={"open_session": found.id},
    )
    return found


def offer_shortfalls(
    session: Session, network_id: int, week: str, actor: str, moment: dt.datetime
) -> list[OpenSession]:
    """One place for each person short of a minimum in the published week, except those
    already offered and still open, and those whose session has started."""
    week = normalise_week(week)
    published = find_rota(session, network_id, week, "published")
    if published is None:
        raise OpenSessionError("week", f"{week} is not published; publish it, then offer places")
    bundle = current_bundle(session, network_id)
    cells = load_cells(session, published.id).assignments
    report = check_rota(bundle, week_dates(week), cells)
    taken = [
        (o.date, o.site_id, o.session_id, o.role, o.skill)
        for o in list_places(session, network_id, week, (OPEN, "requested"))
    ]
    made = []
    for line in report.coverage:
        key = (line.date, line.site_id, line.session_id, line.role, line.skill)
        for _ in range(max(0, line.shortfall - taken.count(key))):
            offer = Offer(
                line.date, line.session_id, line.site_id, line.role, line.skill, None, None
            )
            if starts_at(bundle, offer) > moment:
                made.append(offer_place(session, network_id, offer, actor, moment))
    return made


def list_places(
    session: Session, network_id: int, week: str | None = None, states: Sequence[str] = (OPEN,)
) -> list[OpenSession]:
    """The network's places in these states (of one week, if given), by date, site, session."""
    statement = select(OpenSessionRecord).where(
        OpenSessionRecord.network_id == network_id, OpenSessionRecord.state.in_(states)
    )
    if week is not None:
        statement = statement.where(OpenSessionRecord.week == normalise_week(week))
    records = session.scalars(
        statement.order_by(
            OpenSessionRecord.date,
            OpenSessionRecord.session_id,
            OpenSessionRecord.site_id,
            OpenSessionRecord.id,
        )
    )
    return [open_session_of(r) for r in records]


def change_place(
    session: Session,
    network_id: int,
    place_id: int,
    values: dict[str, object],
    state: str = OPEN,
) -> OpenSession | None:
    """Change a place in ``state`` (the UPDATE is the check that it still is); None if not."""
    result = session.execute(
        update(OpenSessionRecord)
        .where(
            OpenSessionRecord.id == place_id,
            OpenSessionRecord.network_id == network_id,
            OpenSessionRecord.state == state,
        )
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if not (isinstance(result, CursorResult) and result.rowcount == 1):
        return None
    record = session.get(OpenSessionRecord, place_id, populate_existing=True)
    return open_session_of(record) if record is not None else None


def why_not_open(session: Session, network_id: int, place_id: int) -> str:
    record = session.get(OpenSessionRecord, place_id, populate_existing=True)
    if record is None or record.network_id != network_id:
        return f"there is no open session {place_id}"
    if record.state == "booked":
        return "someone else booked it first"
    return f"it is {record.state}"


def withdraw(
    session: Session, network_id: int, place_id: int, actor: str, moment: dt.datetime
) -> OpenSession:
    """Take an open place back; ``BookingRefusedError`` when it is no longer open."""
    found = change_place(
        session,
        network_id,
        place_id,
        {"state": "withdrawn", "closed_by": actor, "closed_at": moment},
    )
    if found is None:
        raise BookingRefusedError(f"not withdrawn: {why_not_open(session, network_id, place_id)}")
    audit.record(
        session,
        actor,
        "open session withdrawn",
        found.where,
        network_id=network_id,
        after={"open_session": found.id},
    )
    return found


def expire_due(session: Session, network_id: int, moment: dt.datetime) -> list[OpenSession]:
    """Close the places whose closing time has come, open or asked for and never approved:
    they are reported unfilled."""
    waiting = list_places(session, network_id, states=(OPEN, "requested"))
    closed = []
    for place in (p for p in waiting if p.closes_at <= moment):
        values = {"state": "expired", "closed_at": moment}
        found = change_place(session, network_id, place.id, values, place.state)
        if found is not None:
            closed.append(found)
    return closed


# -- who may book ----------------------------------------------------------------------------


def refusal(
    bundle: Bundle, published: Iterable[Assignment], place: OpenSession, person: Staff
) -> str | None:
    """Why the person cannot book the place now, or None when they can: role and skill, then
    the validator's verdict on the published week with them added."""
    if not place.admits(person):
        return f"the place is for {place.need}"
    cell = Assignment(place.date, place.session_id, place.site_id, person.staff_id)
    rota = frozenset(published)
    if cell in rota:
        return "you already work there then"
    broken = added_by_change(bundle, week_dates(place.week), rota, rota | {cell})
    return broken[0].message if broken else None


def who_may_book(
    bundle: Bundle, published: Iterable[Assignment], place: OpenSession
) -> list[Staff]:
    """Everyone who could book the place now, by name.

    The capacity check (``checks.capacity``, held to the validator's verdict on
    adding one session by its property tests) sifts the network first; the
    validator then confirms each person it lets through.
    """
    rota = frozenset(published)
    index = RotaIndex(bundle, week_dates(place.week), rota)
    shift = index.shift(place.date, place.session_id)
    if shift is None:
        return []
    sifted = (
        p
        for p in bundle.staff
        if place.admits(p) and index.breaks(index.week_of(p), shift, place.site_id) is None
    )
    return sorted(
        (p for p in sifted if refusal(bundle, rota, place, p) is None),
        key=lambda p: (p.name, p.staff_id),
    )


def published_cells(session: Session, network_id: int, week: str) -> frozenset[Assignment]:
    """The week's published cells (empty when it is not published)."""
    rota = find_rota(session, network_id, week, "published")
    return load_cells(session, rota.id).assignments if rota is not None else frozenset()


def places_for(
    session: Session,
    network_id: int,
    person: Staff,
    moment: dt.datetime,
    bundle: Bundle | None = None,
) -> list[tuple[OpenSession, str | None]]:
    """The open places of role and skill the person has, each with why they cannot book it
    (None: they can), soonest first, and the places they asked for that wait for approval;
    places that have closed are left out.  ``bundle``: the network's current bundle, when the
    caller has it already."""
    found: list[tuple[OpenSession, str | None]] = []
    published: dict[str, frozenset[Assignment]] = {}
    bundle = bundle or current_bundle(session, network_id)
    for place in list_places(session, network_id, states=(OPEN, "requested")):
        if place.closes_at <= moment or not place.admits(person):
            continue
        if place.state != OPEN:  # a request: theirs is listed, anyone else's is not
            if place.booked_staff_id == person.staff_id:
                found.append((place, None))
            continue
        if place.week not in published:
            published[place.week] = published_cells(session, network_id, place.week)
        found.append((place, refusal(bundle, published[place.week], place, person)))
    return found
