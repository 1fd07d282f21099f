"""Every page of every role, checked by axe-core in Debian's chromium: no serious or critical
accessibility violation.

The pages are the ones the crawl (tests/test_web_crawl.py) reaches by clicking from the home
page, one address per page, opened in the browser as that role at 1366x900.
"""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser

from tests.browser_support import LiveServer, axe_violations
from tests.test_web_crawl import NOT_CLICKED, crawl, network  # noqa: F401 - the fixture
from tests.test_web_routes import ALLOWED, OPEN, ROLES
from tests.web_support import ACCOUNTS, PASSWORD, client_as

pytestmark = pytest.mark.pages_only


def html_pages(app: Flask, role: str) -> dict[str, str]:
    """One address of each HTML page the role reaches by clicking, by endpoint."""
    client = client_as(app, role)
    wanted = {
        endpoint
        for (endpoint, method), allowed in ALLOWED.items()
        if method == "GET" and role in allowed and OPEN not in allowed
    } - NOT_CLICKED
    reached = crawl(client, app.url_map.bind("localhost"), wanted)
    return {
        endpoint: url
        for endpoint, url in sorted(reached.items())
        if client.get(url, follow_redirects=True).mimetype == "text/html"
    }


@pytest.mark.parametrize("role", ROLES)
def test_no_page_of_a_role_has_a_serious_accessibility_violation(
    network: Flask,  # noqa: F811 - the crawl's fixture
    browser: Browser,
    role: str,
) -> None:
    pages = html_pages(network, role)
    assert len(pages) >= 3, pages  # the crawl found the role's pages
    found: dict[str, list[str]] = {}
    with LiveServer(network) as server:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.get_by_label("E-mail").fill(getattr(ACCOUNTS, role))
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server.url}/**")
        for endpoint, url in pages.items():
            page.goto(f"{server.url}{url}")
            violations = axe_violations(page)
            if violations:
                found[f"{endpoint} {url}"] = violations
        context.close()
    assert found == {}
