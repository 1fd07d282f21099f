"""Solving in the background, editing a week's rota, publishing it, versions and diffs.

Thin handlers over ``scheduler.jobs``, ``scheduler.usecases.editing`` and
``scheduler.usecases.publishing``; every route is for managers and coordinators of
the network.  A refused edit or publication re-renders the edit page with
the reason (409, or 400 for a form that does not make sense); a success
redirects, so a reload never repeats it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from scheduler.checks.validator import ValidationReport, check_rota
from scheduler.domain import DAY_NAMES, Assignment, Bundle
from scheduler.jobs import queue as jobs_queue
from scheduler.jobs.claims import sweep_interrupted
from scheduler.jobs.local import QueueUnavailableError
from scheduler.jobs.records import (
    JobInputError,
    JobView,
    SolveRunningError,
    active_job,
    check_weeks,
    create_job,
    find_job,
    request_cancel,
)
from scheduler.jobs.settings import NO_QUEUE, solve_options
from scheduler.storage.db import DATABASE_ERRORS, database_trouble
from scheduler.storage.models.base import MAX_INTEGER
from scheduler.storage.rotas import normalise_week
from scheduler.usecases import editing, notices, publishing
from scheduler.usecases.planning import MAX_WEEKS
from scheduler.usecases.publish_preview import preview_publication
from scheduler.views.words import quality_words
from web.auth import STAFF_ROLES, network_guard, require
from web.common import bundle_of, email_notices, feeds_changed, queue, today
from web.db import engine, reading, transaction

bp = Blueprint("rota", __name__)

Page = str | tuple[str, int]


def _week(week: str) -> str:
    """The week's one spelling, or a 404 page saying how to write a week."""
    try:
        return normalise_week(week)
    except ValueError:
        abort(make_response(render_template("rota/bad_week.html", week=week), 404))


def _day(day: dt.date) -> str:
    """``Tue 2026-12-01``."""
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


# -- solving ---------------------------------------------------------------------------------


def _keep_pins(text: str | None) -> bool:
    """The ``keep_pins`` field: 1 keeps the draft's pins, 0 or nothing does not."""
    if text in (None, "", "0"):
        return False
    if text == "1":
        return True
    raise JobInputError("keep_pins", "use 1 to keep the pinned cells, or 0")


@bp.post("/n/<int:network_id>/weeks/<week>/solve")
@require(*STAFF_ROLES)
def start_solve(network_id: int, week: str) -> Response:
    """Queue a solve of the week (or ``weeks`` weeks from it); the job runs in the background."""
    user = network_guard(network_id)
    week = _week(week)
    with reading() as db:
        bundle_of(db, network_id)
    settings = queue()
    sweep_interrupted(engine(), network_id, settings)
    try:
        weeks = check_weeks(request.form.get("weeks"))
        keep_pins = _keep_pins(request.form.get("keep_pins"))
        with transaction() as db:
            ticket = create_job(
                db,
                network_id,
                week,
                weeks=weeks,
                keep_pins=keep_pins,
                actor=user.email,
                options=solve_options(current_app.config),
                settings=settings,
            )
    except JobInputError as err:
        flash(f"The solve was not started. {err.field}: {err.message}.", "error")
        return redirect(url_for(".edit", network_id=network_id, week=week))
    except SolveRunningError as err:
        flash(f"A solve of {week} is already queued or running; it is shown here.", "error")
        return redirect(url_for(".job", network_id=network_id, job_id=err.job_id))
    if not ticket.created:
        flash(
            "This same solve, from the same data, was already asked for; it is shown here.",
            "success",
        )
    else:
        try:
            jobs_queue.start(engine(), ticket.id, settings)
        except QueueUnavailableError:
            flash(NO_QUEUE, "error")
        except DATABASE_ERRORS as err:  # the job is saved and sent; only its note was not
            if database_trouble(err) is None:
                raise
    return redirect(url_for(".job", network_id=network_id, job_id=ticket.id))


