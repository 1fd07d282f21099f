"""Login sessions live on the server: logging out (here or everywhere) ends them for every
copy of the cookie; and a failure is logged by route, never by an address holding a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from scheduler.storage.clock import now
from scheduler.storage.db import make_engine, reading, session_scope
from scheduler.storage.models.app import AuditRecord, LoginSessionRecord
from scheduler.usecases.feeds import issue_token
from tests.web_support import ACCOUNTS, client_as, csrf_token, login, seeded_app
from web import auth

LEAVE_PAGE = "/n/{}/leave"


@pytest.fixture
def seeded(db_url: str) -> tuple[Flask, int]:
    return seeded_app(db_url)


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def rows(db_url: str, table: type, *where: object) -> int:
    engine = make_engine(db_url)
    try:
        with reading(engine) as db:
            return db.scalar(select(func.count()).select_from(table).where(*where)) or 0
    finally:
        engine.dispose()


def log_out(client: FlaskClient, path: str = "/logout") -> int:
    return client.post(path, data={"csrf_token": csrf_token(client, "/")}).status_code


def test_a_copied_cookie_opens_nothing_once_its_browser_logged_out(
    seeded: tuple[Flask, int], db_url: str
) -> None:
    app, network_id = seeded
    manager = client_as(app, "manager")
    thief = copy_of(app, manager)
    assert thief.get(LEAVE_PAGE.format(network_id)).status_code == 200  # the copy works, until...
    assert log_out(manager) == 302
    assert thief.get(LEAVE_PAGE.format(network_id)).status_code == 302
    audited = rows(db_url, AuditRecord)
    rotate = thief.post(
        f"/n/{network_id}/people/S01/feed", data={"csrf_token": csrf_token(manager, "/login")}
    )
    assert rotate.status_code in (302, 400)
    assert rotate.headers.get("Location", "/login").startswith("/login")
    assert rows(db_url, AuditRecord) == audited  # nothing was done in the manager's name


def test_log_out_everywhere_ends_every_browser_of_the_account_only(
    seeded: tuple[Flask, int], db_url: str
) -> None:
    app, _ = seeded
    laptop, phone = client_as(app, "coordinator"), client_as(app, "coordinator")
    colleague = client_as(app, "manager")
    page = laptop.get("/account").get_data(as_text=True)
    assert page.count("Logged in ") == 2 and page.count("this browser") == 1
    assert ACCOUNTS.coordinator in page

    assert log_out(laptop, "/account/logout-everywhere") == 302
    assert "Logged out everywhere: 2 logins ended." in laptop.get("/login").get_data(as_text=True)
    for browser in (laptop, phone):
        assert browser.get("/").status_code == 302
    assert colleague.get("/").status_code == 200
    engine = make_engine(db_url)
    try:
        with reading(engine) as db:
            entry = db.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    finally:
        engine.dispose()
    assert entry is not None
    assert (entry.actor, entry.action, entry.after) == (
        ACCOUNTS.coordinator,
        "logged out everywhere",
        {"sessions_ended": 2},
    )


def test_a_login_past_its_end_is_refused_by_the_server(
    seeded: tuple[Flask, int], db_url: str
) -> None:
    app, _ = seeded
    client = client_as(app, "clinician")
    assert client.get("/").status_code == 302  # a clinician's front page is their own page
    assert client.get("/account").status_code == 200
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            db.execute(
                update(LoginSessionRecord).values(expires_at=now() - dt.timedelta(minutes=1))
            )
    finally:
        engine.dispose()
    assert client.get("/account").status_code == 302


def test_a_login_stores_only_a_digest_of_the_cookies_key(
    seeded: tuple[Flask, int], db_url: str
) -> None:
    app, _ = seeded
    client = client_as(app, "manager")
    with app.test_request_context():
        from flask.sessions import SecureCookieSessionInterface

        serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        assert serializer is not None
        cookie = client.get_cookie("session")
        assert cookie is not None
        key = serializer.loads(cookie.value)[auth.SESSION_KEY]
    assert rows(db_url, LoginSessionRecord, LoginSessionRecord.digest == key) == 0
    stored = hashlib.sha256(key.encode()).hexdigest()
    assert rows(db_url, LoginSessionRecord, LoginSessionRecord.digest == stored) == 1
    assert rows(db_url, LoginSessionRecord) == 1


def test_pages_opened_together_after_login_carry_the_same_working_form_token(
    seeded: tuple[Flask, int],
) -> None:
    """Two tabs opened at once right after logging in: each page's form must post."""
    app, network_id = seeded
    first = app.test_client()
    login(first, ACCOUNTS.manager)
    second = copy_of(app, first)  # the second tab, with the cookie as it was after login
    token_first = csrf_token(first, "/")
    token_second = csrf_token(second, "/")
    for client, token in ((first, token_second), (second, token_first)):
        answer = client.post(f"/n/{network_id}/people/S01/feed", data={"csrf_token": token})
        assert answer.status_code == 302


def test_a_failure_on_a_feed_address_logs_the_route_never_the_token(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app, network_id = seeded_app(db_url, TESTING=False, SECRET_KEY="a configured secret")
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            token = issue_token(db, network_id, "hub", "", "a configured secret")
    finally:
        engine.dispose()
    browser = app.test_client()
    login(browser, ACCOUNTS.manager)

    def broken(*_: object) -> None:
        raise RuntimeError("the session check failed")

    monkeypatch.setattr(auth, "find_user", broken)  # fails before the feed's own handler runs
    with caplog.at_level(logging.DEBUG):
        answer = browser.get(f"/feeds/{token}.ics", base_url="https://localhost")
    assert answer.status_code == 500
    logged = caplog.text
    assert "Exception on /feeds/<token>.ics [GET]" in logged
    assert token not in logged
