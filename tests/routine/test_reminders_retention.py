"""Reminders of unpublished weeks, and retention of old records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select

from scheduler.jobs.alerts import ACTOR, REMINDER
from scheduler.jobs.reminders import reminder_weeks, run_reminder
from scheduler.jobs.retention import run_retention
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import (
    AuditRecord,
)
from scheduler.usecases.publishing import publish_week
from tests.routine.support import (
    CELLS,
    NOW,
    WEEK,
    add_rows,
    alerts,
    counts,
    open_messages,
    run,
    set_jobs,
)
from tests.test_notices import Inbox
from tests.web_support import ACCOUNTS, save_week

# -- reminder --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "days", "weeks"),
    [
        (dt.date(2026, 11, 23), 14, ["2026-W48", "2026-W49", "2026-W50"]),
        (dt.date(2026, 11, 24), 13, ["2026-W48", "2026-W49", "2026-W50"]),
        (dt.date(2026, 11, 24), 12, ["2026-W48", "2026-W49"]),
        (dt.date(2026, 11, 29), 0, ["2026-W48"]),
    ],
)
def test_reminders_cover_this_week_and_the_weeks_starting_within_the_days(
    today: dt.date, days: int, weeks: list[str]
) -> None:
    assert reminder_weeks(today, days) == weeks


def test_reminders_follow_the_networks_reminder_days(engine: Engine, tiny: int) -> None:
    set_jobs(engine, tiny, reminder_days=6)
    summary = run(engine, run_reminder, tiny)
    assert summary.startswith("1 new reminder (2026-W48), 0 reminders cleared; ")


def test_reminders_name_unpublished_weeks_once_and_clear_when_published(
    engine: Engine, tiny: int, mail: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, config = mail
    with session_scope(engine) as session:
        save_week(session, tiny, WEEK, CELLS)  # a draft
        save_week(session, tiny, "2026-W50", [], state="published")
    summary = run(engine, run_reminder, tiny, config=config)
    assert summary == (
        "2 new reminders (2026-W48, 2026-W49), 0 reminders cleared; "
        "e-mail to 2 people sent after commit"
    )
    assert open_messages(engine, tiny, REMINDER) == {
        "2026-W48 starts on Mon 23 Nov and has no rota yet: plan it, review it and publish it",
        "2026-W49 starts on Mon 30 Nov and is still a draft: review it and publish it",
    }
    assert sorted(to for _, [to], _ in inbox.received) == [
        ACCOUNTS.coordinator,
        ACCOUNTS.manager,
    ]
    assert inbox.messages()[0]["Subject"] == (
        "Rota reminder: 2 weeks of Tiny Test Network not published yet"
    )
    tomorrow = NOW + dt.timedelta(days=1)
    assert run(engine, run_reminder, tiny, tomorrow, config) == (
        "0 new reminders, 0 reminders cleared"
    )
    assert len(inbox.received) == 2
    with session_scope(engine) as session:
        publish_week(session, tiny, WEEK, "test")
    assert run(engine, run_reminder, tiny, tomorrow, config) == (
        "0 new reminders, 1 reminder cleared"
    )
    assert [a.week for a in alerts(engine, tiny, REMINDER) if a.cleared_at is None] == ["2026-W48"]


def test_retention_deletes_only_what_is_older_than_its_period(engine: Engine, tiny: int) -> None:
    add_rows(engine, tiny)
    before = counts(engine, tiny)
    assert before["rotas"] == [
        ("2024-W11", "draft"),
        ("2025-W46", "superseded"),
        ("2025-W46", "superseded"),
        ("2025-W46", "published"),
        ("2025-W47", "superseded"),
        ("2025-W47", "published"),
    ]
    summary = run(engine, run_retention, tiny)
    assert summary == (
        "deleted 2 audit entries, 2 superseded versions, 1 login failure, 2 job runs, "
        "1 cleared alert, 1 expired login (versions of weeks before 2025-W47)"
    )
    after = counts(engine, tiny)
    assert after == {
        "audit": 2,  # the recent one and the one of no network
        "failures": 1,
        "logins": 1,  # the one still open
        "runs": 2,  # the recent one and the one still marked running
        "alerts": 2,
        "rotas": [
            ("2024-W11", "draft"),
            ("2025-W46", "published"),
            ("2025-W47", "superseded"),
            ("2025-W47", "published"),
        ],
        "assignments": before["assignments"] - 2,  # the deleted versions' sessions
    }
    with session_scope(engine) as session:
        entry = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert entry is not None and (entry.actor, entry.action) == (ACTOR, "retention")
    assert entry.after is not None and entry.after["superseded_versions"] == 2
    assert run(engine, run_retention, tiny) == (
        "deleted 0 audit entries, 0 superseded versions, 0 login failures, 0 job runs, "
        "0 cleared alerts, 0 expired logins (versions of weeks before 2025-W47)"
    )
