"""The sample network on SQLite, served by waitress over real HTTP, while a solve runs in
the same process: logins, page views, edits and calendar requests from several browsers
at once all get an answer, and none is a 5xx.

The requests go on until the solve has finished and at least 50 have been made, so the
solve's writes (progress, then the draft) meet the requests' writes however fast either is.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import waitress.server
from flask import Flask
from sqlalchemy import select

from scheduler.storage.db import make_engine, reading, session_scope
from scheduler.storage.models.app import SolveJobRecord
from scheduler.usecases.accounts import add_user
from scheduler.usecases.feeds import issue_token
from scheduler.usecases.importing import import_bundle
from web import create_app

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "riverside"
WEEK = "2026-W52"
PASSWORD = "a long enough password"
SECRET = "concurrency-test-secret-" + "x" * 40
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
FINISHED = ("done", "failed", "cancelled")
AT_LEAST = 50
BROWSERS = 8


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: object, **__: object) -> None:
        return None


@dataclass
class Browser:
    """One person's browser: its own cookies, its own CSRF token."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        handler = urllib.request.HTTPCookieProcessor(self.jar)
        self.opener = urllib.request.build_opener(handler, NoRedirect)

    def call(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def post(self, path: str, form: dict[str, str], page: str = "/login") -> int:
        _, html = self.call(page)
        match = TOKEN.search(html)
        token = match.group(1) if match else ""
        return self.call(path, {**form, "csrf_token": token})[0]

    def login(self, email: str) -> int:
        return self.post("/login", {"email": email, "password": PASSWORD})


@dataclass(frozen=True)
class Served:
    app: Flask
    url: str
    network_id: int
    feed: str  # the hub feed's path


@pytest.fixture
def served(sqlite_url: str) -> Iterator[Served]:
    network_id, _ = import_bundle(sqlite_url, SAMPLE)
    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine) as db:
            add_user(db, "manager@x.test", PASSWORD, "manager", network_id=network_id)
            add_user(db, "coordinator@x.test", PASSWORD, "coordinator", network_id=network_id)
            token = issue_token(db, network_id, "hub", "", SECRET)
    finally:
        engine.dispose()
    app = create_app(
        {"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": SECRET, "SOLVE_TIME_LIMIT": 3}
    )
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Served(
            app, f"http://127.0.0.1:{server.effective_port}", network_id, f"/feeds/{token}.ics"
        )
    finally:
        server.close()
        thread.join(timeout=10)
        from web.db import dispose

        dispose(app)


def job_state(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with reading(engine) as db:
            return db.scalar(select(SolveJobRecord.state).order_by(SolveJobRecord.id.desc()))
    finally:
        engine.dispose()


def mixed_requests(served: Served, number: int) -> list[Callable[[], int]]:
    """Logins, pages, edits and feeds, by several people, in a fixed order."""
    week = f"/n/{served.network_id}/weeks/{WEEK}"
    manager = Browser(served.url)
    coordinator = Browser(served.url)
    assert manager.login("manager@x.test") == 302
    assert coordinator.login("coordinator@x.test") == 302
    people = itertools.cycle(["S0001", "S0002", "S0003", "S0004"])
    kinds: list[Callable[[], int]] = [
        lambda: Browser(served.url).login("coordinator@x.test"),
        lambda: manager.call(week)[0],
        lambda: manager.post(f"/n/{served.network_id}/people/{next(people)}/feed", {}, page="/"),
        lambda: Browser(served.url).call(served.feed)[0],
        lambda: coordinator.post(
            f"{week}/absences",
            {"staff_id": next(people), "start": "2026-12-22", "end": "", "kind": "annual"},
            page="/",
        ),
        lambda: Browser(served.url).login("nobody@x.test"),
        lambda: coordinator.call("/")[0],
        lambda: Browser(served.url).call("/healthz")[0],
    ]
    return [kinds[i % len(kinds)] for i in range(number)]


def test_a_solve_and_fifty_mixed_requests_get_no_server_error(
    served: Served, sqlite_url: str
) -> None:
    starter = Browser(served.url)
    assert starter.login("manager@x.test") == 302
    assert starter.post(f"/n/{served.network_id}/weeks/{WEEK}/solve", {}, page="/") == 302
    answers: list[int] = []
    during_solve = 0
    lock = threading.Lock()

    def browse(requests: list[Callable[[], int]]) -> None:
        nonlocal during_solve
        for request in requests:
            solving = job_state(sqlite_url) not in FINISHED
            status = request()
            with lock:
                answers.append(status)
                during_solve += solving

    while job_state(sqlite_url) not in FINISHED or len(answers) < AT_LEAST:
        batch = mixed_requests(served, 16)
        browsers = [
            threading.Thread(target=browse, args=(batch[i::BROWSERS],)) for i in range(BROWSERS)
        ]
        for thread in browsers:
            thread.start()
        for thread in browsers:
            thread.join(timeout=120)
    assert len(answers) >= AT_LEAST
    assert during_solve > 0
    assert [status for status in answers if status >= 500] == []
    assert job_state(sqlite_url) == "done"
