"""Hub coordinators' day: record absences and demand changes, repair the published week.

Thin handlers over ``scheduler.usecases.events`` and ``scheduler.usecases.repair``; every route
is for managers and coordinators of the network, the only roles that may
see why someone is away.  A repair is proposed in the request itself (it is
built to take a few seconds), saved as the week's draft and reviewed here:
who moves where, extra travel, hours, cost and whose practice lends.
Approving it is the ordinary publication (``rota.publish``), so only the
changed sessions' calendar events change and only their people are told.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from scheduler.checks.wording import day_label
from scheduler.domain import Bundle, parse_iso_week
from scheduler.storage.events import absences, demand_changes
from scheduler.storage.rotas import find_rota
from scheduler.usecases import events, repair
from scheduler.usecases.editing import load_cells
from scheduler.usecases.events import ABSENCE_KINDS, record_demand_change
from scheduler.usecases.planning import InvalidRotaError
from scheduler.usecases.requests import RequestError, RequestNotFoundError
from solver import SolveOptions
from web.auth import STAFF_ROLES, network_guard, require
from web.common import bundle_of, checked_week, today
from web.db import reading, transaction

bp = Blueprint("repair", __name__)

Page = str | tuple[str, int]
DEFAULT_TIME_LIMIT = repair.DEFAULT_TIME_LIMIT
DEFAULT_WORKERS = 2
ABSENCE_FIELDS = {
    "staff_id": "Person",
    "start": "First day",
    "end": "Last day",
    "session_id": "Session",
    "kind": "Kind",
    "reason": "Reason",
}
DEMAND_FIELDS = {
    "site_id": "Site",
    "date": "Date",
    "session_id": "Session",
    "kind": "Change",
    "role": "Role",
    "skill": "Skill",
    "min": "At least",
    "target": "Wanted",
    "note": "Note",
}


def _now() -> dt.datetime | None:
    """The current time in Europe/London, unless ``FIXED_TODAY`` pins the day (tests)."""
    if current_app.config.get("FIXED_TODAY"):
        return None
    return dt.datetime.now(ZoneInfo("Europe/London"))


def _options() -> SolveOptions:
    """Repair limits from the app's configuration (``ROTAPOOL_REPAIR_TIME_LIMIT``, ...)."""
    config = current_app.config
    return SolveOptions(
        time_limit=float(config.get("REPAIR_TIME_LIMIT", DEFAULT_TIME_LIMIT)),
        workers=int(config.get("SOLVE_WORKERS", DEFAULT_WORKERS)),
    )


# -- the page ------------------------------------------------------------------------------


def _review(db: Session, network_id: int, week: str, bundle: Bundle) -> dict[str, Any] | None:
    """The week's draft compared with its published rota, when the draft is a repair."""
    draft = find_rota(db, network_id, week, "draft")
    published = find_rota(db, network_id, week, "published")
    if draft is None or published is None or not (draft.summary or {}).get("repair"):
        return None
    before = load_cells(db, published.id).assignments
    after = load_cells(db, draft.id).assignments
    changes = repair.changes_between(before, after)
    summary = draft.summary or {}
    figures = repair.figures_of(bundle, parse_iso_week(week), changes, summary.get("change_cost"))
    return {
        "revision": draft.revision,
        "summary": summary,
        "in_words": repair.changes_in_words(summary),
        "changes": changes,
        "figures": figures,
        "published_version": published.version,
    }


def _replanned(review: dict[str, Any] | None) -> list[dt.date]:
    """The days a proposed repair re-planned, for the page to name with their weekdays."""
    if review is None:
        return []
    return [dt.date.fromisoformat(d) for d in review["summary"].get("window", [])]


