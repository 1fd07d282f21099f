"""The scheduled jobs as ordinary functions: drafts, re-check, reminder, retention.

Each job runs on the tiny network at a fixed moment, Monday 23 November 2026
at 06:00 in London (the Monday of 2026-W48), inside a transaction as the
runner calls it.  E-mail goes to a real aiosmtpd server on a loopback port.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, update

from scheduler import events, jobs, requests, routine
from scheduler.domain import JOB_KINDS, Assignment, parse_iso_week
from scheduler.publishing import publish_week
from scheduler.storage.db import session_scope
from scheduler.storage.models import (
    AssignmentRecord,
    AuditRecord,
    JobRunRecord,
    LoginFailureRecord,
    NetworkRecord,
    RotaRecord,
    SolveJobRecord,
    UserRecord,
    WeekAlertRecord,
)
from scheduler.storage.repository import find_rota, load_rota
from scheduler.validator import check_rota
from solver import SolveOptions
from tests.test_notices import Inbox, smtp_server
from tests.web_support import ACCOUNTS, save_week, seeded_app

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=LONDON)  # Monday of 2026-W48
DRAFT_WEEK = "2026-W51"  # three weeks after NOW's week
WEEK = "2026-W49"
TUE = dt.date(2026, 12, 1)
HOST = "rota.example.test"
SENDER = "rota@example.test"
FAST = {"SOLVE_TIME_LIMIT": 10, "SOLVE_WORKERS": 1}
WAIT = 120.0  # seconds; a safety net, never reached when the code works
# A published week-2026-W49 rota far from full: S05's session is pinned by fixed.csv.
CELLS = (
    Assignment(TUE, "AM", "P01", "S01"),
    Assignment(TUE, "AM", "P01", "S05"),
    Assignment(TUE, "PM", "P01", "S02"),
)
S01_AWAY = (
    "Grace Rees (S01) is absent on Tue 1 Dec but is on the published rota for "
    "Morning surgery (AM) at Mill Lane Surgery (P01)"
)
S01_SHORT = (
    "Mill Lane Surgery (P01), Tue 1 Dec, Morning surgery (AM): "
    "needs at least 1 GP, has 0 who can work: 1 short"
)
Job = routine.JobFunction


@pytest.fixture
def tiny(db_url: str, engine: Engine) -> int:
    """The tiny network with one account per role (tests.web_support); its id."""
    _app, network_id = seeded_app(db_url)
    return network_id


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, dict[str, Any]]]:
    """A running SMTP server and the settings that send to it."""
    with smtp_server() as (inbox, port):
        yield inbox, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_FROM": SENDER}


def run(
    engine: Engine,
    job: Job,
    network_id: int,
    now: dt.datetime = NOW,
    config: Mapping[str, Any] | None = None,
) -> str:
    """Call a job as the runner does: in one transaction, committed afterwards."""
    with session_scope(engine) as session:
        return job(session, network_id, now, {"PUBLIC_HOST": HOST, **(config or {})})


def publish(engine: Engine, network_id: int, week: str, cells: tuple[Assignment, ...]) -> None:
    with session_scope(engine) as session:
        save_week(session, network_id, week, cells)
        publish_week(session, network_id, week, "test")


def alerts(engine: Engine, network_id: int, kind: str) -> list[WeekAlertRecord]:
    with session_scope(engine) as session:
        statement = select(WeekAlertRecord).where(
            WeekAlertRecord.network_id == network_id, WeekAlertRecord.kind == kind
        )
        return list(session.scalars(statement.order_by(WeekAlertRecord.id)))


def open_messages(engine: Engine, network_id: int, kind: str) -> set[str]:
    return {a.message for a in alerts(engine, network_id, kind) if a.cleared_at is None}


def test_there_is_one_job_function_per_kind() -> None:
    assert set(routine.JOBS) == set(JOB_KINDS)


# -- drafts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "ahead", "week"),
    [
        (NOW, 3, DRAFT_WEEK),
        (dt.datetime(2026, 11, 29, 23, 30, tzinfo=LONDON), 3, DRAFT_WEEK),  # Sunday night
        (dt.datetime(2026, 12, 21, 6, 0, tzinfo=LONDON), 3, "2027-W02"),  # 2026 has a W53
        (NOW, 0, "2026-W48"),
    ],
)
def test_the_draft_week_is_counted_from_the_week_of_now(
    now: dt.datetime, ahead: int, week: str
) -> None:
    assert routine.weeks_ahead(now, ahead) == week


def queued_job(summary: str) -> int:
    """The id of the solve job a drafts run says it queued."""
    match = re.fullmatch(r"queued solve job (\d+) to draft (\S+)", summary)
    assert match is not None, summary
    return int(match.group(1))


def finished_job(engine: Engine, summary: str) -> SolveJobRecord:
    """Wait for the queued draft job (the local back end runs it here) and read its row."""
    job_id = queued_job(summary)
    jobs.wait(engine, job_id, WAIT)
    with session_scope(engine) as session:
        record = session.get(SolveJobRecord, job_id)
        assert record is not None
        return record


def test_drafts_queue_a_solve_of_the_week_three_weeks_ahead_which_saves_a_valid_draft(
    engine: Engine, tiny: int
) -> None:
    summary = run(engine, routine.run_drafts, tiny, config=FAST)
    assert summary.endswith(f"to draft {DRAFT_WEEK}")
    job = finished_job(engine, summary)
    assert (job.state, job.week, job.requested_by, job.if_free) == (
        "done",
        DRAFT_WEEK,
        routine.ACTOR,
        True,
    )
    assert (job.time_limit, job.workers) == (10, 1)
    with session_scope(engine) as session:
        draft = find_rota(session, tiny, DRAFT_WEEK, "draft")
        assert draft is not None and job.rota_id == draft.id
        loaded = load_rota(session, tiny, DRAFT_WEEK, "draft")
        assert loaded is not None and loaded[1]
        bundle = events.network_bundle(session, tiny)
        assert check_rota(bundle, parse_iso_week(DRAFT_WEEK), loaded[1]).ok
        logged = [
            (e.actor, e.action, e.subject)
            for e in session.scalars(select(AuditRecord).order_by(AuditRecord.id))
        ]
    subject = f"{DRAFT_WEEK} job {job.id}"
    assert (routine.ACTOR, "solve started", subject) in logged
    assert (routine.ACTOR, "solve finished", subject) in logged


def test_a_drafts_run_rolled_back_queues_nothing(engine: Engine, tiny: int) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        routine.run_drafts(session, tiny, NOW, {"PUBLIC_HOST": HOST, **FAST})
        raise RuntimeError("the run failed after queueing")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 0
    assert finished_job(engine, run(engine, routine.run_drafts, tiny, config=FAST)).state == "done"


def test_a_draft_job_saves_nothing_into_a_week_published_while_it_waited(
    engine: Engine, tiny: int
) -> None:
    with session_scope(engine) as session:
        ticket = jobs.create_job(
            session,
            tiny,
            DRAFT_WEEK,
            weeks=1,
            keep_pins=False,
            actor=routine.ACTOR,
            options=SolveOptions(time_limit=10, workers=1),
            if_free=True,
        )
    with session_scope(engine) as session:
        kept = save_week(session, tiny, DRAFT_WEEK, [], state="published")
    jobs.start(engine, ticket.id)
    jobs.wait(engine, ticket.id, WAIT)
    with session_scope(engine) as session:
        record = session.get(SolveJobRecord, ticket.id)
        assert record is not None and record.state == "cancelled"
        not_needed = f"not needed: {DRAFT_WEEK} got a rota before this solve started; "
        assert record.message == not_needed + "nothing was saved"
        ids = session.scalars(select(RotaRecord.id).where(RotaRecord.week == DRAFT_WEEK)).all()
    assert ids == [kept]


def set_jobs(engine: Engine, network_id: int, **values: object) -> None:
    """Change the network's stored ``[jobs]`` settings, as a re-import would."""
    with session_scope(engine) as session:
        network = session.get(NetworkRecord, network_id)
        assert network is not None
        network.settings = {**network.settings, "jobs": values}


