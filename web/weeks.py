"""The read-only week pages: overview with heatmap, rota grid, shortfalls and exports.

Thin handlers: each checks who may look, reads the week in one transaction
and hands it to ``scheduler.weekview``, whose plain functions compute what
the templates show.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as Redirect

from scheduler import routine
from scheduler.accounts import User
from scheduler.storage.repository import NetworkLookupError, now
from scheduler.validator import check_rota
from scheduler.weekview import (
    EXPORT_TYPES,
    SHOWN_STATES,
    GridFilter,
    Week,
    columns_by_date,
    download_name,
    export_bytes,
    filter_options,
    heatmap,
    load_week,
    neighbour_weeks,
    person_grid,
    shortfall_count,
    shortfall_items,
    site_grid,
    week_columns,
    week_coverage,
    week_label,
    week_totals,
)
from web.auth import STAFF_ROLES, network_guard, require, sees_leave_reasons
from web.db import transaction

bp = Blueprint("weeks", __name__)

GRID_ROLES = (*STAFF_ROLES, "practice")
GRID_VIEWS = ("site", "person")
# The query fields a week page passes on to the previous/next week and the week picker.
# Only these: anything else would reach url_for as a keyword (``network_id``, ``_external``).
KEPT_ARGS = ("by", "site", "role", "skill", "state")


# --------------------------------------------------------------------------- helpers


def not_found(message: str) -> NoReturn:
    """Stop with a 404 page that says what is missing and what to do."""
    abort(make_response(render_template("weeks/missing.html", message=message), 404))


def checked_week(text: str) -> str:
    """The week of the URL, normalised; a 404 naming the expected form otherwise."""
    try:
        return week_label(text)
    except ValueError:
        not_found(
            f"{text!r} is not a week. Write a week as an ISO week such as 2026-W49 "
            "(the year, -W, then the week number)."
        )


def kept_args() -> dict[str, Any]:
    """The page's filters, to carry over to another week of the same page."""
    return {key: value for key in KEPT_ARGS if (value := request.args.get(key))}


def picked_week(endpoint: str, network_id: int) -> Redirect | None:
    """The week picker's GET form: send the browser to the chosen week's own address."""
    picked = request.args.get("week")
    if picked is None:
        return None
    week = checked_week(picked)
    return redirect(url_for(endpoint, network_id=network_id, week=week, **kept_args()))


def chosen_state() -> str | None:
    """``?state=draft|published``; anything else is refused with the field named."""
    state = request.args.get("state") or None
    if state is not None and state not in SHOWN_STATES:
        abort(400, description=f"state: {state!r} is not one of {', '.join(SHOWN_STATES)}.")
    return state


def read_week(network_id: int, week: str, state: str | None) -> tuple[str, Week]:
    """The network's name and the week, or 404 when the network is not stored."""
    with transaction() as db:
        try:
            loaded = load_week(db, network_id, week, state)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")
    return loaded.bundle.name, loaded


def page_context(network_id: int, name: str, week: Week, state: str | None) -> dict[str, Any]:
    """What every week page's header needs: names, neighbours and the state asked for."""
    previous, following = neighbour_weeks(week.label)
    return {
        "keep": kept_args(),
        "network_id": network_id,
        "network_name": name,
        "week": week,
        "previous": previous,
        "following": following,
        "state": state,
    }


# --------------------------------------------------------------------------- overview


@bp.get("/n/<int:network_id>/weeks/<week>")
@require(*STAFF_ROLES)
def overview(network_id: int, week: str) -> str | Redirect:
    """The week at a glance: its rotas, shortfalls, heatmap and totals."""
    network_guard(network_id)
    moved = picked_week("weeks.overview", network_id)
    if moved is not None:
        return moved
    state = chosen_state()
    name, loaded = read_week(network_id, checked_week(week), state)
    columns = week_columns(loaded.bundle, loaded.dates)
    coverage = week_coverage(loaded)
    with transaction() as db:
        alerts = routine.open_alerts(db, network_id, loaded.label)
    return render_template(
        "weeks/overview.html",
        alerts=alerts,
        columns=columns,
        dates=columns_by_date(columns),
        rows=heatmap(loaded.bundle, columns, coverage),
        shortfall=shortfall_count(coverage),
        totals=week_totals(loaded.bundle, loaded.assignments),
        exports=list(EXPORT_TYPES),
        **page_context(network_id, name, loaded, state),
    )


