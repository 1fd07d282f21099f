"""People: a person's own page and leave requests; practices' requests for cover.

Thin handlers over ``scheduler.views.person_rota`` and ``scheduler.usecases.requests``.  Leave
kinds and reasons are health data: templates show them only when
``sees_leave_reasons`` says so (managers and coordinators).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from scheduler.domain import DAY_NAMES, Bundle, Staff
from scheduler.storage.clock import now
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import NetworkLookupError
from scheduler.storage.rotas import normalise_week
from scheduler.usecases.availability import unanswered
from scheduler.usecases.events import decide_cover
from scheduler.usecases.notices import NOTICE_DAYS, person_notices, smtp_settings
from scheduler.usecases.open_sessions import places_for
from scheduler.usecases.requests import (
    LEAVE_KINDS,
    LeaveRequest,
    RequestError,
    RequestNotFoundError,
    ask_to_cancel_leave,
    cover_choices,
    cover_requests,
    decide_leave,
    leave_requests,
    request_cover,
    request_leave,
    site_exists,
    withdraw_leave,
)
from scheduler.views.person_rota import WEEKS_SHOWN, current_week, person_weeks, shift_week
from web.auth import (
    STAFF_ROLES,
    network_guard,
    require,
    sees_leave_reasons,
    signed_in,
    site_guard,
    staff_guard,
)
from web.common import feed_links, today
from web.db import reading, transaction

bp = Blueprint("people", __name__)

Page = str | tuple[str, int]


def _bundle(db: Session, network_id: int) -> Bundle:
    """The network's bundle, or 404 when there is no such network."""
    try:
        return current_bundle(db, network_id)
    except NetworkLookupError:
        abort(404)


def _person(bundle: Bundle, staff_id: str) -> Staff:
    """The person of staff.csv, or 404."""
    try:
        return bundle.person(staff_id)
    except KeyError:
        abort(404)


def _first_week(bundle: Bundle) -> str | None:
    """The week the page starts at: ``?week=`` when given, else this week; None if malformed."""
    asked = request.args.get("week")
    if not asked:
        return current_week(bundle.timezone)
    try:
        return normalise_week(asked)
    except ValueError:
        return None


def _day(day: dt.date) -> str:
    """``Tue 2026-12-01`` in flash messages."""
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


def _person_page(
    network_id: int, staff_id: str, form: Mapping[str, str], errors: Mapping[str, str]
) -> Page:
    """The person page, with the leave form filled as given and its errors beside the fields."""
    user = signed_in()
    with reading() as db:
        bundle = _bundle(db, network_id)
        person = _person(bundle, staff_id)
        first = _first_week(bundle)
        if first is None:
            return render_template("people/bad_week.html", week=request.args["week"]), 404
        weeks = person_weeks(
            db, network_id, bundle, person, first, include_draft=user.role in STAFF_ROLES
        )
        requests = leave_requests(db, network_id, staff_id)
        feed = feed_links(db, network_id, "staff", staff_id)
        since = now() - dt.timedelta(days=NOTICE_DAYS)
        notices = person_notices(db, network_id, staff_id, since)
        offered = places_for(db, network_id, person, now(), bundle)
        bookable = sum(1 for place, why in offered if why is None and place.state == "open")
        to_answer = unanswered(db, network_id, bundle, staff_id, today())
    page = render_template(
        "people/person.html",
        network_id=network_id,
        person=person,
        weeks=weeks,
        to_answer=to_answer,
        rest_hours=bundle.rules.min_rest_hours,
        requests=requests,
        kinds=LEAVE_KINDS,
        form=form,
        errors=errors,
        private=sees_leave_reasons(user),
        earlier=shift_week(first, -WEEKS_SHOWN),
        later=shift_week(first, WEEKS_SHOWN),
        feed=feed,
        notices=notices,
        bookable=bookable,
        moment=now(),
        own=user.staff_id == staff_id,
        staff_view=user.role in STAFF_ROLES,
        email_on=smtp_settings(current_app.config) is not None,
    )
    return (page, 400) if errors else page


@bp.get("/n/<int:network_id>/people/<staff_id>")
@require("clinician", *STAFF_ROLES)
def person(network_id: int, staff_id: str) -> Page:
    """A person's sessions, hours against contract, and their leave requests."""
    staff_guard(network_id, staff_id)
    return _person_page(network_id, staff_id, {}, {})


@bp.post("/n/<int:network_id>/people/<staff_id>/leave", endpoint="request_leave")
@require("clinician", *STAFF_ROLES)
def request_leave_view(network_id: int, staff_id: str) -> Page | Response:
    """Ask for leave; a manager approves or declines it on the leave requests page."""
    user = staff_guard(network_id, staff_id)
    try:
        with transaction() as db:
            made = request_leave(db, network_id, staff_id, request.form, user.email)
    except RequestNotFoundError:
        abort(404)
    except RequestError as err:
        return _person_page(network_id, staff_id, request.form, err.problems)
    flash(
        f"Leave requested from {_day(made.start)} to {_day(made.end)} "
        f"(request {made.id}); a manager will approve or decline it.",
        "success",
    )
    return redirect(url_for("people.person", network_id=network_id, staff_id=staff_id))


