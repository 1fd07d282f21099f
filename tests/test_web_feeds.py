"""Calendar feeds over HTTP, their links on the pages, and the notices a publication sends.

The tiny network with one account per role (tests.web_support), CSRF on.  The
app's day is fixed (``FIXED_TODAY``) and its public host named, so ETags and
UIDs are deterministic.  Weeks are published with tests.feeds.support's rotas:
the second moves S02's Wednesday morning from P02 to P01 and removes S03's
Wednesday afternoon.  E-mail goes to a real local SMTP server.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import vobject
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from scheduler.domain import Assignment
from scheduler.outputs.calendar import render_feed
from scheduler.storage.audit import entries
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import ChangeNoticeRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases.feeds import issue_token, revoke_token
from scheduler.usecases.publishing import publish_week
from tests.feeds.support import FIRST_ROTA, MOVED, REMOVED, SECOND_ROTA, WEEK, save_draft
from tests.test_notices import free_port, smtp_server
from tests.web_support import ACCOUNTS, client_as, post, seeded_app
from web import feeds as web_feeds
from web.db import dispose

HOST = "rota.example.test"
TODAY = dt.date(2026, 11, 26)  # WEEK (from Mon 30 Nov) is within the next 14 days
LINK = re.compile(r'value="https://rota\.example\.test/feeds/([A-Za-z0-9_-]+)\.ics"')
CALENDAR = "text/calendar; charset=utf-8"


@dataclass
class Site:
    """The app under test, its network, and an engine to look at the database."""

    app: Flask
    network_id: int
    engine: Engine

    def url(self, tail: str) -> str:
        return f"/n/{self.network_id}/{tail}"

    def secret(self) -> str:
        return str(self.app.config["SECRET_KEY"])

    def issue(self, kind: str = "staff", subject: str = "S02") -> str:
        with session_scope(self.engine) as session:
            return issue_token(session, self.network_id, kind, subject, self.secret())

    def publish(self, cells: Sequence[Assignment]) -> None:
        """Publish ``cells`` as the week's next version, as the CLI does (no notices)."""
        with session_scope(self.engine) as session:
            save_draft(session, self.network_id, cells, WEEK)
            publish_week(session, self.network_id, WEEK, ACCOUNTS.coordinator)

    def draft(self, cells: Sequence[Assignment]) -> int:
        """Save ``cells`` as the week's draft; its revision (what the publish form sends)."""
        with session_scope(self.engine) as session:
            save_draft(session, self.network_id, cells, WEEK)
            rota = find_rota(session, self.network_id, WEEK, "draft")
            assert rota is not None
            return rota.revision

    def notices(self) -> list[ChangeNoticeRecord]:
        with session_scope(self.engine) as session:
            statement = select(ChangeNoticeRecord).order_by(ChangeNoticeRecord.id)
            return list(session.scalars(statement))


def make_site(db_url: str, **config: Any) -> Iterator[Site]:
    app, network_id = seeded_app(db_url, PUBLIC_HOST=HOST, FIXED_TODAY=TODAY, **config)
    engine = make_engine(db_url)
    yield Site(app, network_id, engine)
    engine.dispose()
    dispose(app)


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    yield from make_site(db_url)


def fetch(site: Site, token: str, **headers: str) -> TestResponse:
    return site.app.test_client().get(f"/feeds/{token}.ics", headers=headers)


def uids(body: bytes) -> dict[str, tuple[int, str]]:
    """UID -> (SEQUENCE, STATUS), read with icalendar; vobject must read the same UIDs."""
    found = {
        str(e["UID"]): (int(e["SEQUENCE"]), str(e["STATUS"]))
        for e in Calendar.from_ical(body).walk("VEVENT")
    }
    parsed = vobject.readOne(body.decode("utf-8"))
    assert {e.uid.value for e in parsed.contents.get("vevent", [])} == set(found)
    return found


def uid(site: Site, item: Assignment) -> str:
    return f"rotapool-{site.network_id}-{item.staff_id}-{item.date:%Y%m%d}-{item.session_id}@{HOST}"


# -- the feed --------------------------------------------------------------------------------


def test_a_feed_is_a_parseable_calendar_with_validators(site: Site) -> None:
    site.publish(FIRST_ROTA)
    response = fetch(site, site.issue())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])
    assert response.headers["Last-Modified"].endswith(" GMT")
    s02 = [item for item in FIRST_ROTA if item.staff_id == "S02"]
    assert uids(response.data) == {uid(site, item): (0, "CONFIRMED") for item in s02}


