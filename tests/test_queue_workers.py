"""Solve jobs on Celery with real Redis and PostgreSQL, run by real ``rotapool worker`` processes.

Runs when ``ROTAPOOL_TEST_BROKER_URL`` names a Redis server and
``ROTAPOOL_TEST_DATABASE_URL`` a PostgreSQL database (``.ci/run`` sets both
to the machine's own); skipped otherwise.  Each test starts two workers on a
queue of its own, so nothing else on the Redis server is touched.

The workers' settings are shortened for the test: a dead worker is noticed
after 6 s without a heartbeat and its job's message comes back after 20 s,
instead of the production defaults of 30 s and an hour.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select

from scheduler.bundle.reader import read_bundle
from scheduler.jobs.claims import process_owner
from scheduler.jobs.queue import resend_unclaimed, start
from scheduler.jobs.records import create_job, request_cancel
from scheduler.jobs.settings import ACTIVE, QueueSettings, queue_settings
from scheduler.jobs.worker import worker_command
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.models.app import AuditRecord, SolveJobRecord
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.repository import save_bundle
from solver import SolveOptions

BROKER = os.environ.get("ROTAPOOL_TEST_BROKER_URL")
DATABASE = os.environ.get("ROTAPOOL_TEST_DATABASE_URL")
pytestmark = [
    pytest.mark.skipif(
        not (BROKER and DATABASE),
        reason="needs ROTAPOOL_TEST_BROKER_URL (Redis) and ROTAPOOL_TEST_DATABASE_URL (PostgreSQL)",
    ),
    # Alone: a cancel must stop within 2 s, and a worker is taken for dead when its
    # heartbeat is 6 s late, which a machine busy with other tests could make it.
    pytest.mark.serial,
]

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "sample_data" / "tiny"
RIVERSIDE = ROOT / "sample_data" / "riverside"
WEEK = "2026-W49"
# The shortest visibility timeout the settings accept for these solves (the killed
# worker's job waits it out before the other worker takes it).
SETTINGS = {"VISIBILITY_TIMEOUT": 12, "JOB_STALE_AFTER": 6, "SOLVE_TIME_LIMIT": 5}
WAIT = 180.0  # seconds; a safety net, never reached when the code works
ACTOR = "coordinator@test"


@dataclass
class Workers:
    """Worker processes on one queue, and how to queue jobs for them."""

    engine: Engine
    settings: QueueSettings
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def owner(self, index: int) -> str:
        """Worker ``index`` as a job's owner (while it runs)."""
        return process_owner(self.processes[index].pid)

    def queue(self, network_id: int, options: SolveOptions, weeks: int = 1) -> int:
        with session_scope(self.engine) as session:
            ticket = create_job(
                session,
                network_id,
                WEEK,
                weeks=weeks,
                keep_pins=False,
                actor=ACTOR,
                options=options,
                settings=self.settings,
            )
        assert ticket.created
        start(self.engine, ticket.id, self.settings)
        return ticket.id

    def row(self, job_id: int) -> SolveJobRecord:
        with session_scope(self.engine) as session:
            record = session.get(SolveJobRecord, job_id)
            assert record is not None
            return record

    def wait_until(
        self, job_id: int, ready: str, check: Callable[[SolveJobRecord], bool]
    ) -> SolveJobRecord:
        """Poll the job's row until ``check(row)`` holds (``ready`` says what for)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            record = self.row(job_id)
            if check(record):
                return record
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} never became {ready}: {self.tails()}")

    def tails(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-3000:] for log in self.logs)


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            worker_command(), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )


def _wait_ready(log: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if b" ready." in log.read_bytes():
            return
        if process.poll() is not None:
            raise AssertionError(f"the worker exited: {log.read_text(errors='replace')}")
        time.sleep(0.1)
    raise AssertionError(f"the worker never became ready: {log.read_text(errors='replace')}")


@pytest.fixture
def workers(db_url: str, tmp_path: Path) -> Iterator[Workers]:
    """Two ``rotapool worker`` processes on a queue of this test's own; stopped afterwards."""
    assert BROKER is not None
    upgrade(db_url)
    queue = f"rotapool-test-{uuid.uuid4().hex[:12]}"
    config = {"BROKER_URL": BROKER, "SOLVE_QUEUE": queue, **SETTINGS}
    settings = queue_settings(config)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "ROTAPOOL_INSTANCE": str(tmp_path),
        **{f"ROTAPOOL_{name}": str(value) for name, value in config.items()},
    }
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    processes = [_start_worker(env, log) for log in logs]
    engine = make_engine(db_url)
    try:
        for log, process in zip(logs, processes, strict=True):
            _wait_ready(log, process)
        yield Workers(engine, settings, processes, logs)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown: ends after the solve
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        engine.dispose()
        client = redis.Redis.from_url(BROKER)
        client.delete(queue)
        client.close()


