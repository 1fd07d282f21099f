"""The web-facing commands: `rotapool users add`, `rotapool publish` and the demo account."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from scheduler.cli.main import main
from scheduler.cli.web import DEMO_MANAGER, demo_account
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import AuditRecord, UserRecord
from scheduler.usecases.accounts import authenticate
from tests.web_support import PASSWORD, TINY


def users_add(db_url: str, monkeypatch: pytest.MonkeyPatch, *args: str, password: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["users", "add", *args, "--password-stdin", "--database", db_url])


def test_a_manager_for_every_network_before_any_import(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert users_add(db_url, monkeypatch, "boss@x.org", "--role", "manager", password=PASSWORD) == 0
    assert "every network" in capsys.readouterr().out
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            assert authenticate(db, "boss@x.org", PASSWORD) is not None
            entry = db.scalar(select(AuditRecord))
            assert entry is not None
            assert entry.action == "user added"
            assert PASSWORD not in str(entry.after)
    finally:
        engine.dispose()


def test_a_clinician_belongs_to_a_person_of_the_network(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["import", str(TINY), "--database", db_url]) == 0
    code = users_add(
        db_url,
        monkeypatch,
        "grace@x.org",
        "--role",
        "clinician",
        "--staff-id",
        "S01",
        password=PASSWORD,
    )
    assert code == 0
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            record = db.scalar(select(UserRecord))
            assert record is not None
            assert (record.role, record.staff_id, record.network_id) == ("clinician", "S01", 1)
    finally:
        engine.dispose()


def test_an_unknown_person_is_refused_naming_the_option(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(TINY), "--database", db_url]) == 0
    code = users_add(
        db_url,
        monkeypatch,
        "x@x.org",
        "--role",
        "clinician",
        "--staff-id",
        "S99",
        password=PASSWORD,
    )
    assert code == 2
    assert "--staff-id: 'S99' is not in the network's staff.csv" in capsys.readouterr().err


def test_a_short_password_is_refused(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert users_add(db_url, monkeypatch, "a@x.org", "--role", "manager", password="short") == 2
    assert "--password: use at least 12 characters" in capsys.readouterr().err


def test_without_password_stdin_nothing_is_asked_on_a_terminal(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "add", "a@x.org", "--role", "manager", "--database", db_url]) == 2
    assert "--password-stdin" in capsys.readouterr().err


def test_the_demo_account_gets_a_new_password_each_run(db_url: str) -> None:
    main(["import", str(TINY), "--database", db_url])
    first = demo_account(db_url)
    second = demo_account(db_url)
    assert first != second
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            assert authenticate(db, DEMO_MANAGER, first) is None
            assert authenticate(db, DEMO_MANAGER, second) is not None
    finally:
        engine.dispose()


def test_publish_turns_the_draft_into_version_one_then_refuses_without_a_draft(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--database", db_url]
    assert main(["import", str(TINY), *base]) == 0
    solve = ["solve", "--week", "2026-W49", "--time-limit", "10", "--workers", "1", *base]
    assert main(solve) == 0
    capsys.readouterr()
    assert main(["publish", "--week", "2026-w49", *base]) == 0
    assert "Published 2026-W49 as version 1" in capsys.readouterr().out
    assert main(["publish", "--week", "2026-W49", *base]) == 1
    assert "draft" in capsys.readouterr().err
    assert main(solve) == 0
    assert main(["publish", "--week", "2026-W49", *base]) == 0
    assert "as version 2" in capsys.readouterr().out
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            actions = [e.action for e in db.scalars(select(AuditRecord))]
            assert actions.count("rota published") == 2, actions
    finally:
        engine.dispose()


def test_the_web_app_is_found_through_its_entry_point() -> None:
    from scheduler.cli import web as cli_web
    from web import create_app

    assert cli_web.web_app_factory() is create_app


def test_a_checkout_that_is_not_installed_finds_the_web_app_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scheduler.cli import web as cli_web
    from web import create_app

    monkeypatch.setattr(cli_web, "entry_points", lambda **_: ())
    assert cli_web.web_app_factory() is create_app
