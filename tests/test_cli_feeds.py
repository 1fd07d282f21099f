"""`rotapool feeds url|rotate|revoke STAFF_ID`: a clinician's calendar link from the shell.

The secret key and the public host come from the same layers as the web
app's (the instance folder's config.py, then ROTAPOOL_* variables), so each
test points ROTAPOOL_INSTANCE at its own folder and sets what it needs.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.cli.main import main
from scheduler.config import DEFAULT_HOST
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.feeds import FeedSubject
from scheduler.storage.models.app import AuditRecord
from scheduler.usecases.feeds import find_feed
from tests.web_support import TINY

SECRET = "a cli test secret key"
HOST = "rota.example.test"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder of the test's own, the secret key and host set in the environment."""
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("ROTAPOOL_INSTANCE", str(instance))
    monkeypatch.setenv("ROTAPOOL_SECRET_KEY", SECRET)
    monkeypatch.setenv("ROTAPOOL_PUBLIC_HOST", HOST)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return instance


@pytest.fixture
def network(db_url: str, settings: Path) -> str:
    """The tiny network imported; the database URL."""
    assert main(["import", str(TINY), "--database", db_url]) == 0
    return db_url


def feeds_cli(db_url: str, *args: str) -> int:
    return main(["feeds", *args, "--database", db_url])


def links(out: str, host: str = HOST) -> tuple[str, str]:
    """The https:// and webcal:// lines printed, which must name the same token."""
    https = [line.strip() for line in out.splitlines() if line.strip().startswith("https://")]
    webcal = [line.strip() for line in out.splitlines() if line.strip().startswith("webcal://")]
    assert len(https) == len(webcal) == 1, out
    assert webcal[0] == "webcal://" + https[0].removeprefix("https://")
    assert https[0].startswith(f"https://{host}/feeds/")
    assert https[0].endswith(".ics")
    return https[0], webcal[0]


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


def opens(db_url: str, token: str, secret: str = SECRET) -> FeedSubject | None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return find_feed(session, token, secret)
    finally:
        engine.dispose()


def audit_rows(db_url: str) -> list[AuditRecord]:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
            session.expunge_all()
            return list(rows)
    finally:
        engine.dispose()


def feed_audit(db_url: str) -> list[tuple[str, str, str]]:
    return [
        (row.actor, row.action, row.subject)
        for row in audit_rows(db_url)
        if row.action.startswith("feed link")
    ]


ME = f"cli:{getpass.getuser()}"


def test_url_issues_a_link_the_first_time_and_says_so(
    network: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert feeds_cli(network, "url", "S01") == 0
    out = capsys.readouterr().out
    assert "S01 had no working calendar link: issued a new one." in out
    https, _ = links(out)
    assert opens(network, token_of(https)) == FeedSubject(1, "staff", "S01")
    assert feed_audit(network) == [(ME, "feed link issued", "calendar feed of staff S01")]


def test_url_shows_the_same_link_again(network: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert feeds_cli(network, "url", "S01") == 0
    first = links(capsys.readouterr().out)
    assert feeds_cli(network, "url", "S01") == 0
    out = capsys.readouterr().out
    assert "issued" not in out
    assert links(out) == first
    assert len(feed_audit(network)) == 1  # showing a link changes nothing


def test_rotate_replaces_the_link(network: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert feeds_cli(network, "url", "S01") == 0
    old = token_of(links(capsys.readouterr().out)[0])
    assert feeds_cli(network, "rotate", "S01") == 0
    out = capsys.readouterr().out
    assert "the old link no longer works" in out
    new = token_of(links(out)[0])
    assert new != old
    assert opens(network, old) is None
    assert opens(network, new) == FeedSubject(1, "staff", "S01")
    assert feed_audit(network)[-1] == (ME, "feed link rotated", "calendar feed of staff S01")


def test_revoke_disables_the_link(network: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert feeds_cli(network, "url", "S02") == 0
    token = token_of(links(capsys.readouterr().out)[0])
    assert feeds_cli(network, "revoke", "S02") == 0
    assert "Revoked the calendar link of S02." in capsys.readouterr().out
    assert opens(network, token) is None
    assert feeds_cli(network, "revoke", "S02") == 0
    assert "had no active calendar link; nothing changed" in capsys.readouterr().out
    actions = [action for _actor, action, _subject in feed_audit(network)]
    assert actions == ["feed link issued", "feed link revoked"]


def test_the_audit_log_never_holds_the_token(
    network: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert feeds_cli(network, "url", "S01") == 0
    assert feeds_cli(network, "rotate", "S01") == 0
    assert feeds_cli(network, "revoke", "S01") == 0
    tokens = [token_of(line) for line in capsys.readouterr().out.split() if "://" in line]
    assert len(tokens) == 4
    logged = repr([(r.actor, r.action, r.subject, r.before, r.after) for r in audit_rows(network)])
    assert all(token not in logged for token in tokens)


@pytest.mark.parametrize("command", ["url", "rotate", "revoke"])
def test_an_unknown_person_is_an_input_error(
    network: str, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    assert feeds_cli(network, command, "S99") == 2
    err = capsys.readouterr().err
    assert "STAFF_ID" in err
    assert "'S99'" in err
    assert feed_audit(network) == []


def test_a_missing_secret_key_is_named(
    network: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ROTAPOOL_SECRET_KEY")
    monkeypatch.setenv("FLASK_DEBUG", "1")  # never a throwaway development key
    assert feeds_cli(network, "url", "S01") == 2
    assert "ROTAPOOL_SECRET_KEY" in capsys.readouterr().err
    assert feed_audit(network) == []


def test_the_secret_and_host_from_the_instance_config(
    network: str,
    settings: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("ROTAPOOL_SECRET_KEY")
    monkeypatch.delenv("ROTAPOOL_PUBLIC_HOST")
    (settings / "config.py").write_text(
        'SECRET_KEY = "from the config file"\nPUBLIC_HOST = "rota.config.test"\n'
    )
    assert feeds_cli(network, "url", "S01") == 0
    https, _ = links(capsys.readouterr().out, "rota.config.test")
    assert opens(network, token_of(https), "from the config file") is not None
    assert opens(network, token_of(https), SECRET) is None


def test_without_a_public_host_the_link_names_this_machine_and_says_so(
    network: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ROTAPOOL_PUBLIC_HOST")
    assert feeds_cli(network, "url", "S01") == 0
    printed = capsys.readouterr()
    # The development server's address, which serves plain http.
    assert f"  http://{DEFAULT_HOST}/feeds/" in printed.out
    assert f"  webcal://{DEFAULT_HOST}/feeds/" in printed.out
    assert "warning: ROTAPOOL_PUBLIC_HOST is not set" in printed.err
    assert "opens only on this machine" in printed.err


def test_a_public_host_served_without_tls_gets_http_links(
    network: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTAPOOL_PUBLIC_HOST", "rota.lan:8080")
    monkeypatch.setenv("ROTAPOOL_PUBLIC_SCHEME", "http")
    assert feeds_cli(network, "url", "S01") == 0
    printed = capsys.readouterr()
    assert "  http://rota.lan:8080/feeds/" in printed.out
    assert "  webcal://rota.lan:8080/feeds/" in printed.out
    assert printed.err == ""


def test_a_public_scheme_that_is_not_http_is_refused_naming_the_setting(
    network: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTAPOOL_PUBLIC_SCHEME", "ftp")
    assert feeds_cli(network, "url", "S01") == 2
    assert "PUBLIC_SCHEME: give https or http, not 'ftp'" in capsys.readouterr().err
    assert feed_audit(network) == []
