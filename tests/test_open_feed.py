"""A person's open-sessions calendar: the places they could book now, as tentative events
that leave the feed once booked (parsed by a real calendar library)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import Engine

from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.usecases.feeds import issue_token
from scheduler.usecases.open_bookings import book
from scheduler.usecases.open_sessions import offer_place, parse_offer
from tests.test_open_sessions import BEFORE, published_empty, twenty_gps
from tests.web_support import disposed_after_test
from web import create_app
from web import feeds as web_feeds

SECRET = "feed-test-secret"
PLACES = [
    {
        "site_id": "HUB1",
        "date": "2026-12-02",
        "session_id": "EVE",
        "role": "GP",
        "note": "bring a dermatoscope",
    },
    {
        "site_id": "P02",
        "date": "2026-12-01",
        "session_id": "AM",
        "role": "GP",
    },  # nobody may work at P02
]


@pytest.fixture
def network(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Engine, int, Flask]]:
    """The twenty GPs' week published empty, two places offered; the feed's clock is before
    the week (the places are open)."""
    monkeypatch.setattr(web_feeds, "now", lambda: BEFORE)
    engine, network_id = published_empty(db_url, twenty_gps(tmp_path))
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        for fields in PLACES:
            offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE)
    config = {"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": SECRET}
    yield engine, network_id, disposed_after_test(create_app(config))
    engine.dispose()


def token_of(engine: Engine, network_id: int, kind: str, subject: str) -> str:
    with session_scope(engine) as db:
        return issue_token(db, network_id, kind, subject, SECRET)


def events(body: bytes) -> list[dict[str, str]]:
    calendar = Calendar.from_ical(body)
    return [
        {k: str(e.get(k)) for k in ("uid", "summary", "status", "transp", "description")}
        for e in calendar.walk("VEVENT")
    ]


def test_the_feed_shows_what_the_person_could_book_and_drops_it_once_booked(
    network: tuple[Engine, int, Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id, app = network
    token = token_of(engine, network_id, "staff", "S02")
    client = app.test_client()
    moment = [0.0]
    monkeypatch.setattr(web_feeds, "clock", lambda: moment[0])
    first = client.get(f"/feeds/{token}/open.ics")
    assert first.status_code == 200 and first.mimetype == "text/calendar"
    (event,) = events(first.data)  # P02 is not for S02: nobody may work there
    assert (event["status"], event["transp"]) == ("TENTATIVE", "TRANSPARENT")
    assert event["summary"] == "Open: Evening enhanced access - Extended access hub 1"
    assert "bring a dermatoscope" in event["description"]
    assert f"/n/{network_id}/people/S02/open" in event["description"]
    same = client.get(f"/feeds/{token}/open.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304
    with session_scope(engine) as db:
        place_id = int(event["uid"].split("-")[3].split("@")[0])
        person = current_bundle(db, network_id).person("S07")
        book(db, network_id, place_id, person, actor="s07", moment=BEFORE)
    # Booked outside the app: the feed answers from memory for up to RECHECK_SECONDS ...
    moment[0] += web_feeds.RECHECK_SECONDS - 0.1
    held = client.get(f"/feeds/{token}/open.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert held.status_code == 304
    moment[0] += 0.2  # ... and works the places out again after it
    after = client.get(f"/feeds/{token}/open.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and events(after.data) == []


def test_a_change_made_in_the_app_shows_in_the_open_feed_at_once(
    network: tuple[Engine, int, Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id, app = network
    monkeypatch.setattr(web_feeds, "clock", lambda: 0.0)  # the memory never goes stale
    token = token_of(engine, network_id, "staff", "S02")
    client = app.test_client()
    (event,) = events(client.get(f"/feeds/{token}/open.ics").data)
    with session_scope(engine) as db:
        place_id = int(event["uid"].split("-")[3].split("@")[0])
        person = current_bundle(db, network_id).person("S07")
        book(db, network_id, place_id, person, actor="s07", moment=BEFORE)
    with app.app_context():
        web_feeds.feeds_changed()  # what the app's booking, offer and publish routes call
    assert events(client.get(f"/feeds/{token}/open.ics").data) == []


def test_only_a_persons_link_has_an_open_sessions_feed(network: tuple[Engine, int, Flask]) -> None:
    engine, network_id, app = network
    client = app.test_client()
    hub = token_of(engine, network_id, "hub", "")
    assert client.get(f"/feeds/{hub}/open.ics").status_code == 404
    assert client.get("/feeds/not-a-token/open.ics").status_code == 404
    assert client.get(f"/feeds/{'x' * 300}/open.ics").status_code == 404