def _job(network_id: int, job_id: int) -> JobView:
    """The job after sweeping up jobs a dead process left behind; 404 if not this network's."""
    network_guard(network_id)
    sweep_interrupted(engine(), network_id, queue())
    with reading() as db:
        found = find_job(db, network_id, job_id)
    if found is None:
        abort(404)
    return found


def _rota_url(job: JobView) -> str | None:
    """Where a finished job's rota is seen and fixed: the week board."""
    if job.state != "done":
        return None
    return url_for("board.board", network_id=job.network_id, week=job.week)


@bp.get("/n/<int:network_id>/jobs/<int:job_id>")
@require(*STAFF_ROLES)
def job(network_id: int, job_id: int) -> str:
    """The job's state and progress; job.js refreshes it every second while it runs."""
    found = _job(network_id, job_id)
    return render_template(
        "rota/job.html", job=found, rota_url=_rota_url(found), network_id=network_id
    )


def job_json(job: JobView) -> dict[str, Any]:
    """What the job page's script reads."""
    return {
        "id": job.id,
        "week": job.week,
        "weeks": job.weeks,
        "state": job.state,
        "finished": job.finished,
        "objective": job.objective,
        "bound": job.bound,
        "gap": job.gap,
        "quality": quality_words(job.gap, job.objective is not None),
        "elapsed": job.elapsed,
        "solutions": job.solutions,
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "message": job.message,
        "rota_url": _rota_url(job),
    }