def _page(
    network_id: int,
    week: str,
    *,
    absence_form: dict[str, str] | None = None,
    absence_errors: dict[str, str] | None = None,
    demand_form: dict[str, str] | None = None,
    demand_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Page:
    dates = parse_iso_week(week)
    with reading() as db:
        bundle = bundle_of(db, network_id)
        found_absences = absences(db, network_id, dates)
        found_changes = demand_changes(db, network_id, dates)
        published = find_rota(db, network_id, week, "published")
        review = _review(db, network_id, week, bundle)
        window = repair.week_events(db, network_id, dates)
    html = render_template(
        "repair/week.html",
        network_id=network_id,
        week=week,
        dates=dates,
        day=day_label,
        bundle=bundle,
        names={p.staff_id: p.name for p in bundle.staff},
        absences=found_absences,
        changes=found_changes,
        published=published is not None,
        review=review,
        replanned=_replanned(review),
        event_days=sorted(window),
        kinds=ABSENCE_KINDS,
        roles=sorted({p.role for p in bundle.staff}),
        skills=sorted({s for p in bundle.staff for s in p.skills}),
        absence_form=absence_form or {"start": dates[0].isoformat()},
        absence_errors=absence_errors or {},
        absence_labels=ABSENCE_FIELDS,
        demand_form=demand_form or {"date": dates[0].isoformat(), "kind": "set", "min": "1"},
        demand_errors=demand_errors or {},
        demand_labels=DEMAND_FIELDS,
    )
    return html if status == 200 else (html, status)


@bp.get("/n/<int:network_id>/weeks/<week>/repair")
@require(*STAFF_ROLES)
def week_page(network_id: int, week: str) -> Page:
    """The week's absences and demand changes, forms to record more, and the repair."""
    network_guard(network_id)
    return _page(network_id, checked_week(week))


# -- events ----------------------------------------------------------------------------------


def _back(network_id: int, week: str) -> Response:
    return redirect(url_for(".week_page", network_id=network_id, week=week))


@bp.post("/n/<int:network_id>/weeks/<week>/absences")
@require(*STAFF_ROLES)
def record_absence(network_id: int, week: str) -> Page | Response:
    """Record someone's absence (whole days, or one session a day)."""
    user = network_guard(network_id)
    week = checked_week(week)
    form = {k: request.form.get(k, "") for k in ABSENCE_FIELDS}
    try:
        with transaction() as db:
            bundle = bundle_of(db, network_id)
            absence = events.record_absence(
                db, network_id, bundle, staff_id=form["staff_id"], form=form, actor=user.email
            )
    except RequestError as err:
        return _page(network_id, week, absence_form=form, absence_errors=err.problems, status=400)
    flash(f"Recorded the absence of {absence.staff_id}, {absence.when}.", "success")
    return _back(network_id, week)


@bp.post("/n/<int:network_id>/weeks/<week>/demand-changes")
@require(*STAFF_ROLES)
def record_demand(network_id: int, week: str) -> Page | Response:
    """Record a changed need at a site: an extra need, or a cancelled session."""
    user = network_guard(network_id)
    week = checked_week(week)
    form = {k: request.form.get(k, "") for k in DEMAND_FIELDS}
    try:
        with transaction() as db:
            bundle = bundle_of(db, network_id)
            change = record_demand_change(db, network_id, bundle, form, actor=user.email)
    except RequestError as err:
        return _page(network_id, week, demand_form=form, demand_errors=err.problems, status=400)
    flash(f"Recorded: {change.summary}.", "success")
    return _back(network_id, week)


@bp.post("/n/<int:network_id>/weeks/<week>/events/<what>/<int:event_id>/withdraw")
@require(*STAFF_ROLES)
def withdraw(network_id: int, week: str, what: str, event_id: int) -> Response:
    """Withdraw an absence or a demand change recorded by mistake (or no longer true)."""
    user = network_guard(network_id)
    week = checked_week(week)
    if what not in ("absence", "demand"):
        abort(404)
    try:
        with transaction() as db:
            events.withdraw(db, network_id, what, event_id, user.email)
    except RequestNotFoundError:
        abort(404)
    except RequestError as err:
        flash(f"Nothing changed: {err}.", "error")
        return _back(network_id, week)
    flash(f"Withdrew {'the absence' if what == 'absence' else 'the demand change'}.", "success")
    return _back(network_id, week)


# -- repair ----------------------------------------------------------------------------------


@bp.post("/n/<int:network_id>/weeks/<week>/repair")
@require(*STAFF_ROLES)
def propose(network_id: int, week: str) -> Response:
    """Propose the repair of the published week and save it as the draft to review."""
    user = network_guard(network_id)
    week = checked_week(week)
    replace = request.form.get("replace_draft") == "1"
    extra = request.form.get("dates", "").strip()
    try:
        extra_days = [dt.date.fromisoformat(d.strip()) for d in extra.split(",") if d.strip()]
    except ValueError:
        flash(f"Not repaired. Dates: {extra!r} is not a list of dates such as 2026-12-01.", "error")
        return _back(network_id, week)
    try:
        with reading() as db:
            bundle = bundle_of(db, network_id)
            _, published, pinned = repair.published_cells(db, network_id, week)
            days = repair.week_events(db, network_id, parse_iso_week(week))
            if not replace and repair.draft_differs(db, network_id, week, published):
                raise repair.RepairError(
                    f"{week} has a draft with edits not yet published; publish it first, or "
                    "tick 'replace the draft' to repair from the published rota anyway"
                )
        outcome = repair.propose_repair(
            bundle,
            week,
            published,
            today=today(),
            event_days=days,
            extra_days=extra_days,
            options=_options(),
            now=_now(),
        )
        if outcome.report is None:
            conflicts = "; ".join(str(c) for c in outcome.result.conflicts)
            flash(f"No repair found: {outcome.result.message or conflicts}", "error")
            return _back(network_id, week)
        with transaction() as db:
            repair.save_repair(
                db, network_id, outcome, pinned, replace_draft=replace, actor=user.email
            )
    except (repair.RepairError, InvalidRotaError) as err:
        flash(f"Not repaired: {err}", "error")
        return _back(network_id, week)
    flash(
        f"Proposed a repair changing {len(outcome.changes)} session(s); review it below.",
        "success",
    )
    return _back(network_id, week)
