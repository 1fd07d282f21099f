"""A database another process is writing: writes wait their turn, and a wait too long is a
clear "try again" (503 on the web, exit code 4 on the command line), never a 500 or a
traceback.  Reading pages never waits at all.

SQLite's own locking is what is under test, so these use ``sqlite_url`` (the SQLite pass).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from scheduler.cli.common import EXIT_BUSY
from scheduler.cli.main import main
from scheduler.storage import db as storage_db
from scheduler.storage.clock import now
from scheduler.storage.db import BUSY, database_trouble, make_engine, reading, session_scope
from scheduler.storage.models.app import AuditRecord
from scheduler.usecases import accounts
from tests.web_support import ACCOUNTS, PASSWORD, TINY, client_as, post, seeded_app

WEEK = "2026-W49"


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


@contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another process in the middle of a write: it holds SQLite's write lock until the end.

    EXCLUSIVE: without write-ahead logging this would also keep every reader out.
    """
    other = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on the lock after a fifth of a second instead of fifteen."""
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT", 0.2)


def audit_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with reading(engine) as db:
            return len(db.scalars(select(AuditRecord)).all())
    finally:
        engine.dispose()


def test_a_login_overtaken_by_another_commit_still_succeeds(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process writes while the login checks the password.

    The check only reads, so the other write does not wait for it; the login's
    own write then begins with the write lock, on the database as it is now.
    Begun lazily from a stale read, SQLite would fail it at once (the 500s of a
    login during a solve).
    """
    app, _ = seeded_app(sqlite_url)
    client = app.test_client()
    checked = accounts.check_password_hash
    others: list[threading.Thread] = []

    def other_process_writes() -> None:
        engine = make_engine(sqlite_url)
        try:
            with session_scope(engine) as db:
                db.add(AuditRecord(at=now(), actor="other", action="x", subject="y"))
        finally:
            engine.dispose()

    def overtaken(stored: str, password: str) -> bool:
        writer = threading.Thread(target=other_process_writes)
        others.append(writer)
        writer.start()
        writer.join(timeout=10.0)
        assert not writer.is_alive(), "the password check kept another process waiting"
        return checked(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", overtaken)
    answer = post(client, "/login", {"email": ACCOUNTS.manager, "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    for writer in others:
        writer.join(timeout=30)
    assert audit_count(sqlite_url) == 2  # the login's own entry, and the other write after it


def test_pages_read_while_another_process_writes(sqlite_url: str, short_wait: None) -> None:
    app, network_id = seeded_app(sqlite_url)
    client = client_as(app, "manager")
    with write_lock_held(sqlite_url):
        assert client.get("/").status_code == 200
        assert client.get(f"/n/{network_id}/weeks/{WEEK}").status_code == 200
        assert client.get("/healthz").status_code == 200


def test_a_write_that_cannot_get_the_lock_is_a_503_asking_to_try_again(
    sqlite_url: str, short_wait: None
) -> None:
    app, network_id = seeded_app(sqlite_url)
    client = client_as(app, "manager")
    before = audit_count(sqlite_url)
    with write_lock_held(sqlite_url):
        answer = post(client, f"/n/{network_id}/people/S01/feed")
        refused_login = post(
            app.test_client(), "/login", {"email": ACCOUNTS.coordinator, "password": PASSWORD}
        )
    for refused in (answer, refused_login):
        assert refused.status_code == 503
        assert refused.headers["Retry-After"].isdigit()
        page = refused.get_data(as_text=True)
        assert "The database is busy" in page and "try again" in page
        assert "Traceback" not in page and "sqlite" not in page.lower()
    assert audit_count(sqlite_url) == before  # nothing half-done
    assert post(client, f"/n/{network_id}/people/S01/feed").status_code == 302  # lock gone


@pytest.mark.parametrize(
    "words",
    [
        ["publish", "--week", WEEK],
        ["import", str(TINY)],
        ["absence", "add", "S01", "--from", "2026-12-01", "--kind", "annual"],
    ],
)
def test_a_command_on_a_busy_database_exits_4_with_one_line(
    sqlite_url: str, short_wait: None, words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(TINY), "--database", sqlite_url]) == 0
    capsys.readouterr()
    with write_lock_held(sqlite_url):
        code = main([*words, "--database", sqlite_url])
    err = capsys.readouterr().err
    assert code == EXIT_BUSY
    assert err == f"error: {BUSY}\n"


def test_only_a_busy_or_unreachable_database_means_try_again(tmp_path: Path) -> None:
    """A missing table is a fault to report, not a reason to try again."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        with pytest.raises(OperationalError) as missing, session_scope(engine) as db:
            db.execute(text("SELECT * FROM no_such_table"))
    finally:
        engine.dispose()
    assert database_trouble(missing.value) is None
    assert database_trouble(ValueError("database is locked")) is None

    unreachable = make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.sqlite'}")
    try:
        with pytest.raises(OperationalError) as cannot_open, unreachable.connect():
            pass
    finally:
        unreachable.dispose()
    assert database_trouble(cannot_open.value) == storage_db.UNREACHABLE


def locked_error() -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))


def failing(error: Exception) -> Callable[..., object]:
    def fail(*_: object, **__: object) -> object:
        raise error

    return fail


def test_the_busy_answer_is_a_page_for_people_and_plain_text_for_calendars(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web import feeds

    app, _ = seeded_app(sqlite_url)
    monkeypatch.setattr(feeds, "find_feed", failing(locked_error()))
    answer = app.test_client().get("/feeds/" + "a" * 40 + ".ics")
    assert answer.status_code == 503
    assert answer.mimetype == "text/plain"
    assert answer.headers["Retry-After"].isdigit()


def test_sqlite_files_are_written_ahead_so_readers_never_wait(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


class PgError(Exception):
    """What psycopg raises: an error carrying its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("55P03", storage_db.BUSY),  # lock not available
        ("40P01", storage_db.BUSY),  # deadlock
        ("08006", storage_db.UNREACHABLE),  # connection failure
        ("57P01", storage_db.UNREACHABLE),  # the server is shutting down
        ("42P01", None),  # undefined table: a fault, not "try again"
        ("22001", None),  # value too long
    ],
)
def test_postgresql_errors_are_told_apart_by_their_state(state: str, expected: str | None) -> None:
    error = OperationalError("SELECT 1", {}, PgError("server said no", state))
    assert database_trouble(error) == expected


@pytest.mark.parametrize(
    "referrer", ["http://localhost//evil.example/path", "http://localhost///evil.example"]
)
def test_the_busy_pages_back_link_never_leaves_the_site(sqlite_url: str, referrer: str) -> None:
    app, _ = seeded_app(sqlite_url)
    with app.test_request_context("/", headers={"Referer": referrer}):
        from web.errors import same_site_referrer

        back = same_site_referrer()
    assert back is not None and back.startswith("/") and not back.startswith("//")
