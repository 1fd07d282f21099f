"""Swaps and give-aways on the web: a clinician offers one of their published sessions, a
colleague takes it (choosing what to give back for a swap), a manager or coordinator
approves or declines it.

Thin handlers over ``scheduler.usecases.swaps`` and ``swap_taking``: every acceptance and
approval is checked there by the validator against the whole published week, for both
people, and of several people taking one offer exactly one gets it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from scheduler.domain import Assignment, Bundle, Staff, iso_week_label
from scheduler.storage.clock import now
from scheduler.storage.events import current_bundle
from scheduler.usecases import swap_taking as taking
from scheduler.usecases import swaps
from web.auth import STAFF_ROLES, network_guard, require, staff_guard
from web.common import email_notices, feeds_changed, not_found
from web.db import reading, transaction

bp = Blueprint("swaps", __name__)

Page = str | tuple[str, int]
UPCOMING_WEEKS = 6  # how far ahead the offer page lists sessions to pick from


def _person(bundle: Bundle, staff_id: str) -> Staff:
    person = next((p for p in bundle.staff if p.staff_id == staff_id), None)
    if person is None:
        not_found(f"There is nobody {staff_id!r} in this network.")
    return person


def cell_key(cell: Assignment) -> str:
    """How a form names a session: ``2026-12-01|AM|P01``."""
    return f"{cell.date.isoformat()}|{cell.session_id}|{cell.site_id}"


def _cell(text: str, staff_id: str) -> Assignment | None:
    """The session a form names, or None when it names none (or nonsense)."""
    parts = text.split("|")
    if len(parts) != 3:  # a date, a session, a site
        return None
    try:
        day = dt.date.fromisoformat(parts[0])
    except ValueError:
        return None
    return Assignment(day, parts[1], parts[2], staff_id)


def _words(bundle: Bundle) -> dict[str, object]:
    """What every swaps page names: people, sites and sessions."""
    return {
        "names": {p.staff_id: p.name for p in bundle.staff},
        "sites": {s.site_id: s.name for s in bundle.sites},
        "sessions": {s.session_id: s for s in bundle.session_types},
        "cell_key": cell_key,
    }


@bp.get("/n/<int:network_id>/people/<staff_id>/swaps")
@require("clinician", *STAFF_ROLES)
def mine(network_id: int, staff_id: str) -> str:
    """Offers to the person, offers they could take, and their own offers and swaps."""
    user = staff_guard(network_id, staff_id)
    moment = now()
    with reading() as db:
        bundle = current_bundle(db, network_id)
        person = _person(bundle, staff_id)
        takeable = swaps.offers_for(db, network_id, person, moment, bundle)
        states = ("offered", "accepted", "done", "declined", "withdrawn", "expired")
        theirs = swaps.list_swaps(db, network_id, states, staff_id=staff_id)
    recent = moment - dt.timedelta(days=14)
    return render_template(
        "swaps/mine.html",
        network_id=network_id,
        person=person,
        named=[t for t in takeable if t[0].to_staff_id == staff_id],
        anyone=[t for t in takeable if t[0].to_staff_id is None],
        own=[s for s in theirs if s.from_staff_id == staff_id and s.state in swaps.ACTIVE],
        outcomes=[
            s
            for s in theirs
            if s.state not in swaps.ACTIVE
            and staff_id in (s.from_staff_id, s.taker_staff_id)
            and s.created_at >= recent
        ]
        + [s for s in theirs if s.state == "accepted" and s.taker_staff_id == staff_id],
        me=user.staff_id == staff_id,
        automatic=bundle.swaps.approval == "automatic",
        **_words(bundle),
    )


def _offer_page(network_id: int, staff_id: str, form: Mapping[str, str], error: str = "") -> Page:
    """The form to offer one session: swap or give away, to whom, what back."""
    user = staff_guard(network_id, staff_id)
    with reading() as db:
        bundle = current_bundle(db, network_id)
        person = _person(bundle, staff_id)
        cell = _cell(form.get("cell", ""), staff_id)
        week = iso_week_label(cell.date) if cell else ""
        cells = swaps.published_cells(db, network_id, week) if cell else frozenset()
        upcoming = [] if cell in cells else _upcoming(db, network_id, bundle, staff_id)
    if cell is None or cell not in cells:
        cell = None  # the page lists the person's sessions to pick one
    colleagues = sorted(
        (p for p in bundle.staff if p.role == person.role and p.staff_id != staff_id),
        key=lambda p: p.name,
    )
    theirs = sorted(c for c in cells if c.staff_id != staff_id) if cell else []
    page = render_template(
        "swaps/offer.html",
        network_id=network_id,
        person=person,
        cell=cell,
        colleagues=colleagues,
        upcoming=upcoming,
        backs=[c for c in theirs if c.staff_id in {p.staff_id for p in colleagues}],
        form=form,
        error=error,
        me=user.staff_id == staff_id,
        automatic=bundle.swaps.approval == "automatic",
        **_words(bundle),
    )
    return (page, 400) if error else page


def _upcoming(db: Session, network_id: int, bundle: Bundle, staff_id: str) -> list[Assignment]:
    """The person's published sessions of the next weeks that have not started."""
    moment = now()
    found: list[Assignment] = []
    for ahead in range(UPCOMING_WEEKS):
        week = iso_week_label(moment.date() + dt.timedelta(weeks=ahead))
        cells = swaps.published_cells(db, network_id, week)
        found += sorted(
            c for c in cells if c.staff_id == staff_id and swaps.starts_at(bundle, c) > moment
        )
    return found


@bp.get("/n/<int:network_id>/people/<staff_id>/swaps/offer")
@require("clinician", *STAFF_ROLES)
def offer_form(network_id: int, staff_id: str) -> Page:
    """Offer one published session (``?cell=2026-12-01|AM|P01``)."""
    return _offer_page(network_id, staff_id, request.args)