def _networks(engine: Engine, source: Path, count: int) -> list[int]:
    """``count`` copies of a bundle as networks of their own; their ids."""
    bundle, _ = read_bundle(source)
    with session_scope(engine) as session:
        return [
            save_bundle(session, dataclasses.replace(bundle, name=f"{bundle.name} {n}"))
            for n in range(count)
        ]


def _finished_audits(engine: Engine) -> dict[str, int]:
    """How many times each job was recorded as finished."""
    with session_scope(engine) as session:
        statement = (
            select(AuditRecord.subject, func.count())
            .where(AuditRecord.action == "solve finished")
            .group_by(AuditRecord.subject)
        )
        return {subject: count for subject, count in session.execute(statement)}


def test_two_workers_take_twenty_queued_solves_each_exactly_once(workers: Workers) -> None:
    networks = _networks(workers.engine, TINY, 20)
    job_ids = [workers.queue(n, SolveOptions(time_limit=5, workers=1)) for n in networks]
    rows = [workers.wait_until(i, "finished", lambda r: r.state not in ACTIVE) for i in job_ids]
    assert [(r.state, r.attempts) for r in rows] == [("done", 1)] * 20, workers.tails()
    assert {r.owner for r in rows} == {workers.owner(0), workers.owner(1)}  # both took some
    finished = _finished_audits(workers.engine)
    assert {f"{WEEK} job {i}": 1 for i in job_ids} == finished
    with session_scope(workers.engine) as session:
        drafts = session.execute(
            select(RotaRecord.network_id, func.count()).group_by(RotaRecord.network_id)
        ).all()
    assert sorted(drafts) == [(n, 1) for n in networks]  # one draft each, never saved twice


def test_a_worker_killed_mid_solve_has_its_job_finished_by_the_other(workers: Workers) -> None:
    (network_id,) = _networks(workers.engine, RIVERSIDE, 1)
    job_id = workers.queue(network_id, SolveOptions(time_limit=5, workers=2))
    running = workers.wait_until(job_id, "running", lambda r: r.state == "running")
    owners = [workers.owner(0), workers.owner(1)]
    victim = owners.index(running.owner or "")
    workers.processes[victim].kill()  # SIGKILL: no warm shutdown, no acknowledgement
    workers.processes[victim].wait()
    done = workers.wait_until(job_id, "finished", lambda r: r.state not in ACTIVE)
    assert (done.state, done.attempts) == ("done", 2), (done.message, workers.tails())
    assert done.owner == owners[1 - victim]
    assert _finished_audits(workers.engine) == {f"{WEEK} job {job_id}": 1}
    with session_scope(workers.engine) as session:
        assert session.scalar(select(func.count()).select_from(RotaRecord)) == 1


def test_a_cancelled_job_stops_within_two_seconds(workers: Workers) -> None:
    (network_id,) = _networks(workers.engine, RIVERSIDE, 1)
    # Four weeks are not proven optimal in 30 s: the cancel lands mid-search.  (With 60 s
    # the first rota is built person by person first, which reports nothing for ~20 s.)
    job_id = workers.queue(network_id, SolveOptions(time_limit=30, workers=2), weeks=4)
    workers.wait_until(job_id, "searching", lambda r: r.state == "running" and r.solutions > 0)
    asked = time.monotonic()
    with session_scope(workers.engine) as session:
        assert request_cancel(session, workers.engine, network_id, job_id, ACTOR)
    ended = workers.wait_until(job_id, "finished", lambda r: r.state not in ACTIVE)
    took = time.monotonic() - asked
    assert ended.state == "cancelled", (ended.message, workers.tails())
    assert took < 2.0
    with session_scope(workers.engine) as session:
        assert session.scalar(select(func.count()).select_from(RotaRecord)) == 0


def test_a_job_whose_message_was_lost_is_sent_again_and_solved(workers: Workers) -> None:
    (network_id,) = _networks(workers.engine, TINY, 1)
    with session_scope(workers.engine) as session:  # saved, but its process died before sending
        ticket = create_job(
            session,
            network_id,
            WEEK,
            weeks=1,
            keep_pins=False,
            actor=ACTOR,
            options=SolveOptions(time_limit=5, workers=1),
            settings=workers.settings,
        )
    assert resend_unclaimed(workers.engine, workers.settings) == []  # not waited long yet
    assert resend_unclaimed(workers.engine, workers.settings, older_than=0) == [ticket.id]
    done = workers.wait_until(ticket.id, "finished", lambda r: r.state not in ACTIVE)
    assert (done.state, done.attempts) == ("done", 1), (done.message, workers.tails())
    assert done.sent_at is not None
    assert resend_unclaimed(workers.engine, workers.settings, older_than=0) == []
