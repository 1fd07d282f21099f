"""The web app in a real browser: Debian's chromium driven by Playwright.

The walks check pages (``pages_only``): the PostgreSQL pass leaves them to SQLite.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_support import LiveServer, axe_violations, screenshot_path
from tests.web_support import (
    ACCOUNTS,
    CLINICIAN_STAFF,
    PASSWORD,
    TINY,
    publish_planned_week,
    seeded_app,
)

WEEK = "2026-W49"
pytestmark = pytest.mark.pages_only


@pytest.fixture
def live(db_url: str) -> Iterator[tuple[LiveServer, int]]:
    app, network_id = seeded_app(db_url)
    with LiveServer(app) as server:
        yield server, network_id


# Form controls a person fills in, each needing a name a screen reader announces.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => !['hidden', 'submit', 'button'].includes(el.type))
    .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
    .map(el => el.outerHTML)"""


def new_page(browser: Browser, width: int, height: int) -> Page:
    """A page of its own context; bypass_csp lets axe-core in past the app's policy."""
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    return context.new_page()


def assert_accessible(page: Page) -> None:
    """Every control has a label; the page has one main heading and a language; axe-core
    finds no serious or critical violation."""
    assert page.evaluate(UNLABELLED) == []
    assert axe_violations(page) == []
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert page.evaluate("document.documentElement.lang") == "en"


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_login_page_in_a_phone_sized_window(live: tuple[LiveServer, int], browser: Browser) -> None:
    server, _ = live
    page = new_page(browser, 390, 844)
    page.goto(f"{server.url}/")
    expect(page).to_have_url(f"{server.url}/login?next=/?")
    page.get_by_label("E-mail").fill(ACCOUNTS.coordinator)
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    page.screenshot(path=screenshot_path("login-phone"), full_page=True)
    log_in(page, server.url, ACCOUNTS.coordinator)
    expect(page.get_by_role("heading", name="Tiny Test Network")).to_be_visible()
    expect(page.get_by_text("Tiny Test Network")).to_be_visible()


def bundle_zip(tmp: Path) -> Path:
    """The tiny sample network as the .zip a manager would upload."""
    path = tmp / "tiny.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(TINY.iterdir()):
            archive.write(file, file.name)
    return path


def test_import_solve_edit_publish_then_the_clinician_sees_it(
    db_url: str, browser: Browser, tmp_path: Path
) -> None:
    app, network_id = seeded_app(db_url, SOLVE_TIME_LIMIT=10, SOLVE_WORKERS=1)
    week = f"/n/{network_id}/weeks/{WEEK}"
    with LiveServer(app) as server:
        page = new_page(browser, 1280, 900)
        log_in(page, server.url, ACCOUNTS.manager)

        page.goto(f"{server.url}/import")
        page.get_by_label("Bundle file").set_input_files(bundle_zip(tmp_path))
        page.get_by_role("button", name="Check and import").click()
        expect(page.get_by_role("status").first).to_contain_text("Imported")
        page.screenshot(path=screenshot_path("import"), full_page=True)
        assert_accessible(page)

        page.goto(f"{server.url}{week}")
        expect(page.get_by_text(f"No rota exists for {WEEK} yet")).to_be_visible()
        page.get_by_role("button", name=f"Plan {WEEK}").click()
        expect(page.locator('[data-field="state"]')).to_have_text("done", timeout=60_000)
        page.screenshot(path=screenshot_path("solve-done"), full_page=True)

        page.goto(f"{server.url}{week}")
        expect(page.get_by_role("heading", name="Coverage")).to_be_visible()
        page.screenshot(path=screenshot_path("week-overview"), full_page=True)
        assert_accessible(page)
        page.goto(f"{server.url}{week}/grid?by=site")
        page.screenshot(path=screenshot_path("grid-by-site"), full_page=True)
        assert_accessible(page)
        page.goto(f"{server.url}{week}/shortfalls")
        assert_accessible(page)
        page.evaluate("document.body.append(document.createElement('input'))")
        assert len(page.evaluate(UNLABELLED)) == 1  # the check itself finds a bare input

        page.goto(f"{server.url}{week}/edit")
        page.get_by_role("button", name="Pin").first.click()
        expect(page.get_by_role("status").first).to_contain_text("Pinned")
        page.screenshot(path=screenshot_path("edit"), full_page=True)
        assert_accessible(page)
        page.get_by_role("link", name="Publish this draft…").click()
        tick = page.get_by_label("want to publish anyway")
        if tick.count():
            tick.check()
        page.get_by_role("button", name=f"Publish {WEEK}").click()
        expect(page.get_by_text("version 1").first).to_be_visible()
        page.screenshot(path=screenshot_path("versions"), full_page=True)
        page.get_by_role("button", name="Log out").click()

        phone = new_page(browser, 390, 844)
        log_in(phone, server.url, ACCOUNTS.clinician)
        phone.goto(f"{server.url}/n/{network_id}/people/{CLINICIAN_STAFF}?week={WEEK}")
        expect(phone.get_by_role("heading", level=1)).to_contain_text("Grace Rees")
        expect(phone.get_by_text("Mill Lane Surgery").first).to_be_visible()
        expect(phone.get_by_text("draft")).to_have_count(0)
        phone.screenshot(path=screenshot_path("person-phone"), full_page=True)
        assert_accessible(phone)
        no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
        assert phone.evaluate(no_sideways_scroll)


