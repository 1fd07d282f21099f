"""Availability on the web: a clinician answers for a week from their page (and on a phone, in
chromium); a manager sees who has not answered; bad or late answers say why and save nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from scheduler.storage.db import make_engine, session_scope
from scheduler.usecases.accounts import add_user
from tests.browser_support import LiveServer, axe_violations, screenshot_path
from tests.web_support import (
    ACCOUNTS,
    CLINICIAN_STAFF,
    PASSWORD,
    client_as,
    csrf_token,
    login,
    seeded_app,
)

WEEK = "2026-W49"  # Monday 2026-11-30; open for answers until Sunday 2026-11-08
TODAY = "2026-11-01"
NURSE = "nurse@tiny.test"  # S05 Leah Price, a practice nurse


@pytest.fixture
def network(db_url: str) -> Iterator[tuple[Flask, int]]:
    """The tiny network on 1 November 2026, with an account for the nurse S05."""
    app, network_id = seeded_app(db_url, FIXED_TODAY=TODAY)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        add_user(db, NURSE, PASSWORD, "clinician", network_id=network_id, staff_id="S05")
    engine.dispose()
    yield app, network_id


def as_nurse(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()
    login(client, NURSE)
    return client


def test_a_clinician_finds_her_weeks_from_her_page(network: tuple[Flask, int]) -> None:
    app, network_id = network
    nurse = as_nurse(app)
    home = nurse.get("/", follow_redirects=True).get_data(as_text=True)
    assert "My availability" in home
    weeks = nurse.get(f"/n/{network_id}/people/S05/availability").get_data(as_text=True)
    assert "2026-W48" in weeks and WEEK in weeks and "Answer by Sun 08 Nov 2026" in weeks
    assert "not answered yet" in weeks


def test_a_clinician_saves_a_week_and_sees_it_again(network: tuple[Flask, int]) -> None:
    app, network_id = network
    nurse = as_nurse(app)
    url = f"/n/{network_id}/people/S05/availability/{WEEK}"
    form = {"a-2026-12-01": "cannot", "a-2026-12-03-AM": "prefer"}
    saved = nurse.post(url, data={**form, "csrf_token": csrf_token(nurse, url)})
    assert saved.status_code == 302
    page = nurse.get(url).get_data(as_text=True)
    assert '<option value="cannot" selected>' in page and '<option value="prefer" selected>' in page
    listing = nurse.get(f"/n/{network_id}/people/S05/availability").get_data(as_text=True)
    assert "1 cannot, 1 prefer" in listing


def test_a_bad_answer_re_renders_the_form_with_the_field(network: tuple[Flask, int]) -> None:
    app, network_id = network
    nurse = as_nurse(app)
    url = f"/n/{network_id}/people/S05/availability/{WEEK}"
    form = {"a-2026-12-01": "cannot", "a-2026-12-01-AM": "prefer"}
    refused = nurse.post(url, data={**form, "csrf_token": csrf_token(nurse, url)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Nothing was saved" in text and "a-2026-12-01-AM" in text and "keep one" in text
    assert "not answered yet" in nurse.get(f"/n/{network_id}/people/S05/availability").get_data(
        as_text=True
    )


def test_after_the_deadline_the_week_is_read_only(db_url: str) -> None:
    app, network_id = seeded_app(db_url, FIXED_TODAY="2026-11-09")
    grace = client_as(app, "clinician")
    url = f"/n/{network_id}/people/{CLINICIAN_STAFF}/availability/{WEEK}"
    page = grace.get(url).get_data(as_text=True)
    assert "The deadline was Sun 08 Nov 2026" in page and "<select" not in page
    late = grace.post(url, data={"any": "yes", "csrf_token": csrf_token(grace, url)})
    assert late.status_code == 400 and "request leave" in late.get_data(as_text=True)


def test_a_clinician_cannot_answer_for_a_colleague(network: tuple[Flask, int]) -> None:
    app, network_id = network
    grace = client_as(app, "clinician")
    url = f"/n/{network_id}/people/S05/availability/{WEEK}"
    assert grace.get(url).status_code == 403
    posted = grace.post(url, data={"any": "yes", "csrf_token": csrf_token(grace)})
    assert posted.status_code == 403


def test_a_manager_sees_who_has_not_answered_and_reminds_them(
    network: tuple[Flask, int],
) -> None:
    app, network_id = network
    nurse = as_nurse(app)
    url = f"/n/{network_id}/people/S05/availability/{WEEK}"
    nurse.post(url, data={"a-2026-12-01": "cannot", "csrf_token": csrf_token(nurse, url)})
    manager = client_as(app, "manager")
    week = f"/n/{network_id}/weeks/{WEEK}"
    assert f"{week}/availability" in manager.get(week).get_data(as_text=True)
    page = manager.get(f"{week}/availability").get_data(as_text=True)
    assert "1 of 8</strong> answered" in page and "Not answered (7)" in page
    assert "1 cannot" in page
    reminded = manager.post(f"{week}/availability/remind", data={"csrf_token": csrf_token(manager)})
    assert reminded.status_code == 302
    again = manager.post(
        f"{week}/availability/remind",
        data={"csrf_token": csrf_token(manager)},
        follow_redirects=True,
    )
    assert "Nobody to remind" in again.get_data(as_text=True)


@pytest.mark.pages_only
def test_a_nurse_says_she_cannot_work_a_day_on_her_phone(
    network: tuple[Flask, int], browser: Browser
) -> None:
    app, network_id = network
    with LiveServer(app) as server:
        phone = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        page = phone.new_page()
        page.goto(f"{server.url}/login")
        page.get_by_label("E-mail").fill(NURSE)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="My availability").click()
        page.screenshot(path=screenshot_path("availability-weeks-phone"), full_page=True)
        assert axe_violations(page) == []
        page.get_by_role("link", name=f"{WEEK}").click()
        tuesday = page.get_by_role("group", name="Tue 01 Dec")
        tuesday.get_by_label("Whole day").select_option("cannot")
        page.screenshot(path=screenshot_path("availability-week-phone"), full_page=True)
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_role("button", name=f"Save {WEEK}").click()
        expect(page.get_by_role("status").first).to_contain_text(f"Thank you: {WEEK} answered")
        phone.close()

        desk = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
        week = desk.new_page()
        week.goto(f"{server.url}/login")
        week.get_by_label("E-mail").fill(ACCOUNTS.manager)
        week.get_by_label("Password").fill(PASSWORD)
        week.get_by_role("button", name="Log in").click()
        week.goto(f"{server.url}/n/{network_id}/weeks/{WEEK}")
        week.get_by_text(f"More for {WEEK}").click()
        week.get_by_role("link", name="Availability").click()
        expect(week.get_by_text("Not answered (7)")).to_be_visible()
        expect(week.get_by_text("1 cannot")).to_be_visible()
        week.screenshot(path=screenshot_path("availability-replies"), full_page=True)
        assert axe_violations(week) == []
        desk.close()