@bp.post("/n/<int:network_id>/weeks/<week>/alerts/<int:alert_id>/clear")
@require(*STAFF_ROLES)
def clear_alert(network_id: int, week: str, alert_id: int) -> Redirect:
    """Acknowledge an alert of the scheduled jobs: it leaves the overview.

    The nightly re-check raises a problem again only if it changes (a new message).
    """
    user = network_guard(network_id)
    label = checked_week(week)
    try:
        with transaction() as db:
            cleared = routine.clear_alert(
                db, network_id, label, alert_id, actor=user.email, at=now()
            )
    except routine.AlertNotFoundError:
        not_found(f"There is no alert {alert_id} for {label}. Go back to the week's overview.")
    flash("Alert cleared." if cleared else "That alert had already been cleared.", "success")
    return redirect(url_for("weeks.overview", network_id=network_id, week=label))


# --------------------------------------------------------------------------- grid


def grid_filter(user: User, bundle_sites: set[str]) -> tuple[str, GridFilter]:
    """The grid's view and filters; a practice sees its own site by site, and only that."""
    site = request.args.get("site") or None
    view = request.args.get("by") or "site"
    if user.role == "practice":
        if user.site_id is None or (site is not None and site != user.site_id):
            abort(403)
        site, view = user.site_id, "site"
    if view not in GRID_VIEWS:
        abort(400, description=f"by: {view!r} is not one of {', '.join(GRID_VIEWS)}.")
    if site is not None and site not in bundle_sites:
        not_found(f"site: {site!r} is not a site of this network; pick one from the list.")
    flt = GridFilter(
        role=request.args.get("role") or None,
        skill=request.args.get("skill") or None,
        site=site,
    )
    return view, flt


@bp.get("/n/<int:network_id>/weeks/<week>/grid")
@require(*GRID_ROLES)
def grid(network_id: int, week: str) -> str | Redirect:
    """Who works where: by site (sessions by sites) or by person (people by dates)."""
    user = network_guard(network_id)
    moved = picked_week("weeks.grid", network_id)
    if moved is not None:
        return moved
    # A practice sees what the network has published, never a draft in progress.
    state = "published" if user.role == "practice" else chosen_state()
    name, loaded = read_week(network_id, checked_week(week), state)
    view, flt = grid_filter(user, {s.site_id for s in loaded.bundle.sites})
    roles, skills = filter_options(loaded.bundle)
    context: dict[str, Any] = {"view": view, "flt": flt, "roles": roles, "skills": skills}
    if view == "site":
        context["sites"], context["rows"] = site_grid(
            loaded.bundle, loaded.dates, loaded.assignments, flt
        )
    else:
        context["days"], context["people"] = person_grid(
            loaded.bundle, loaded.dates, loaded.assignments, flt
        )
    return render_template(
        "weeks/grid.html", **context, **page_context(network_id, name, loaded, state)
    )


# --------------------------------------------------------------------------- shortfalls


@bp.get("/n/<int:network_id>/weeks/<week>/shortfalls")
@require(*STAFF_ROLES)
def shortfalls(network_id: int, week: str) -> str:
    """Each unmet minimum, its named causes, ranked fixes, and who could cover it at what cost."""
    user = network_guard(network_id)
    state = chosen_state()
    name, loaded = read_week(network_id, checked_week(week), state)
    # The bundle carries approved leave too: people on leave are never offered as cover.
    # Leave kinds (health data) show only to managers and coordinators: ``private``.
    items = shortfall_items(loaded.bundle, loaded.dates, loaded.assignments, week_coverage(loaded))
    return render_template(
        "weeks/shortfalls.html",
        items=items,
        private=sees_leave_reasons(user),
        **page_context(network_id, name, loaded, state),
    )


# --------------------------------------------------------------------------- exports


@bp.get("/n/<int:network_id>/weeks/<week>/export/<name>")
@require(*STAFF_ROLES)
def export(network_id: int, week: str, name: str) -> Response:
    """A download of the shown rota, exactly as ``rotapool export`` writes it."""
    network_guard(network_id)
    if name not in EXPORT_TYPES:
        not_found(f"{name!r} is not an export; the exports are {', '.join(EXPORT_TYPES)}.")
    state = chosen_state()
    network_name, loaded = read_week(network_id, checked_week(week), state)
    if loaded.shown is None:
        wanted = f"no {state} rota" if state else "no rota"
        not_found(f"There is {wanted} for {loaded.label} yet: plan or publish the week first.")
    report = check_rota(loaded.bundle, loaded.dates, loaded.assignments)
    if not report.ok:
        problems = "; ".join(v.message for v in report.violations[:3])
        abort(
            409,
            description=(
                f"The stored rota for {loaded.label} no longer meets the network's hard rules "
                f"({problems}). Nothing was exported: edit or plan the week again."
            ),
        )
    data = export_bytes(loaded.bundle, loaded.dates, loaded.assignments, report.coverage, name)
    response = Response(data, content_type=EXPORT_TYPES[name])
    filename = download_name(network_name, loaded.label, name)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
