"""The front page and the health check; thin handlers over the storage layer."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, redirect, render_template, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as Redirect

from scheduler.jobs.queue import queue_reachable
from scheduler.storage.models.network import ROTA_STATES
from scheduler.storage.repository import list_networks
from scheduler.storage.rotas import list_rotas
from web.auth import ALL_ROLES, require, signed_in
from web.common import queue
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


@bp.get("/")
@require(*ALL_ROLES)
def index() -> str | Redirect:
    """Each account's starting point: the networks and their weeks, or one's own page."""
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
    return render_template("index.html", networks=networks)
