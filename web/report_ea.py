"""Enhanced access compliance: one week's verdict, the weeks around it, and downloads.

Thin handlers over ``scheduler.reports.ea``.  Managers and coordinators only:
the report is what they answer to commissioners for.  Only published rotas
count; the page says when a week has nothing published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from scheduler.domain import Bundle, iso_week_label, parse_iso_week
from scheduler.outputs.downloads import download_name
from scheduler.reports.ea import (
    DOWNLOADS,
    NoEnhancedAccessError,
    WeekCheck,
    cents,
    download_bytes,
    floor_text,
    load_checks,
    population_note,
)
from scheduler.storage.repository import NetworkLookupError
from scheduler.storage.rotas import RotaInfo, week_rotas
from scheduler.views.week import neighbour_weeks, pick_rota, stored_bundle
from web.auth import STAFF_ROLES, network_guard, require
from web.charts import Reference, Series, bar_chart
from web.common import not_found, today
from web.db import reading

bp = Blueprint("ea", __name__)

AROUND = 2  # weeks shown before and after the chosen one in the chart


@dataclass(frozen=True)
class WeekRef:
    """What the week header and navigation need: the label and the published rota shown."""

    label: str
    shown: RotaInfo | None = None


@dataclass(frozen=True)
class Loaded:
    bundle: Bundle
    checks: list[WeekCheck] | None  # None: the network has no [enhanced_access] section
    shown: RotaInfo | None


def _week() -> str:
    """``?week=`` normalised (default: this week); a 400 naming the field otherwise."""
    text = request.args.get("week") or iso_week_label(today())
    try:
        return iso_week_label(parse_iso_week(text)[0])
    except ValueError as err:
        abort(400, description=f"week: {err}.")


def _load(network_id: int, week: str, first: str, count: int) -> Loaded:
    """The checks of ``count`` weeks from ``first``, and the published rota of ``week``."""
    with reading() as db:
        try:
            _, bundle = stored_bundle(db, network_id)
            shown = pick_rota(week_rotas(db, network_id, week), "published")
            try:
                _, checks = load_checks(db, network_id, first, count)
            except NoEnhancedAccessError:
                return Loaded(bundle, None, shown)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")
    return Loaded(bundle, checks, shown)


def minutes_chart(checks: list[WeekCheck]) -> Markup:
    """Minutes delivered per week against the floor (a reference line)."""
    floor = float(cents(checks[0].floor))
    return bar_chart(
        "Enhanced-access minutes vs floor per week",
        [c.week for c in checks],
        [Series("Minutes delivered", tuple(float(c.delivered) for c in checks))],
        chart_id="ea-minutes",
        unit="min",
        reference=Reference("Floor", floor),
        description=(
            f"Clinician minutes delivered in enhanced-access windows, {checks[0].week} to "
            f"{checks[-1].week}, against the weekly floor of {floor:,.2f} minutes."
        ),
    )


def _around(week: str) -> tuple[str, int]:
    """The chart's first week and how many it shows: ``AROUND`` either side of ``week``,
    fewer next to the first and last years a week may have (``parse_iso_week``)."""
    monday = parse_iso_week(week)[0]
    weeks = []
    for offset in range(-AROUND, AROUND + 1):
        label = iso_week_label(monday + dt.timedelta(weeks=offset))
        try:
            parse_iso_week(label)
        except ValueError:
            continue
        weeks.append(label)
    return weeks[0], len(weeks)


@bp.get("/n/<int:network_id>/reports/ea")
@require(*STAFF_ROLES)
def page(network_id: int) -> str:
    """The week's verdict, its gaps and bank holidays, and the weeks around it in a chart."""
    network_guard(network_id)
    week = _week()
    loaded = _load(network_id, week, *_around(week))
    previous, following = neighbour_weeks(week)
    context = {
        "network_id": network_id,
        "network_name": loaded.bundle.name,
        "week": WeekRef(week, loaded.shown),
        "previous": previous,
        "following": following,
        "keep": {},
    }
    if loaded.checks is None:
        return render_template("reports/ea.html", check=None, **context)
    check = next(c for c in loaded.checks if c.week == week)
    return render_template(
        "reports/ea.html",
        check=check,
        checks=loaded.checks,
        chart=minutes_chart(loaded.checks),
        floor_text=floor_text(check),
        population_note=population_note(check),
        cents=cents,
        downloads=[
            (name, url_for("ea.download", network_id=network_id, name=name, week=week))
            for name in DOWNLOADS
        ],
        **context,
    )


@bp.get("/n/<int:network_id>/reports/ea/<name>")
@require(*STAFF_ROLES)
def download(network_id: int, name: str) -> Response:
    """The week's summary or gaps as CSV, or both (and the windows) as a workbook."""
    network_guard(network_id)
    if name not in DOWNLOADS:
        not_found(f"{name!r} is not a download; the downloads are {', '.join(DOWNLOADS)}.")
    week = _week()
    loaded = _load(network_id, week, week, 1)
    if loaded.checks is None:
        not_found(str(NoEnhancedAccessError(loaded.bundle.name)))
    response = Response(download_bytes(loaded.checks, name), content_type=DOWNLOADS[name])
    filename = download_name(loaded.bundle.name, week, name)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
