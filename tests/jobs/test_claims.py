"""Jobs whose worker died, claims by one worker only, scheduled drafts that must not overwrite."""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, select

from scheduler.jobs import run as job_run
from scheduler.jobs.claims import (
    Claim,
    Heartbeat,
    _close_orphans,
    _orphans,
    process_owner,
    sweep_interrupted,
)
from scheduler.jobs.queue import start, wait
from scheduler.jobs.run import run_job
from scheduler.jobs.settings import (
    GAVE_UP,
    HOST,
    INTERRUPTED,
    LOST,
    MAX_ATTEMPTS,
    STALE_AFTER,
    QueueSettings,
)
from scheduler.storage import clock
from scheduler.storage.audit import entries
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import SolveJobRecord
from scheduler.storage.models.network import RotaRecord
from tests.jobs.support import WAIT, Gate, _create, _draft, _job, _rota_count, dead_pid, old_job
from tests.test_publishing import WEEK, seed_draft
from tests.web_support import save_week


def test_jobs_whose_worker_died_are_marked_interrupted_and_the_rest_left_alone(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    settings = QueueSettings(stale_after=30, visibility_timeout=100)
    ago = clock.now() - dt.timedelta(seconds=60)  # stale, but within the visibility timeout
    long_ago = clock.now() - dt.timedelta(seconds=1000)
    here = f"{HOST}:{dead_pid()}"
    rows = [
        old_job(network_id, "2026-W49", "running", heartbeat_at=ago, owner=here),
        old_job(network_id, "2026-W50", "queued", owner=here),
        old_job(network_id, "2026-W51", "running", heartbeat_at=clock.now(), owner=here),
        old_job(network_id, "2026-W52", "queued", owner=process_owner(os.getpid())),
        old_job(network_id, "2026-W53", "queued", owner=f"elsewhere:{dead_pid()}"),
        old_job(network_id, "2027-W01", "running", heartbeat_at=ago, backend="celery"),
        old_job(network_id, "2027-W02", "running", heartbeat_at=long_ago, backend="celery"),
        old_job(network_id, "2026-W49", "done"),
    ]
    with session_scope(engine) as session:
        session.add_all(rows)
        session.flush()
        ids = [record.id for record in rows]
    assert sweep_interrupted(engine, network_id, settings) == [ids[0], ids[1], ids[6]]
    assert sweep_interrupted(engine, network_id, settings) == []
    states = [(_job(engine, i).state, _job(engine, i).message) for i in ids]
    assert states == [
        ("failed", INTERRUPTED),
        ("failed", INTERRUPTED),
        ("running", None),  # its heartbeat is fresh
        ("queued", None),  # this process's own
        ("queued", None),  # another machine's: its heartbeat will tell, once it runs
        ("running", None),  # the broker delivers it again to another worker
        ("failed", LOST),
        ("done", None),
    ]
    with session_scope(engine) as session:
        assert [e.action for e in entries(session, network_id)][:3] == ["solve interrupted"] * 3


def test_a_worker_claims_a_job_whose_worker_died_and_finishes_it(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    stale = clock.now() - dt.timedelta(seconds=STALE_AFTER + 5)
    with session_scope(engine) as session:
        record = old_job(
            network_id, WEEK, "running", heartbeat_at=stale, owner="gone:1", backend="celery"
        )
        session.add(record)
        session.flush()
        job_id = record.id
    run_job(engine, job_id, threading.Event())
    done = _job(engine, job_id)
    assert (done.state, done.attempts, done.owner) == ("done", 2, process_owner(os.getpid()))
    assert _draft(engine, network_id) is not None


def test_a_job_running_with_a_fresh_heartbeat_is_not_claimed_twice(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        record = old_job(network_id, WEEK, "running", heartbeat_at=clock.now(), owner="other:1")
        session.add(record)
        session.flush()
        job_id = record.id
    run_job(engine, job_id, threading.Event())  # a second delivery of its message
    running = _job(engine, job_id)
    assert (running.state, running.attempts, running.owner) == ("running", 1, "other:1")
    assert _rota_count(engine) == 0


def test_a_job_that_keeps_killing_its_worker_is_given_up(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    stale = clock.now() - dt.timedelta(seconds=STALE_AFTER + 5)
    with session_scope(engine) as session:
        record = old_job(
            network_id,
            WEEK,
            "running",
            heartbeat_at=stale,
            owner="gone:1",
            attempts=MAX_ATTEMPTS,
        )
        session.add(record)
        session.flush()
        job_id = record.id
    run_job(engine, job_id, threading.Event())
    failed = _job(engine, job_id)
    assert failed.state == "failed"
    assert failed.message == GAVE_UP.format(attempts=MAX_ATTEMPTS)
    assert _rota_count(engine) == 0


def test_a_job_taken_over_by_another_worker_stops_and_saves_nothing(
    tiny: tuple[Engine, int], gate: Gate
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id)
    start(engine, job_id)
    assert gate.started.wait(WAIT)
    with session_scope(engine) as session:  # as a worker that took this one for dead would
        record = session.get(SolveJobRecord, job_id)
        assert record is not None
        record.owner = "other:1"
    stop = threading.Event()
    assert Heartbeat(engine, job_id, process_owner(os.getpid()), stop).check(beat=True)
    gate.release.set()
    wait(engine, job_id, WAIT)
    row = _job(engine, job_id)
    assert (row.state, row.owner) == ("running", "other:1")  # left to the other worker
    assert _rota_count(engine) == 0


def test_the_sweep_leaves_a_job_that_was_claimed_after_it_looked(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    settings = QueueSettings(stale_after=30)
    stale = clock.now() - dt.timedelta(seconds=60)
    with session_scope(engine) as session:
        record = old_job(network_id, WEEK, "running", heartbeat_at=stale, owner="gone:1")
        session.add(record)
        session.flush()
        job_id = record.id
    with session_scope(engine) as session:
        candidates = _orphans(session, network_id, settings)
    assert [orphan.id for orphan in candidates] == [job_id]
    with session_scope(engine) as session:  # another worker claims it meanwhile
        row = session.get(SolveJobRecord, job_id)
        assert row is not None
        row.owner, row.attempts, row.heartbeat_at = "other:2", 2, clock.now()
    assert _close_orphans(engine, network_id, candidates) == []
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

    monkeypatch.setattr(job_run, "read_input", broken)
    assert run_job(engine, job_id, threading.Event()) is Claim.TAKEN
    failed = _job(engine, job_id)
    assert failed.state == "failed" and "internal error" in (failed.message or "")


def test_a_scheduled_draft_is_not_solved_into_a_week_drafted_after_it_was_queued(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        job_id = _create(session, network_id, if_free=True)
    seed_draft(engine, network_id)  # a coordinator drafts the week meanwhile
    start(engine, job_id)
    wait(engine, job_id, WAIT)
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
    start(engine, job_id)
    assert gate.started.wait(WAIT)
    with session_scope(engine) as session:
        kept = save_week(session, network_id, WEEK, [], state="published")
    gate.release.set()
    wait(engine, job_id, WAIT)
    row = _job(engine, job_id)
    assert (row.state, row.message) == (
        "failed",
        f"{WEEK} was published while this solve ran; nothing was saved",
    )
    with session_scope(engine) as session:
        ids = session.scalars(select(RotaRecord.id).where(RotaRecord.week == WEEK)).all()
    assert ids == [kept]
