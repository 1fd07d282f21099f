"""The read-only week pages: overview with heatmap, rota grid, shortfalls and exports.

Thin handlers: each checks who may look, reads the week in one transaction
and hands it to ``scheduler.views``, whose plain functions compute what
the templates show."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as Redirect

from scheduler.checks.fixes import shortfall_items
from scheduler.checks.validator import check_rota
from scheduler.horizon import bank_holiday_sites
from scheduler.jobs import alerts as routine_alerts
from scheduler.jobs.alerts import AlertNotFoundError, open_alerts
from scheduler.outputs.downloads import EXPORT_TYPES, download_name, export_bytes
from scheduler.storage.clock import now
from scheduler.usecases.accounts import User
from scheduler.views.grid import GridFilter, filter_options, person_grid, site_grid
from scheduler.views.heatmap import columns_by_date, heatmap, needed_columns, week_columns
from scheduler.views.totals import shortfall_count, week_totals
from scheduler.views.week import (
    week_coverage,
)
from web.auth import STAFF_ROLES, network_guard, require, sees_leave_reasons
from web.common import (
    checked_week,
    chosen_state,
    editable_shown,
    not_found,
    page_context,
    picked_week,
    read_week,
)
from web.db import reading, transaction

bp = Blueprint("weeks", __name__)

GRID_ROLES = (*STAFF_ROLES, "practice")
GRID_VIEWS = ("site", "person")


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
    coverage = week_coverage(loaded)
    columns = needed_columns(week_columns(loaded.bundle, loaded.dates), coverage)
    with reading() as db:
        alerts = open_alerts(db, network_id, loaded.label)
    return render_template(
        "weeks/overview.html",
        alerts=alerts,
        columns=columns,
        dates=columns_by_date(columns),
        rows=heatmap(loaded.bundle, columns, coverage),
        holidays=bank_holiday_sites(loaded.bundle, loaded.dates),
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
            cleared = routine_alerts.clear_alert(
                db, network_id, label, alert_id, actor=user.email, at=now()
            )
    except AlertNotFoundError:
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
        editable=editable_shown(loaded),
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