@bp.get("/n/<int:network_id>/jobs/<int:job_id>.json")
@require(*STAFF_ROLES)
def job_status(network_id: int, job_id: int) -> Response:
    """The job's state as JSON, polled by job.js."""
    response = jsonify(job_json(_job(network_id, job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/n/<int:network_id>/jobs/<int:job_id>/cancel")
@require(*STAFF_ROLES)
def cancel_job(network_id: int, job_id: int) -> Response:
    """Ask the job to stop; a cancelled solve saves nothing."""
    user = network_guard(network_id)
    found = _job(network_id, job_id)
    with transaction() as db:
        asked = request_cancel(db, engine(), network_id, job_id, user.email)
    if not asked:
        flash("The solve had already finished; nothing to cancel.", "error")
    elif found.state == "queued":
        flash("Cancelled before it started; nothing was saved.", "success")
    else:
        flash("Cancel requested: the solve stops within a second and saves nothing.", "success")
    return redirect(url_for(".job", network_id=network_id, job_id=job_id))


# -- editing ---------------------------------------------------------------------------------


def _rows(bundle: Bundle, rota: editing.EditableRota | None) -> list[dict[str, Any]]:
    """The rota's cells in date, session start, site and person order, ready to show."""
    if rota is None:
        return []
    start = {s.session_id: s.start for s in bundle.session_types}
    names = {p.staff_id: p.name for p in bundle.staff}
    fixed = {(f.staff_id, f.date, f.session_id, f.site_id) for f in bundle.fixed}
    cells = sorted(
        rota.cells.assignments,
        key=lambda c: (c.date, start.get(c.session_id, dt.time()), c.site_id, c.staff_id),
    )
    return [
        {
            "cell": cell,
            "day": _day(cell.date),
            "name": names.get(cell.staff_id, cell.staff_id),
            "pinned": cell in rota.cells.pinned,
            "fixed": (cell.staff_id, cell.date, cell.session_id, cell.site_id) in fixed,
        }
        for cell in cells
    ]


MOVE_FIELDS = ("staff_id", "date", "session_id", "site_id")
MOVE_LOST = "That session is no longer in the rota (someone may have changed it); pick it again."


def _moving(rota: editing.EditableRota | None) -> tuple[Assignment | None, str | None]:
    """The cell whose move form is open (``?move_staff_id=...`` or a refused move), or why not."""
    if request.method == "POST" and request.form.get("action") == "move":
        source: Mapping[str, str] = {k: request.form.get(k, "") for k in MOVE_FIELDS}
    else:
        source = {k: request.args.get(f"move_{k}", "") for k in MOVE_FIELDS}
    if not any(source.values()):
        return None, None
    try:
        day = dt.date.fromisoformat(source["date"])
    except ValueError:
        day = None
    cell = None
    if day is not None:
        cell = Assignment(day, source["session_id"], source["site_id"], source["staff_id"])
    if rota is None or cell not in rota.cells.assignments:
        return None, MOVE_LOST
    return cell, None


def _edit_page(
    network_id: int, week: str, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    """The week's rota with its edit forms; ``error`` says why the last request was refused."""
    with reading() as db:
        bundle = bundle_of(db, network_id)
        rota = editing.editable_rota(db, network_id, week)
        running = active_job(db, network_id, week)
    dates = editing.week_dates(week)
    report: ValidationReport | None = None
    if rota is not None:
        report = check_rota(bundle, dates, rota.cells.assignments)
    moving, lost = _moving(rota)
    html = render_template(
        "rota/edit.html",
        moving=moving,
        moving_day=_day(moving.date) if moving else "",
        names={p.staff_id: p.name for p in bundle.staff},
        network_id=network_id,
        week=week,
        bundle=bundle,
        rota=rota,
        rows=_rows(bundle, rota),
        report=report,
        days=[(d.isoformat(), _day(d)) for d in dates],
        running=running,
        max_weeks=MAX_WEEKS,
        error=error or lost,
        form=request.form if request.method == "POST" else {},
    )
    return html, status


def _edit_done(edit: editing.Edit, outcome: editing.EditOutcome) -> str:
    """The flash message after a saved edit."""
    what = {
        "assign": "Assigned",
        "unassign": "Unassigned",
        "move": "Moved",
        "pin": "Pinned",
        "unpin": "Unpinned",
    }[edit.action]
    where = f" to {editing.describe(edit.to)}" if edit.to else ""
    return (
        f"{what} {editing.describe(edit.cell)}{where}. The draft is at revision "
        f"{outcome.revision}; {outcome.shortfall} people short of minimum."
    )


def _apply(network_id: int, week: str, fields: Mapping[str, str], actor: str) -> Response:
    """Parse, check and save one edit; raises the editing errors for the caller to show."""
    with transaction() as db:
        bundle = bundle_of(db, network_id)
    edit = editing.parse_edit(bundle, week, fields)
    revision = editing.parse_revision(fields.get("revision"))
    with transaction() as db:
        outcome = editing.apply_edit(
            db, network_id, week, edit, expected_revision=revision, actor=actor
        )
    flash(_edit_done(edit, outcome), "success")
    return redirect(url_for(".edit", network_id=network_id, week=week))


@bp.route("/n/<int:network_id>/weeks/<week>/edit", methods=["GET", "POST"])
@require(*STAFF_ROLES)
def edit(network_id: int, week: str) -> Page | Response:
    """The week's rota with assign, unassign, move, pin and unpin; each edit checked first."""
    user = network_guard(network_id)
    week = _week(week)
    if request.method == "GET":
        return _edit_page(network_id, week)
    try:
        return _apply(network_id, week, request.form, user.email)
    except editing.EditError as err:
        return _edit_page(network_id, week, f"Not saved. {err.field}: {err.message}.", 400)
    except editing.HardRuleError as err:
        broken = "; ".join(f"{v.label}: {v.message}" for v in err.violations)
        return _edit_page(network_id, week, f"Not saved: it would break a hard rule. {broken}", 409)
    except editing.EditRefusedError as err:
        return _edit_page(network_id, week, f"Not saved: {err}.", 409)


# -- publishing, versions, diff -------------------------------------------------------------


def _publish_page(network_id: int, week: str, error: str | None = None, status: int = 200) -> Page:
    """What publishing the draft would do, and the form that does it."""
    with reading() as db:
        bundle_of(db, network_id)
        preview = preview_publication(db, network_id, week, today())
    html = render_template(
        "rota/publish.html", network_id=network_id, week=week, preview=preview, error=error
    )
    return html, status


@bp.get("/n/<int:network_id>/weeks/<week>/publish")
@require(*STAFF_ROLES)
def publish_check(network_id: int, week: str) -> Page:
    """The confirmation before publishing: who is short, what changed, who will be told."""
    network_guard(network_id)
    return _publish_page(network_id, _week(week))


@bp.post("/n/<int:network_id>/weeks/<week>/publish")
@require(*STAFF_ROLES)
def publish(network_id: int, week: str) -> Page | Response:
    """Freeze the draft as the week's next version, after the validator has passed it."""
    user = network_guard(network_id)
    week = _week(week)
    try:
        revision = editing.parse_revision(request.form.get("revision"))
        with reading() as db:
            bundle_of(db, network_id)
        with transaction() as db:  # the publication's own, beginning with its write
            done = publishing.publish_week(
                db,
                network_id,
                week,
                user.email,
                expected_revision=revision,
                allow_short=request.form.get("accept_short") == "yes",
            )
            recorded = notices.record_notices(db, notices.notifiable(done), today())
    except editing.EditError as err:
        return _publish_page(network_id, week, f"Not published. {err.field}: {err.message}.", 400)
    except publishing.PublishError as err:
        return _publish_page(network_id, week, f"Not published: {err}.", 409)
    feeds_changed()
    told = email_notices(len(recorded))
    flash(f"Published {week} as version {done.version}. {told}".rstrip(), "success")
    return redirect(url_for(".versions", network_id=network_id, week=week))


def _version_label(info: publishing.VersionInfo) -> str:
    """``version 2 (published)`` or ``draft``."""
    if info.version is None:
        return "current draft"
    return f"version {info.version} ({info.state})"


def _versions_page(
    network_id: int, week: str, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    with reading() as db:
        bundle_of(db, network_id)
        versions = publishing.list_versions(db, network_id, week)
    html = render_template(
        "rota/versions.html",
        network_id=network_id,
        week=week,
        versions=versions,
        labels={v.rota_id: _version_label(v) for v in versions},
        error=error,
        chosen=request.args,
    )
    return html, status


@bp.get("/n/<int:network_id>/weeks/<week>/versions")
@require(*STAFF_ROLES)
def versions(network_id: int, week: str) -> Page:
    """The week's publications (and draft): who published each and when; pick two to diff."""
    network_guard(network_id)
    return _versions_page(network_id, _week(week))


def _rota_choice(name: str) -> int:
    """The rota id in query field ``name``."""
    try:
        rota_id = int(request.args.get(name, ""))
    except ValueError:
        rota_id = 0
    if not 0 < rota_id <= MAX_INTEGER:  # beyond it no rota exists, and the driver would fail
        raise editing.EditError(name, "choose a version from the list")
    return rota_id


def _refuse_diff(network_id: int, week: str, message: str) -> NoReturn:
    abort(make_response(_versions_page(network_id, week, message, 400)))


@bp.get("/n/<int:network_id>/weeks/<week>/diff")
@require(*STAFF_ROLES)
def diff(network_id: int, week: str) -> Page:
    """Per person, what moved, was added or was removed between rotas ``a`` and ``b``."""
    network_guard(network_id)
    week = _week(week)
    try:
        first, second = _rota_choice("a"), _rota_choice("b")
        with reading() as db:
            bundle = bundle_of(db, network_id)
            old = publishing.week_rota_cells(db, network_id, week, first)
            new = publishing.week_rota_cells(db, network_id, week, second)
            labels = {
                v.rota_id: _version_label(v) for v in publishing.list_versions(db, network_id, week)
            }
    except editing.EditError as err:
        _refuse_diff(network_id, week, f"{err.field}: {err.message}.")
    except LookupError as err:
        _refuse_diff(network_id, week, f"{err}; choose versions of this week from the list.")
    return render_template(
        "rota/diff.html",
        network_id=network_id,
        week=week,
        changes=publishing.diff_rotas(old, new),
        names={p.staff_id: p.name for p in bundle.staff},
        old_label=labels.get(first, f"rota {first}"),
        new_label=labels.get(second, f"rota {second}"),
        day=_day,
    )
