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
    """Another process in the middle of a write: it holds SQLite's write lock until the end."""
    other = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
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
    """Another process writes between the login's reading and its writing.

    Begun lazily, the login's transaction would find its snapshot stale when
    it came to write and SQLite would fail it at once (the 500s of a login
    during a solve).  Begun with the write lock, the login goes first and
    the other write waits for it.
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
        writer.join(timeout=1.0)  # time enough to commit, had the login not held the lock
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
