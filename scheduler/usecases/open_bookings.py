"""Booking an open session: at once (first come, first served) or as a request a manager or
coordinator approves, as the network's ``[open_sessions] booking`` setting says.

A booking is checked by the validator against the whole published week, then
published as the week's next version (so only the booker's calendar and
notices change) and, when the week has a draft being worked on, written into
the draft too.  An approval checks it all again at that moment.

Concurrency: a booking first waits for any other publication of the network
(``publishing.lock_week``), then claims the place with one UPDATE that is
also the check that it is still open; two people booking one place at once
cannot both get it, and two bookings never build on the same version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from scheduler.checks.validator import added_by_change, check_rota, newly_broken
from scheduler.domain import Assignment, Bundle, Staff
from scheduler.storage import audit
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import OpenSessionRecord
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.rotas import assignment_record, find_rota
from scheduler.usecases.editing import load_cells, pinned_cells, week_dates
from scheduler.usecases.inbox import person_link, tell, tell_coordinators
from scheduler.usecases.notices import notifiable, record_notices
from scheduler.usecases.open_sessions import (
    BookingRefusedError,
    OpenSession,
    change_place,
    refusal,
    why_not_open,
)
from scheduler.usecases.publishing import PublishedVersion, copied_rota, lock_week, make_version

REQUESTED = "requested"


@dataclass(frozen=True)
class Booked:
    """A booking: the place, and the version of the week that now holds it (None: a request
    waiting for approval)."""

    place: OpenSession
    version: PublishedVersion | None
    in_draft: bool = False  # the week's draft holds it too


def _into_draft(session: Session, network_id: int, week: str, cell: Assignment) -> bool:
    """Put the booked cell in the week's draft too (so its next publication keeps it), when
    the draft can take it without a new break; False when there is no draft."""
    draft = find_rota(session, network_id, week, "draft")
    if draft is None:
        return False
    cells = load_cells(session, draft.id).assignments
    if cell in cells:
        return True
    bundle = current_bundle(session, network_id)
    broken = added_by_change(bundle, week_dates(week), cells, cells | {cell})
    if broken:
        raise BookingRefusedError(
            "the week is being re-planned and the draft cannot take this booking "
            f"({broken[0].message}); ask the coordinator"
        )
    draft.revision += 1
    session.add(assignment_record(draft.id, cell, False))
    session.flush()
    return True


def _whole_week(
    bundle: Bundle, week: str, before: frozenset[Assignment], after: frozenset[Assignment]
) -> str | None:
    """The first hard rule ``after`` breaks that ``before`` did not, checking the whole week."""
    dates = week_dates(week)
    added = newly_broken(
        check_rota(bundle, dates, before).violations, check_rota(bundle, dates, after).violations
    )
    return added[0].message if added else None


def book(
    session: Session,
    network_id: int,
    place_id: int,
    person: Staff,
    *,
    actor: str,
    moment: dt.datetime,
) -> Booked:
    """Book the place for the person, in the caller's transaction: published at once, or a
    request when the network approves bookings.

    Raises ``BookingRefusedError`` saying why (taken, closed, or the hard rule it would
    break); the caller then rolls back and nothing has changed.
    """
    lock_week(session, network_id)
    bundle = current_bundle(session, network_id)
    asking = bundle.open_sessions.booking == "approval"
    values: dict[str, object] = {
        "state": REQUESTED if asking else "booked",
        "booked_staff_id": person.staff_id,
        "booked_at": moment,
    }
    claimed = change_place(session, network_id, place_id, values)
    if claimed is None:
        raise BookingRefusedError(f"not booked: {why_not_open(session, network_id, place_id)}")
    if claimed.closes_at <= moment:
        raise BookingRefusedError("not booked: the place has closed")
    published, cells = _checked(session, network_id, bundle, claimed, person)
    if asking:
        tell_coordinators(
            session,
            network_id,
            kind="request",
            text=f"{person.name} asked for the open session {claimed.where}.",
            link=f"/n/{network_id}/weeks/{claimed.week}/open",
        )
        audit.record(
            session,
            actor,
            "open session requested",
            f"{claimed.where} by {person.staff_id}",
            network_id=network_id,
            after={"open_session": claimed.id},
        )
        return Booked(claimed, None)
    return _publish(session, network_id, claimed, (published, cells), actor=actor, moment=moment)


def _checked(
    session: Session, network_id: int, bundle: Bundle, place: OpenSession, person: Staff
) -> tuple[RotaRecord, frozenset[Assignment]]:
    """The published rota and its cells with the person added, checked; raises why not."""
    published = find_rota(session, network_id, place.week, "published")
    if published is None:
        raise BookingRefusedError("not booked: the week is no longer published")
    cells = load_cells(session, published.id)
    why = refusal(bundle, cells.assignments, place, person)
    if why is not None:
        raise BookingRefusedError(f"not booked: {why}")
    cell = Assignment(place.date, place.session_id, place.site_id, person.staff_id)
    broken = _whole_week(bundle, place.week, cells.assignments, cells.assignments | {cell})
    if broken:  # the whole-week check, as publishing does
        raise BookingRefusedError(f"not booked: {broken}")
    return published, cells.assignments | {cell}


def _publish(
    session: Session,
    network_id: int,
    place: OpenSession,
    checked: tuple[RotaRecord, frozenset[Assignment]],
    *,
    actor: str,
    moment: dt.datetime,
) -> Booked:
    """Publish the week with the booked cell (and put it in the draft), record the version."""
    published, after = checked
    staff_id = place.booked_staff_id or ""  # set by the claim of a booking or a request
    cell = Assignment(place.date, place.session_id, place.site_id, staff_id)
    in_draft = _into_draft(session, network_id, place.week, cell)
    pins = pinned_cells(session, published.id)
    version = make_version(session, copied_rota(session, published, after, pins), after, actor)
    # The booker's change notice, as a publication's (in its transaction).
    record_notices(session, notifiable(version), moment.date())
    session.execute(
        update(OpenSessionRecord)
        .where(OpenSessionRecord.id == place.id)
        .values(state="booked", version=version.version)
        .execution_options(synchronize_session=False)
    )
    booked = dataclasses.replace(place, state="booked", version=version.version)
    audit.record(
        session,
        actor,
        "open session booked",
        f"{place.where} by {place.booked_staff_id}",
        network_id=network_id,
        after={"open_session": place.id, "version": version.version},
    )
    return Booked(booked, version, in_draft)


def approve(
    session: Session, network_id: int, place_id: int, *, actor: str, moment: dt.datetime
) -> Booked:
    """Approve a requested booking: checked again now, then published as a booking is."""
    lock_week(session, network_id)
    place = change_place(session, network_id, place_id, {"booked_at": moment}, REQUESTED)
    if place is None or place.booked_staff_id is None:
        raise BookingRefusedError(f"not approved: place {place_id} is not a request")
    if place.closes_at <= moment:
        raise BookingRefusedError("not approved: the place has closed")
    bundle = current_bundle(session, network_id)
    person = bundle.person(place.booked_staff_id)
    checked = _checked(session, network_id, bundle, place, person)
    _tell_booker(session, place, person.staff_id, "approved: it is in your published sessions")
    return _publish(session, network_id, place, checked, actor=actor, moment=moment)


def _tell_booker(session: Session, place: OpenSession, staff_id: str, outcome: str) -> None:
    tell(
        session,
        place.network_id,
        staff_id=staff_id,
        kind="decision",
        text=f"Your request for the open session {place.where} was {outcome}.",
        link=person_link(place.network_id, staff_id, "open"),
    )


def decline(session: Session, network_id: int, place_id: int, *, actor: str) -> OpenSession:
    """Decline a requested booking: the place is open again for anyone else."""
    values: dict[str, object] = {"state": "open", "booked_staff_id": None, "booked_at": None}
    asked = session.get(OpenSessionRecord, place_id)
    booker = asked.booked_staff_id if asked is not None else None
    place = change_place(session, network_id, place_id, values, REQUESTED)
    if place is None:
        raise BookingRefusedError(f"not declined: place {place_id} is not a request")
    if booker:
        _tell_booker(session, place, booker, "declined; the place is open to others again")
    audit.record(
        session,
        actor,
        "open session request declined",
        place.where,
        network_id=network_id,
        after={"open_session": place.id},
    )
    return place
