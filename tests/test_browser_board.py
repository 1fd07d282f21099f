"""The week board in a real browser (Debian's chromium): the manager's whole flow at
1366x900, then the same board on a 390x844 phone; axe-core on every page on the way.

Screenshots go to tests/artifacts/ (board-*.png): look at them after a change.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from scheduler.storage.db import make_engine, session_scope
from scheduler.usecases.requests import request_leave
from tests.browser_support import LiveServer, axe_violations, screenshot_path
from tests.web_support import ACCOUNTS, CLINICIAN_STAFF, PASSWORD, seeded_app

WEEK = "2026-W49"
MONDAY = dt.date(2026, 11, 30)
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def page_of(browser: Browser, width: int, height: int) -> Page:
    # bypass_csp: axe-core is injected into the page, which the app's policy would refuse.
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    return context.new_page()


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def looked_at(page: Page, name: str) -> None:
    """Screenshot the page and check it with axe-core: no serious or critical violation."""
    page.screenshot(path=screenshot_path(name))
    assert axe_violations(page) == [], name


@pytest.mark.pages_only
def test_plan_fix_a_cell_drag_a_move_and_publish_from_the_board(
    db_url: str, browser: Browser
) -> None:
    app, network_id = seeded_app(db_url, SOLVE_TIME_LIMIT=10, SOLVE_WORKERS=1, FIXED_TODAY=MONDAY)
    engine = make_engine(db_url)
    with session_scope(engine) as db:  # something waiting for the manager
        day = {"start": "2026-12-09", "end": "2026-12-09", "kind": "annual"}
        request_leave(db, network_id, CLINICIAN_STAFF, day, ACCOUNTS.clinician)
    engine.dispose()
    with LiveServer(app) as server:
        page = page_of(browser, 1366, 900)
        log_in(page, server.url, ACCOUNTS.manager)
        # Home: the weeks ahead, each with its next step; planning is one click; the count
        # of what waits is in the navigation on every page.
        expect(page.get_by_role("heading", name="The weeks ahead")).to_be_visible()
        expect(page.locator('header [title="Things waiting for you"]')).to_have_text("1 waiting")
        looked_at(page, "board-home")
        page.get_by_role("button", name=f"Plan {WEEK}").click()
        expect(page.locator('[data-field="state"]')).to_have_text("done", timeout=60_000)
        expect(page.get_by_text("the best possible rota is proven")).to_be_visible()
        page.get_by_role("link", name=f"Open the draft of {WEEK} on the board").click()

        # The board: the whole week in the width of the screen, the headers stay put.
        expect(page.get_by_role("heading", name=f"Week {WEEK}")).to_be_visible()
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        header = page.locator("table.board thead th").first
        assert header.evaluate("th => getComputedStyle(th).position") == "sticky"
        looked_at(page, "board-desktop")

        fix_a_cell(page)
        drag_a_move(page)
        publish(page)
        on_a_phone(browser, server.url, network_id)


def fix_a_cell(page: Page) -> None:
    """A cell's panel: remove someone, then add whoever the panel offers first."""
    cell = page.locator(f'td[data-site="P01"][data-date="{MONDAY}"][data-session="AM"] a')
    cell.click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("P01")
    looked_at(page, "board-panel")
    panel.get_by_role("button", name="Remove").first.click()
    expect(panel.get_by_role("status")).to_contain_text("removed from P01 AM")
    expect(page.locator("#board-status")).to_contain_text("revision 1")
    panel.locator("ol.offers button").first.click()
    expect(panel.get_by_role("status")).to_contain_text("added to P01 AM")
    expect(page.locator("#board-status")).to_contain_text("revision 2")


def drag_a_move(page: Page) -> None:
    """Drag someone to a cell the panel's move list says they may go to."""
    panel = page.locator("#panel")
    panel.get_by_role("link", name="Move…").first.click()
    choice = panel.locator(".move-choices button").first
    expect(choice).to_be_visible()
    site, day, session = choice.inner_text().split(" ")
    weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].index(day)
    target = page.locator(
        f'td[data-site="{site}"][data-date="{MONDAY + dt.timedelta(days=weekday)}"]'
        f'[data-session="{session}"]'
    )
    panel.locator("li[data-move]").first.drag_to(target)
    expect(panel.get_by_role("status")).to_contain_text("moved to")
    expect(page.locator("#board-status")).to_contain_text("revision 3")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


def publish(page: Page) -> None:
    """Publish: the check first, then the tick if anyone is short, then version 1."""
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_role("heading", name="Before you publish")).to_be_visible()
    looked_at(page, "board-publish-check")
    tick = page.get_by_label("want to publish anyway")
    if tick.count():
        tick.check()
    page.get_by_role("button", name=f"Publish {WEEK}").click()
    expect(page.get_by_text("version 1").first).to_be_visible()


def on_a_phone(browser: Browser, base: str, network_id: int) -> None:
    """The same board on a phone: one day at a time, and the panel over the page."""
    phone = page_of(browser, 390, 844)
    log_in(phone, base, ACCOUNTS.coordinator)
    phone.goto(f"{base}/n/{network_id}/weeks/{WEEK}/board?day=0")
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    expect(phone.locator("table.board thead th.dcol-0")).to_be_visible()
    expect(phone.locator("table.board thead th.dcol-1")).to_be_hidden()
    looked_at(phone, "board-phone")
    phone.locator("td.dcol-0 a.bc-link").first.click()
    expect(phone.locator("#panel h2")).to_be_visible()
    assert phone.locator("#panel").evaluate("p => p.getBoundingClientRect().width") >= 380
    looked_at(phone, "board-phone-panel")
