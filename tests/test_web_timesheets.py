"""Timesheets over HTTP: a coordinator confirms a day and corrects a session, the payroll
report and its downloads, a clinician flags their own entry (on a phone, in chromium) and
may not touch anyone else's."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from scheduler.domain import Assignment
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.pool import InboxRecord, TimesheetRecord
from tests.browser_support import LiveServer, axe_violations, screenshot_path
from tests.web_support import ACCOUNTS, PASSWORD, client_as, csrf_token, save_week, seeded_app

WEEK = "2026-W49"
TUE = dt.date(2026, 12, 1)
PLANNED = [
    Assignment(TUE, "AM", "P01", "S01"),  # Grace Rees, the clinician account
    Assignment(TUE, "EVE", "HUB1", "S01"),
    Assignment(TUE, "AM", "P02", "S02"),  # Imran Shah
]


@pytest.fixture
def network(db_url: str) -> Iterator[tuple[Flask, int, str]]:
    """The tiny network with WEEK published as PLANNED; today is Thursday 3 December."""
    app, network_id = seeded_app(db_url, FIXED_TODAY="2026-12-03")
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, PLANNED, state="published")
    engine.dispose()
    yield app, network_id, db_url


def rows(db_url: str) -> dict[tuple[str, str], TimesheetRecord]:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            found = db.scalars(select(TimesheetRecord)).all()
            db.expunge_all()
    finally:
        engine.dispose()
    return {(r.staff_id, r.session_id): r for r in found}


def test_a_coordinator_confirms_a_day_and_a_bad_correction_names_the_field(
    network: tuple[Flask, int, str],
) -> None:
    app, network_id, db_url = network
    client = client_as(app, "coordinator")
    page = client.get(f"/n/{network_id}/timesheets?date=2026-12-01").get_data(as_text=True)
    assert "Confirm all 3 as planned" in page and "Mill Lane Surgery" in page
    bad = {"date": "2026-12-01", "staff_id": "S02", "session_id": "AM", "site_id": "P02",
           "outcome": "changed", "start": "09:00", "end": "08:00"}  # fmt: skip
    refused = client.post(
        f"/n/{network_id}/timesheets/correct", data={**bad, "csrf_token": csrf_token(client)}
    )
    assert refused.status_code == 400
    assert "end: 08:00 is not after the start 09:00" in refused.get_data(as_text=True)
    assert rows(db_url) == {}
    good = {**bad, "end": "11:00", "csrf_token": csrf_token(client)}
    assert client.post(f"/n/{network_id}/timesheets/correct", data=good).status_code == 302
    everything = {"date": "2026-12-01", "all": "1", "csrf_token": csrf_token(client)}
    assert client.post(f"/n/{network_id}/timesheets/confirm", data=everything).status_code == 302
    found = rows(db_url)
    assert {k: (r.outcome, r.start, r.end) for k, r in found.items()} == {
        ("S01", "AM"): ("worked", None, None),
        ("S01", "EVE"): ("worked", None, None),
        ("S02", "AM"): ("changed", "09:00", "11:00"),
    }
    assert all(r.confirmed_by == ACCOUNTS.coordinator for r in found.values())


def test_the_report_page_and_its_downloads_count_the_actuals(
    network: tuple[Flask, int, str],
) -> None:
    app, network_id, _ = network
    client = client_as(app, "manager")
    form = {"date": "2026-12-01", "staff_id": "S02", "session_id": "AM", "site_id": "P02",
            "outcome": "not_worked", "csrf_token": csrf_token(client)}  # fmt: skip
    assert client.post(f"/n/{network_id}/timesheets/correct", data=form).status_code == 302
    page = client.get(f"/n/{network_id}/reports/timesheets?month=2026-12").get_data(as_text=True)
    assert "Employed staff" in page and "Bank staff" in page and "Grace Rees" in page
    assert "Imran Shah" not in page  # not worked: in no figure
    assert "0 of 2</strong> sessions counted are confirmed" in page
    download = client.get(f"/n/{network_id}/reports/timesheets/timesheets.csv?month=2026-12")
    lines = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [(r["staff_id"], r["site"], r["hours"]) for r in lines] == [
        ("S01", "HUB1", "1.50"),
        ("S01", "P01", "4.50"),
    ]
    assert client.get(f"/n/{network_id}/reports/timesheets?month=Dec").status_code == 400
    ledger = client.get(f"/n/{network_id}/reports/recharges?week={WEEK}").get_data(as_text=True)
    assert "1 session(s) counted from confirmed actuals, 2 as planned" in ledger


def test_a_clinician_flags_only_their_own_entries(network: tuple[Flask, int, str]) -> None:
    app, network_id, db_url = network
    grace = client_as(app, "clinician")
    assert grace.get(f"/n/{network_id}/people/S02/timesheet").status_code == 403
    theirs = {
        "date": "2026-12-01",
        "session_id": "AM",
        "note": "x",
        "csrf_token": csrf_token(grace),
    }
    assert grace.post(f"/n/{network_id}/people/S02/timesheet/flag", data=theirs).status_code == 403
    assert grace.post(f"/n/{network_id}/timesheets/confirm", data=theirs).status_code == 403
    empty = {**theirs, "note": ""}
    refused = grace.post(f"/n/{network_id}/people/S01/timesheet/flag", data=empty)
    assert refused.status_code == 400 and "note: say in a few words" in refused.get_data(
        as_text=True
    )
    mine = {**theirs, "note": "I left at 11:00"}
    assert grace.post(f"/n/{network_id}/people/S01/timesheet/flag", data=mine).status_code == 302
    found = rows(db_url)
    assert list(found) == [("S01", "AM")] and found[("S01", "AM")].flag_note == "I left at 11:00"
    coordinator = client_as(app, "coordinator")
    page = coordinator.get(f"/n/{network_id}/timesheets?date=2026-12-01").get_data(as_text=True)
    assert page.index("Flagged by the person (1)") < page.index('id="site-HUB1"')


@pytest.mark.pages_only
def test_a_coordinator_confirms_a_day_and_a_clinician_flags_on_a_phone(
    network: tuple[Flask, int, str], browser: Browser
) -> None:
    app, network_id, db_url = network
    with LiveServer(app) as server:
        desk = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
        page = desk.new_page()
        page.goto(f"{server.url}/login")
        page.get_by_label("E-mail").fill(ACCOUNTS.coordinator)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{server.url}/n/{network_id}/reports/recharges?week={WEEK}")
        page.get_by_text(f"More for {WEEK}").click()
        page.get_by_role("link", name="Timesheets to confirm").click()
        page.get_by_role("link", name="Tue 01").click()
        expect(
            page.get_by_role("heading", name="Timesheets: Tuesday 01 December 2026")
        ).to_be_visible()
        page.get_by_text("Correct Imran Shah, AM").click()
        card = page.locator("#ts-S02-AM")
        card.get_by_label("Worked, different times").check()
        card.get_by_label("Start (if different)").fill("09:00")
        card.get_by_label("End").fill("11:30")
        card.get_by_role("button", name="Save correction").click()
        expect(page.get_by_role("status").first).to_contain_text("Saved the correction for S02")
        page.get_by_role("button", name="Confirm all 2 as planned").click()
        expect(page.get_by_role("status").first).to_contain_text("Confirmed 2 sessions")
        expect(page.locator("#ts-S02-AM")).to_contain_text("Confirmed: worked 09:00-11:30")
        page.screenshot(path=screenshot_path("timesheets-day"), full_page=True)
        assert axe_violations(page) == []
        desk.close()
        phone = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        page = phone.new_page()
        page.goto(f"{server.url}/login")
        page.get_by_label("E-mail").fill(ACCOUNTS.clinician)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Your timesheet").click()
        page.get_by_text("Something wrong? Tue 01 Dec EVE").click()
        page.get_by_label("What really happened? Tue 01 Dec EVE").fill("I stayed until 20:30")
        page.get_by_role("button", name="Flag it").click()
        expect(page.get_by_role("status").first).to_contain_text("Flagged")
        expect(page.get_by_text("You flagged it: I stayed until 20:30")).to_be_visible()
        page.screenshot(path=screenshot_path("timesheets-phone"), full_page=True)
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        phone.close()
    assert rows(db_url)[("S01", "EVE")].flagged_at is not None
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        told = db.scalars(select(InboxRecord).where(InboxRecord.staff_id == "S02")).all()
    engine.dispose()
    assert [t.kind for t in told] == ["timesheet"]