@bp.post("/n/<int:network_id>/people/<staff_id>/swaps/offer")
@require("clinician", *STAFF_ROLES)
def offer(network_id: int, staff_id: str) -> Page | Response:
    """Store the offer; the named colleague is told."""
    user = staff_guard(network_id, staff_id)
    form = request.form
    cell = _cell(form.get("cell", ""), staff_id)
    kind = form.get("kind", "")
    to = form.get("to_staff_id") or None
    back = None
    if form.get("back") and to is not None:
        back = _cell(form["back"], to)
        if back is None or back.staff_id != to:
            return _offer_page(network_id, staff_id, form, "Not offered. back: choose again.")
    note = (form.get("note") or "").strip() or None
    if cell is None:
        return _offer_page(network_id, staff_id, form, "Not offered. session: choose one.")
    try:
        with transaction() as db:
            made = swaps.offer_session(
                db,
                network_id,
                swaps.SwapOffer(cell, kind, to, back, note),
                actor=user.email,
                moment=now(),
            )
    except swaps.SwapRefusedError as err:
        return _offer_page(network_id, staff_id, form, f"Not offered: {err}.")
    flash(f"Offered: {made.where}. You keep it until someone takes it.", "success")
    return redirect(url_for(".mine", network_id=network_id, staff_id=staff_id))


@bp.post(
    "/n/<int:network_id>/people/<staff_id>/swaps/<int:swap_id>"
    "/<any(accept, withdraw, turn_down):action>"
)
@require("clinician", *STAFF_ROLES)
def act(network_id: int, staff_id: str, swap_id: int, action: str) -> Response:
    """Accept an offer (the person's), withdraw one's own offer, or turn down one named to one."""
    user = staff_guard(network_id, staff_id)
    taken = None
    try:
        with transaction() as db:
            if action == "accept":
                person = _person(current_bundle(db, network_id), staff_id)
                back = _cell(request.form.get("back", ""), staff_id)
                taken = taking.accept(
                    db, network_id, swap_id, person, back=back, actor=user.email, moment=now()
                )
                words = _taken_words(taken)
            elif action == "withdraw":
                found = swaps.withdraw(db, network_id, swap_id, staff_id, actor=user.email)
                words = f"Withdrawn: {found.where} stays yours."
            else:
                found = taking.turn_down(db, network_id, swap_id, staff_id, actor=user.email)
                words = f"Turned down: {found.where}."
    except swaps.SwapRefusedError as err:
        flash(f"Sorry: {err}.", "error")
    else:
        if taken is not None and taken.version is not None:
            feeds_changed()
            words = f"{words} {email_notices(len(taken.version.changes))}".rstrip()
        flash(words, "success")
    return redirect(url_for(".mine", network_id=network_id, staff_id=staff_id))


def _taken_words(taken: taking.Taken) -> str:
    swap = taken.swap
    if taken.version is None:
        return f"Accepted: {swap.where}. A coordinator approves it; nothing changes until then."
    return (
        f"Done: you now work {swap.where}. It is in the published rota (version "
        f"{taken.version.version}) and in both calendar feeds."
    )


# -- managers and coordinators --------------------------------------------------------------


@bp.get("/n/<int:network_id>/swaps")
@require(*STAFF_ROLES)
def waiting(network_id: int) -> str:
    """Swaps waiting for approval (with what each would leave short), and open offers."""
    network_guard(network_id)
    with reading() as db:
        bundle = current_bundle(db, network_id)
        found = swaps.list_swaps(db, network_id, swaps.ACTIVE)
        short: dict[int, list[str] | str] = {}
        for s in found:
            if s.state == "accepted" and s.taker_staff_id:
                short[s.id] = _what_short(db, bundle, s)
    return render_template(
        "swaps/waiting.html",
        network_id=network_id,
        network=bundle.name,
        pending=[s for s in found if s.state == "accepted"],
        offered=[s for s in found if s.state == "offered"],
        short=short,
        **_words(bundle),
    )


def _what_short(db: Session, bundle: Bundle, swap: swaps.Swap) -> list[str] | str:
    """What approving would leave short, or why it cannot be approved now."""
    cells = swaps.published_cells(db, swap.network_id, swap.week)
    why = swaps.breaks(bundle, cells, swap, swap.taker_staff_id or "")
    if why is not None:
        return why
    out, put = swap.moves(swap.taker_staff_id or "")
    return taking.newly_short(bundle, swap.week, cells, (cells - out) | put)


@bp.post("/n/<int:network_id>/swaps/<int:swap_id>/<any(approve, decline):decision>")
@require(*STAFF_ROLES)
def decide(network_id: int, swap_id: int, decision: str) -> Response:
    """Approve an accepted swap (checked again, then published) or decline it."""
    user = network_guard(network_id)
    told = None
    try:
        with transaction() as db:
            if decision == "approve":
                done = taking.approve(db, network_id, swap_id, actor=user.email, moment=now())
                told = len(done.version.changes) if done.version else 0
                words = f"Approved: {done.swap.where}, published as version {done.swap.version}."
            else:
                reason = (request.form.get("reason") or "").strip()[:200] or None
                found = taking.decline(
                    db, network_id, swap_id, actor=user.email, moment=now(), reason=reason
                )
                words = f"Declined: {found.where} stays with its holder; both were told."
    except swaps.SwapRefusedError as err:
        flash(f"Swap {swap_id} {err}.", "error")
    else:
        if told is not None:
            feeds_changed()
            words = f"{words} {email_notices(told)}".rstrip()
        flash(words, "success")
    return redirect(url_for(".waiting", network_id=network_id))
