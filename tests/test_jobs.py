"""Background solves: real solves of the tiny network, cancelling, progress, pins, restarts.

Jobs run in the runner's worker thread for real; tests wait on the job's
future (``jobs.wait``) and hold a job still with Events, never with sleeps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from scheduler import jobs
from scheduler.audit import entries
from scheduler.domain import parse_iso_week
from scheduler.editing import Edit, apply_edit, load_cells
from scheduler.planning import InvalidRotaError, PlanOutcome, plan_week
from scheduler.storage.db import session_scope
from scheduler.storage.models import RotaRecord, SolveJobRecord
from scheduler.storage.repository import find_rota, network_bundle
from scheduler.validator import check_rota
from solver import Progress, SolveOptions
from tests.test_publishing import WEEK, cell, seed_draft, tiny_network, tiny_optimum
from tests.web_support import save_week

OPTIONS = SolveOptions(time_limit=10, workers=1)
ACTOR = "coordinator@tiny.test"
WAIT = 120.0  # seconds; a safety net, never reached when the code works


def _job(engine: Engine, job_id: int) -> SolveJobRecord:
    with session_scope(engine) as session:
        record = session.get(SolveJobRecord, job_id)
        assert record is not None
        return record


def _run(engine: Engine, network_id: int, **fields: Any) -> SolveJobRecord:
    """Create, start and wait for a job; its final row."""
    values = {"weeks": 1, "keep_pins": False, **fields}
    with session_scope(engine) as session:
        job_id = jobs.create_job(
            session, network_id, WEEK, actor=ACTOR, options=OPTIONS, **values
        ).id
    jobs.start(engine, job_id)
    jobs.wait(engine, job_id, WAIT)
    return _job(engine, job_id)


def _create(session: Session, network_id: int, week: str = WEEK, **fields: Any) -> int:
    """A new queued job of one week, pins not kept; its id."""
    values = {"weeks": 1, "keep_pins": False, **fields}
    ticket = jobs.create_job(session, network_id, week, actor=ACTOR, options=OPTIONS, **values)
    assert ticket.created
    return ticket.id


def _draft(engine: Engine, network_id: int, week: str = WEEK) -> tuple[RotaRecord, Any] | None:
    with session_scope(engine) as session:
        draft = find_rota(session, network_id, week, "draft")
        return None if draft is None else (draft, load_cells(session, draft.id))


def _rota_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(RotaRecord)) or 0


class Gate:
    """A stand-in planner that reports progress, then holds until the test lets it go."""

    def __init__(self, objective: float = 123.0) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.objective = objective
        self.stop: threading.Event | None = None

    def __call__(
        self,
        bundle: Any,
        week: str,
        options: SolveOptions | None,
        progress: Any,
        stop: threading.Event | None,
        *,
        weeks: int = 1,
    ) -> PlanOutcome:
        self.stop = stop
        progress(Progress(self.objective, 100.0, 0.25, 1))
        self.started.set()
        assert self.release.wait(WAIT)
        return plan_week(bundle, week, options, None, stop, weeks=weeks)


@pytest.fixture
def tiny(db_url: str) -> Iterator[tuple[Engine, int]]:
    yield from tiny_network(db_url)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """Jobs plan through a Gate; it is always released at the end."""
    held = Gate()
    monkeypatch.setattr(jobs, "plan_week", held)
    yield held
    held.release.set()


# -- solving for real -------------------------------------------------------------------------


def test_a_job_solves_the_week_and_saves_a_valid_draft(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    done = _run(engine, network_id)
    assert done.state == "done", done.message
    assert done.started_at is not None and done.finished_at is not None
    assert done.objective is not None and done.bound is not None and done.solutions >= 1
    assert "saved a draft of 2026-W49" in (done.message or "")
    found = _draft(engine, network_id)
    assert found is not None
    draft, cells = found
    assert done.rota_id == draft.id
    assert draft.revision == 0  # the first rota of the week
    assert draft.summary["shortfall"] == 0 and draft.summary["assignments"] == len(
        cells.assignments
    )
    with session_scope(engine) as session:
        bundle = network_bundle(session, network_id)
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
    jobs.start(engine, job_id)
    assert gate.started.wait(WAIT)
    running = _job(engine, job_id)
    assert (running.state, running.objective, running.solutions) == ("running", 123.0, 1)
    with session_scope(engine) as session:
        assert jobs.request_cancel(session, engine, network_id, job_id, "manager@tiny.test")
    assert gate.stop is not None and gate.stop.is_set()
    gate.release.set()
    jobs.wait(engine, job_id, WAIT)
    cancelled = _job(engine, job_id)
    assert cancelled.state == "cancelled" and cancelled.cancel_requested
    assert "nothing was saved" in (cancelled.message or "")
    assert _rota_count(engine) == 0
    with session_scope(engine) as session:
        logged = [(e.actor, e.action) for e in entries(session, network_id)]
        assert not jobs.request_cancel(session, engine, network_id, job_id, ACTOR)
    assert ("manager@tiny.test", "solve cancelled") in logged
    assert (ACTOR, "solve finished") in logged


def test_a_job_cancelled_while_queued_never_solves(tiny: tuple[Engine, int], gate: Gate) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
        assert jobs.request_cancel(session, engine, network_id, job_id, ACTOR)
    jobs.start(engine, job_id)
    jobs.wait(engine, job_id, WAIT)
    cancelled = _job(engine, job_id)
    assert cancelled.state == "cancelled"
    assert "before it started" in (cancelled.message or "")
    assert not gate.started.is_set()
    assert _rota_count(engine) == 0


def test_a_cancel_flag_set_by_another_process_stops_the_job(
    tiny: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id = tiny
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0.0)
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

    monkeypatch.setattr(jobs, "plan_week", planner)
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    jobs.start(engine, job_id)
    jobs.wait(engine, job_id, WAIT)
    assert flagged.is_set() and seen == [True]
    assert _job(engine, job_id).state == "cancelled"
    assert _rota_count(engine) == 0


# -- progress, concurrency and restarts ---------------------------------------------------------


def test_progress_writes_are_throttled(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    now = [10.0]
    writer = jobs.ProgressWriter(
        engine, job_id, threading.Event(), interval=0.5, clock=lambda: now[0]
    )
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
    jobs.start(engine, job_id)
    assert gate.started.wait(WAIT)
    gone = tiny_optimum()[0]
    with session_scope(engine) as session:
        apply_edit(
            session, network_id, WEEK, Edit("unassign", gone), expected_revision=0, actor=ACTOR
        )
    gate.release.set()
    jobs.wait(engine, job_id, WAIT)
    failed = _job(engine, job_id)
    assert failed.state == "failed" and "changed" in (failed.message or "")
    found = _draft(engine, network_id)
    assert found is not None and gone not in found[1].assignments
    assert found[0].revision == 1


def test_a_second_solve_of_a_week_waits_for_the_first(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        first = _create(session, network_id)
    with pytest.raises(jobs.SolveRunningError) as refused, session_scope(engine) as session:
        jobs.create_job(session, network_id, "2026-w49", weeks=1, keep_pins=True, actor=ACTOR)
    assert refused.value.job_id == first
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 1


def dead_pid() -> int:
    """The id of a process of this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def old_job(network_id: int, week: str, state: str, **fields: Any) -> SolveJobRecord:
    """A job row as another process would have left it."""
    values: dict[str, Any] = {
        "network_id": network_id,
        "week": week,
        "weeks": 1,
        "keep_pins": False,
        "state": state,
        "requested_by": ACTOR,
        "created_at": jobs.now() - dt.timedelta(hours=1),
        "solutions": 0,
        "cancel_requested": False,
        "if_free": False,
        "attempts": 1,
        "backend": "local",
        **fields,
    }
    return SolveJobRecord(**values)


