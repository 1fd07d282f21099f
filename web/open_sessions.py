"""Open sessions on the web: managers and coordinators offer places of a published week; a
clinician sees the places they could take and books one.

Thin handlers over ``scheduler.usecases.open_sessions``: every booking is checked there by
the validator against the whole published week, and the first to book gets the place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler.domain import Bundle
from scheduler.storage.clock import now
from scheduler.storage.events import current_bundle
from scheduler.storage.rotas import find_rota
from scheduler.usecases import open_bookings as bookings
from scheduler.usecases import open_sessions as places
from scheduler.usecases.editing import load_cells
from scheduler.usecases.open_digest import set_digest, wants_digest
from scheduler.views.week import load_week
from web.auth import STAFF_ROLES, network_guard, require, staff_guard
from web.common import (
    checked_week,
    email_notices,
    feeds_changed,
    not_found,
    page_context,
    picked_week,
)
from web.db import reading, transaction

bp = Blueprint("open", __name__)

SHOWN_STATES = ("open", "requested", "booked", "withdrawn", "expired")


def _week_page(
    network_id: int, week: str, form: Mapping[str, str] | None = None, error: str = ""
) -> tuple[str, int]:
    """The week's places, who could book each, and the form to offer another."""
    with reading() as db:
        loaded = load_week(db, network_id, week, "published")
        found = places.list_places(db, network_id, week, SHOWN_STATES)
        published = find_rota(db, network_id, week, "published")
        cells = load_cells(db, published.id).assignments if published else frozenset()
    bundle = loaded.bundle
    moment = now()
    bookers = {
        p.id: len(places.who_may_book(bundle, cells, p))
        for p in found
        if p.state == "open" and p.closes_at > moment
    }
    html = render_template(
        "open/week.html",
        **page_context(network_id, bundle.name, loaded, None),
        places=found,
        bookers=bookers,
        names={p.staff_id: p.name for p in bundle.staff},
        bundle=bundle,
        roles=sorted({p.role for p in bundle.staff}),
        skills=sorted({s for p in bundle.staff for s in p.skills}),
        published=published is not None,
        asking=bundle.open_sessions.booking == "approval",
        closes_early=bundle.open_sessions.closes_hours_before,
        moment=moment,
        form=form or {},
        error=error,
    )
    return html, 400 if error else 200


@bp.get("/n/<int:network_id>/weeks/<week>/open")
@require(*STAFF_ROLES)
def week_page(network_id: int, week: str) -> tuple[str, int] | Response:
    """The places offered in a week and what became of them."""
    network_guard(network_id)
    moved = picked_week("open.week_page", network_id)
    if moved is not None:
        return moved
    return _week_page(network_id, checked_week(week))


@bp.post("/n/<int:network_id>/weeks/<week>/open")
@require(*STAFF_ROLES)
def offer(network_id: int, week: str) -> tuple[str, int] | Response:
    """Offer one place (the form), or every unmet minimum of the week (``short``)."""
    user = network_guard(network_id)
    week = checked_week(week)
    try:
        with transaction() as db:
            if request.form.get("short"):
                made = places.offer_shortfalls(db, network_id, week, user.email, now())
            else:
                offer = places.parse_offer(current_bundle(db, network_id), request.form)
                made = [places.offer_place(db, network_id, offer, user.email, now())]
    except places.OpenSessionError as err:
        return _week_page(
            network_id, week, request.form, f"Not offered. {err.field}: {err.message}."
        )
    words = f"{len(made)} {'place' if len(made) == 1 else 'places'} offered"
    flash(f"{words}." if made else "Nothing to offer: every unmet minimum is offered.", "success")
    return redirect(url_for(".week_page", network_id=network_id, week=week))


@bp.post("/n/<int:network_id>/open/<int:place_id>/withdraw")
@require(*STAFF_ROLES)
def withdraw(network_id: int, place_id: int) -> Response:
    """Take an open place back."""
    user = network_guard(network_id)
    try:
        with transaction() as db:
            place = places.withdraw(db, network_id, place_id, user.email, now())
    except places.BookingRefusedError as err:
        flash(f"Place {place_id} {err}.", "error")
        week = request.form.get("week") or ""
        if not week:  # sent without its page: back to the start
            return redirect(url_for("views.index"))
        return redirect(url_for(".week_page", network_id=network_id, week=checked_week(week)))
    flash(f"Withdrew {place.where} {place.need}.", "success")
    return redirect(url_for(".week_page", network_id=network_id, week=place.week))


