"""The web skeleton: health check, the network list, and refusing an unsafe configuration."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.repository import save_bundle
from scheduler.storage.rotas import save_rota
from scheduler.usecases.accounts import add_user
from tests.test_storage import make_assignments, make_bundle
from tests.web_support import PASSWORD, client_as, disposed_after_test, login, seeded_app
from web import ConfigurationError, create_app
from web import db as web_db


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret or database from the developer's shell; a private instance folder."""
    for name in ("ROTAPOOL_SECRET_KEY", "ROTAPOOL_DATABASE_URL", "DATABASE_URL", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROTAPOOL_INSTANCE", str(tmp_path / "instance"))


def make_app(db_url: str, **overrides: Any) -> Flask:
    """A testing app on ``db_url``; tests override what matters."""
    return disposed_after_test(create_app({"TESTING": True, "DATABASE_URL": db_url, **overrides}))


@pytest.fixture
def client(db_url: str) -> Iterator[FlaskClient]:
    """A test client of an app on the test database."""
    yield make_app(db_url).test_client()


def test_healthz_answers_ok_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\ndatabase: ok\nqueue: in this process\n"


def test_healthz_is_503_when_the_database_cannot_be_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database " * 400)
    response = make_app(f"sqlite:///{broken}").test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True).splitlines()[:2] == [
        "unavailable",
        "database: unavailable",
    ]


def test_healthz_is_503_when_a_database_was_never_migrated(tmp_path: Path) -> None:
    response = make_app(f"sqlite:///{tmp_path / 'empty.sqlite'}").test_client().get("/healthz")
    assert response.status_code == 503


def test_healthz_is_503_when_the_configured_queue_does_not_answer(db_url: str) -> None:
    app = make_app(db_url, BROKER_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "database: ok\nqueue: unavailable\n" in response.get_data(as_text=True)


def test_healthz_answers_ok_with_a_queue_that_answers(db_url: str) -> None:
    broker = os.environ.get("ROTAPOOL_TEST_BROKER_URL")
    if not broker:
        pytest.skip("ROTAPOOL_TEST_BROKER_URL is not set (.ci/run sets it)")
    response = make_app(db_url, BROKER_URL=broker).test_client().get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (
        200,
        "ok\ndatabase: ok\nqueue: ok\n",
    )


def test_index_sends_a_stranger_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_index_lists_networks_and_their_rotas(db_url: str) -> None:
    app, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            other = save_bundle(session, make_bundle("Riverside <PCN>"))
            for owner in (network_id, other):
                save_rota(
                    session,
                    owner,
                    "2026-W49",
                    make_assignments(),
                    state="published",
                    status="OPTIMAL",
                    objective=1.0,
                    bound=1.0,
                    gap=0.0,
                    seconds=0.1,
                    summary={},
                )
            add_user(session, "root@tiny.test", PASSWORD, "manager")  # every network
    finally:
        engine.dispose()
    page = client_as(app, "manager").get("/").get_data(as_text=True)
    assert "Tiny Test Network" in page
    assert "2026-W49" in page
    assert "published" in page
    assert "Riverside" not in page  # another network's manager would see it; this one must not
    admin = app.test_client()
    login(admin, "root@tiny.test")
    page = admin.get("/").get_data(as_text=True)
    assert "Riverside &lt;PCN&gt;" in page
    assert "<PCN>" not in page


def test_production_without_a_secret_refuses_to_start(db_url: str) -> None:
    with pytest.raises(ConfigurationError, match="ROTAPOOL_SECRET_KEY"):
        make_app(db_url, TESTING=False)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"BROKER_URL": "amqp://127.0.0.1"}, "BROKER_URL: give a Redis URL"),
        ({"BROKER_URL": "redis://q", "VISIBILITY_TIMEOUT": 40}, "VISIBILITY_TIMEOUT: give more"),
        ({"VISIBILITY_TIMEOUT": "soon"}, "VISIBILITY_TIMEOUT: give a number of seconds"),
        ({"JOB_STALE_AFTER": 2}, "JOB_STALE_AFTER: give at least 6 seconds"),
    ],
)
def test_queue_settings_that_cannot_work_refuse_to_start_naming_the_setting(
    db_url: str, settings: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        make_app(db_url, **settings)


def test_production_takes_the_secret_from_the_environment(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTAPOOL_SECRET_KEY", "from-the-environment")
    app = make_app(db_url, TESTING=False)
    assert app.secret_key == "from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_instance_config_file_is_read(db_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('SECRET_KEY = "from-the-instance"\n')
    app = make_app(db_url, TESTING=False)
    assert app.secret_key == "from-the-instance"


def test_testing_gets_a_random_secret_and_plain_cookies(db_url: str) -> None:
    app = make_app(db_url)
    assert isinstance(app.secret_key, str)
    assert len(app.secret_key) >= 32
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_default_database_is_in_the_instance_folder(tmp_path: Path) -> None:
    app = create_app({"TESTING": True})
    expected = tmp_path / "instance" / "rotapool.sqlite"
    assert app.config["DATABASE_URL"] == f"sqlite:///{expected}"
    assert not expected.exists()  # creating the app opens no database


def test_a_practice_sees_published_weeks_only(db_url: str) -> None:
    app, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            for week, state in (("2026-W49", "published"), ("2026-W50", "draft")):
                save_rota(
                    session,
                    network_id,
                    week,
                    [],
                    state=state,
                    status="OPTIMAL",
                    objective=1.0,
                    bound=1.0,
                    gap=0.0,
                    seconds=0.1,
                    summary={},
                )
    finally:
        engine.dispose()
    page = client_as(app, "practice").get("/").get_data(as_text=True)
    assert "2026-W49" in page
    assert "2026-W50" not in page and "draft" not in page  # not even that a draft exists
    assert "2026-W50" in client_as(app, "coordinator").get("/").get_data(as_text=True)


def test_concurrent_first_requests_make_one_engine(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads asking at once get the same engine; a second one would never be disposed."""
    app = make_app(db_url)
    made: list[Engine] = []
    inside, other_made = threading.Event(), threading.Event()

    def slow_make_engine(url: str, **options: int) -> Engine:
        made.append(make_engine(url, **options))
        if len(made) == 1:
            inside.set()
            other_made.wait(timeout=1)  # only a second engine cuts the wait short
        else:
            other_made.set()
        return made[-1]

    monkeypatch.setattr(web_db, "make_engine", slow_make_engine)
    got: list[Engine] = []

    def ask() -> None:
        with app.app_context():
            got.append(web_db.engine())

    first = threading.Thread(target=ask)
    first.start()
    assert inside.wait(timeout=10)
    second = threading.Thread(target=ask)
    second.start()
    first.join()
    second.join()
    try:
        assert len(made) == 1
        assert got == [made[0], made[0]]
    finally:
        for engine in made:
            engine.dispose()
