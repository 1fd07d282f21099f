"""The home page: the weeks ahead with their next step, and what waits, counted."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from scheduler.storage.db import make_engine, session_scope
from scheduler.usecases.requests import request_cover, request_leave
from scheduler.views.home import inbox, waiting_total
from tests.web_support import (
    ACCOUNTS,
    CLINICIAN_STAFF,
    PRACTICE_SITE,
    client_as,
    publish_planned_week,
    save_week,
    seeded_app,
)

MONDAY = dt.date(2026, 11, 30)
WEEK = "2026-W49"


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    """The tiny network on Monday of WEEK: WEEK published, a draft of the next week, one
    leave request and one cover request waiting."""
    app, network_id = seeded_app(db_url, FIXED_TODAY=MONDAY)
    publish_planned_week(db_url, network_id, WEEK)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, "2026-W50", [], state="draft")
        day = MONDAY.isoformat()
        request_leave(
            db, network_id, CLINICIAN_STAFF, {"start": day, "end": day, "kind": "annual"}, "t"
        )
        cover = {"date": day, "session_id": "PM", "role": "GP", "people": "1"}
        request_cover(db, network_id, PRACTICE_SITE, cover, ACCOUNTS.practice)
    engine.dispose()
    yield app


def test_a_manager_sees_each_week_ahead_with_its_next_step(app: Flask) -> None:
    page = client_as(app, "manager").get("/").get_data(as_text=True)
    rows = re.findall(r'<tr>\s*<th scope="row"><a href="[^"]+">(\d{4}-W\d\d)</a>', page)
    assert rows == ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53", "2027-W01"]
    assert "Review the draft" in page  # W50 has a draft
    assert "Plan 2026-W51" in page  # nothing yet
    assert "Leave requests</a>: 1 to decide" in page
    assert "Cover requests</a> from practices: 1 to decide" in page
    badge = re.search(r'<span class="count-badge" title="Things waiting for you">(\d+)', page)
    assert badge is not None and badge.group(1) == "2"


def test_a_practice_sees_its_own_short_sessions_only(app: Flask) -> None:
    page = client_as(app, "practice").get("/").get_data(as_text=True)
    assert "Your short sessions" in page and "2026-W49" in page
    assert "Waiting for you" not in page and "count-badge" not in page  # staff only
    assert "Ask the network for cover" in page


def test_a_clinician_starts_on_their_own_page(app: Flask) -> None:
    response = client_as(app, "clinician").get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{CLINICIAN_STAFF}")


def test_the_glossary_is_there_for_everyone(app: Flask) -> None:
    for role in ("manager", "clinician"):
        page = client_as(app, role).get("/help/glossary").get_data(as_text=True)
        assert "Minimum" in page and "Enhanced access" in page


def test_the_navigations_count_is_the_inboxs_total_in_one_network_and_in_all(
    app: Flask, db_url: str
) -> None:
    engine = make_engine(db_url)
    moment = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)
    try:
        with session_scope(engine) as db:
            network_id = 1
            total = inbox(db, network_id, moment).total
            assert total == 2  # one leave request, one cover request
            assert waiting_total(db, network_id, moment) == total
            assert waiting_total(db, None, moment) == total  # the only network
            assert waiting_total(db, network_id + 1, moment) == 0
    finally:
        engine.dispose()