def test_drafts_follow_the_networks_weeks_ahead(engine: Engine, tiny: int) -> None:
    set_jobs(engine, tiny, draft_weeks_ahead=2)
    summary = run(engine, routine.run_drafts, tiny, config=FAST)
    assert summary.endswith("to draft 2026-W50")
    assert finished_job(engine, summary).state == "done"


@pytest.mark.parametrize(("state", "why"), [("draft", "a draft"), ("published", "published")])
def test_drafts_never_overwrite_a_week_with_a_draft_or_a_publication(
    engine: Engine, tiny: int, state: str, why: str
) -> None:
    with session_scope(engine) as session:
        kept = save_week(session, tiny, DRAFT_WEEK, [], state=state)
    summary = run(engine, routine.run_drafts, tiny, config=FAST)
    assert summary.startswith(f"skipped {DRAFT_WEEK}: ")
    assert why in summary
    with session_scope(engine) as session:
        ids = session.scalars(select(RotaRecord.id).where(RotaRecord.week == DRAFT_WEEK)).all()
    assert ids == [kept]


def test_a_week_with_no_rota_fails_its_draft_job_with_the_reason(engine: Engine, tiny: int) -> None:
    # S05 is pinned to Tue 1 Dec AM by fixed.csv; an absence that day contradicts it.
    with session_scope(engine) as session:
        bundle = events.network_bundle(session, tiny)
        form = {"start": TUE.isoformat(), "kind": "sick", "reason": "flu"}
        events.record_absence(session, tiny, bundle, staff_id="S05", form=form, actor="t")
    three_weeks_before = dt.datetime(2026, 11, 9, 6, 0, tzinfo=LONDON)
    job = finished_job(engine, run(engine, routine.run_drafts, tiny, three_weeks_before, FAST))
    assert job.state == "failed"
    message = job.message or ""
    assert message.startswith("the hard rules of these weeks contradict each other")
    assert "nothing was saved" in message
    assert "sick" not in message and "flu" not in message
    with session_scope(engine) as session:
        assert find_rota(session, tiny, WEEK, "draft") is None


