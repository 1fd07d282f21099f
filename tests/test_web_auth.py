"""Accounts and logging in: hashed passwords, the throttle, CSRF, safe redirects, headers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from werkzeug.security import check_password_hash

from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import LoginFailureRecord, UserRecord
from scheduler.storage.repository import network_id_of, save_bundle
from scheduler.usecases.accounts import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    AccountError,
    LoginThrottledError,
    add_user,
    authenticate,
    set_password,
)
from tests.test_storage import make_bundle
from tests.web_support import ACCOUNTS, PASSWORD, csrf_token, login, post, seeded_app
from web.auth import require


@pytest.fixture(autouse=True)
def private_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ROTAPOOL_SECRET_KEY", "ROTAPOOL_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROTAPOOL_INSTANCE", str(tmp_path / "instance"))


@pytest.fixture
def app(db_url: str) -> Flask:
    return seeded_app(db_url)[0]


# --- accounts -------------------------------------------------------------------


def test_password_is_stored_only_as_a_hash(engine: Engine) -> None:
    with session_scope(engine) as db:
        add_user(db, "Someone@Example.org ", PASSWORD, "manager")
        record = db.scalar(select(UserRecord))
        assert record is not None
        assert record.email == "someone@example.org"
        assert PASSWORD not in record.password_hash
        assert check_password_hash(record.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "role", "scope", "field"),
    [
        ("not-an-email", PASSWORD, "manager", {}, "email"),
        ("a" * 200 + "@b.org", PASSWORD, "manager", {}, "email"),  # longer than the column
        ("a@b.org", "short", "manager", {}, "password"),
        ("a@b.org", PASSWORD, "boss", {}, "role"),
        ("a@b.org", PASSWORD, "coordinator", {}, "network"),
        ("a@b.org", PASSWORD, "clinician", {"with_network": True}, "staff_id"),
        ("a@b.org", PASSWORD, "clinician", {"with_network": True, "staff_id": "NOPE"}, "staff_id"),
        ("a@b.org", PASSWORD, "practice", {"with_network": True}, "site_id"),
        ("a@b.org", PASSWORD, "practice", {"with_network": True, "site_id": "NOPE"}, "site_id"),
    ],
)
def test_an_account_that_cannot_work_is_refused_naming_the_field(
    engine: Engine, email: str, password: str, role: str, scope: dict[str, object], field: str
) -> None:
    with session_scope(engine) as db:
        network_id = save_bundle(db, make_bundle()) if scope.get("with_network") else None
        with pytest.raises(AccountError) as caught:
            add_user(
                db,
                email,
                password,
                role,
                network_id=network_id,
                staff_id=scope.get("staff_id"),  # type: ignore[arg-type]
                site_id=scope.get("site_id"),  # type: ignore[arg-type]
            )
        assert caught.value.field == field


def test_an_account_with_a_known_person_and_site_is_accepted(engine: Engine) -> None:
    with session_scope(engine) as db:
        save_bundle(db, make_bundle())
        network_id = network_id_of(db)
        bundle_staff = make_bundle().staff[0]
        user = add_user(
            db,
            "c@b.org",
            PASSWORD,
            "clinician",
            network_id=network_id,
            staff_id=bundle_staff.staff_id,
        )
        assert user.staff_id == bundle_staff.staff_id


def test_the_same_email_twice_is_refused(engine: Engine) -> None:
    with session_scope(engine) as db:
        add_user(db, "a@b.org", PASSWORD, "manager")
        with pytest.raises(AccountError, match="already exists"):
            add_user(db, "A@B.org", PASSWORD, "manager")


def test_failed_logins_lock_the_email_for_the_window(engine: Engine) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    with session_scope(engine) as db:
        add_user(db, "a@b.org", PASSWORD, "manager")
        for minute in range(MAX_FAILURES):
            assert (
                authenticate(db, "a@b.org", "wrong", start + dt.timedelta(minutes=minute)) is None
            )
        with pytest.raises(LoginThrottledError):
            authenticate(db, "a@b.org", PASSWORD, start + dt.timedelta(minutes=MAX_FAILURES))
        later = start + FAILURE_WINDOW + dt.timedelta(minutes=MAX_FAILURES)
        assert authenticate(db, "a@b.org", PASSWORD, later) is not None


def test_unknown_emails_are_throttled_too(engine: Engine) -> None:
    """The throttle must not tell an attacker which addresses have accounts."""
    with session_scope(engine) as db:
        for _ in range(MAX_FAILURES):
            assert authenticate(db, "nobody@b.org", "guess") is None
        with pytest.raises(LoginThrottledError):
            authenticate(db, "nobody@b.org", "guess")


def test_an_overlong_email_fails_without_storing_it(engine: Engine) -> None:
    """No account has it, and the failures table could not hold it (PostgreSQL would fail)."""
    with session_scope(engine) as db:
        assert authenticate(db, "a" * 5000 + "@b.org", "guess") is None
        assert db.scalar(select(func.count()).select_from(LoginFailureRecord)) == 0


def test_success_clears_earlier_failures(engine: Engine) -> None:
    with session_scope(engine) as db:
        add_user(db, "a@b.org", PASSWORD, "manager")
        for _ in range(MAX_FAILURES - 1):
            authenticate(db, "a@b.org", "wrong")
        assert authenticate(db, "a@b.org", PASSWORD) is not None
        for _ in range(MAX_FAILURES - 1):
            authenticate(db, "a@b.org", "wrong")
        assert authenticate(db, "a@b.org", PASSWORD) is not None


# --- logging in over HTTP ------------------------------------------------------


def test_login_then_the_front_page(app: Flask) -> None:
    client = app.test_client()
    response = login(client, ACCOUNTS.coordinator)
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Tiny Test Network" in page
    assert ACCOUNTS.coordinator in page


def test_a_wrong_password_says_so_without_saying_which_part(app: Flask) -> None:
    client = app.test_client()
    wrong = post(client, "/login", {"email": ACCOUNTS.manager, "password": "not it at all"})
    unknown = post(client, "/login", {"email": "ghost@tiny.test", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "do not match an account" in response.get_data(as_text=True)


def test_the_sixth_try_is_refused_even_with_the_right_password(app: Flask) -> None:
    client = app.test_client()
    for _ in range(MAX_FAILURES):
        post(client, "/login", {"email": ACCOUNTS.manager, "password": "wrong password"})
    response = post(client, "/login", {"email": ACCOUNTS.manager, "password": PASSWORD})
    assert response.status_code == 429
    assert "try again in 15 minutes" in response.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_rejected(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"email": ACCOUNTS.manager, "password": PASSWORD})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    forged = client.post(
        "/login",
        data={"email": ACCOUNTS.manager, "password": PASSWORD, "csrf_token": "forged"},
    )
    assert forged.status_code == 400


def test_login_redirects_only_within_the_site(app: Flask) -> None:
    for target, expected in (
        ("/admin/users", "/admin/users"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
    ):
        client = app.test_client()
        response = post(
            client,
            "/login",
            {"email": ACCOUNTS.manager, "password": PASSWORD, "next": target},
        )
        assert response.headers["Location"] == expected


def test_logout_needs_a_post_and_ends_the_session(app: Flask) -> None:
    client = app.test_client()
    login(client, ACCOUNTS.manager)
    assert client.get("/logout").status_code == 405
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_deactivated_account_is_logged_out(app: Flask, db_url: str) -> None:
    client = app.test_client()
    login(client, ACCOUNTS.manager)
    from scheduler.storage.db import make_engine

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            record = db.scalar(select(UserRecord).where(UserRecord.email == ACCOUNTS.manager))
            assert record is not None
            record.active = False
    finally:
        engine.dispose()
    assert client.get("/").status_code == 302


def test_every_page_carries_the_security_headers(app: Flask) -> None:
    response = app.test_client().get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_cookies_are_secure(db_url: str) -> None:
    app, _ = seeded_app(db_url, TESTING=False, SECRET_KEY="a configured secret")
    client = app.test_client()
    response = login(client, ACCOUNTS.manager)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_require_refuses_a_role_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        require("admin")


def test_changing_the_password_ends_sessions_opened_with_the_old_one(
    app: Flask, db_url: str
) -> None:
    client = app.test_client()
    login(client, ACCOUNTS.manager)
    assert client.get("/").status_code == 200
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            set_password(db, ACCOUNTS.manager, "a brand new long password")
    finally:
        engine.dispose()
    assert client.get("/").status_code == 302
    login(client, ACCOUNTS.manager, "a brand new long password")
    assert client.get("/").status_code == 200
