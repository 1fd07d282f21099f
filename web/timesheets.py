"""Timesheets on the web: a coordinator confirms or corrects a day's sessions, managers and
coordinators read the payroll report of a month, and a clinician reads their own timesheet
and flags an entry that is wrong.

Thin handlers over ``scheduler.usecases.timesheets`` (the writes, audited and told through
the inbox) and ``scheduler.reports.timesheets`` (the figures and files).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler.domain import Bundle, iso_week_label
from scheduler.outputs.downloads import download_name
from scheduler.reports import timesheets as report
from scheduler.reports.actuals import Entry, load_entries
from scheduler.reports.ledger import Period, PeriodError, choose_period, month_period
from scheduler.storage.clock import now
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import NetworkLookupError
from scheduler.usecases import timesheets as sheets
from web.auth import STAFF_ROLES, network_guard, require, staff_guard
from web.common import not_found, today
from web.db import reading, transaction

bp = Blueprint("timesheets", __name__)

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class WeekRef:
    """The week the navigation links point to."""

    label: str


def _bundle(network_id: int) -> Bundle:
    with reading() as db:
        try:
            return current_bundle(db, network_id)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")


def _names(bundle: Bundle) -> dict[str, Any]:
    """Lookups every timesheet template uses."""
    return {
        "people": {p.staff_id: p for p in bundle.staff},
        "sites": {s.site_id: s.name for s in bundle.sites},
        "sessions": {s.session_id: s for s in bundle.session_types},
    }


# --------------------------------------------------------------------------- a day


def _asked_day(text: str | None) -> dt.date:
    if not text:
        return today()
    try:
        return sheets.read_day(text)
    except sheets.TimesheetError as err:
        abort(400, description=f"{err.field}: {err.message}.")


def _day_page(
    network_id: int, day: dt.date, form: Mapping[str, str] | None = None, error: str = ""
) -> tuple[str, int]:
    """The day's sessions by site, flagged ones on top, and the week's days around it."""
    bundle = _bundle(network_id)
    monday = day - dt.timedelta(days=day.weekday())
    with reading() as db:
        week = load_entries(db, network_id, bundle, monday, monday + dt.timedelta(days=6))
    found = [e for e in week if e.date == day]
    by_site: dict[str, list[Entry]] = {}
    for e in found:
        if not e.flagged:
            by_site.setdefault(e.site_id, []).append(e)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    html = render_template(
        "timesheets/day.html",
        network_id=network_id,
        network_name=bundle.name,
        week=WeekRef(iso_week_label(day)),
        day=day,
        days=[(d, _open_count(week, d)) for d in days],
        flagged=[e for e in found if e.flagged],
        by_site=sorted(by_site.items()),
        to_confirm=sum(1 for e in found if e.planned and not e.confirmed and not e.flagged),
        future=day > today(),
        form=form or {},
        error=error,
        **_names(bundle),
    )
    return html, 400 if error else 200


def _open_count(entries: list[Entry], day: dt.date) -> int:
    """Entries of ``day`` a coordinator still has to look at."""
    return sum(1 for e in entries if e.date == day and (e.flagged or not e.confirmed))


@bp.get("/n/<int:network_id>/timesheets")
@require(*STAFF_ROLES)
def day(network_id: int) -> tuple[str, int]:
    """A day's timesheets to confirm (today unless ``?date=``)."""
    network_guard(network_id)
    return _day_page(network_id, _asked_day(request.args.get("date")))


def _back(network_id: int, on: dt.date) -> Response:
    return redirect(url_for(".day", network_id=network_id, date=on.isoformat()))


@bp.post("/n/<int:network_id>/timesheets/confirm")
@require(*STAFF_ROLES)
def confirm(network_id: int) -> Response | tuple[str, int]:
    """Confirm one session as it stands, or (``all``) every planned session of the day."""
    user = network_guard(network_id)
    on = _asked_day(request.form.get("date"))
    try:
        with transaction() as db:
            if request.form.get("all"):
                done = sheets.confirm_day(
                    db, network_id, on, actor=user.email, moment=now(), today=today()
                )
            else:
                key = (request.form.get("staff_id") or "", on, request.form.get("session_id") or "")
                done = sheets.confirm(
                    db, network_id, [key], actor=user.email, moment=now(), today=today()
                )
    except sheets.TimesheetError as err:
        return _day_page(network_id, on, error=f"Not confirmed. {err.field}: {err.message}.")
    count = len(done)
    flash(f"Confirmed {count} {'session' if count == 1 else 'sessions'}.", "success")
    return _back(network_id, on)


@bp.post("/n/<int:network_id>/timesheets/correct")
@require(*STAFF_ROLES)
def correct(network_id: int) -> Response | tuple[str, int]:
    """Record what really happened in one session: not worked, different times, or worked
    although not planned; the person is told."""
    user = network_guard(network_id)
    on = _asked_day(request.form.get("date"))
    try:
        with transaction() as db:
            change = sheets.parse_correction(current_bundle(db, network_id), request.form)
            sheets.correct(db, network_id, change, actor=user.email, moment=now(), today=today())
    except sheets.TimesheetError as err:
        words = f"Not saved. {err.field}: {err.message}."
        return _day_page(network_id, on, request.form, words)
    flash(f"Saved the correction for {change.staff_id}; they have been told.", "success")
    return _back(network_id, on)