@bp.post(
    "/n/<int:network_id>/people/<staff_id>/leave/<int:request_id>/<any(withdraw, cancel):action>",
    endpoint="change_leave",
)
@require("clinician", *STAFF_ROLES)
def change_leave_view(network_id: int, staff_id: str, request_id: int, action: str) -> Response:
    """Withdraw one's leave request not yet decided, or ask to cancel approved leave."""
    user = staff_guard(network_id, staff_id)
    change = withdraw_leave if action == "withdraw" else ask_to_cancel_leave
    try:
        with transaction() as db:
            done = change(db, network_id, staff_id, request_id, user.email)
    except RequestNotFoundError:
        abort(404)
    except RequestError as err:
        flash(f"Nothing changed. {_problems(err)}.", "error")
    else:
        words = "withdrawn" if action == "withdraw" else "a manager is asked to cancel it"
        flash(f"Leave request {done.id}: {words}.", "success")
    return redirect(url_for("people.person", network_id=network_id, staff_id=staff_id))


@bp.get("/n/<int:network_id>/leave", endpoint="leave_requests")
@require(*STAFF_ROLES)
def leave_requests_view(network_id: int) -> str:
    """Every leave request of the network, with kinds and reasons (staff roles only)."""
    user = network_guard(network_id)
    with reading() as db:
        bundle = _bundle(db, network_id)
        found = leave_requests(db, network_id)
    names = {person.staff_id: person.name for person in bundle.staff}
    return render_template(
        "people/leave_requests.html",
        network_id=network_id,
        network=bundle.name,
        requests=found,
        names=names,
        may_decide=user.role == "manager",
        private=sees_leave_reasons(user),
    )


@bp.post("/n/<int:network_id>/leave/<int:request_id>", endpoint="decide_leave")
@require("manager")
def decide_leave_view(network_id: int, request_id: int) -> Response:
    """Approve or decline one leave request; approved leave counts when planning."""
    return _decide(network_id, request_id, "leave")


def _problems(err: RequestError) -> str:
    return "; ".join(f"{field}: {text}" for field, text in err.problems.items())


def _cover_page(
    network_id: int, site_id: str, form: Mapping[str, str], errors: Mapping[str, str]
) -> Page:
    """The cover request form for one site, and the site's earlier requests."""
    with reading() as db:
        bundle = _bundle(db, network_id)
        choices = cover_choices(db, network_id)
        found = cover_requests(db, network_id, site_id)
    page = render_template(
        "people/cover_form.html",
        network_id=network_id,
        site=bundle.site(site_id),
        choices=choices,
        requests=found,
        form=form,
        errors=errors,
    )
    return (page, 400) if errors else page


@bp.route(
    "/n/<int:network_id>/sites/<site_id>/cover", methods=["GET", "POST"], endpoint="request_cover"
)
@require("practice", *STAFF_ROLES)
def request_cover_view(network_id: int, site_id: str) -> Page | Response:
    """A practice asks the network for extra people on one date and session."""
    user = site_guard(network_id, site_id)
    with reading() as db:
        if not site_exists(db, network_id, site_id):
            abort(404)
    if request.method == "GET":
        return _cover_page(network_id, site_id, {}, {})
    try:
        with transaction() as db:
            made = request_cover(db, network_id, site_id, request.form, user.email)
    except RequestError as err:
        return _cover_page(network_id, site_id, request.form, err.problems)
    flash(
        f"Cover requested for {made.session_id} on {_day(made.date)} (request {made.id}); "
        "the network's manager will answer it.",
        "success",
    )
    return redirect(url_for("people.request_cover", network_id=network_id, site_id=site_id))


@bp.get("/n/<int:network_id>/cover", endpoint="cover_requests")
@require(*STAFF_ROLES)
def cover_requests_view(network_id: int) -> str:
    """Every cover request of the network, with approve / decline for the manager."""
    user = network_guard(network_id)
    with reading() as db:
        bundle = _bundle(db, network_id)
        found = cover_requests(db, network_id)
    return render_template(
        "people/cover_requests.html",
        network_id=network_id,
        network=bundle.name,
        requests=found,
        sites={site.site_id: site.name for site in bundle.sites},
        may_decide=user.role == "manager",
    )


@bp.post("/n/<int:network_id>/cover/<int:request_id>", endpoint="decide_cover")
@require("manager")
def decide_cover_view(network_id: int, request_id: int) -> Response:
    """Approve or decline a cover request; approved, it becomes a demand change."""
    return _decide(network_id, request_id, "cover")


def _decide(network_id: int, request_id: int, what: str) -> Response:
    """Apply the manager's decision on a leave or cover request, then back to the list."""
    user = network_guard(network_id)
    decide = decide_leave if what == "leave" else decide_cover
    decision = request.form.get("decision", "")
    try:
        with transaction() as db:
            decided = decide(db, network_id, request_id, decision, user.email)
    except RequestNotFoundError:
        abort(404)
    except RequestError as err:
        flash(f"{what.capitalize()} request {request_id}: {_problems(err)}", "error")
    else:
        about = decided.staff_id if isinstance(decided, LeaveRequest) else decided.site_id
        flash(f"{what.capitalize()} request {decided.id} ({about}) {decided.state}.", "success")
    return redirect(url_for(f"people.{what}_requests", network_id=network_id))
