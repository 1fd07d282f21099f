"""Availability on the web: a clinician says when they can and cannot work in the weeks open
for answers; managers and coordinators see who has answered a week and what people said.

Thin handlers over ``scheduler.usecases.availability``; planning reads the answers from the
bundle (``storage.events.current_bundle``), so nothing here touches a rota.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler.domain import Bundle, Staff
from scheduler.storage.clock import now
from scheduler.usecases import availability as avail
from scheduler.views.week import load_week
from web.auth import STAFF_ROLES, network_guard, require, staff_guard
from web.common import bundle_of, checked_week, not_found, page_context, picked_week, today
from web.db import reading, transaction

bp = Blueprint("availability", __name__)

Page = str | tuple[str, int]
CHOICES = (("", "No answer"), ("prefer", "Prefer"), ("cannot", "Cannot"))


def _person(bundle: Bundle, staff_id: str) -> Staff:
    try:
        return bundle.person(staff_id)
    except KeyError:
        not_found(f"There is nobody {staff_id!r} in this network.")


@bp.get("/n/<int:network_id>/people/<staff_id>/availability")
@require("clinician", *STAFF_ROLES)
def weeks(network_id: int, staff_id: str) -> str:
    """The weeks the person can answer for, each with its deadline and whether answered."""
    user = staff_guard(network_id, staff_id)
    day = today()
    with reading() as db:
        bundle = bundle_of(db, network_id)
        person = _person(bundle, staff_id)
        spans = avail.open_weeks(bundle, day)
        mine = [avail.read_answers(db, network_id, bundle, staff_id, s.week) for s in spans]
        closed = avail.closed_weeks(bundle, day)
    return render_template(
        "availability/weeks.html",
        network_id=network_id,
        person=person,
        weeks=mine,
        closed=closed,
        today=day,
        own=user.staff_id == staff_id,
        settings=bundle.availability,
        day_words=avail.day_words,
    )


def _week_form(
    network_id: int,
    staff_id: str,
    week: str,
    form: Mapping[str, str] | None = None,
    error: avail.AvailabilityError | None = None,
) -> Page:
    """The grid of the week's days and sessions, filled as saved (or as sent, with an error)."""
    user = staff_guard(network_id, staff_id)
    with reading() as db:
        bundle = bundle_of(db, network_id)
        person = _person(bundle, staff_id)
        mine = avail.read_answers(db, network_id, bundle, staff_id, week)
    span = mine.window
    days = [(d, avail.session_ids_on(bundle, d)) for d in span.dates]
    chosen = (
        dict(form)
        if form is not None
        else {avail.field_name(a.date, a.session_id): a.kind for a in mine.answers}
    )
    html = render_template(
        "availability/week.html",
        network_id=network_id,
        person=person,
        mine=mine,
        span=span,
        days=[(d, ids) for d, ids in days if ids],
        sessions={s.session_id: s for s in bundle.session_types},
        chosen=chosen,
        choices=CHOICES,
        field_name=avail.field_name,
        day_words=avail.day_words,
        editable=span.is_open(today()),
        not_yet=today() < span.opens_on,
        own=user.staff_id == staff_id,
        error=error,
    )
    return (html, 400) if error else html


@bp.get("/n/<int:network_id>/people/<staff_id>/availability/<week>")
@require("clinician", *STAFF_ROLES)
def week_form(network_id: int, staff_id: str, week: str) -> Page:
    """One week's answers: a form while the week is open, read-only after its deadline."""
    return _week_form(network_id, staff_id, checked_week(week))


@bp.post("/n/<int:network_id>/people/<staff_id>/availability/<week>")
@require("clinician", *STAFF_ROLES)
def save(network_id: int, staff_id: str, week: str) -> Page | Response:
    """Save the week's answers all at once; ``any`` saves "any session suits me"."""
    user = staff_guard(network_id, staff_id)
    week = checked_week(week)
    anything = bool(request.form.get("any"))
    try:
        with transaction() as db:
            bundle = bundle_of(db, network_id)
            answers = [] if anything else avail.parse_answers(bundle, week, request.form)
            saved = avail.save_answers(
                db,
                network_id,
                bundle,
                staff_id,
                week,
                answers=answers,
                actor=user.email,
                today=today(),
                moment=now(),
            )
    except avail.AvailabilityError as err:
        return _week_form(network_id, staff_id, week, request.form, err)
    count = len(saved.answers)
    words = (
        "any session suits you" if not count else f"{count} answer{'s' if count != 1 else ''} saved"
    )
    deadline = avail.day_words(saved.window.deadline)
    flash(f"Thank you: {week} answered ({words}). You can change it until {deadline}.", "success")
    return redirect(url_for(".weeks", network_id=network_id, staff_id=staff_id))


# -- managers and coordinators -----------------------------------------------------------------


@bp.get("/n/<int:network_id>/weeks/<week>/availability")
@require(*STAFF_ROLES)
def replies(network_id: int, week: str) -> Page | Response:
    """Who has answered for the week, who has not (with a count) and what people said."""
    network_guard(network_id)
    moved = picked_week("availability.replies", network_id)
    if moved is not None:
        return moved
    week = checked_week(week)
    with reading() as db:
        loaded = load_week(db, network_id, week, None)
        bundle = loaded.bundle
        found = avail.replies(db, network_id, bundle, week)
    span = found.window
    return render_template(
        "availability/replies.html",
        **page_context(network_id, bundle.name, loaded, None),
        found=found,
        span=span,
        days=[(d, ids) for d in span.dates if (ids := avail.session_ids_on(bundle, d))],
        sessions={s.session_id: s for s in bundle.session_types},
        is_open=span.is_open(today()),
        closed=span.closed(today()),
        day_words=avail.day_words,
    )


@bp.post("/n/<int:network_id>/weeks/<week>/availability/remind")
@require(*STAFF_ROLES)
def remind(network_id: int, week: str) -> Response:
    """Put a reminder in the inbox of each person who has not answered (once a week each)."""
    user = network_guard(network_id)
    week = checked_week(week)
    try:
        with transaction() as db:
            bundle = bundle_of(db, network_id)
            sent = avail.remind_missing(
                db, network_id, bundle, week, actor=user.email, today=today()
            )
    except avail.AvailabilityError as err:
        flash(f"No reminders sent: {err.message}.", "error")
    else:
        if sent:
            flash(
                f"Reminded {sent} {'person' if sent == 1 else 'people'} in their inbox.", "success"
            )
        else:
            flash("Nobody to remind: everyone who has not answered was reminded already.")
    return redirect(url_for(".replies", network_id=network_id, week=week))