def test_if_none_match_answers_304(site: Site) -> None:
    site.publish(FIRST_ROTA)
    token = site.issue()
    etag = fetch(site, token).headers["ETag"]
    again = fetch(site, token, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert fetch(site, token, **{"If-None-Match": '"something else"'}).status_code == 200


def test_if_modified_since_answers_304(site: Site) -> None:
    site.publish(FIRST_ROTA)
    token = site.issue()
    modified = fetch(site, token).headers["Last-Modified"]
    assert fetch(site, token, **{"If-Modified-Since": modified}).status_code == 304
    earlier = "Thu, 01 Jan 2026 00:00:00 GMT"
    assert fetch(site, token, **{"If-Modified-Since": earlier}).status_code == 200


def test_the_etag_changes_when_a_republication_moves_a_session(site: Site) -> None:
    publish_over_http(site, FIRST_ROTA)
    token = site.issue()
    before = fetch(site, token)
    publish_over_http(site, SECOND_ROTA)
    after = fetch(site, token, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert uids(after.data)[uid(site, MOVED)] == (1, "CONFIRMED")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The feed route's clock, moved forward by tests (``clock[0] += seconds``)."""
    now = [1000.0]
    monkeypatch.setattr(web_feeds, "clock", lambda: now[0])
    return now


def test_a_publication_outside_the_app_shows_within_the_recheck_interval(
    site: Site, clock: list[float]
) -> None:
    site.publish(FIRST_ROTA)
    token = site.issue()
    before = fetch(site, token).headers["ETag"]
    site.publish(SECOND_ROTA)  # as `rotapool publish` does, in another process
    clock[0] += web_feeds.RECHECK_SECONDS - 0.1
    assert fetch(site, token).headers["ETag"] == before
    clock[0] += 0.2
    after = fetch(site, token)
    assert after.headers["ETag"] != before
    assert uids(after.data)[uid(site, MOVED)] == (1, "CONFIRMED")


def test_a_link_turned_off_outside_the_app_stops_within_the_recheck_interval(
    site: Site, clock: list[float]
) -> None:
    token = site.issue()
    assert fetch(site, token).status_code == 200
    with session_scope(site.engine) as session:  # as `rotapool feeds revoke` would
        assert revoke_token(session, site.network_id, "staff", "S02")
    clock[0] += web_feeds.RECHECK_SECONDS
    assert fetch(site, token).status_code == 404


def test_the_etag_changes_with_the_day(site: Site) -> None:
    site.publish(FIRST_ROTA)
    token = site.issue()
    first = fetch(site, token).headers["ETag"]
    site.app.config["FIXED_TODAY"] = TODAY + dt.timedelta(days=1)
    assert fetch(site, token, **{"If-None-Match": first}).status_code == 200


def test_an_unknown_token_gets_a_bare_404(site: Site) -> None:
    site.issue()
    for token in ("nothing-like-a-token", "A" * 43, "x" * 500):
        response = fetch(site, token)
        assert response.status_code == 404
        assert response.mimetype == "text/plain"
        assert response.data == b"Not found\n"


def test_a_revoked_link_gets_404(site: Site) -> None:
    token = site.issue("site", "P01")
    assert fetch(site, token).status_code == 200
    manager = client_as(site.app, "manager")
    form = {"kind": "site", "subject": "P01", "action": "revoke"}
    assert post(manager, site.url("feeds"), form).status_code == 302
    response = fetch(site, token)
    assert (response.status_code, response.data) == (404, b"Not found\n")


def test_drafts_never_appear_in_a_feed(site: Site) -> None:
    site.publish(FIRST_ROTA)
    site.draft(SECOND_ROTA)  # moves S02 and removes S03, but only as a draft
    seen = uids(fetch(site, site.issue()).data)
    assert uid(site, MOVED) in seen and seen[uid(site, MOVED)] == (0, "CONFIRMED")
    s03 = uids(fetch(site, site.issue("staff", "S03")).data)
    assert s03[uid(site, REMOVED)] == (0, "CONFIRMED")
    unpublished = uids(fetch(site, site.issue("staff", "S04")).data)
    assert unpublished == {}


def test_repeated_fetches_are_rendered_once(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_over_http(site, FIRST_ROTA)
    token = site.issue()
    renders: list[object] = []
    original = render_feed

    def counting(*args: Any) -> bytes:
        renders.append(args)
        return original(*args)

    monkeypatch.setattr(web_feeds, "render_feed", counting)
    bodies = {fetch(site, token).data for _ in range(5)}
    assert len(bodies) == 1 and len(renders) == 1
    publish_over_http(site, SECOND_ROTA)
    fetch(site, token)
    assert len(renders) == 2


def test_a_failing_feed_logs_without_its_token(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = site.issue()

    def broken(*_args: Any) -> bytes:
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(web_feeds, "render_feed", broken)
    caplog.set_level(logging.DEBUG)
    response = fetch(site, token)
    assert (response.status_code, response.data) == (500, b"Server error\n")
    assert caplog.records
    assert token not in caplog.text
    assert all(token not in str(record.args) for record in caplog.records)


# -- links on the pages ----------------------------------------------------------------------


def person_page(client: FlaskClient, site: Site, staff_id: str = "S01") -> str:
    response = client.get(site.url(f"people/{staff_id}"))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_clinician_creates_their_link_and_sees_both_forms(site: Site) -> None:
    client = client_as(site.app, "clinician")
    page = person_page(client, site)
    assert "Create my calendar link" in page and LINK.search(page) is None
    created = post(client, site.url("people/S01/feed"))
    assert created.status_code == 302
    page = person_page(client, site)
    match = LINK.search(page)
    assert match is not None
    token = match.group(1)
    assert f'href="webcal://{HOST}/feeds/{token}.ics"' in page
    assert "Google refreshes it only every 8 to 24 hours" in page
    assert fetch(site, token).status_code == 200


def test_rotating_a_link_stops_the_old_one(site: Site) -> None:
    client = client_as(site.app, "clinician")
    post(client, site.url("people/S01/feed"))
    old = LINK.search(person_page(client, site))
    assert old is not None
    assert fetch(site, old.group(1)).status_code == 200  # remembered by the feed route
    assert post(client, site.url("people/S01/feed")).status_code == 302
    new = LINK.search(person_page(client, site))
    assert new is not None and new.group(1) != old.group(1)
    assert fetch(site, old.group(1)).status_code == 404
    assert fetch(site, new.group(1)).status_code == 200


def test_rotation_is_audited_without_the_token(site: Site) -> None:
    client = client_as(site.app, "clinician")
    post(client, site.url("people/S01/feed"))
    post(client, site.url("people/S01/feed"))
    match = LINK.search(person_page(client, site))
    assert match is not None
    with session_scope(site.engine) as session:
        found = [e for e in entries(session, site.network_id) if e.action.startswith("feed")]
    assert [(e.actor, e.action, e.subject) for e in found] == [
        (ACCOUNTS.clinician, "feed link replaced", "staff feed S01"),
        (ACCOUNTS.clinician, "feed link created", "staff feed S01"),
    ]
    assert match.group(1) not in repr(found)


def test_a_clinician_cannot_rotate_a_colleagues_link(site: Site) -> None:
    token = site.issue("staff", "S02")
    client = client_as(site.app, "clinician")  # S01
    assert post(client, site.url("people/S02/feed")).status_code == 403
    assert fetch(site, token).status_code == 200


@pytest.mark.parametrize("role", ["manager", "coordinator"])
def test_staff_see_and_replace_a_persons_link(site: Site, role: str) -> None:
    token = site.issue("staff", "S01")
    client = client_as(site.app, role)
    page = person_page(client, site)
    match = LINK.search(page)
    assert match is not None and match.group(1) == token
    assert "Replace Grace Rees&#39;s calendar link" in page
    assert fetch(site, token).status_code == 200
    assert post(client, site.url("people/S01/feed")).status_code == 302
    assert fetch(site, token).status_code == 404


def test_a_person_page_for_an_unknown_person_cannot_get_a_link(site: Site) -> None:
    client = client_as(site.app, "manager")
    assert post(client, site.url("people/NOBODY/feed")).status_code == 404


def test_the_network_feeds_page_creates_and_lists_site_and_hub_links(site: Site) -> None:
    client = client_as(site.app, "coordinator")
    page = client.get(site.url("feeds")).get_data(as_text=True)
    assert "Mill Lane Surgery (P01)" in page and "Hub sessions of the whole network" in page
    assert LINK.search(page) is None
    form = {"kind": "hub", "subject": "", "action": "rotate"}
    assert post(client, site.url("feeds"), form).status_code == 302
    page = client.get(site.url("feeds")).get_data(as_text=True)
    tokens = LINK.findall(page)
    assert len(tokens) == 1
    assert fetch(site, tokens[0]).status_code == 200
    assert "Hub feed: link created." in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "bogus", "subject": "P01", "action": "rotate"}, "kind: choose one of"),
        ({"kind": "site", "subject": "P01", "action": "delete"}, "action: choose rotate"),
        ({"kind": "site", "subject": "P99", "action": "rotate"}, "subject: no site"),
    ],
)
def test_a_bad_feed_form_changes_nothing_and_names_the_field(
    site: Site, form: dict[str, str], message: str
) -> None:
    client = client_as(site.app, "manager")
    response = post(client, site.url("feeds"), form)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing changed." in page and message in page
    assert LINK.search(page) is None