# -- re-check --------------------------------------------------------------------------------


def record_s01_absence(engine: Engine, network_id: int) -> int:
    with session_scope(engine) as session:
        bundle = events.network_bundle(session, network_id)
        form = {"start": TUE.isoformat(), "kind": "sick", "reason": "flu"}
        absence = events.record_absence(
            session, network_id, bundle, staff_id="S01", form=form, actor="t"
        )
    return absence.id


@pytest.fixture
def published(engine: Engine, tiny: int) -> set[str]:
    """WEEK published (sparse: most lines short), and the alerts of a first re-check."""
    publish(engine, tiny, WEEK, CELLS)
    run(engine, routine.run_recheck, tiny)
    return open_messages(engine, tiny, routine.SHORTFALL)


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
    summary = run(engine, routine.run_recheck, tiny)
    assert summary.startswith("checked 1 published week: 2 new problems, 0 alerts cleared; ")
    assert open_messages(engine, tiny, routine.SHORTFALL) == published | {S01_AWAY, S01_SHORT}
    next_night = NOW + dt.timedelta(days=1)
    summary = run(engine, routine.run_recheck, tiny, next_night)
    assert summary == "checked 1 published week: 0 new problems, 0 alerts cleared"
    assert len(alerts(engine, tiny, routine.SHORTFALL)) == len(published) + 2