# -- a person's places -----------------------------------------------------------------------


def _person(bundle: Bundle, staff_id: str) -> Any:
    person = next((p for p in bundle.staff if p.staff_id == staff_id), None)
    if person is None:
        not_found(f"There is nobody {staff_id!r} in this network.")
    return person


@bp.get("/n/<int:network_id>/people/<staff_id>/open")
@require("clinician", *STAFF_ROLES)
def mine(network_id: int, staff_id: str) -> str:
    """The open places of the person's role and skills, each bookable or saying why not."""
    user = staff_guard(network_id, staff_id)
    with reading() as db:
        bundle = current_bundle(db, network_id)
        person = _person(bundle, staff_id)
        found = places.places_for(db, network_id, person, now(), bundle)
        digest = wants_digest(db, network_id, staff_id)
    return render_template(
        "open/mine.html",
        network_id=network_id,
        person=person,
        places=found,
        sites={s.site_id: s.name for s in bundle.sites},
        sessions={s.session_id: s for s in bundle.session_types},
        own=user.staff_id == staff_id,
        asking=bundle.open_sessions.booking == "approval",
        digest=digest if bundle.open_sessions.digest else None,
        emailed=bool(person.email),
    )


@bp.post("/n/<int:network_id>/people/<staff_id>/digest")
@require("clinician", *STAFF_ROLES)
def digest(network_id: int, staff_id: str) -> Response:
    """Stop the person's daily e-mail of open sessions, or start it again."""
    staff_guard(network_id, staff_id)
    wanted = request.form.get("digest") == "on"
    with transaction() as db:
        _person(current_bundle(db, network_id), staff_id)
        set_digest(db, network_id, staff_id, wanted=wanted)
    flash(
        "The daily e-mail of open sessions is on."
        if wanted
        else "No more daily e-mails of open sessions; they still show here and in the inbox.",
        "success",
    )
    return redirect(url_for(".mine", network_id=network_id, staff_id=staff_id))


@bp.post("/n/<int:network_id>/people/<staff_id>/open/<int:place_id>/book")
@require("clinician", *STAFF_ROLES)
def book(network_id: int, staff_id: str, place_id: int) -> Response:
    """Book the place for the person: checked against every hard rule, first come first
    served; the week is published again with them in it."""
    user = staff_guard(network_id, staff_id)
    try:
        with transaction() as db:
            person = _person(current_bundle(db, network_id), staff_id)
            booked = bookings.book(db, network_id, place_id, person, actor=user.email, moment=now())
    except places.BookingRefusedError as err:
        flash(f"Sorry: {err}.", "error")
    else:
        feeds_changed()
        where = f"{booked.place.where} ({booked.place.need})"
        if booked.version is None:
            flash(f"Asked for: {where}. A coordinator approves it; it shows here until then.")
        else:
            email_notices(len(booked.version.changes))
            flash(
                f"Booked: {where}. It is in the published rota (version "
                f"{booked.version.version}) and in your calendar feed.",
                "success",
            )
    return redirect(url_for(".mine", network_id=network_id, staff_id=staff_id))


@bp.post("/n/<int:network_id>/open/<int:place_id>/<any(approve, decline):decision>")
@require(*STAFF_ROLES)
def decide(network_id: int, place_id: int, decision: str) -> Response:
    """Approve a requested booking (checked again, then published) or decline it (the place
    is open again)."""
    user = network_guard(network_id)
    week = request.form.get("week") or ""
    told = 0
    try:
        with transaction() as db:
            if decision == "approve":
                done = bookings.approve(db, network_id, place_id, actor=user.email, moment=now())
                words = f"Approved: {done.place.where}, published as version {done.place.version}."
                told = len(done.version.changes) if done.version else 0
            else:
                place = bookings.decline(db, network_id, place_id, actor=user.email)
                words = f"Declined: {place.where} is open again."
    except places.BookingRefusedError as err:
        flash(f"Place {place_id} {err}.", "error")
    else:
        feeds_changed()
        if decision == "approve":
            words = f"{words} {email_notices(told)}".rstrip()
        flash(words, "success")
    if not week:  # sent without its page: back to the start
        return redirect(url_for("views.index"))
    return redirect(url_for(".week_page", network_id=network_id, week=checked_week(week)))