def test_a_practice_sees_its_own_site_link_only(site: Site) -> None:
    client = client_as(site.app, "practice")  # site P01
    page = client.get(site.url("sites/P01/feed")).get_data(as_text=True)
    assert "no calendar link yet" in page and "Ask your network" in page
    token = site.issue("site", "P01")
    page = client.get(site.url("sites/P01/feed")).get_data(as_text=True)
    match = LINK.search(page)
    assert match is not None and match.group(1) == token
    assert "Turn off" not in page  # changing links is for the network's staff
    assert client.get(site.url("sites/P02/feed")).status_code == 403


# -- notices after a publication -------------------------------------------------------------


def publish_over_http(site: Site, cells: Sequence[Assignment]) -> str:
    """Publish ``cells`` with the coordinator's Publish button (the hand-made rotas leave
    people short: the box saying so is ticked); the flash message shown."""
    revision = site.draft(cells)
    client = client_as(site.app, "coordinator")
    form = {"revision": str(revision), "accept_short": "yes"}
    response = post(client, site.url(f"weeks/{WEEK}/publish"), form)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'<p class="flash success" role="status">([^<]*)</p>', page)
    assert match is not None
    return html.unescape(match.group(1))


def test_publishing_emails_the_people_whose_sessions_changed(db_url: str) -> None:
    with smtp_server() as (inbox, port):
        for site in make_site(db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="r@x.test"):
            first = publish_over_http(site, FIRST_ROTA)
            assert first == f"Published {WEEK} as version 1."
            second = publish_over_http(site, SECOND_ROTA)
            assert second == (
                f"Published {WEEK} as version 2. "
                "2 people e-mailed about changes in the next 14 days."
            )
            client = client_as(site.app, "other_clinician")  # S02
            page = person_page(client, site, "S02")
            assert "Wed 2 Dec AM moved from P02 to P01" in page
            assert "e-mailed" in page
    assert sorted(to for _, to, _ in inbox.received) == [
        ["imran.shah@example.nhs.uk"],
        ["nia.walsh@example.nhs.uk"],
    ]


