"""Background solves for real: drafts saved, pins kept, cancelling, progress, crashes.

Jobs run in the runner's worker thread for real; tests wait on the job's
future (``queue.wait``) and hold a job still with Events, never with sleeps."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from scheduler.checks.validator import check_rota
from scheduler.domain import parse_iso_week
from scheduler.jobs import run as job_run
from scheduler.jobs.queue import start, wait
from scheduler.jobs.records import (
    SolveRunningError,
    create_job,
    request_cancel,
)
from scheduler.jobs.run import ProgressWriter
from scheduler.storage.audit import entries
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import SolveJobRecord
from scheduler.storage.repository import bundle_with_leave
from scheduler.usecases.editing import Edit, apply_edit
from scheduler.usecases.planning import InvalidRotaError, PlanOutcome, plan_week
from solver import Progress
from tests.jobs.support import ACTOR, WAIT, Gate, _create, _draft, _job, _rota_count, _run
from tests.test_publishing import WEEK, cell, seed_draft, tiny_optimum

# -- solving for real -------------------------------------------------------------------------


def test_a_job_solves_the_week_and_saves_a_valid_draft(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    done = _run(engine, network_id)
    assert done.state == "done", done.message
    assert done.started_at is not None and done.finished_at is not None
    assert done.objective is not None and done.bound is not None and done.solutions >= 1
    assert "saved a draft of 2026-W49" in (done.message or "")
    assert "nobody short of minimum" in (done.message or "")  # the tiny week's optimum
    found = _draft(engine, network_id)
    assert found is not None
    draft, cells = found
    assert done.rota_id == draft.id
    assert draft.revision == 0  # the first rota of the week
    assert draft.summary["shortfall"] == 0 and draft.summary["assignments"] == len(
        cells.assignments
    )
    with session_scope(engine) as session:
        bundle = bundle_with_leave(session, network_id)
        actions = [e.action for e in entries(session, network_id)]
    assert check_rota(bundle, parse_iso_week(WEEK), cells.assignments).ok
    assert actions[:2] == ["solve finished", "solve started"]


def test_a_job_of_two_weeks_saves_one_draft_per_week(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    done = _run(engine, network_id, weeks=2)
    assert done.state == "done", done.message
    first, second = _draft(engine, network_id), _draft(engine, network_id, "2026-W50")
    assert first is not None and second is not None
    assert {a.date for a in first[1].assignments} <= set(parse_iso_week(WEEK))
    assert {a.date for a in second[1].assignments} <= set(parse_iso_week("2026-W50"))


def test_a_new_solve_replaces_the_draft_and_makes_older_pages_stale(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    seed_draft(engine, network_id, tiny_optimum()[:3])
    done = _run(engine, network_id)
    found = _draft(engine, network_id)
    assert done.state == "done" and found is not None
    draft, cells = found
    assert cells.assignments == frozenset(tiny_optimum())
    assert draft.revision == 1  # above the replaced draft's 0, so its pages are stale


def test_keep_pins_keeps_a_pinned_cell_the_optimum_would_not_choose(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    seed_draft(engine, network_id)
    moved_from, moved_to = cell("S02", 0, "AM", "P01"), cell("S02", 0, "AM", "P02")
    assert moved_to not in tiny_optimum()
    with session_scope(engine) as session:
        apply_edit(
            session,
            network_id,
            WEEK,
            Edit("move", moved_from, moved_to),
            expected_revision=0,
            actor=ACTOR,
        )
    with session_scope(engine) as session:
        apply_edit(
            session, network_id, WEEK, Edit("pin", moved_to), expected_revision=1, actor=ACTOR
        )
    kept = _run(engine, network_id, keep_pins=True)
    assert kept.state == "done", kept.message
    found = _draft(engine, network_id)
    assert found is not None
    assert moved_to in found[1].assignments and found[1].pinned == {moved_to}
    dropped = _run(engine, network_id, keep_pins=False)
    found = _draft(engine, network_id)
    assert dropped.state == "done" and found is not None
    assert moved_to not in found[1].assignments and not found[1].pinned


def test_a_pin_that_breaks_a_rule_now_fails_the_job_naming_rows_not_people(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    on_leave = cell("S04", 2, "AM", "P02")  # S04 is on annual leave on Wednesday
    seed_draft(engine, network_id, [on_leave], pinned=frozenset({on_leave}))
    failed = _run(engine, network_id, keep_pins=True)
    assert failed.state == "failed"
    message = failed.message or ""
    assert "a cell pinned in the draft" in message and "nothing was saved" in message
    assert "Tom" not in message and "annual" not in message
    found = _draft(engine, network_id)
    assert found is not None and found[1].assignments == {on_leave}


# -- cancelling ----------------------------------------------------------------------------


def test_cancel_stops_a_running_job_and_saves_nothing(tiny: tuple[Engine, int], gate: Gate) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    start(engine, job_id)
    assert gate.started.wait(WAIT)
    running = _job(engine, job_id)
    assert (running.state, running.objective, running.solutions) == ("running", 123.0, 1)
    with session_scope(engine) as session:
        assert request_cancel(session, engine, network_id, job_id, "manager@tiny.test")
    assert gate.stop is not None and gate.stop.is_set()
    gate.release.set()
    wait(engine, job_id, WAIT)
    cancelled = _job(engine, job_id)
    assert cancelled.state == "cancelled" and cancelled.cancel_requested
    assert "nothing was saved" in (cancelled.message or "")
    assert _rota_count(engine) == 0
    with session_scope(engine) as session:
        logged = [(e.actor, e.action) for e in entries(session, network_id)]
        assert not request_cancel(session, engine, network_id, job_id, ACTOR)
    assert ("manager@tiny.test", "solve cancelled") in logged
    assert (ACTOR, "solve finished") in logged


def test_a_job_cancelled_while_queued_never_solves(tiny: tuple[Engine, int], gate: Gate) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
        assert request_cancel(session, engine, network_id, job_id, ACTOR)
    start(engine, job_id)
    wait(engine, job_id, WAIT)
    cancelled = _job(engine, job_id)
    assert cancelled.state == "cancelled"
    assert "before it started" in (cancelled.message or "")
    assert not gate.started.is_set()
    assert _rota_count(engine) == 0


def test_a_cancel_flag_set_by_another_process_stops_the_job(
    tiny: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id = tiny
    monkeypatch.setattr(job_run, "PROGRESS_INTERVAL", 0.0)
    flagged = threading.Event()
    seen: list[bool] = []

    def planner(bundle: Any, week: str, options: Any, progress: Any, stop: Any, **kw: Any) -> Any:
        progress(Progress(5.0, 1.0, 0.1, 1))
        set_flag()
        progress(Progress(4.0, 1.0, 0.2, 2))  # this write reads the flag
        seen.append(stop.is_set())
        return plan_week(bundle, week, options, None, stop, **kw)

    def set_flag() -> None:
        with session_scope(engine) as session:  # as another process would: the row only
            record = session.get(SolveJobRecord, job_id)
            assert record is not None
            record.cancel_requested = True
        flagged.set()

    monkeypatch.setattr(job_run, "plan_week", planner)
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    start(engine, job_id)
    wait(engine, job_id, WAIT)
    assert flagged.is_set() and seen == [True]
    assert _job(engine, job_id).state == "cancelled"
    assert _rota_count(engine) == 0


# -- progress, concurrency and restarts ---------------------------------------------------------


def test_progress_writes_are_throttled(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    now = [10.0]
    writer = ProgressWriter(engine, job_id, threading.Event(), interval=0.5, clock=lambda: now[0])
    writer(Progress(30.0, 1.0, 0.1, 1))
    now[0] = 10.2
    writer(Progress(20.0, 2.0, 0.3, 2))
    row = _job(engine, job_id)
    assert (row.objective, row.bound, row.solutions, row.elapsed) == (30.0, 1.0, 1, 0.1)
    now[0] = 10.6
    writer(Progress(10.0, 3.0, 0.7, 3))
    row = _job(engine, job_id)
    assert (row.objective, row.bound, row.solutions, row.elapsed) == (10.0, 3.0, 3, 0.7)
    assert writer.solutions == 3


def test_a_draft_edited_while_the_job_ran_is_not_overwritten(
    tiny: tuple[Engine, int], gate: Gate
) -> None:
    engine, network_id = tiny
    seed_draft(engine, network_id)
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    start(engine, job_id)
    assert gate.started.wait(WAIT)
    gone = tiny_optimum()[0]
    with session_scope(engine) as session:
        apply_edit(
            session, network_id, WEEK, Edit("unassign", gone), expected_revision=0, actor=ACTOR
        )
    gate.release.set()
    wait(engine, job_id, WAIT)
    failed = _job(engine, job_id)
    assert failed.state == "failed" and "changed" in (failed.message or "")
    found = _draft(engine, network_id)
    assert found is not None and gone not in found[1].assignments
    assert found[0].revision == 1


def test_a_second_solve_of_a_week_waits_for_the_first(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        first = _create(session, network_id)
    with pytest.raises(SolveRunningError) as refused, session_scope(engine) as session:
        create_job(session, network_id, "2026-w49", weeks=1, keep_pins=True, actor=ACTOR)
    assert refused.value.job_id == first
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 1


def test_creating_a_job_starts_nothing(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    assert _job(engine, job_id).state == "queued"
    with pytest.raises(KeyError):
        wait(engine, job_id, 0.1)


def test_a_planner_that_crashes_fails_the_job_without_details(
    tiny: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id = tiny

    def crash(*args: Any, **kwargs: Any) -> PlanOutcome:
        raise RuntimeError("S01 Grace Rees broke something")

    monkeypatch.setattr(job_run, "plan_week", crash)
    failed = _run(engine, network_id)
    assert failed.state == "failed" and failed.finished_at is not None
    assert failed.message == "internal error while solving; nothing was saved (see the server log)"
    assert _rota_count(engine) == 0


@pytest.mark.parametrize(
    "error",
    [
        InvalidRotaError("S01 Grace Rees is on sick leave on Mon 2026-11-30", ["leave"]),
        KeyError("Grace Rees"),
    ],
)
def test_a_failed_job_logs_no_names_or_leave(
    tiny: tuple[Engine, int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    """The server log is not private: it says where a job failed, never whom it concerned."""
    engine, network_id = tiny

    def fail(*args: Any, **kwargs: Any) -> PlanOutcome:
        raise error

    monkeypatch.setattr(job_run, "plan_week", fail)
    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        failed = _run(engine, network_id)
    assert failed.state == "failed"
    assert f"solve job {failed.id}" in caplog.text
    assert "Grace" not in caplog.text and "sick" not in caplog.text
