"""The nightly re-check: new problems of published weeks become alerts and e-mails, once.

E-mail goes to a real aiosmtpd server on a loopback port."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, update

from scheduler.jobs.alerts import SHORTFALL, clear_alert, open_alerts
from scheduler.jobs.recheck import run_recheck
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import (
    UserRecord,
)
from scheduler.usecases import requests
from scheduler.usecases.events import record_demand_change, withdraw
from scheduler.usecases.open_sessions import list_places, offer_place, parse_offer
from tests.routine.support import (
    HOST,
    LONDON,
    NOW,
    S01_AWAY,
    S01_SHORT,
    SENDER,
    TUE,
    WEEK,
    alerts,
    open_messages,
    record_s01_absence,
    run,
)
from tests.test_notices import Inbox
from tests.web_support import ACCOUNTS


def test_a_first_recheck_flags_the_shortfalls_the_week_was_published_with(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    assert S01_SHORT not in published
    assert (
        "Station Road Surgery (P02), Tue 1 Dec, Afternoon surgery (PM): "
        "needs at least 1 PHARM, has 0 who can work: 1 short"
    ) in published
    assert all("1 short" in message or "2 short" in message for message in published)


def test_recheck_flags_exactly_the_new_problems_an_absence_makes_once(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    record_s01_absence(engine, tiny)
    summary = run(engine, run_recheck, tiny)
    assert summary.startswith("checked 1 published week: 2 new problems, 0 alerts cleared; ")
    assert open_messages(engine, tiny, SHORTFALL) == published | {S01_AWAY, S01_SHORT}
    next_night = NOW + dt.timedelta(days=1)
    summary = run(engine, run_recheck, tiny, next_night)
    assert summary == "checked 1 published week: 0 new problems, 0 alerts cleared"
    assert len(alerts(engine, tiny, SHORTFALL)) == len(published) + 2


def test_recheck_clears_the_alerts_of_a_withdrawn_absence(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    absence_id = record_s01_absence(engine, tiny)
    run(engine, run_recheck, tiny)
    with session_scope(engine) as session:
        withdraw(session, tiny, "absence", absence_id, "t")
    summary = run(engine, run_recheck, tiny, NOW + dt.timedelta(days=1))
    assert summary == "checked 1 published week: 0 new problems, 2 alerts cleared"
    assert open_messages(engine, tiny, SHORTFALL) == published
    cleared = [a for a in alerts(engine, tiny, SHORTFALL) if a.cleared_at is not None]
    assert {a.message for a in cleared} == {S01_AWAY, S01_SHORT}


def test_an_alert_cleared_by_hand_is_not_raised_again_while_the_problem_lasts(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    record_s01_absence(engine, tiny)
    run(engine, run_recheck, tiny)
    with session_scope(engine) as session:
        for alert in open_alerts(session, tiny, WEEK):
            if alert.message == S01_SHORT:
                clear_alert(session, tiny, WEEK, alert.id, actor="c", at=NOW)
    summary = run(engine, run_recheck, tiny, NOW + dt.timedelta(days=1))
    assert summary.startswith("checked 1 published week: 0 new problems")
    assert S01_SHORT not in open_messages(engine, tiny, SHORTFALL)


def test_recheck_flags_a_raised_need_and_ignores_days_already_past(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    with session_scope(engine) as session:
        bundle = current_bundle(session, tiny)
        form = {
            "site_id": "P01",
            "date": TUE.isoformat(),
            "session_id": "PM",
            "kind": "set",
            "role": "GP",
            "min": "2",
            "target": "2",
        }
        record_demand_change(session, tiny, bundle, form, actor="t")
    wednesday = dt.datetime(2026, 12, 2, 2, 30, tzinfo=LONDON)
    run(engine, run_recheck, tiny, wednesday)
    assert not any("Tue 1 Dec" in m for m in open_messages(engine, tiny, SHORTFALL))
    run(engine, run_recheck, tiny)  # back on Monday: Tuesday is still ahead
    raised = (
        "Mill Lane Surgery (P01), Tue 1 Dec, Afternoon surgery (PM): "
        "needs at least 2 GP, has 1 who can work: 1 short"
    )
    assert raised in open_messages(engine, tiny, SHORTFALL)


def test_recheck_emails_the_new_problems_to_coordinators_without_the_leave_kind(
    engine: Engine, tiny: int, published: set[str], mail: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, config = mail
    record_s01_absence(engine, tiny)
    summary = run(engine, run_recheck, tiny, config=config)
    assert summary.endswith("e-mail to 1 person sent after commit")
    [(sender, to, _)] = inbox.received
    assert (sender, to) == (SENDER, [ACCOUNTS.coordinator])
    [message] = inbox.messages()
    body = message.get_content()
    assert message["Subject"] == ("Rota alert: 2 new problems in Tiny Test Network")
    assert f"{WEEK} (https://{HOST}/n/{tiny}/weeks/{WEEK}):" in body
    assert f"- {S01_AWAY}." in body and f"- {S01_SHORT}." in body
    assert "sick" not in body.lower() and "flu" not in body.lower()
    run(engine, run_recheck, tiny, NOW + dt.timedelta(days=1), config)
    assert len(inbox.received) == 1  # nothing new, nothing sent


def test_recheck_emails_nothing_when_its_transaction_rolls_back(
    engine: Engine, tiny: int, published: set[str], mail: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, config = mail
    record_s01_absence(engine, tiny)
    with (
        pytest.raises(RuntimeError, match="the runner failed"),
        session_scope(engine) as session,
    ):
        run_recheck(session, tiny, NOW, config)
        raise RuntimeError("the runner failed after the job")
    assert inbox.received == []
    assert S01_SHORT not in open_messages(engine, tiny, SHORTFALL)


def test_recheck_emails_the_managers_of_a_network_without_a_coordinator(
    engine: Engine, tiny: int, published: set[str], mail: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, config = mail
    with session_scope(engine) as session:
        session.execute(
            update(UserRecord).where(UserRecord.role == "coordinator").values(active=False)
        )
    record_s01_absence(engine, tiny)
    run(engine, run_recheck, tiny, config=config)
    assert [to for _, to, _ in inbox.received] == [[ACCOUNTS.manager]]


def test_recheck_says_on_leave_for_approved_leave_and_names_no_kind(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    with session_scope(engine) as session:
        form = {"start": TUE.isoformat(), "end": TUE.isoformat(), "kind": "parental"}
        leave = requests.request_leave(session, tiny, "S02", form, "t")
        requests.decide_leave(session, tiny, leave.id, "approve", "t")
    run(engine, run_recheck, tiny)
    new = open_messages(engine, tiny, SHORTFALL) - published
    assert new == {
        "Imran Shah (S02) is on leave on Tue 1 Dec but is on the published rota for "
        "Afternoon surgery (PM) at Mill Lane Surgery (P01)",
        "Mill Lane Surgery (P01), Tue 1 Dec, Afternoon surgery (PM): "
        "needs at least 1 GP, has 0 who can work: 1 short",
    }


def test_recheck_without_smtp_settings_says_nobody_was_emailed(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    record_s01_absence(engine, tiny)
    summary = run(engine, run_recheck, tiny)
    assert summary.endswith("e-mail is not set up (SMTP_HOST), so nobody was e-mailed")


def test_an_open_session_whose_session_started_closes_unfilled_with_an_alert(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    fields = {"site_id": "P01", "date": TUE.isoformat(), "session_id": "PM", "role": "GP"}
    with session_scope(engine) as db:
        offer = parse_offer(current_bundle(db, tiny), fields)
        place = offer_place(db, tiny, offer, "coordinator", NOW)
    summary = run(engine, run_recheck, tiny)  # the Monday before: still open
    assert "closed unfilled" not in summary
    after = dt.datetime(2026, 12, 1, 14, 0, tzinfo=LONDON)  # Tuesday afternoon has begun
    summary = run(engine, run_recheck, tiny, after)
    assert summary.endswith("1 open session closed unfilled")
    expected = f"open session {place.where} (GP) closed unfilled"
    assert expected in open_messages(engine, tiny, SHORTFALL)
    with session_scope(engine) as db:
        assert list_places(db, tiny, WEEK) == []
        assert [p.state for p in list_places(db, tiny, WEEK, ("expired",))] == ["expired"]