def test_without_smtp_the_notices_are_shown_but_not_emailed(site: Site) -> None:
    publish_over_http(site, FIRST_ROTA)
    flash = publish_over_http(site, SECOND_ROTA)
    assert flash.endswith(
        "2 changes in the next 14 days listed on the people's pages; "
        "e-mail is not set up (SMTP_HOST), so nobody was e-mailed."
    )
    assert [(n.staff_id, n.change, n.emailed_at, n.email_error) for n in site.notices()] == [
        ("S02", "moved", None, None),
        ("S03", "removed", None, None),
    ]
    page = person_page(client_as(site.app, "other_clinician"), site, "S02")
    assert "Wed 2 Dec AM moved from P02 to P01" in page
    assert "not e-mailed: e-mail is not set up" in page


def test_a_database_busy_after_the_publication_does_not_say_it_failed(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publication is committed before notices are e-mailed: a busy database then
    must not turn into "try again", which would publish a second version."""
    from web import rota

    locked = OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))

    def busy(*_: object, **__: object) -> object:
        raise locked

    monkeypatch.setattr(rota.notices, "deliver_pending", busy)
    for site in make_site(db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port()):
        publish_over_http(site, FIRST_ROTA)
        flash = publish_over_http(site, SECOND_ROTA)
        assert flash == (
            f"Published {WEEK} as version 2. The change notices are recorded but were not "
            "e-mailed: the database was busy."
        )
        with session_scope(site.engine) as session:
            published = find_rota(session, site.network_id, WEEK, "published")
            assert published is not None and published.version == 2


def test_a_mail_server_that_is_down_does_not_stop_the_publication(db_url: str) -> None:
    for site in make_site(db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port()):
        publish_over_http(site, FIRST_ROTA)
        flash = publish_over_http(site, SECOND_ROTA)
        assert flash.startswith(f"Published {WEEK} as version 2. ")
        assert "e-mail to 2 people failed: could not reach the mail server" in flash
        errors = [n.email_error for n in site.notices()]
        assert errors == ["could not reach the mail server (ConnectionRefusedError)"] * 2
        with session_scope(site.engine) as session:
            published = find_rota(session, site.network_id, WEEK, "published")
            assert published is not None and published.version == 2
