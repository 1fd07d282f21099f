"""Open sessions over HTTP: a coordinator offers places, a clinician books one from their page
(and on a phone, in chromium); a second person cannot have it too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from scheduler.domain import iso_week_label
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import load_cells
from scheduler.usecases.publishing import publish_week
from tests.browser_support import LiveServer, axe_violations, screenshot_path
from tests.test_notices import smtp_server
from tests.web_support import (
    ACCOUNTS,
    CLINICIAN_STAFF,
    PASSWORD,
    client_as,
    csrf_token,
    save_week,
    seeded_app,
)

AHEAD = dt.date.today() + dt.timedelta(days=14)  # a week whose sessions have not started
WEEK = iso_week_label(AHEAD)
WEDNESDAY = dt.date.fromisocalendar(*AHEAD.isocalendar()[:2], 3)
PLACE = {"site_id": "HUB1", "date": WEDNESDAY.isoformat(), "session_id": "EVE", "role": "GP"}


@pytest.fixture
def network(db_url: str) -> Iterator[tuple[Flask, int]]:
    """The tiny network with WEEK published empty: everyone is free."""
    app, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, [])
        publish_week(db, network_id, WEEK, "m")
    engine.dispose()
    yield app, network_id


def offer(app: Flask, network_id: int, fields: dict[str, str]) -> str:
    client = client_as(app, "coordinator")
    form = {**fields, "csrf_token": csrf_token(client)}
    response = client.post(f"/n/{network_id}/weeks/{WEEK}/open", data=form)
    return f"{response.status_code} {response.get_data(as_text=True)}"


def published(db_url: str, network_id: int) -> tuple[int | None, frozenset]:  # type: ignore[type-arg]
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            rota = find_rota(db, network_id, WEEK, "published")
            assert rota is not None
            return rota.version, load_cells(db, rota.id).assignments
    finally:
        engine.dispose()


def test_a_coordinator_offers_a_place_and_a_bad_one_names_the_field(
    network: tuple[Flask, int],
) -> None:
    app, network_id = network
    refused = offer(app, network_id, {**PLACE, "rate": "lots"})
    assert refused.startswith("400") and "rate: &#39;lots&#39; is not an hourly rate" in refused
    assert (
        offer(app, network_id, {**PLACE, "rate": "95", "note": "hub doors at 18:15"})[:3] == "302"
    )
    page = client_as(app, "coordinator").get(f"/n/{network_id}/weeks/{WEEK}/open")
    text = page.get_data(as_text=True)
    assert "HUB1" in text and "£95.00/h" in text and "hub doors at 18:15" in text
    could = re.search(r"(\d+) (?:person|people)</td>", text)
    assert could is not None and int(could.group(1)) >= 2  # the free GPs who may work at HUB1


def test_a_clinician_books_a_place_and_nobody_else_can(
    network: tuple[Flask, int], db_url: str
) -> None:
    app, network_id = network
    offer(app, network_id, PLACE)
    grace = client_as(app, "clinician")
    mine = f"/n/{network_id}/people/{CLINICIAN_STAFF}/open"
    assert "Book it" in grace.get(mine).get_data(as_text=True)
    assert "Open sessions you could take" in grace.get(
        f"/n/{network_id}/people/{CLINICIAN_STAFF}"
    ).get_data(as_text=True)
    booked = grace.post(f"{mine}/1/book", data={"csrf_token": csrf_token(grace)})
    assert booked.status_code == 302
    said = grace.get(mine).get_data(as_text=True)
    assert "Booked: HUB1" in said and "version 2" in said
    version, cells = published(db_url, network_id)
    assert version == 2 and {(a.site_id, a.staff_id) for a in cells} == {("HUB1", CLINICIAN_STAFF)}
    imran = client_as(app, "coordinator")  # books for S02, who could have worked it
    late = imran.post(
        f"/n/{network_id}/people/S02/open/1/book", data={"csrf_token": csrf_token(imran)}
    )
    assert late.status_code == 302
    page = imran.get(f"/n/{network_id}/people/S02/open").get_data(as_text=True)
    assert "someone else booked it first" in page
    assert published(db_url, network_id)[0] == 2  # nothing more published


def test_a_clinician_may_not_book_for_someone_else(network: tuple[Flask, int]) -> None:
    app, network_id = network
    offer(app, network_id, PLACE)
    grace = client_as(app, "clinician")
    other = grace.post(
        f"/n/{network_id}/people/S02/open/1/book", data={"csrf_token": csrf_token(grace)}
    )
    assert other.status_code == 403


@pytest.mark.pages_only
def test_a_clinician_books_on_a_phone(network: tuple[Flask, int], browser: Browser) -> None:
    app, network_id = network
    offer(app, network_id, {**PLACE, "rate": "95"})
    with LiveServer(app) as server:
        desk = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
        week = desk.new_page()
        week.goto(f"{server.url}/login")
        week.get_by_label("E-mail").fill(ACCOUNTS.coordinator)
        week.get_by_label("Password").fill(PASSWORD)
        week.get_by_role("button", name="Log in").click()
        week.goto(f"{server.url}/n/{network_id}/weeks/{WEEK}/open")
        expect(week.get_by_role("heading", name=f"Open sessions, week {WEEK}")).to_be_visible()
        week.screenshot(path=screenshot_path("open-week"), full_page=True)
        assert axe_violations(week) == []
        desk.close()
        context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.get_by_label("E-mail").fill(ACCOUNTS.clinician)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Open sessions you could take").click()
        expect(page.get_by_text("£95.00 an hour")).to_be_visible()
        page.screenshot(path=screenshot_path("open-phone"), full_page=True)
        assert axe_violations(page) == []
        page.get_by_role("button", name="Book it").click()
        expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text(
            "Booked"
        )
        page.screenshot(path=screenshot_path("open-phone-booked"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        context.close()


def test_a_booking_e_mails_the_booker_their_new_session(db_url: str) -> None:
    """With a mail server set, the booker's change notice goes out as a publication's do."""
    soon = dt.date.today() + dt.timedelta(days=7)  # within the notices' 14 days
    week = iso_week_label(soon)
    wednesday = dt.date.fromisocalendar(*soon.isocalendar()[:2], 3).isoformat()
    with smtp_server() as (inbox, port):
        app, network_id = seeded_app(db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        engine = make_engine(db_url)
        with session_scope(engine) as db:
            save_week(db, network_id, week, [])
            publish_week(db, network_id, week, "m")
        engine.dispose()
        coordinator = client_as(app, "coordinator")
        form = {**PLACE, "date": wednesday, "csrf_token": csrf_token(coordinator)}
        coordinator.post(f"/n/{network_id}/weeks/{week}/open", data=form)
        grace = client_as(app, "clinician")
        mine = f"/n/{network_id}/people/{CLINICIAN_STAFF}/open"
        grace.post(f"{mine}/1/book", data={"csrf_token": csrf_token(grace)})
        assert "Booked: HUB1" in grace.get(mine).get_data(as_text=True)
        (message,) = inbox.messages()
    assert message["To"] == "grace.rees@example.nhs.uk"
    assert "HUB1" in message.get_body(preferencelist=("plain",)).get_content()


def test_the_shortfalls_page_offers_one_need_or_all_of_them(network: tuple[Flask, int]) -> None:
    """The week is published empty, so every minimum is unmet: one form per need, and one
    for all; what they offer shows on the week's open sessions."""
    app, network_id = network
    imran = client_as(app, "coordinator")
    page = imran.get(f"/n/{network_id}/weeks/{WEEK}/shortfalls?state=published")
    text = page.get_data(as_text=True)
    one = text.count("Offer it as an open session")
    assert one >= 2 and "Offer every unmet minimum as an open session" in text
    first = re.search(
        r'name="site_id" value="([^"]+)"><input type="hidden" name="date" value="([^"]+)">\s*'
        r'<input type="hidden" name="session_id" value="([^"]+)"><input type="hidden" '
        r'name="role" value="([^"]*)"><input type="hidden" name="skill" value="([^"]*)">',
        text,
    )
    assert first is not None
    fields = dict(
        zip(("site_id", "date", "session_id", "role", "skill"), first.groups(), strict=True)
    )
    made = imran.post(
        f"/n/{network_id}/weeks/{WEEK}/open", data={**fields, "csrf_token": csrf_token(imran)}
    )
    assert made.status_code == 302
    rest = imran.post(
        f"/n/{network_id}/weeks/{WEEK}/open", data={"short": "1", "csrf_token": csrf_token(imran)}
    )
    assert rest.status_code == 302
    listed = imran.get(f"/n/{network_id}/weeks/{WEEK}/open").get_data(as_text=True)
    assert listed.count("/withdraw") >= one  # every need offered once, the first not twice
