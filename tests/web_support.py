"""Shared set-up for the web tests: a migrated database with the tiny network and one
account per role, and helpers to log in and post forms with their CSRF token.

CSRF protection stays on in every web test: a test posts the token the page
itself carries (``<meta name="csrf-token">``), as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from scheduler.domain import Assignment
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.events import current_bundle
from scheduler.storage.rotas import save_rota
from scheduler.usecases.accounts import add_user
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.planning import plan_week
from scheduler.usecases.publishing import publish_week
from solver import SolveOptions
from web import create_app
from web.db import dispose

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "sample_data" / "tiny"
PASSWORD = "a long enough password"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@dataclass(frozen=True)
class Accounts:
    """The e-mail of one account per role in the tiny network."""

    manager: str = "manager@tiny.test"
    coordinator: str = "coordinator@tiny.test"
    practice: str = "practice@tiny.test"  # site P01
    clinician: str = "clinician@tiny.test"  # staff S01
    other_clinician: str = "other@tiny.test"  # staff S02

    def of(self, role: str) -> str:
        return str(getattr(self, role))


ACCOUNTS = Accounts()
PRACTICE_SITE = "P01"
CLINICIAN_STAFF = "S01"


def seeded_app(db_url: str, **config: Any) -> tuple[Flask, int]:
    """An app on ``db_url`` holding the tiny network and the accounts; and the network id."""
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, TINY)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            add_user(db, ACCOUNTS.manager, PASSWORD, "manager", network_id=network_id)
            add_user(db, ACCOUNTS.coordinator, PASSWORD, "coordinator", network_id=network_id)
            add_user(
                db,
                ACCOUNTS.practice,
                PASSWORD,
                "practice",
                network_id=network_id,
                site_id=PRACTICE_SITE,
            )
            add_user(
                db,
                ACCOUNTS.clinician,
                PASSWORD,
                "clinician",
                network_id=network_id,
                staff_id=CLINICIAN_STAFF,
            )
            add_user(
                db,
                ACCOUNTS.other_clinician,
                PASSWORD,
                "clinician",
                network_id=network_id,
                staff_id="S02",
            )
    finally:
        engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, **config})
    return disposed_after_test(app), network_id


_APPS: list[Flask] = []  # disposed after each test (conftest), so no pooled connection lingers


def disposed_after_test(app: Flask) -> Flask:
    """``app``, whose connections are closed after the test (``dispose_apps``)."""
    _APPS.append(app)
    return app


def dispose_apps() -> None:
    """Close the connections of every app ``seeded_app`` made."""
    while _APPS:
        dispose(_APPS.pop())


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """The CSRF token a page of the app hands the browser."""
    html = client.get(page).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"{page} carries no CSRF token"
    return match.group(1)


def post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> TestResponse:
    """POST a form with a valid CSRF token, as the page's own form would."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Log in through the real form; asserts it worked."""
    response = post(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def client_as(app: Flask, role: str) -> FlaskClient:
    """A test client logged in with the tiny network's account of ``role``."""
    client = app.test_client()
    login(client, ACCOUNTS.of(role))
    return client


def publish_planned_week(db_url: str, network_id: int, week: str) -> frozenset[Assignment]:
    """Plan the network's week (tiny: seconds), publish it as version 1; its assignments."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            bundle = current_bundle(db, network_id)
        outcome = plan_week(bundle, week, SolveOptions(time_limit=5, workers=2))
        result = outcome.result
        with session_scope(engine) as db:
            save_rota(
                db,
                network_id,
                week,
                outcome.assignments,
                status=result.status.value,
                objective=result.objective,
                bound=result.bound,
                gap=result.gap,
                seconds=result.seconds,
                summary=outcome.summary(),
            )
            publish_week(db, network_id, week, "test")
    finally:
        engine.dispose()
    return frozenset(outcome.assignments)


def save_week(
    db: Session,
    network_id: int,
    week: str,
    assignments: Iterable[Assignment],
    *,
    state: str = "draft",
) -> int:
    """Store a hand-made rota of a week (no solve behind it, so no solve figures); its id."""
    return save_rota(
        db,
        network_id,
        week,
        assignments,
        state=state,
        status="edited",
        objective=None,
        bound=None,
        gap=None,
        seconds=None,
        summary={},
    )
