"""Pages for network managers; thin handlers over the storage layer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.repository import list_networks, list_rotas

bp = Blueprint("views", __name__)


@contextmanager
def read_session() -> Iterator[Session | None]:
    """A session on the app's database, or None while no migration has run yet.

    The engine lives for one request: the web skeleton serves few requests,
    and nothing then holds the database between them.
    """
    engine = make_engine(current_app.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            migrated = inspect(connection).has_table("networks")
        if not migrated:
            yield None
            return
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness probe for the process supervisor: answers without the database."""
    return Response("ok", mimetype="text/plain")


@bp.get("/")
def index() -> str:
    """Every network with the weeks it has rotas for."""
    with read_session() as session:
        if session is None:
            networks = []
        else:
            networks = [
                (network, list_rotas(session, network.id)) for network in list_networks(session)
            ]
    return render_template("index.html", networks=networks)
