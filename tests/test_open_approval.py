"""Networks that approve bookings (``[open_sessions] booking = "approval"``) and close places
early (``closes_hours_before``): requests, approval checked again, decline, and the settings'
own errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.domain import iso_week_label
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.usecases.accounts import add_user
from scheduler.usecases.open_bookings import approve, book, decline
from scheduler.usecases.open_sessions import (
    BookingRefusedError,
    OpenSessionError,
    expire_due,
    list_places,
    offer_place,
    offer_shortfalls,
    parse_offer,
    places_for,
)
from scheduler.usecases.publishing import publish_week
from scheduler.views.home import inbox, waiting_total
from tests.test_open_sessions import BEFORE, WEEK, published_cells, published_empty, twenty_gps
from tests.web_support import (
    ACCOUNTS,
    PASSWORD,
    client_as,
    csrf_token,
    disposed_after_test,
    save_week,
)
from web import create_app

APPROVAL = '\n[open_sessions]\nbooking = "approval"\ncloses_hours_before = 2\n'
PLACE = {"site_id": "HUB1", "date": "2026-12-02", "session_id": "EVE", "role": "GP"}


def approving_network(tmp_path: Path) -> Path:
    folder = twenty_gps(tmp_path)
    with (folder / "network.toml").open("a", encoding="utf-8") as toml:
        toml.write(APPROVAL)
    return folder


@pytest.fixture
def approving(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    """The twenty GPs, bookings approved, places closing 2 hours early; WEEK published empty."""
    engine, network_id = published_empty(db_url, approving_network(tmp_path))
    yield engine, network_id
    engine.dispose()


def test_the_settings_are_read_stored_and_refused_when_wrong(
    approving: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, network_id = approving
    with session_scope(engine) as db:
        stored = current_bundle(db, network_id).open_sessions
    assert (stored.booking, stored.closes_hours_before) == ("approval", 2.0)
    for line, words in [
        ('booking = "auction"', "is not a way of booking"),
        ("closes_hours_before = 500", "is not a closing time"),
        ("colour = 1", "unknown open_sessions setting 'colour'"),
    ]:
        folder = twenty_gps(tmp_path / line.split()[0])
        with (folder / "network.toml").open("a", encoding="utf-8") as toml:
            toml.write(f"\n[open_sessions]\n{line}\n")
        with pytest.raises(BundleError) as refused:
            read_bundle(folder)
        assert any(words in str(p) for p in refused.value.problems), line


def test_a_place_closes_hours_before_its_session(approving: tuple[Engine, int]) -> None:
    engine, network_id = approving
    with session_scope(engine) as db:
        place = offer_place(
            db, network_id, parse_offer(current_bundle(db, network_id), PLACE), "m", BEFORE
        )
    assert place.closes_at == dt.datetime(2026, 12, 2, 16, 30, tzinfo=dt.UTC)  # 18:30 - 2 h
    late = dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)
    with pytest.raises(OpenSessionError, match="closed"), session_scope(engine) as db:
        offer_place(db, network_id, parse_offer(current_bundle(db, network_id), PLACE), "m", late)


def test_a_booking_is_a_request_until_approved_and_checked_again_then(
    approving: tuple[Engine, int],
) -> None:
    engine, network_id = approving
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        place = offer_place(db, network_id, parse_offer(bundle, PLACE), "m", BEFORE)
    ann, ben = bundle.person("S01"), bundle.person("S02")
    with session_scope(engine) as db:
        asked = book(db, network_id, place.id, ann, actor="ann", moment=BEFORE)
    assert asked.version is None and asked.place.state == "requested"
    with session_scope(engine) as db:  # it waits in the managers' and coordinators' inbox
        assert inbox(db, network_id, BEFORE).bookings == ((WEEK, 1),)
        assert waiting_total(db, network_id, BEFORE) == 1
    assert published_cells(engine, network_id) == frozenset()  # nothing published yet
    with session_scope(engine) as db:
        assert [(p.id, why) for p, why in places_for(db, network_id, ann, BEFORE)] == [
            (place.id, None)
        ]
        assert places_for(db, network_id, ben, BEFORE) == []  # taken, as far as Ben can see
    with pytest.raises(BookingRefusedError), session_scope(engine) as db:
        book(db, network_id, place.id, ben, actor="ben", moment=BEFORE)
    with session_scope(engine) as db:
        declined = decline(db, network_id, place.id, actor="c")
    assert declined.state == "open" and declined.booked_staff_id is None
    with session_scope(engine) as db:
        book(db, network_id, place.id, ben, actor="ben", moment=BEFORE)
        done = approve(db, network_id, place.id, actor="c", moment=BEFORE)
    assert done.version is not None and done.version.version == 2
    assert {a.staff_id for a in published_cells(engine, network_id)} == {"S02"}
    with session_scope(engine) as db:
        assert [p.booked_staff_id for p in list_places(db, network_id, WEEK, ("booked",))] == [
            "S02"
        ]


def test_an_approval_that_no_longer_holds_is_refused(approving: tuple[Engine, int]) -> None:
    """Asked for, then the person got the same evening elsewhere: approving says why."""
    engine, network_id = approving
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        first = offer_place(db, network_id, parse_offer(bundle, PLACE), "m", BEFORE)
        second = offer_place(db, network_id, parse_offer(bundle, PLACE), "m", BEFORE)
        ann = bundle.person("S01")
        book(db, network_id, first.id, ann, actor="ann", moment=BEFORE)
        book(db, network_id, second.id, ann, actor="ann", moment=BEFORE)
        approve(db, network_id, first.id, actor="c", moment=BEFORE)
    with pytest.raises(BookingRefusedError, match="not booked"), session_scope(engine) as db:
        approve(db, network_id, second.id, actor="c", moment=BEFORE)


def test_the_coordinator_approves_on_the_week_page(
    approving: tuple[Engine, int], db_url: str
) -> None:
    engine, network_id = approving
    ahead = dt.date.today() + dt.timedelta(days=14)  # the web app books at the real time
    week = iso_week_label(ahead)
    wednesday = dt.date.fromisocalendar(*ahead.isocalendar()[:2], 3).isoformat()
    with session_scope(engine) as db:
        save_week(db, network_id, week, [])
        publish_week(db, network_id, week, "m")
        bundle = current_bundle(db, network_id)
        offer = parse_offer(bundle, {**PLACE, "date": wednesday})
        place = offer_place(db, network_id, offer, "m", BEFORE)
        book(db, network_id, place.id, bundle.person("S03"), actor="s03", moment=BEFORE)
        add_user(db, ACCOUNTS.coordinator, PASSWORD, "coordinator", network_id=network_id)
    app: Flask = disposed_after_test(create_app({"TESTING": True, "DATABASE_URL": db_url}))
    client = client_as(app, "coordinator")
    page = client.get(f"/n/{network_id}/weeks/{week}/open").get_data(as_text=True)
    assert "requested" in page and "Approve" in page and "Decline" in page
    form = {"csrf_token": csrf_token(client), "week": week}
    answer = client.post(f"/n/{network_id}/open/{place.id}/approve", data=form)
    assert answer.status_code == 302
    page = client.get(f"/n/{network_id}/weeks/{week}/open").get_data(as_text=True)
    assert "Approved: HUB1" in page and "published as version 2" in page


def test_a_request_neither_offered_again_nor_left_waiting_after_its_session(
    approving: tuple[Engine, int],
) -> None:
    """Every unmet minimum offered, one asked for: offering again adds nothing; once the
    places close, the request closes unfilled with the open ones."""
    engine, network_id = approving
    with session_scope(engine) as db:
        made = offer_shortfalls(db, network_id, WEEK, "m", BEFORE)
        ann = current_bundle(db, network_id).person("S01")
        book(db, network_id, made[0].id, ann, actor="ann", moment=BEFORE)
        assert offer_shortfalls(db, network_id, WEEK, "m", BEFORE) == []
    after = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    with session_scope(engine) as db:
        closed = expire_due(db, network_id, after)
        assert {p.id for p in closed} == {p.id for p in made}
        assert list_places(db, network_id, WEEK, ("open", "requested")) == []