# --------------------------------------------------------------------------- the report


def _period(args: Mapping[str, str]) -> Period:
    month, first, last = (args.get(k, "").strip() for k in ("month", "from", "to"))
    if not (month or first or last):
        return month_period(f"{today():%Y-%m}")
    return choose_period(month=month or None, first=first or None, last=last or None)


@bp.get("/n/<int:network_id>/reports/timesheets")
@require(*STAFF_ROLES)
def report_page(network_id: int) -> tuple[str, int]:
    """A month's (or a period's) hours and cost per person, downloads beside them."""
    network_guard(network_id)
    bundle = _bundle(network_id)
    try:
        period: Period | None = _period(request.args)
        error = ""
    except PeriodError as err:
        period, error = None, f"{err.field}: {err.message}."
    found = None
    if period is not None:
        with reading() as db:
            found = report.load_timesheets(db, network_id, period)
    args: dict[str, Any] = dict(period.args) if period else {}
    downloads = [
        (name, url_for(".download", network_id=network_id, name=name, **args))
        for name in report.DOWNLOADS
    ] if period else []  # fmt: skip
    html = render_template(
        "timesheets/report.html",
        network_id=network_id,
        network_name=bundle.name,
        week=WeekRef(iso_week_label(period.first if period else today())),
        period=period,
        report=found,
        totals=report.add_up(found.lines) if found else None,
        downloads=downloads,
        month=request.args.get("month") or (period.label if period else ""),
        rules=(report.COUNT_RULE, report.SPLIT_RULE, report.RATE_RULE),
        error=error,
    )
    return (html, 400) if error else (html, 200)


@bp.get("/n/<int:network_id>/reports/timesheets/<name>")
@require(*STAFF_ROLES)
def download(network_id: int, name: str) -> Response:
    """The CSV or the workbook: what ``rotapool report timesheets`` writes."""
    network_guard(network_id)
    if name not in report.DOWNLOADS:
        not_found(f"{name!r} is not a download; the downloads are {', '.join(report.DOWNLOADS)}.")
    try:
        period = _period(request.args)
    except PeriodError as err:
        abort(400, description=f"{err.field}: {err.message}.")
    bundle = _bundle(network_id)
    with reading() as db:
        found = report.load_timesheets(db, network_id, period)
    kind = name.rsplit(".", 1)[-1]
    response = Response(report.timesheet_bytes(found, name), content_type=CONTENT_TYPES[kind])
    filename = download_name(bundle.name, period.label.replace(" ", "-"), name)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --------------------------------------------------------------------------- a person's own


def _month(text: str | None) -> Period:
    try:
        return month_period(text or f"{today():%Y-%m}")
    except PeriodError as err:
        abort(400, description=f"month: {err.message}.")


def _mine_page(network_id: int, staff_id: str, period: Period, error: str = "") -> tuple[str, int]:
    user = staff_guard(network_id, staff_id)
    bundle = _bundle(network_id)
    person = next((p for p in bundle.staff if p.staff_id == staff_id), None)
    if person is None:
        not_found(f"There is nobody {staff_id!r} in this network.")
    with reading() as db:
        found = load_entries(db, network_id, bundle, period.first, period.last, staff_id=staff_id)
    before = period.first - dt.timedelta(days=1)
    after = period.last + dt.timedelta(days=1)
    html = render_template(
        "timesheets/mine.html",
        network_id=network_id,
        person=person,
        own=user.staff_id == staff_id,
        period=period,
        days=report.entries_by_day(found),
        hours=report.add_up(report.build_timesheets(bundle, period, found, ()).lines).hours,
        earlier=(f"{before:%Y-%m}", f"{before:%B %Y}"),
        later=(f"{after:%Y-%m}", f"{after:%B %Y}"),
        today=today(),
        error=error,
        **_names(bundle),
    )
    return html, 400 if error else 200


@bp.get("/n/<int:network_id>/people/<staff_id>/timesheet")
@require("clinician", *STAFF_ROLES)
def mine(network_id: int, staff_id: str) -> tuple[str, int]:
    """A person's sessions of a month: planned, confirmed or corrected; flag what is wrong."""
    return _mine_page(network_id, staff_id, _month(request.args.get("month")))


@bp.post("/n/<int:network_id>/people/<staff_id>/timesheet/flag")
@require("clinician")
def flag(network_id: int, staff_id: str) -> Response | tuple[str, int]:
    """The clinician says one of their own entries is wrong; coordinators are told."""
    user = staff_guard(network_id, staff_id)
    on = _asked_day(request.form.get("date"))
    key = (staff_id, on, request.form.get("session_id") or "")
    try:
        with transaction() as db:
            sheets.flag(
                db,
                network_id,
                key,
                request.form.get("note") or "",
                actor=user.email,
                moment=now(),
                today=today(),
            )
    except sheets.TimesheetError as err:
        words = f"Not flagged. {err.field}: {err.message}."
        return _mine_page(network_id, staff_id, month_period(f"{on:%Y-%m}"), words)
    flash("Flagged. A coordinator will look at it and correct it if needed.", "success")
    return redirect(url_for(".mine", network_id=network_id, staff_id=staff_id, month=f"{on:%Y-%m}"))
