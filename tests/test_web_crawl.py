"""Every page can be reached by clicking from the home page, for each role.

A crawl follows the links of each page it opens, from ``/``, as a person would
(only GET links on this site), and fails naming each page of the role that no
link leads to.  A page type is opened a few times at most, whatever its
arguments, so the crawl stays small.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urldefrag, urlencode, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from scheduler.jobs.records import create_job
from scheduler.storage.db import make_engine, session_scope
from tests.test_web_routes import ALLOWED, OPEN, ROLES
from tests.web_support import client_as, publish_planned_week, save_week, seeded_app

WEEK = "2026-W49"
MONDAY = dt.date(2026, 11, 30)

VISITS_PER_PAGE_TYPE = 2
VIEW_ARGUMENTS = ("view", "by")  # arguments that show another page at the same address
MAX_PAGES = 250
# Not pages a person clicks to: the load balancer's check, the files pages load, the login
# form (reached by logging out), a calendar feed (subscribed to by its link, not opened) and
# the state of a solve (read by the job page's script).
NOT_CLICKED = {"views.healthz", "static", "auth.login", "feeds.feed", "rota.job_status"}


class Links(HTMLParser):
    """What a click on the page can open: links, htmx requests and GET forms as filled in."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.form: tuple[str, dict[str, str]] | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.found.append(a["href"])
        if a.get("hx-get"):
            self.found.append(a["hx-get"])
        if tag == "form" and a.get("method", "get").lower() == "get":
            self.form = (a.get("action", ""), {})
        elif self.form is not None and tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.form[1].setdefault(a["name"], a.get("value", ""))
        elif self.form is not None and tag == "select":
            self.select = a.get("name")
        elif self.form is not None and tag == "option" and self.select:
            chosen = "selected" in a or self.select not in self.form[1]
            self.form[1][self.select] = a.get("value", "") if chosen else self.form[1][self.select]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        if tag == "form" and self.form is not None:
            action, fields = self.form
            self.found.append(f"{action}?{urlencode(fields)}")
            self.form = None


def kind(page: tuple[str, str]) -> str:
    """A kind of page: its endpoint and the names of its arguments (``board.board?cell_date``)."""
    endpoint, url = page
    query = parse_qs(urlsplit(url).query)
    views = [f"{k}={query[k][0]}" for k in VIEW_ARGUMENTS if k in query]  # other pages, really
    return endpoint + "?" + ",".join(sorted(query)) + ";" + ",".join(views)


def crawl(client: FlaskClient, adapter: MapAdapter, wanted: set[str]) -> dict[str, str]:
    """The endpoints reached by following what a person can click, from ``/``, each with the
    first address that opened it (redirects followed).

    The next page opened is always one of a kind opened least so far, so every
    kind of page is tried before any is tried again. It stops once every page of ``wanted``
    has been reached.
    """
    seen_urls: set[str] = set()
    reached: dict[str, str] = {}
    visits: Counter[str] = Counter()
    todo: list[tuple[str, str]] = [("views.index", "/")]
    while todo and sum(visits.values()) < MAX_PAGES and not wanted <= reached.keys():
        best = min(range(len(todo)), key=lambda i: (visits[todo[i][0]], visits[kind(todo[i])]))
        endpoint, url = todo.pop(best)
        if url in seen_urls or visits[kind((endpoint, url))] >= VISITS_PER_PAGE_TYPE:
            continue
        seen_urls.add(url)
        visits[endpoint] += 1
        visits[kind((endpoint, url))] += 1
        response = client.get(url, follow_redirects=True)
        if response.status_code != 200:
            continue
        reached.setdefault(endpoint, url)
        if response.mimetype != "text/html":
            continue
        parser = Links()
        parser.feed(response.get_data(as_text=True))
        for href in parser.found:
            target = urlsplit(urldefrag(urljoin(url, href))[0])
            if target.netloc not in ("", "localhost"):
                continue
            try:
                found, _ = adapter.match(target.path, method="GET")
            except HTTPException:
                continue
            todo.append((found, target._replace(scheme="", netloc="").geturl()))
    return reached


@pytest.fixture
def network(db_url: str) -> Iterator[Flask]:
    """The tiny network on Monday of WEEK: version 1 published and a draft made from it, and
    next week's solve queued, so every kind of page has something to show (versions to
    compare, recharges to download, a solve to follow)."""
    app, network_id = seeded_app(db_url, FIXED_TODAY=MONDAY)
    published = publish_planned_week(db_url, network_id, WEEK)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, sorted(published)[1:])
        create_job(db, network_id, "2026-W50", weeks=1, keep_pins=False, actor="t")
    engine.dispose()
    yield app


@pytest.mark.pages_only
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_is_reached_by_clicking_from_home(network: Flask, role: str) -> None:
    pages = {
        endpoint
        for (endpoint, method), allowed in ALLOWED.items()
        if method == "GET" and role in allowed and OPEN not in allowed
    } - NOT_CLICKED
    reached = crawl(client_as(network, role), network.url_map.bind("localhost"), pages)
    missing = sorted(pages - reached.keys())
    assert missing == [], ", ".join(missing)
