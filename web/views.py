"""The front page and the health check; thin handlers over the storage layer."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as Redirect

from scheduler.checks.validator import CoverageLine
from scheduler.jobs.queue import queue_reachable
from scheduler.storage.clock import now
from scheduler.storage.models.network import ROTA_STATES
from scheduler.storage.repository import list_networks
from scheduler.storage.rotas import list_rotas
from scheduler.views.home import WeekStep, inbox, waiting_total, weeks_ahead
from scheduler.views.week import load_week, week_coverage
from web.auth import ALL_ROLES, STAFF_ROLES, require, signed_in
from web.common import queue, today
from web.db import migrated, reading

bp = Blueprint("views", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    """For the load balancer and the supervisor: 200 when this process can do its work.

    It reads the database (the migrations' table, so a database never
    migrated fails too) and, when ``BROKER_URL`` names one, connects to the
    queue.  503 names the part that failed, and nothing more: the address is public.
    """
    settings = queue()
    parts = {"database": _database_answers(), "queue": queue_reachable(settings)}
    healthy = all(parts.values())
    lines = ["ok" if healthy else "unavailable"]
    lines += [f"{part}: {'ok' if up else 'unavailable'}" for part, up in parts.items()]
    if settings.broker_url is None:
        lines[-1] = "queue: in this process"
    response = Response("\n".join(lines) + "\n", status=200 if healthy else 503)
    response.mimetype = "text/plain"
    return response


def _database_answers() -> bool:
    try:
        with reading() as db:
            db.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError as err:
        log.warning("health check: the database did not answer (%s)", type(err).__name__)
        return False
    return True


@bp.app_context_processor
def waiting() -> dict[str, Any]:
    """``waiting()`` for the navigation: how many things wait for this manager or coordinator."""

    def count() -> int:
        user = g.get("user")
        if user is None or user.role not in STAFF_ROLES or not migrated():
            return 0
        with reading() as db:
            return waiting_total(db, user.network_id, now())

    return {"waiting": count}


def _practice_short(network_id: int, site_id: str) -> list[tuple[str, list[CoverageLine]]]:
    """A practice's sessions short of a minimum in the published weeks ahead."""
    found = []
    for step in _steps(network_id):
        if step.published is None:
            continue
        with reading() as db:
            week = load_week(db, network_id, step.week, "published")
        lines = [c for c in week_coverage(week) if c.site_id == site_id and c.shortfall]
        found.append((step.week, lines))
    return found


def _steps(network_id: int) -> list[WeekStep]:
    with reading() as db:
        return weeks_ahead(db, network_id, today())


@bp.get("/")
@require(*ALL_ROLES)
def index() -> str | Redirect:
    """Each account's starting point: the weeks ahead and what waits, or one's own page."""
    user = signed_in()
    if user.role == "clinician" and user.network_id is not None and user.staff_id:
        return redirect(
            url_for("people.person", network_id=user.network_id, staff_id=user.staff_id)
        )
    # A practice sees published rotas only: drafts (even that one exists) stay with the staff.
    shown = ("published",) if user.role == "practice" else ROTA_STATES
    networks = []
    if migrated():
        with reading() as db:
            networks = [
                (network, [r for r in list_rotas(db, network.id) if r.state in shown])
                for network in list_networks(db)
                if user.may_see_network(network.id)
            ]
    ahead: dict[int, object] = {}
    for network, _ in networks:
        if user.role in STAFF_ROLES:
            with reading() as db:
                box = inbox(db, network.id, now())
            ahead[network.id] = (_steps(network.id), box)
        elif user.role == "practice" and user.site_id:
            ahead[network.id] = _practice_short(network.id, user.site_id)
    return render_template("index.html", networks=networks, ahead=ahead)
