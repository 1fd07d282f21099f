"""The board on paper (Debian's chromium, Playwright's PDF output, A4 landscape): one day of
the whole sample network on one page, one site's week on one page (and the sample
network's whole week, nine sites, too).

The PDFs go to tests/artifacts/ (print-*.pdf): look at them after a change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from scheduler.domain import Assignment, parse_iso_week
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.repository import bundle_with_leave
from scheduler.usecases.accounts import add_user
from scheduler.usecases.importing import import_bundle
from tests.browser_support import ARTIFACTS, LiveServer
from tests.web_support import ACCOUNTS, PASSWORD, disposed_after_test, save_week
from web import create_app

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "riverside"
WEEK = "2026-W49"
PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")

pytestmark = pytest.mark.pages_only


def sample_network_with_a_draft(db_url: str) -> int:
    """The sample network with a draft that puts everyone at their home site every weekday
    morning (the printout is about layout: a full board, not a good rota)."""
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, SAMPLE)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            add_user(db, ACCOUNTS.manager, PASSWORD, "manager", network_id=network_id)
            bundle = bundle_with_leave(db, network_id)
            cells = [
                Assignment(day, "AM", person.home_site, person.staff_id)
                for day in parse_iso_week(WEEK)[:5]
                for person in bundle.staff
            ]
            save_week(db, network_id, WEEK, cells)
    finally:
        engine.dispose()
    return network_id


def pages_printed(browser: Browser, base: str, path: str, name: str) -> int:
    """Sign in, open ``path`` and print it to A4 landscape; the number of pages."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(ACCOUNTS.manager)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}{path}")
    pdf = page.pdf(format="A4", landscape=True, print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"print-{name}.pdf").write_bytes(pdf)
    page.close()
    return len(PAGE.findall(pdf))


def test_a_day_of_the_network_and_a_sites_week_each_print_on_one_page(
    db_url: str, browser: Browser
) -> None:
    network_id = sample_network_with_a_draft(db_url)
    app = disposed_after_test(create_app({"TESTING": True, "DATABASE_URL": db_url}))
    board = f"/n/{network_id}/weeks/{WEEK}/board"
    with LiveServer(app) as server:
        whole_week = pages_printed(browser, server.url, board, "whole-week")
        people = pages_printed(browser, server.url, f"{board}?view=people", "people")
        one_day = pages_printed(browser, server.url, f"{board}?one_day=1&day=0", "one-day")
        one_site = pages_printed(browser, server.url, f"{board}?site=P01", "one-site")
    assert (one_day, one_site, whole_week) == (1, 1, 1)  # nine sites' week fits one page too
    assert people > 1  # the count is real: 72 people by days take more than a page
