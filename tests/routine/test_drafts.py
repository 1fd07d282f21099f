"""The drafts job: a solve of the week ahead is queued, and never overwrites anyone's work."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from scheduler.checks.validator import check_rota
from scheduler.domain import parse_iso_week
from scheduler.jobs.alerts import ACTOR
from scheduler.jobs.drafts import run_drafts, weeks_ahead
from scheduler.jobs.queue import start, wait
from scheduler.jobs.records import create_job
from scheduler.jobs.routine import JOBS
from scheduler.network_settings import JOB_KINDS
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import (
    AuditRecord,
    SolveJobRecord,
)
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.rotas import find_rota, load_rota
from scheduler.usecases.events import record_absence
from solver import SolveOptions
from tests.routine.support import (
    DRAFT_WEEK,
    FAST,
    HOST,
    LONDON,
    NOW,
    TUE,
    WAIT,
    WEEK,
    finished_job,
    run,
    set_jobs,
)
from tests.web_support import save_week


def test_there_is_one_job_function_per_kind() -> None:
    assert set(JOBS) == set(JOB_KINDS)


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
    assert weeks_ahead(now, ahead) == week


def test_drafts_queue_a_solve_of_the_week_three_weeks_ahead_which_saves_a_valid_draft(
    engine: Engine, tiny: int
) -> None:
    summary = run(engine, run_drafts, tiny, config=FAST)
    assert summary.endswith(f"to draft {DRAFT_WEEK}")
    job = finished_job(engine, summary)
    assert (job.state, job.week, job.requested_by, job.if_free) == (
        "done",
        DRAFT_WEEK,
        ACTOR,
        True,
    )
    assert (job.time_limit, job.workers) == (10, 1)
    with session_scope(engine) as session:
        draft = find_rota(session, tiny, DRAFT_WEEK, "draft")
        assert draft is not None and job.rota_id == draft.id
        loaded = load_rota(session, tiny, DRAFT_WEEK, "draft")
        assert loaded is not None and loaded[1]
        bundle = current_bundle(session, tiny)
        assert check_rota(bundle, parse_iso_week(DRAFT_WEEK), loaded[1]).ok
        logged = [
            (e.actor, e.action, e.subject)
            for e in session.scalars(select(AuditRecord).order_by(AuditRecord.id))
        ]
    subject = f"{DRAFT_WEEK} job {job.id}"
    assert (ACTOR, "solve started", subject) in logged
    assert (ACTOR, "solve finished", subject) in logged


def test_a_drafts_run_rolled_back_queues_nothing(engine: Engine, tiny: int) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        run_drafts(session, tiny, NOW, {"PUBLIC_HOST": HOST, **FAST})
        raise RuntimeError("the run failed after queueing")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 0
    assert finished_job(engine, run(engine, run_drafts, tiny, config=FAST)).state == "done"


def test_a_draft_job_saves_nothing_into_a_week_published_while_it_waited(
    engine: Engine, tiny: int
) -> None:
    with session_scope(engine) as session:
        ticket = create_job(
            session,
            tiny,
            DRAFT_WEEK,
            weeks=1,
            keep_pins=False,
            actor=ACTOR,
            options=SolveOptions(time_limit=10, workers=1),
            if_free=True,
        )
    with session_scope(engine) as session:
        kept = save_week(session, tiny, DRAFT_WEEK, [], state="published")
    start(engine, ticket.id)
    wait(engine, ticket.id, WAIT)
    with session_scope(engine) as session:
        record = session.get(SolveJobRecord, ticket.id)
        assert record is not None and record.state == "cancelled"
        not_needed = f"not needed: {DRAFT_WEEK} got a rota before this solve started; "
        assert record.message == not_needed + "nothing was saved"
        ids = session.scalars(select(RotaRecord.id).where(RotaRecord.week == DRAFT_WEEK)).all()
    assert ids == [kept]


def test_drafts_follow_the_networks_weeks_ahead(engine: Engine, tiny: int) -> None:
    set_jobs(engine, tiny, draft_weeks_ahead=2)
    summary = run(engine, run_drafts, tiny, config=FAST)
    assert summary.endswith("to draft 2026-W50")
    assert finished_job(engine, summary).state == "done"


@pytest.mark.parametrize(("state", "why"), [("draft", "a draft"), ("published", "published")])
def test_drafts_never_overwrite_a_week_with_a_draft_or_a_publication(
    engine: Engine, tiny: int, state: str, why: str
) -> None:
    with session_scope(engine) as session:
        kept = save_week(session, tiny, DRAFT_WEEK, [], state=state)
    summary = run(engine, run_drafts, tiny, config=FAST)
    assert summary.startswith(f"skipped {DRAFT_WEEK}: ")
    assert why in summary
    with session_scope(engine) as session:
        ids = session.scalars(select(RotaRecord.id).where(RotaRecord.week == DRAFT_WEEK)).all()
    assert ids == [kept]


def test_a_week_with_no_rota_fails_its_draft_job_with_the_reason(engine: Engine, tiny: int) -> None:
    # S05 is pinned to Tue 1 Dec AM by fixed.csv; an absence that day contradicts it.
    with session_scope(engine) as session:
        bundle = current_bundle(session, tiny)
        form = {"start": TUE.isoformat(), "kind": "sick", "reason": "flu"}
        record_absence(session, tiny, bundle, staff_id="S05", form=form, actor="t")
    three_weeks_before = dt.datetime(2026, 11, 9, 6, 0, tzinfo=LONDON)
    job = finished_job(engine, run(engine, run_drafts, tiny, three_weeks_before, FAST))
    assert job.state == "failed"
    message = job.message or ""
    assert message.startswith("the hard rules of these weeks contradict each other")
    assert "nothing was saved" in message
    assert "sick" not in message and "flu" not in message
    with session_scope(engine) as session:
        assert find_rota(session, tiny, WEEK, "draft") is None
