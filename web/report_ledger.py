"""The recharge ledger page: lent vs borrowed per practice, who owes whom, invoice downloads.

A thin handler over ``scheduler.reports.ledger``.  Managers and coordinators
see every party; a practice account sees only its own practice: the lines
where it is the host or the employer, its own summary and its own pairs (it
already sees who works at its site on the rota grid, and what it owes or is
owed is its own business; the other practices' balances are not).  The
period comes from ``?from=&to=``, ``?week=`` or ``?month=``; without any it
is the current month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from scheduler.domain import iso_week_label
from scheduler.outputs.downloads import download_name
from scheduler.reports.ledger import (
    HUB_RULE,
    MONEY_RULE,
    RATE_RULE,
    Ledger,
    NothingPublishedError,
    Period,
    PeriodError,
    choose_period,
    load_ledger,
    month_period,
    quick_periods,
)
from scheduler.reports.ledger_tables import DOWNLOADS, balance_text, ledger_bytes, money_text
from scheduler.storage.repository import NetworkLookupError
from scheduler.usecases.accounts import User
from scheduler.views.week import stored_bundle
from web.auth import STAFF_ROLES, network_guard, require
from web.charts import Series, bar_chart
from web.common import not_found, today
from web.db import reading

bp = Blueprint("ledger", __name__)

LEDGER_ROLES = (*STAFF_ROLES, "practice")
PERIOD_FIELDS = ("from", "to", "week", "month")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class WeekRef:
    """The week the navigation links point to: the week the period starts in."""

    label: str


def _own_site(user: User) -> str | None:
    """A practice sees its own site's lines; managers and coordinators every line (None)."""
    if user.role != "practice":
        return None
    if user.site_id is None:
        abort(403)
    return user.site_id


def _asked() -> dict[str, str]:
    """The period fields of the address, as typed."""
    return {key: value for key in PERIOD_FIELDS if (value := request.args.get(key, "").strip())}


def _period(asked: dict[str, str]) -> Period:
    """The period asked for; the current month when nothing is; PeriodError otherwise."""
    if not asked:
        return month_period(f"{today():%Y-%m}")
    return choose_period(
        week=asked.get("week"),
        month=asked.get("month"),
        first=asked.get("from"),
        last=asked.get("to"),
    )


def _load(network_id: int, period: Period | None, site: str | None) -> tuple[str, Ledger | None]:
    """The network's name and the ledger (limited to ``site``); None when nothing is published."""
    with reading() as db:
        try:
            _, bundle = stored_bundle(db, network_id)
            if period is None:
                return bundle.name, None
            found = load_ledger(db, network_id, period)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")
        except NothingPublishedError:
            return bundle.name, None
    return bundle.name, found if site is None else found.only(bundle.organisation_of(site))


def ledger_chart(ledger: Ledger) -> Markup:
    """Hours each party lent and borrowed, two bars per party."""
    summaries = ledger.summaries()
    return bar_chart(
        "Hours lent and borrowed per practice",
        [s.party.party_id for s in summaries],
        [
            Series("Lent", tuple(float(s.lent.hours) for s in summaries)),
            Series("Borrowed", tuple(float(s.borrowed.hours) for s in summaries)),
        ],
        chart_id="ledger-hours",
        unit="h",
        description=(
            "For each practice (and hub or federation with any figure), the hours its staff "
            "worked at other sites (lent) and the hours other employers' staff worked at it "
            f"(borrowed), {ledger.period.dates_text}."
        ),
    )


def _args(period: Period) -> dict[str, Any]:
    """The query fields asking for ``period`` again (typed for url_for's keywords)."""
    return dict(period.args)


def _quick_links(network_id: int) -> list[tuple[str, str, str]]:
    """This week, last week, this month, last month: label, period label and address."""
    return [
        (name, p.label, url_for("ledger.page", network_id=network_id, **_args(p)))
        for name, p in quick_periods(today())
    ]


@bp.get("/n/<int:network_id>/reports/recharges")
@require(*LEDGER_ROLES)
def page(network_id: int) -> str | tuple[str, int]:
    """The period's ledger: chart and table per practice, balances, invoice lines, downloads."""
    user = network_guard(network_id)
    site = _own_site(user)
    asked = _asked()
    try:
        period: Period | None = _period(asked)
        error = None
    except PeriodError as err:
        period, error = None, f"{err.field}: {err.message}."
    name, ledger = _load(network_id, period, site)
    context: dict[str, Any] = {
        "network_id": network_id,
        "network_name": name,
        "period": period,
        "ledger": ledger,
        "site": site,
        "error": error,
        "form": {
            "from": asked.get("from") or (period.first.isoformat() if period else ""),
            "to": asked.get("to") or (period.last.isoformat() if period else ""),
        },
        "quick": _quick_links(network_id),
        "week": WeekRef(iso_week_label(period.first if period else today())),
        "money": money_text,
        "balance_text": balance_text,
        "rules": (HUB_RULE, MONEY_RULE, RATE_RULE),
    }
    if ledger is not None and period is not None:
        context["chart"] = ledger_chart(ledger)
        context["downloads"] = [
            (file, url_for("ledger.download", network_id=network_id, name=file, **_args(period)))
            for file in DOWNLOADS
        ]
    html = render_template("reports/ledger.html", **context)
    return (html, 400) if error else html


@bp.get("/n/<int:network_id>/reports/recharges/<name>")
@require(*LEDGER_ROLES)
def download(network_id: int, name: str) -> Response:
    """One table as CSV, or every table as a workbook: what the command line writes."""
    user = network_guard(network_id)
    site = _own_site(user)
    if name not in DOWNLOADS:
        not_found(f"{name!r} is not a download; the downloads are {', '.join(DOWNLOADS)}.")
    try:
        period = _period(_asked())
    except PeriodError as err:
        abort(400, description=f"{err.field}: {err.message}.")
    network_name, ledger = _load(network_id, period, site)
    if ledger is None:
        not_found(
            f"No rota is published between {period.first} and {period.last}: "
            "there is nothing to recharge. Publish the weeks first; drafts never count."
        )
    kind = name.rsplit(".", 1)[-1]
    response = Response(ledger_bytes(ledger, name), content_type=CONTENT_TYPES[kind])
    span = period.label.replace(" ", "-") + (f"-{site}" if site else "")
    filename = download_name(network_name, span, name)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
