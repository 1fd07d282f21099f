"""Feed links: tokens open their own feed only, never stored, rotated and revoked."""

from __future__ import annotations

import base64
import re
import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from scheduler.storage.db import session_scope
from scheduler.storage.feeds import FeedSubject, FeedSubjectError
from scheduler.storage.models.app import FeedTokenRecord
from scheduler.storage.repository import database_fingerprint
from scheduler.usecases.feeds import (
    current_token,
    feed_urls,
    find_feed,
    issue_token,
    revoke_token,
    token_hash,
)
from scheduler.usecases.importing import import_bundle
from tests.feeds.support import (
    FIRST,
    FIRST_ROTA,
    SECRET,
    cell,
    events,
    feeds_token,
    find,
    person,
    publish,
    render,
    uid,
)
from tests.web_support import TINY


def test_a_token_opens_its_own_feed(tiny: int, engine: Engine, issued: str) -> None:
    assert find(engine, issued) == FeedSubject(tiny, "staff", "S01")
    with session_scope(engine) as session:
        hub = current_token(session, tiny, "hub", "", SECRET)
    assert hub is not None
    assert find(engine, hub) == FeedSubject(tiny, "hub", "")


def test_ten_thousand_random_tokens_open_nothing(engine: Engine, issued: str) -> None:
    with session_scope(engine) as session:
        hits = [
            token
            for token in (secrets.token_urlsafe(32) for _ in range(10_000))
            if find_feed(session, token, SECRET) is not None
        ]
    assert hits == []
    assert find(engine, issued) is not None  # the lookup itself works


def test_a_token_has_at_least_128_random_bits(engine: Engine, issued: str) -> None:
    raw = base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4))
    assert len(raw) * 8 >= 128
    assert re.fullmatch(r"[A-Za-z0-9_-]+", issued)


def test_the_database_holds_no_token(engine: Engine, issued: str) -> None:
    with session_scope(engine) as session:
        rows = database_fingerprint(session)
    assert issued not in repr(rows)
    assert repr(rows["feed_tokens"]).count(token_hash(issued)) == 1


def test_current_token_derives_the_same_token_again(tiny: int, engine: Engine, issued: str) -> None:
    with session_scope(engine) as session:
        assert current_token(session, tiny, "staff", "S01", SECRET) == issued
        assert current_token(session, tiny, "staff", "S02", SECRET) is None


def test_another_secret_key_opens_nothing(tiny: int, engine: Engine, issued: str) -> None:
    assert find(engine, issued, "another key") is None
    with session_scope(engine) as session:
        assert current_token(session, tiny, "staff", "S01", "another key") is None


def test_a_revoked_token_opens_nothing(tiny: int, engine: Engine, issued: str) -> None:
    with session_scope(engine) as session:
        assert revoke_token(session, tiny, "staff", "S01") is True
        assert revoke_token(session, tiny, "staff", "S01") is False
    assert find(engine, issued) is None
    with session_scope(engine) as session:
        assert current_token(session, tiny, "staff", "S01", SECRET) is None
    assert find(engine, feeds_token(engine, tiny, "site", "P01")) is not None  # others unaffected


def test_rotating_replaces_the_token(tiny: int, engine: Engine, issued: str) -> None:
    with session_scope(engine) as session:
        new = issue_token(session, tiny, "staff", "S01", SECRET)
    assert new != issued
    assert find(engine, issued) is None
    assert find(engine, new) == FeedSubject(tiny, "staff", "S01")
    with session_scope(engine) as session:
        rows = session.scalars(
            select(FeedTokenRecord).where(FeedTokenRecord.subject == "S01")
        ).all()
    assert sorted(row.revoked_at is None for row in rows) == [False, True]


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "é" * 43, "A" * 10_000, "../etc/passwd"])
def test_malformed_tokens_open_nothing(engine: Engine, issued: str, token: str) -> None:
    assert find(engine, token) is None


@pytest.mark.parametrize(
    ("kind", "subject", "message"),
    [
        ("staff", "S99", "staff id 'S99'"),
        ("site", "P99", "site id 'P99'"),
        ("hub", "P01", "hub feed has no subject"),
        ("rota", "S01", "feed kind 'rota'"),
    ],
)
def test_a_token_only_for_what_the_network_has(
    tiny: int, engine: Engine, kind: str, subject: str, message: str
) -> None:
    with session_scope(engine) as session, pytest.raises(FeedSubjectError, match=message):
        issue_token(session, tiny, kind, subject, SECRET)


def test_feed_urls() -> None:
    assert feed_urls("https://rota.example.test", "abc") == (
        "https://rota.example.test/feeds/abc.ics",
        "webcal://rota.example.test/feeds/abc.ics",
    )
    assert feed_urls("http://127.0.0.1:5000", "abc") == (
        "http://127.0.0.1:5000/feeds/abc.ics",
        "webcal://127.0.0.1:5000/feeds/abc.ics",
    )


def test_reimporting_without_a_person_or_site_revokes_their_links(
    tmp_path: Path, db_url: str, engine: Engine
) -> None:
    bigger = tmp_path / "bigger"
    shutil.copytree(TINY, bigger)
    with (bigger / "staff.csv").open("a", encoding="utf-8") as staff:
        staff.write("S09,Ola Berg,GP,P01,P01,20,0,20,,P01,,0,0,90,\n")
    with (bigger / "sites.csv").open("a", encoding="utf-8") as sites:
        sites.write("P03,Quay Street Surgery,practice,3000,2,52.2,0.12\n")
    network_id, _ = import_bundle(db_url, bigger)
    with session_scope(engine) as session:
        tokens = {
            (kind, subject): issue_token(session, network_id, kind, subject, SECRET)
            for kind, subject in (("staff", "S09"), ("site", "P03"), ("staff", "S01"), ("hub", ""))
        }
    assert import_bundle(db_url, TINY)[0] == network_id
    opened = {key: find(engine, token) is not None for key, token in tokens.items()}
    assert opened == {
        ("staff", "S09"): False,
        ("site", "P03"): False,
        ("staff", "S01"): True,
        ("hub", ""): True,
    }


def test_feeds_still_render_after_a_person_leaves(
    tmp_path: Path, db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their published sessions keep their place (named by id) until the week is re-published."""
    bigger = tmp_path / "bigger"
    shutil.copytree(TINY, bigger)
    with (bigger / "staff.csv").open("a", encoding="utf-8") as staff:
        staff.write("S09,Ola Berg,GP,P01,P01,20,0,20,,P01,,0,0,90,\n")
    network_id, _ = import_bundle(db_url, bigger)
    leaver = cell("S09", 4, "AM", "P01")
    publish(engine, network_id, [*FIRST_ROTA, leaver], FIRST, monkeypatch)
    import_bundle(db_url, TINY)
    site = events(render(engine, FeedSubject(network_id, "site", "P01")))
    assert site[uid(network_id, leaver, "rotapool-site")].summary == "Morning surgery - S09"
    (own,) = events(render(engine, person(network_id, "S09"))).values()
    assert own.summary == "Morning surgery - Mill Lane Surgery"
