"""The inbox: items addressed to one person, what writes them (publications, decisions,
requests), the morning digest of open sessions (once a day, opt-out) and the pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, select

from scheduler.jobs.digest import run_digest
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import UserRecord
from scheduler.storage.models.pool import InboxRecord
from scheduler.usecases.accounts import add_user
from scheduler.usecases.events import decide_cover
from scheduler.usecases.inbox import (
    Recipient,
    items,
    mark_read,
    tell,
    tell_coordinators,
    unread_count,
)
from scheduler.usecases.open_bookings import book
from scheduler.usecases.open_digest import set_digest, wants_digest
from scheduler.usecases.open_sessions import offer_place, parse_offer
from scheduler.usecases.requests import decide_leave, request_cover, request_leave
from tests.browser_support import LiveServer, axe_violations, screenshot_path
from tests.test_notices import smtp_server
from tests.test_open_sessions import BEFORE, published_empty, twenty_gps
from tests.web_support import (
    ACCOUNTS,
    CLINICIAN_STAFF,
    PASSWORD,
    PRACTICE_SITE,
    csrf_token,
    disposed_after_test,
    login,
    seeded_app,
)
from web import create_app

PLACE = {"site_id": "HUB1", "date": "2026-12-02", "session_id": "EVE", "role": "GP"}
GPS = 20


@pytest.fixture
def spare(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    """The twenty GPs (each with an e-mail address) with the week published empty."""
    engine, network_id = published_empty(db_url, twenty_gps(tmp_path))
    yield engine, network_id
    engine.dispose()


def offered(engine: Engine, network_id: int, fields: dict[str, str] = PLACE) -> int:
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        return offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE).id


def staff_items(engine: Engine, network_id: int, staff_id: str) -> list[tuple[str, str]]:
    with session_scope(engine) as db:
        found = items(db, network_id, Recipient(0, staff_id))
    return [(i.kind, i.text) for i in found]


# -- the store ---------------------------------------------------------------------------------


def test_items_reach_only_their_person_and_are_read_once(spare: tuple[Engine, int]) -> None:
    engine, network_id = spare
    mine, theirs = Recipient(0, "S01"), Recipient(0, "S02")
    with session_scope(engine) as db:
        tell(db, network_id, staff_id="S01", kind="swap", text="first", link="/inbox")
        tell(db, network_id, staff_id="S01", kind="change", text="second")
        tell(db, network_id, staff_id="S02", kind="change", text="not yours")
    with session_scope(engine) as db:
        assert unread_count(db, network_id, mine) == 2
        first = next(i for i in items(db, network_id, mine) if i.text == "first")
        other = items(db, network_id, theirs)[0]
        assert mark_read(db, network_id, mine, other.id) == 0  # someone else's: untouched
        assert mark_read(db, network_id, mine, first.id) == 1
        assert mark_read(db, network_id, mine, first.id) == 0  # already read
    with session_scope(engine) as db:
        shown = items(db, network_id, mine)
        assert [(i.text, i.read) for i in shown] == [("second", False), ("first", True)]
        assert unread_count(db, network_id, theirs) == 1
        assert mark_read(db, network_id, mine) == 1
        assert unread_count(db, network_id, mine) == 0
    with pytest.raises(ValueError, match="unknown inbox kind"), session_scope(engine) as db:
        tell(db, network_id, staff_id="S01", kind="gossip", text="x")


def test_coordinators_are_told_one_row_each_and_inactive_accounts_not(
    spare: tuple[Engine, int],
) -> None:
    engine, network_id = spare
    with session_scope(engine) as db:
        for email, role in [("m@x.test", "manager"), ("c@x.test", "coordinator")]:
            add_user(db, email, PASSWORD, role, network_id=network_id)
        add_user(db, "k@x.test", PASSWORD, "clinician", network_id=network_id, staff_id="S03")
        gone = add_user(db, "old@x.test", PASSWORD, "coordinator", network_id=network_id)
        db.get(UserRecord, gone.id).active = False  # type: ignore[union-attr]
    with session_scope(engine) as db:
        assert tell_coordinators(db, network_id, kind="request", text="look") == 2
        told = db.scalars(select(InboxRecord.user_id)).all()
        roles = {db.get(UserRecord, u).role for u in told}  # type: ignore[union-attr]
    assert roles == {"manager", "coordinator"}


# -- what writes items -----------------------------------------------------------------------------


def test_a_booking_tells_the_booker_what_changed(spare: tuple[Engine, int]) -> None:
    engine, network_id = spare
    place_id = offered(engine, network_id)
    with session_scope(engine) as db:
        person = current_bundle(db, network_id).person("S05")
        book(db, network_id, place_id, person, actor="s05", moment=BEFORE)
    assert staff_items(engine, network_id, "S05") == [
        ("change", "Your published sessions changed: Wed 2 Dec EVE added at HUB1.")
    ]
    assert staff_items(engine, network_id, "S06") == []


def test_a_leave_decision_tells_the_person_without_kind_or_reason(db_url: str) -> None:
    _, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    form = {"start": "2026-12-01", "end": "2026-12-02", "kind": "sick", "reason": "migraine"}
    with session_scope(engine) as db:
        asked = request_leave(db, network_id, CLINICIAN_STAFF, form, ACCOUNTS.clinician)
    with session_scope(engine) as db:
        managers = db.scalars(select(InboxRecord).where(InboxRecord.user_id.is_not(None))).all()
        assert managers and all("migraine" not in r.text and "sick" not in r.text for r in managers)
        decide_leave(db, network_id, asked.id, "approve", ACCOUNTS.manager)
    told = staff_items(engine, network_id, CLINICIAN_STAFF)
    engine.dispose()
    assert told == [
        ("decision", "Your request for time off Tue 2026-12-01 to Wed 2026-12-02 was approved.")
    ]


def test_a_cover_decision_tells_the_practice_that_asked(db_url: str) -> None:
    _, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    cover = {"date": "2026-12-01", "session_id": "AM", "role": "GP", "people": "1"}
    with session_scope(engine) as db:
        asked = request_cover(db, network_id, PRACTICE_SITE, cover, ACCOUNTS.practice)
    with session_scope(engine) as db:
        decide_cover(db, network_id, asked.id, "decline", ACCOUNTS.manager)
    with session_scope(engine) as db:
        practice = db.scalar(select(UserRecord).where(UserRecord.email == ACCOUNTS.practice))
        assert practice is not None
        told = items(db, network_id, Recipient(practice.id, None))
        clinician = items(db, network_id, Recipient(0, CLINICIAN_STAFF))
    engine.dispose()
    assert [(i.kind, i.text) for i in told] == [
        ("decision", "Your request for cover on Tue 1 Dec AM was declined.")
    ]
    assert told[0].link == f"/n/{network_id}/sites/{PRACTICE_SITE}/cover" and clinician == []


# -- the digest ------------------------------------------------------------------------------------


def digest(engine: Engine, network_id: int, moment: dt.datetime, port: int | None = None) -> str:
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port} if port else {}
    with session_scope(engine) as db:
        return run_digest(db, network_id, moment, config)


def test_the_digest_tells_each_person_who_could_book_once_a_day(spare: tuple[Engine, int]) -> None:
    engine, network_id = spare
    place_id = offered(engine, network_id)
    with session_scope(engine) as db:  # S20 takes it: nobody else could do that evening twice
        person = current_bundle(db, network_id).person("S20")
    offered(engine, network_id, {**PLACE, "date": "2026-12-02"})  # a second place, same evening
    with session_scope(engine) as db:
        book(db, network_id, place_id, person, actor="s20", moment=BEFORE)
        set_digest(db, network_id, "S01", wanted=False)
    with smtp_server() as (mailbox, port):
        first = digest(engine, network_id, BEFORE, port)
        again = digest(engine, network_id, BEFORE + dt.timedelta(hours=2), port)
        sent = mailbox.messages()
    told = GPS - 2  # S20 is booked that evening; S01 opted out
    assert first.startswith(f"{told} people told in their inbox; e-mail to {told} people")
    assert again.startswith("nobody to tell")
    assert sorted(m["To"] for m in sent) == sorted(f"gp{i}@example.nhs.uk" for i in range(2, GPS))
    body = sent[0].get_body(preferencelist=("plain",)).get_content()
    assert "1 open session" in body and "- Wed 2 Dec 18:30-20:00 at " in body
    assert "Stop the daily e-mail" in body
    assert staff_items(engine, network_id, "S01") == []
    assert staff_items(engine, network_id, "S02")[0][0] == "open"
    with session_scope(engine) as db:
        assert not wants_digest(db, network_id, "S01") and wants_digest(db, network_id, "S02")
    tomorrow = digest(engine, network_id, BEFORE + dt.timedelta(days=1))
    assert tomorrow.startswith(f"{told} people told in their inbox; e-mail is not set up")


def test_a_network_can_turn_the_digest_off(db_url: str, tmp_path: Path) -> None:
    folder = twenty_gps(tmp_path)
    with (folder / "network.toml").open("a", encoding="utf-8") as toml:
        toml.write("\n[open_sessions]\ndigest = false\n")
    engine, network_id = published_empty(db_url, folder)
    try:
        offered(engine, network_id)
        assert digest(engine, network_id, BEFORE).startswith("no digest")
        assert staff_items(engine, network_id, "S02") == []
    finally:
        engine.dispose()


# -- the pages -------------------------------------------------------------------------------------


@pytest.fixture
def app(spare: tuple[Engine, int], db_url: str) -> Flask:
    engine, network_id = spare
    with session_scope(engine) as db:
        add_user(db, "gp2@x.test", PASSWORD, "clinician", network_id=network_id, staff_id="S02")
        add_user(db, "gp3@x.test", PASSWORD, "clinician", network_id=network_id, staff_id="S03")
        add_user(db, ACCOUNTS.manager, PASSWORD, "manager", network_id=network_id)
    return disposed_after_test(
        create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t"})
    )


def as_person(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login(client, email)
    return client


def test_the_navigation_counts_unread_and_opening_an_item_marks_it_read(
    app: Flask, spare: tuple[Engine, int]
) -> None:
    engine, network_id = spare
    with session_scope(engine) as db:
        tell(db, network_id, staff_id="S02", kind="swap", text="Swap offered", link="/inbox?x=1")
        tell(db, network_id, staff_id="S02", kind="change", text="Moved", link="//evil.test/")
    gp2, gp3 = as_person(app, "gp2@x.test"), as_person(app, "gp3@x.test")
    page = gp2.get("/inbox").get_data(as_text=True)
    assert '2<span class="sr-only"> unread</span>' in page and "Swap offered" in page
    assert "Swap offered" not in gp3.get("/inbox").get_data(as_text=True)
    with session_scope(engine) as db:
        ids = {i.text: i.id for i in items(db, network_id, Recipient(0, "S02"))}
    stranger = gp3.post(f"/inbox/{ids['Swap offered']}/open", data={"csrf_token": csrf_token(gp3)})
    assert stranger.headers["Location"] == "/inbox"  # not theirs: nothing followed or marked
    opened = gp2.post(f"/inbox/{ids['Swap offered']}/open", data={"csrf_token": csrf_token(gp2)})
    assert opened.headers["Location"] == "/inbox?x=1"
    elsewhere = gp2.post(f"/inbox/{ids['Moved']}/open", data={"csrf_token": csrf_token(gp2)})
    assert elsewhere.headers["Location"] == "/inbox"  # only this site's paths are followed
    page = gp2.get("/inbox").get_data(as_text=True)
    assert "unread</span>" not in page and "Nothing yet" not in page


def test_read_all_and_the_digest_switch(app: Flask, spare: tuple[Engine, int]) -> None:
    engine, network_id = spare
    with session_scope(engine) as db:
        for n in range(3):
            tell(db, network_id, staff_id="S02", kind="open", text=f"item {n}")
    gp2 = as_person(app, "gp2@x.test")
    assert "Mark all 3 read" in gp2.get("/inbox").get_data(as_text=True)
    gp2.post("/inbox/read", data={"csrf_token": csrf_token(gp2)})
    with session_scope(engine) as db:
        assert unread_count(db, network_id, Recipient(0, "S02")) == 0
    switch = f"/n/{network_id}/people/S02/digest"
    gp2.post(switch, data={"digest": "off", "csrf_token": csrf_token(gp2)})
    page = gp2.get(f"/n/{network_id}/people/S02/open").get_data(as_text=True)
    assert "Start the daily e-mail again" in page
    refused = gp2.post(
        f"/n/{network_id}/people/S03/digest", data={"digest": "off", "csrf_token": csrf_token(gp2)}
    )
    assert refused.status_code == 403
    with session_scope(engine) as db:
        assert not wants_digest(db, network_id, "S02") and wants_digest(db, network_id, "S03")


@pytest.mark.pages_only
def test_a_clinician_reads_her_inbox_on_a_phone(
    app: Flask, spare: tuple[Engine, int], browser: Browser
) -> None:
    engine, network_id = spare
    offered(engine, network_id)
    assert digest(engine, network_id, BEFORE).startswith(f"{GPS} people told")
    with session_scope(engine) as db:
        tell(
            db,
            network_id,
            staff_id="S02",
            kind="decision",
            text="Your request for time off Tue 2026-12-01 was approved.",
        )
    with LiveServer(app) as server:
        for name, size in [("desk", (1366, 900)), ("phone", (390, 844))]:
            context = browser.new_context(
                viewport={"width": size[0], "height": size[1]}, bypass_csp=True
            )
            page = context.new_page()
            page.goto(f"{server.url}/login")
            page.get_by_label("E-mail").fill("gp2@x.test")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            inbox_link = page.get_by_role("link", name=re.compile(r"^Inbox"))
            expect(inbox_link).to_contain_text("2")
            inbox_link.click()
            expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
            page.screenshot(path=screenshot_path(f"inbox-{name}"), full_page=True)
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            if name == "phone":
                page.get_by_role("button", name=re.compile(r"^Open\W+1 open session")).click()
                expect(page.get_by_role("heading", name="Open sessions")).to_be_visible()
                expect(page.get_by_role("link", name=re.compile(r"^Inbox"))).to_contain_text("1")
                page.screenshot(path=screenshot_path("inbox-opened-phone"), full_page=True)
            context.close()
