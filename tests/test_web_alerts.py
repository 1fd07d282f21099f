"""The scheduled jobs' alerts on the week overview, and clearing them.

The alerts are made here with ``alerts.add_alert`` (and once by the real
nightly re-check); ``tests/routine`` tests what raises and clears them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from scheduler.jobs.alerts import REMINDER, SHORTFALL, add_alert, clear_alert
from scheduler.jobs.recheck import run_recheck
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import AuditRecord, WeekAlertRecord
from scheduler.usecases.events import record_absence
from tests.routine.support import CELLS, NOW, S01_AWAY, S01_SHORT, TUE, publish
from tests.web_support import ACCOUNTS, client_as, csrf_token, post, seeded_app

WEEK = "2026-W49"
OTHER_WEEK = "2026-W50"
RAISED = dt.datetime(2026, 11, 24, 2, 30, tzinfo=dt.UTC)
MESSAGE = "Mill Lane Surgery (P01), Tue 1 Dec, Morning surgery (AM): 1 short"
SECTION = re.compile(r'<h2 id="alerts-heading">.*?</section>', re.S)


@dataclass(frozen=True)
class Alerts:
    app: Flask
    engine: Engine
    network_id: int
    open_id: int
    cleared_id: int
    other_week_id: int

    @property
    def page(self) -> str:
        return f"/n/{self.network_id}/weeks/{WEEK}"

    def clear_url(self, alert_id: int, week: str = WEEK) -> str:
        return f"/n/{self.network_id}/weeks/{week}/alerts/{alert_id}/clear"

    def record(self, alert_id: int) -> WeekAlertRecord:
        with session_scope(self.engine) as session:
            found = session.get(WeekAlertRecord, alert_id)
            assert found is not None
            return found


@pytest.fixture
def seeded(db_url: str, engine: Engine) -> Iterator[Alerts]:
    """The tiny network with an open and a cleared alert of WEEK and an open one of OTHER_WEEK."""
    app, network_id = seeded_app(db_url)
    with session_scope(engine) as session:

        def add(week: str, kind: str, message: str) -> int:
            return add_alert(session, network_id, week, kind, message, at=RAISED)

        open_id = add(WEEK, SHORTFALL, MESSAGE)
        cleared_id = add(WEEK, REMINDER, "an old reminder")
        clear_alert(session, network_id, WEEK, cleared_id, actor="t", at=RAISED)
        other = add(OTHER_WEEK, REMINDER, "a reminder of the week after")
    yield Alerts(app, engine, network_id, open_id, cleared_id, other)


def alerts_section(html: str) -> str:
    found = SECTION.search(html)
    return found.group(0) if found else ""


@pytest.mark.parametrize("role", ["manager", "coordinator"])
def test_the_overview_shows_the_weeks_open_alerts_with_their_date(
    seeded: Alerts, role: str
) -> None:
    html = client_as(seeded.app, role).get(seeded.page).get_data(as_text=True)
    section = alerts_section(html)
    assert f"{MESSAGE}." in section
    assert "Raised 2026-11-24 02:30 UTC." in section
    assert f'action="{seeded.clear_url(seeded.open_id)}"' in section
    assert "an old reminder" not in html
    assert "a reminder of the week after" not in html


def test_a_week_without_open_alerts_has_no_alerts_section(seeded: Alerts) -> None:
    page = f"/n/{seeded.network_id}/weeks/2026-W51"
    html = client_as(seeded.app, "manager").get(page).get_data(as_text=True)
    assert alerts_section(html) == ""


def test_a_coordinator_clears_an_alert_and_it_is_audited(seeded: Alerts) -> None:
    client = client_as(seeded.app, "coordinator")
    response = post(client, seeded.clear_url(seeded.open_id))
    assert response.status_code == 302
    assert response.headers["Location"] == seeded.page
    assert seeded.record(seeded.open_id).cleared_at is not None
    html = client.get(seeded.page).get_data(as_text=True)
    assert "Alert cleared." in html
    assert MESSAGE not in html
    with session_scope(seeded.engine) as session:
        entry = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert entry is not None
    assert (entry.actor, entry.action) == (ACCOUNTS.coordinator, "alert cleared")
    assert entry.subject == f"{WEEK} alert {seeded.open_id}"
    assert MESSAGE not in str(entry.before) + str(entry.after)


def test_clearing_an_alert_twice_says_so_and_changes_nothing(seeded: Alerts) -> None:
    client = client_as(seeded.app, "manager")
    before = seeded.record(seeded.cleared_id).cleared_at
    response = post(client, seeded.clear_url(seeded.cleared_id), follow_redirects=True)
    assert "That alert had already been cleared." in response.get_data(as_text=True)
    assert seeded.record(seeded.cleared_id).cleared_at == before


def test_an_alert_is_cleared_only_from_its_own_week(seeded: Alerts) -> None:
    client = client_as(seeded.app, "manager")
    assert post(client, seeded.clear_url(seeded.other_week_id)).status_code == 404
    assert post(client, seeded.clear_url(9999)).status_code == 404
    assert seeded.record(seeded.other_week_id).cleared_at is None


@pytest.mark.parametrize("role", ["practice", "clinician"])
def test_only_managers_and_coordinators_clear_alerts(seeded: Alerts, role: str) -> None:
    client = client_as(seeded.app, role)
    assert post(client, seeded.clear_url(seeded.open_id)).status_code == 403
    assert seeded.record(seeded.open_id).cleared_at is None


def test_clearing_needs_the_pages_csrf_token(seeded: Alerts) -> None:
    client = client_as(seeded.app, "manager")
    assert client.post(seeded.clear_url(seeded.open_id)).status_code == 400
    bad = {"csrf_token": csrf_token(client) + "x"}
    assert client.post(seeded.clear_url(seeded.open_id), data=bad).status_code == 400
    assert seeded.record(seeded.open_id).cleared_at is None


def test_the_nightly_recheck_alert_reaches_the_overview_without_the_leave_kind(
    seeded: Alerts,
) -> None:
    publish(seeded.engine, seeded.network_id, WEEK, CELLS)
    with session_scope(seeded.engine) as session:
        bundle = current_bundle(session, seeded.network_id)
        form = {"start": TUE.isoformat(), "kind": "sick", "reason": "flu"}
        record_absence(session, seeded.network_id, bundle, staff_id="S01", form=form, actor="t")
    with session_scope(seeded.engine) as session:
        run_recheck(session, seeded.network_id, NOW, {})
    html = client_as(seeded.app, "coordinator").get(seeded.page).get_data(as_text=True)
    section = alerts_section(html)
    assert f"{S01_AWAY}." in section and f"{S01_SHORT}." in section
    assert "sick" not in section.lower() and "flu" not in section.lower()


def test_a_reminder_leaves_the_overview_as_soon_as_the_week_is_published(
    seeded: Alerts,
) -> None:
    with session_scope(seeded.engine) as session:
        reminder = add_alert(session, seeded.network_id, WEEK, REMINDER, "publish it", at=RAISED)
    client = client_as(seeded.app, "manager")
    assert "publish it." in alerts_section(client.get(seeded.page).get_data(as_text=True))
    publish(seeded.engine, seeded.network_id, WEEK, CELLS)
    section = alerts_section(client.get(seeded.page).get_data(as_text=True))
    assert "publish it." not in section
    assert f"{MESSAGE}." in section  # a problem of the published week stays
    assert seeded.record(reminder).cleared_at is None  # until the next reminder run