def test_a_coordinator_records_a_sick_day_and_approves_the_repair(
    db_url: str, browser: Browser
) -> None:
    monday = dt.date(2026, 11, 30)
    app, network_id = seeded_app(db_url, FIXED_TODAY=monday, REPAIR_TIME_LIMIT=10)
    published = publish_planned_week(db_url, network_id, WEEK)
    sick = min(a.staff_id for a in published if a.date == monday + dt.timedelta(days=1))
    with LiveServer(app) as server:
        page = new_page(browser, 1024, 900)
        log_in(page, server.url, ACCOUNTS.coordinator)
        page.goto(f"{server.url}/n/{network_id}/weeks/{WEEK}/repair")
        assert_accessible(page)
        page.get_by_label("Person", exact=True).select_option(sick)
        page.get_by_label("First day", exact=True).fill("2026-12-01")
        page.get_by_label("Kind", exact=True).select_option("sick")
        page.get_by_role("button", name="Record the absence").click()
        expect(page.get_by_role("status").first).to_contain_text(f"absence of {sick}")
        page.get_by_role("button", name="Propose a repair").click()
        expect(page.get_by_role("heading", name="Proposed repair")).to_be_visible(timeout=30_000)
        expect(page.locator("tr.diff-removed").first).to_contain_text(sick)
        page.screenshot(path=screenshot_path("repair-review"), full_page=True)
        assert_accessible(page)
        tick = page.get_by_label("want to publish anyway")
        if tick.count():
            tick.check()
        page.get_by_role("button", name="Approve and publish").click()
        expect(page.get_by_text("version 2").first).to_be_visible()


def test_a_clinician_logs_out_of_every_browser_from_their_phone(
    live: tuple[LiveServer, int], browser: Browser
) -> None:
    server, _ = live
    laptop = browser.new_context().new_page()
    log_in(laptop, server.url, ACCOUNTS.clinician)
    phone = new_page(browser, 390, 844)
    log_in(phone, server.url, ACCOUNTS.clinician)
    phone.get_by_role("link", name=f"{ACCOUNTS.clinician} (clinician)").click()
    expect(phone.get_by_role("heading", name="Your account")).to_be_visible()
    expect(phone.get_by_text("this browser")).to_have_count(1)
    expect(phone.locator("ul.logins > li")).to_have_count(2)
    assert_accessible(phone)
    phone.screenshot(path=screenshot_path("account-phone"), full_page=True)
    phone.get_by_role("button", name="Log out everywhere").click()
    expect(phone.get_by_role("status")).to_contain_text("Logged out everywhere: 2 logins ended.")
    laptop.reload()
    expect(laptop).to_have_url(re.compile(r"/login\?next="))