def test_jobs_whose_worker_died_are_marked_interrupted_and_the_rest_left_alone(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    settings = jobs.QueueSettings(stale_after=30, visibility_timeout=100)
    ago = jobs.now() - dt.timedelta(seconds=60)  # stale, but within the visibility timeout
    long_ago = jobs.now() - dt.timedelta(seconds=1000)
    here = f"{jobs.HOST}:{dead_pid()}"
    rows = [
        old_job(network_id, "2026-W49", "running", heartbeat_at=ago, owner=here),
        old_job(network_id, "2026-W50", "queued", owner=here),
        old_job(network_id, "2026-W51", "running", heartbeat_at=jobs.now(), owner=here),
        old_job(network_id, "2026-W52", "queued", owner=jobs.process_owner(os.getpid())),
        old_job(network_id, "2026-W53", "queued", owner=f"elsewhere:{dead_pid()}"),
        old_job(network_id, "2027-W01", "running", heartbeat_at=ago, backend="celery"),
        old_job(network_id, "2027-W02", "running", heartbeat_at=long_ago, backend="celery"),
        old_job(network_id, "2026-W49", "done"),
    ]
    with session_scope(engine) as session:
        session.add_all(rows)
        session.flush()
        ids = [record.id for record in rows]
    assert jobs.sweep_interrupted(engine, network_id, settings) == [ids[0], ids[1], ids[6]]
    assert jobs.sweep_interrupted(engine, network_id, settings) == []
    states = [(_job(engine, i).state, _job(engine, i).message) for i in ids]
    assert states == [
        ("failed", jobs.INTERRUPTED),
        ("failed", jobs.INTERRUPTED),
        ("running", None),  # its heartbeat is fresh
        ("queued", None),  # this process's own
        ("queued", None),  # another machine's: its heartbeat will tell, once it runs
        ("running", None),  # the broker delivers it again to another worker
        ("failed", jobs.LOST),
        ("done", None),
    ]
    with session_scope(engine) as session:
        assert [e.action for e in entries(session, network_id)][:3] == ["solve interrupted"] * 3


def test_a_worker_claims_a_job_whose_worker_died_and_finishes_it(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    stale = jobs.now() - dt.timedelta(seconds=jobs.STALE_AFTER + 5)
    with session_scope(engine) as session:
        record = old_job(
            network_id, WEEK, "running", heartbeat_at=stale, owner="gone:1", backend="celery"
        )
        session.add(record)
        session.flush()
        job_id = record.id
    jobs.run_job(engine, job_id, threading.Event())
    done = _job(engine, job_id)
    assert (done.state, done.attempts, done.owner) == ("done", 2, jobs.process_owner(os.getpid()))
    assert _draft(engine, network_id) is not None


def test_a_job_running_with_a_fresh_heartbeat_is_not_claimed_twice(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        record = old_job(network_id, WEEK, "running", heartbeat_at=jobs.now(), owner="other:1")
        session.add(record)
        session.flush()
        job_id = record.id
    jobs.run_job(engine, job_id, threading.Event())  # a second delivery of its message
    running = _job(engine, job_id)
    assert (running.state, running.attempts, running.owner) == ("running", 1, "other:1")
    assert _rota_count(engine) == 0


def test_a_job_that_keeps_killing_its_worker_is_given_up(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    stale = jobs.now() - dt.timedelta(seconds=jobs.STALE_AFTER + 5)
    with session_scope(engine) as session:
        record = old_job(
            network_id,
            WEEK,
            "running",
            heartbeat_at=stale,
            owner="gone:1",
            attempts=jobs.MAX_ATTEMPTS,
        )
        session.add(record)
        session.flush()
        job_id = record.id
    jobs.run_job(engine, job_id, threading.Event())
    failed = _job(engine, job_id)
    assert failed.state == "failed"
    assert failed.message == jobs.GAVE_UP.format(attempts=jobs.MAX_ATTEMPTS)
    assert _rota_count(engine) == 0


def test_a_job_taken_over_by_another_worker_stops_and_saves_nothing(
    tiny: tuple[Engine, int], gate: Gate
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    jobs.start(engine, job_id)
    assert gate.started.wait(WAIT)
    with session_scope(engine) as session:  # as a worker that took this one for dead would
        record = session.get(SolveJobRecord, job_id)
        assert record is not None
        record.owner = "other:1"
    stop = threading.Event()
    assert jobs.Heartbeat(engine, job_id, jobs.process_owner(os.getpid()), stop).check(beat=True)
    gate.release.set()
    jobs.wait(engine, job_id, WAIT)
    row = _job(engine, job_id)
    assert (row.state, row.owner) == ("running", "other:1")  # left to the other worker
    assert _rota_count(engine) == 0


def test_the_sweep_leaves_a_job_that_was_claimed_after_it_looked(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    settings = jobs.QueueSettings(stale_after=30)
    stale = jobs.now() - dt.timedelta(seconds=60)
    with session_scope(engine) as session:
        record = old_job(network_id, WEEK, "running", heartbeat_at=stale, owner="gone:1")
        session.add(record)
        session.flush()
        job_id = record.id
    with session_scope(engine) as session:
        candidates = jobs._orphans(session, network_id, settings)
    assert [orphan.id for orphan in candidates] == [job_id]
    with session_scope(engine) as session:  # another worker claims it meanwhile
        row = session.get(SolveJobRecord, job_id)
        assert row is not None
        row.owner, row.attempts, row.heartbeat_at = "other:2", 2, jobs.now()
    assert jobs._close_orphans(engine, network_id, candidates) == []
    row = _job(engine, job_id)
    assert (row.state, row.owner, row.attempts) == ("running", "other:2", 2)


def test_a_job_that_fails_while_reading_its_input_is_failed_not_left_running(
    tiny: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)

    def broken(*_: Any) -> Any:
        raise RuntimeError("the bundle could not be read")

    monkeypatch.setattr(jobs, "read_input", broken)
    assert jobs.run_job(engine, job_id, threading.Event()) is jobs.Claim.TAKEN
    failed = _job(engine, job_id)
    assert failed.state == "failed" and "internal error" in (failed.message or "")


def test_a_scheduled_draft_is_not_solved_into_a_week_drafted_after_it_was_queued(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id, if_free=True)
    seed_draft(engine, network_id)  # a coordinator drafts the week meanwhile
    jobs.start(engine, job_id)
    jobs.wait(engine, job_id, WAIT)
    row = _job(engine, job_id)
    assert row.state == "cancelled"
    assert row.message == f"not needed: {WEEK} got a rota before this solve started; " + (
        "nothing was saved"
    )
    found = _draft(engine, network_id)
    assert found is not None and found[0].revision == 0  # the coordinator's draft, untouched


def test_a_scheduled_draft_saves_nothing_into_a_week_published_while_it_solved(
    tiny: tuple[Engine, int], gate: Gate
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id, if_free=True)
    jobs.start(engine, job_id)
    assert gate.started.wait(WAIT)
    with session_scope(engine) as session:
        kept = save_week(session, network_id, WEEK, [], state="published")
    gate.release.set()
    jobs.wait(engine, job_id, WAIT)
    row = _job(engine, job_id)
    assert (row.state, row.message) == (
        "failed",
        f"{WEEK} was published while this solve ran; nothing was saved",
    )
    with session_scope(engine) as session:
        ids = session.scalars(select(RotaRecord.id).where(RotaRecord.week == WEEK)).all()
    assert ids == [kept]


@pytest.mark.parametrize(
    ("first", "second"),
    [(("2026-W49", 4), ("2026-W51", 1)), (("2026-W50", 1), ("2026-W49", 2))],
)
def test_a_solve_overlapping_the_weeks_of_an_active_one_is_refused(
    tiny: tuple[Engine, int], first: tuple[str, int], second: tuple[str, int]
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        running = _create(session, network_id, first[0], weeks=first[1])
    with pytest.raises(jobs.SolveRunningError) as refused, session_scope(engine) as session:
        _create(session, network_id, second[0], weeks=second[1])
    assert refused.value.job_id == running
    with session_scope(engine) as session:  # a week after both is free
        assert _create(session, network_id, "2026-W53")


# -- idempotency ------------------------------------------------------------------------------


def test_asking_for_the_same_solve_again_gives_the_same_job(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        first = _create(session, network_id)
    with session_scope(engine) as session:
        again = jobs.create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=OPTIONS
        )
    assert again == jobs.Ticket(first, created=False)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 1


def test_a_solve_done_from_the_same_data_is_not_run_again_until_the_data_changes(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    done = _run(engine, network_id)
    assert done.state == "done" and done.result_hash is not None
    with session_scope(engine) as session:
        again = jobs.create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=OPTIONS
        )
    assert again == jobs.Ticket(done.id, created=False)
    gone = tiny_optimum()[0]
    with session_scope(engine) as session:
        apply_edit(
            session, network_id, WEEK, Edit("unassign", gone), expected_revision=0, actor=ACTOR
        )
    with session_scope(engine) as session:
        after_edit = jobs.create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=OPTIONS
        )
    assert after_edit.created and after_edit.id != done.id


def test_the_input_hash_changes_with_every_input_and_ignores_set_order(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        read = jobs.read_input(session, network_id, WEEK, 1, False)
    base = {"week": WEEK, "weeks": 1, "keep_pins": False, "if_free": False, "options": OPTIONS}
    digest = jobs.input_hash(read, **base)  # type: ignore[arg-type]
    shuffled = dataclasses.replace(read, pins=frozenset(reversed(sorted(tiny_optimum()[:3]))))
    ordered = dataclasses.replace(read, pins=frozenset(sorted(tiny_optimum()[:3])))
    assert jobs.input_hash(shuffled, **base) == jobs.input_hash(ordered, **base)  # type: ignore[arg-type]
    changes: list[tuple[jobs.JobInput, dict[str, Any]]] = [
        (read, {**base, "weeks": 2}),
        (read, {**base, "keep_pins": True}),
        (read, {**base, "if_free": True}),
        (read, {**base, "options": SolveOptions(time_limit=11, workers=1)}),
        (ordered, base),
        (dataclasses.replace(read, drafts={WEEK: (1, 0)}), base),
        (dataclasses.replace(read, bundle=dataclasses.replace(read.bundle, staff=())), base),
    ]
    digests = {jobs.input_hash(job_input, **fields) for job_input, fields in changes}
    assert digest not in digests and len(digests) == len(changes)


def test_a_different_solve_of_an_active_week_is_refused(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        first = _create(session, network_id)
    longer = SolveOptions(time_limit=30, workers=1)
    with pytest.raises(jobs.SolveRunningError) as refused, session_scope(engine) as session:
        jobs.create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=longer
        )
    assert refused.value.job_id == first


@pytest.mark.parametrize(("text", "weeks"), [(None, 1), ("", 1), (" 3 ", 3), ("8", 8)])
def test_weeks_field_accepts_one_to_eight(text: str | None, weeks: int) -> None:
    assert jobs.check_weeks(text) == weeks


@pytest.mark.parametrize("text", ["0", "9", "two", "1.5"])
def test_weeks_field_refuses_anything_else(text: str) -> None:
    with pytest.raises(jobs.JobInputError, match="weeks: give a whole number of weeks from 1 to 8"):
        jobs.check_weeks(text)


def test_creating_a_job_starts_nothing(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    assert _job(engine, job_id).state == "queued"
    with pytest.raises(KeyError):
        jobs.wait(engine, job_id, 0.1)


def test_a_planner_that_crashes_fails_the_job_without_details(
    tiny: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id = tiny

    def crash(*args: Any, **kwargs: Any) -> PlanOutcome:
        raise RuntimeError("S01 Grace Rees broke something")

    monkeypatch.setattr(jobs, "plan_week", crash)
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

    monkeypatch.setattr(jobs, "plan_week", fail)
    with caplog.at_level(logging.ERROR, logger=jobs.log.name):
        failed = _run(engine, network_id)
    assert failed.state == "failed"
    assert f"solve job {failed.id}" in caplog.text
    assert "Grace" not in caplog.text and "sick" not in caplog.text