def test_recheck_clears_the_alerts_of_a_withdrawn_absence(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    absence_id = record_s01_absence(engine, tiny)
    run(engine, routine.run_recheck, tiny)
    with session_scope(engine) as session:
        events.withdraw(session, tiny, "absence", absence_id, "t")
    summary = run(engine, routine.run_recheck, tiny, NOW + dt.timedelta(days=1))
    assert summary == "checked 1 published week: 0 new problems, 2 alerts cleared"
    assert open_messages(engine, tiny, routine.SHORTFALL) == published
    cleared = [a for a in alerts(engine, tiny, routine.SHORTFALL) if a.cleared_at is not None]
    assert {a.message for a in cleared} == {S01_AWAY, S01_SHORT}


def test_an_alert_cleared_by_hand_is_not_raised_again_while_the_problem_lasts(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    record_s01_absence(engine, tiny)
    run(engine, routine.run_recheck, tiny)
    with session_scope(engine) as session:
        for alert in routine.open_alerts(session, tiny, WEEK):
            if alert.message == S01_SHORT:
                routine.clear_alert(session, tiny, WEEK, alert.id, actor="c", at=NOW)
    summary = run(engine, routine.run_recheck, tiny, NOW + dt.timedelta(days=1))
    assert summary.startswith("checked 1 published week: 0 new problems")
    assert S01_SHORT not in open_messages(engine, tiny, routine.SHORTFALL)


def test_recheck_flags_a_raised_need_and_ignores_days_already_past(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    with session_scope(engine) as session:
        bundle = events.network_bundle(session, tiny)
        form = {
            "site_id": "P01",
            "date": TUE.isoformat(),
            "session_id": "PM",
            "kind": "set",
            "role": "GP",
            "min": "2",
            "target": "2",
        }
        events.record_demand_change(session, tiny, bundle, form, actor="t")
    wednesday = dt.datetime(2026, 12, 2, 2, 30, tzinfo=LONDON)
    run(engine, routine.run_recheck, tiny, wednesday)
    assert not any("Tue 1 Dec" in m for m in open_messages(engine, tiny, routine.SHORTFALL))
    run(engine, routine.run_recheck, tiny)  # back on Monday: Tuesday is still ahead
    raised = (
        "Mill Lane Surgery (P01), Tue 1 Dec, Afternoon surgery (PM): "
        "needs at least 2 GP, has 1 who can work: 1 short"
    )
    assert raised in open_messages(engine, tiny, routine.SHORTFALL)


def test_recheck_emails_the_new_problems_to_coordinators_without_the_leave_kind(
    engine: Engine, tiny: int, published: set[str], mail: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, config = mail
    record_s01_absence(engine, tiny)
    summary = run(engine, routine.run_recheck, tiny, config=config)
    assert summary.endswith("e-mail to 1 person sent after commit")
    [(sender, to, _)] = inbox.received
    assert (sender, to) == (SENDER, [ACCOUNTS.coordinator])
    [message] = inbox.messages()
    body = message.get_content()
    assert message["Subject"] == ("Rota alert: 2 new problems in Tiny Test Network")
    assert f"{WEEK} (https://{HOST}/n/{tiny}/weeks/{WEEK}):" in body
    assert f"- {S01_AWAY}." in body and f"- {S01_SHORT}." in body
    assert "sick" not in body.lower() and "flu" not in body.lower()
    run(engine, routine.run_recheck, tiny, NOW + dt.timedelta(days=1), config)
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
        routine.run_recheck(session, tiny, NOW, config)
        raise RuntimeError("the runner failed after the job")
    assert inbox.received == []
    assert S01_SHORT not in open_messages(engine, tiny, routine.SHORTFALL)


def test_recheck_emails_the_managers_of_a_network_without_a_coordinator(
    engine: Engine, tiny: int, published: set[str], mail: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, config = mail
    with session_scope(engine) as session:
        session.execute(
            update(UserRecord).where(UserRecord.role == "coordinator").values(active=False)
        )
    record_s01_absence(engine, tiny)
    run(engine, routine.run_recheck, tiny, config=config)
    assert [to for _, to, _ in inbox.received] == [[ACCOUNTS.manager]]


def test_recheck_says_on_leave_for_approved_leave_and_names_no_kind(
    engine: Engine, tiny: int, published: set[str]
) -> None:
    with session_scope(engine) as session:
        form = {"start": TUE.isoformat(), "end": TUE.isoformat(), "kind": "parental"}
        leave = requests.request_leave(session, tiny, "S02", form, "t")
        requests.decide_leave(session, tiny, leave.id, "approve", "t")
    run(engine, routine.run_recheck, tiny)
    new = open_messages(engine, tiny, routine.SHORTFALL) - published
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
    summary = run(engine, routine.run_recheck, tiny)
    assert summary.endswith("e-mail is not set up (SMTP_HOST), so nobody was e-mailed")


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
    assert routine.reminder_weeks(today, days) == weeks


def test_reminders_follow_the_networks_reminder_days(engine: Engine, tiny: int) -> None:
    set_jobs(engine, tiny, reminder_days=6)
    summary = run(engine, routine.run_reminder, tiny)
    assert summary.startswith("1 new reminder (2026-W48), 0 reminders cleared; ")


def test_reminders_name_unpublished_weeks_once_and_clear_when_published(
    engine: Engine, tiny: int, mail: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, config = mail
    with session_scope(engine) as session:
        save_week(session, tiny, WEEK, CELLS)  # a draft
        save_week(session, tiny, "2026-W50", [], state="published")
    summary = run(engine, routine.run_reminder, tiny, config=config)
    assert summary == (
        "2 new reminders (2026-W48, 2026-W49), 0 reminders cleared; "
        "e-mail to 2 people sent after commit"
    )
    assert open_messages(engine, tiny, routine.REMINDER) == {
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
    assert run(engine, routine.run_reminder, tiny, tomorrow, config) == (
        "0 new reminders, 0 reminders cleared"
    )
    assert len(inbox.received) == 2
    with session_scope(engine) as session:
        publish_week(session, tiny, WEEK, "test")
    assert run(engine, routine.run_reminder, tiny, tomorrow, config) == (
        "0 new reminders, 1 reminder cleared"
    )
    assert [a.week for a in alerts(engine, tiny, routine.REMINDER) if a.cleared_at is None] == [
        "2026-W48"
    ]


# -- retention -------------------------------------------------------------------------------

DAY = dt.timedelta(days=1)
AUDIT_CUTOFF = NOW - 730 * DAY  # the default audit_retention_days


def add_rows(engine: Engine, network_id: int) -> None:
    """Rows on both sides of each retention period (365 days for versions, 730 for the rest)."""
    old, recent = AUDIT_CUTOFF - DAY, AUDIT_CUTOFF + DAY
    with session_scope(engine) as session:
        for at, network in ((old, network_id), (old, network_id), (recent, network_id)):
            session.add(AuditRecord(at=at, actor="a", network_id=network, action="x", subject="s"))
        session.add(AuditRecord(at=old, actor="a", network_id=None, action="x", subject="s"))
        session.add_all(
            LoginFailureRecord(email="someone@example.test", at=at) for at in (old, recent)
        )
        runs = ((old, "done"), (old, "failed"), (old, "running"), (recent, "done"))
        for number, (at, outcome) in enumerate(runs):
            session.add(
                JobRunRecord(
                    network_id=network_id,
                    job_id=f"{network_id}:recheck:{number}",
                    kind="recheck",
                    due_at=at,
                    started_at=at,
                    outcome=outcome,
                    runner="test",
                )
            )
        for cleared in (old, recent, None):
            session.add(
                WeekAlertRecord(
                    network_id=network_id,
                    week="2024-W10",
                    kind="reminder",
                    message="m",
                    created_at=old - DAY,
                    cleared_at=cleared,
                )
            )
        # 2025-W46 ended on Sun 16 Nov 2025, more than 365 days before NOW; 2025-W47 on the
        # 23rd, exactly 365 days before: kept.  Each later publication supersedes the one before.
        for week in ("2025-W46", "2025-W46", "2025-W46", "2025-W47", "2025-W47"):
            save_week(
                session, network_id, week, [Assignment(TUE, "AM", "P01", "S01")], state="published"
            )
        save_week(session, network_id, "2024-W11", [], state="draft")


def counts(engine: Engine, network_id: int) -> dict[str, object]:
    with session_scope(engine) as session:

        def count(table: Any, *where: Any) -> int:
            return session.scalar(select(func.count()).select_from(table).where(*where)) or 0

        rotas = session.execute(
            select(RotaRecord.week, RotaRecord.state)
            .where(RotaRecord.network_id == network_id)
            .order_by(RotaRecord.week, RotaRecord.id)
        ).all()
        return {
            "audit": count(AuditRecord, AuditRecord.at < NOW - 700 * DAY),
            "failures": count(LoginFailureRecord),
            "runs": count(JobRunRecord),
            "alerts": count(WeekAlertRecord),
            "rotas": [tuple(row) for row in rotas],
            "assignments": count(AssignmentRecord),
        }


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
    summary = run(engine, routine.run_retention, tiny)
    assert summary == (
        "deleted 2 audit entries, 2 superseded versions, 1 login failure, 2 job runs, "
        "1 cleared alert (versions of weeks before 2025-W47)"
    )
    after = counts(engine, tiny)
    assert after == {
        "audit": 2,  # the recent one and the one of no network
        "failures": 1,
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
    assert entry is not None and (entry.actor, entry.action) == (routine.ACTOR, "retention")
    assert entry.after is not None and entry.after["superseded_versions"] == 2
    assert run(engine, routine.run_retention, tiny) == (
        "deleted 0 audit entries, 0 superseded versions, 0 login failures, 0 job runs, "
        "0 cleared alerts (versions of weeks before 2025-W47)"
    )
