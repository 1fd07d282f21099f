"""The front page and the health check; thin handlers over the storage layer."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from werkzeug.wrappers import Response as Redirect

from scheduler.storage.models.network import ROTA_STATES
from scheduler.storage.repository import list_networks
from scheduler.storage.rotas import list_rotas
from web.auth import ALL_ROLES, require, signed_in
from web.db import migrated, transaction

bp = Blueprint("views", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness probe for the process supervisor: answers without the database."""
    return Response("ok", mimetype="text/plain")


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
        with transaction() as db:
            networks = [
                (network, [r for r in list_rotas(db, network.id) if r.state in shown])
                for network in list_networks(db)
                if user.may_see_network(network.id)
            ]
    return render_template("index.html", networks=networks)
