"""Fairness between practices: hub duty and lending against each practice's list share.

A thin handler over ``scheduler.reports.fairness``: the chart "hub duty share
vs list share" (and the same for lending) with the figures as tables beside
it, and the CSV/XLSX downloads.  Managers and coordinators only: the page
compares every practice of the network with the others.  Without ``?week=``
the period ends with the current week.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from scheduler.domain import iso_week_label
from scheduler.outputs.downloads import download_name
from scheduler.reports.fairness import (
    MAX_WEEKS,
    ROLLING_WEEKS,
    FairnessReport,
    Period,
    PeriodError,
    fairness_bytes,
    load_fairness,
    read_period,
)
from scheduler.storage.repository import NetworkLookupError
from web.auth import STAFF_ROLES, network_guard, require
from web.charts import Series, bar_chart
from web.common import not_found, today
from web.db import reading

bp = Blueprint("fairness", __name__)

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class WeekRef:
    """The week the navigation links point to: the last week of the period."""

    label: str


def _period() -> Period:
    """``?week=`` (default: this week) and ``?weeks=``; a 400 naming the field otherwise."""
    week = request.args.get("week") or iso_week_label(today())
    try:
        return read_period(week, request.args.get("weeks"))
    except PeriodError as err:
        abort(400, description=f"{err.field}: {err.message}.")


def _report(network_id: int, period: Period) -> FairnessReport:
    with reading() as db:
        try:
            return load_fairness(db, network_id, period)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")


def share_chart(report: FairnessReport, duty: str) -> Markup:
    """Each practice's share of ``duty`` ("hub" or "lending") beside its share of patients."""
    hub = duty == "hub"
    title = "Hub duty share vs list share" if hub else "Lending share vs list share"
    done = "Hub duty share" if hub else "Lending share"
    total = report.hub_total if hub else report.lending_total
    what = "hub hours" if hub else "hours at other practices"
    return bar_chart(
        title,
        [line.site_id for line in report.lines],
        [
            Series("List share", tuple(float(line.list_share) for line in report.lines)),
            Series(
                done,
                tuple(
                    float(line.hub.share if hub else line.lending.share) for line in report.lines
                ),
            ),
        ],
        chart_id=f"fairness-{duty}",
        unit="%",
        description=(
            f"For each practice, its share of the practices' patients and its share of the "
            f"{total} {what} worked by practices' staff, {report.period.words}."
        ),
    )


@bp.get("/n/<int:network_id>/reports/fairness")
@require(*STAFF_ROLES)
def page(network_id: int) -> str:
    """The period's figures per practice: charts, tables and downloads."""
    network_guard(network_id)
    period = _period()
    report = _report(network_id, period)
    return render_template(
        "reports/fairness.html",
        report=report,
        network_id=network_id,
        week=WeekRef(period.last_week),
        max_weeks=MAX_WEEKS,
        rolling_weeks=ROLLING_WEEKS,
        hub_chart=share_chart(report, "hub"),
        lending_chart=share_chart(report, "lending"),
        downloads={
            kind: url_for(
                "fairness.download",
                network_id=network_id,
                kind=kind,
                week=period.last_week,
                weeks=period.weeks,
            )
            for kind in CONTENT_TYPES
        },
    )


@bp.get("/n/<int:network_id>/reports/fairness.<any(csv, xlsx):kind>")
@require(*STAFF_ROLES)
def download(network_id: int, kind: str) -> Response:
    """The practice table as CSV, or as a workbook with the period on a second sheet."""
    network_guard(network_id)
    period = _period()
    report = _report(network_id, period)
    response = Response(fairness_bytes(report, kind), content_type=CONTENT_TYPES[kind])
    span = f"{period.first_week}-to-{period.last_week}"
    filename = download_name(report.network, span, f"fairness.{kind}")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
