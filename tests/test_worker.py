"""The Celery task's decisions, called directly: what goes back on the queue and what is dropped.

No broker is needed: the task function is an ordinary function of the job's
id and database, run here in the test process as a worker would run it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.exceptions import Reject
from sqlalchemy import Engine

from scheduler.jobs import queue as job_queue
from scheduler.jobs import worker
from scheduler.jobs.local import database_identity
from scheduler.jobs.queue import resend_unclaimed
from scheduler.jobs.records import create_job, now
from scheduler.jobs.settings import DEFAULT_QUEUE, LOCAL, queue_settings
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import SolveJobRecord
from tests.jobs.support import old_job
from tests.test_publishing import WEEK, tiny_network


@pytest.fixture
def tiny(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, int]]:
    """The tiny network, with this process set up as a worker on its database."""
    for engine, network_id in tiny_network(db_url):
        monkeypatch.setattr(worker.WORKER, "engine", engine)
        monkeypatch.setattr(worker, "REQUEUE_PAUSE", 0.0)
        yield engine, network_id


def _running_elsewhere(engine: Engine, network_id: int) -> int:
    with session_scope(engine) as session:
        record = old_job(network_id, WEEK, "running", heartbeat_at=now(), owner="other:1")
        session.add(record)
        session.flush()
        return record.id


def _row(engine: Engine, job_id: int) -> SolveJobRecord:
    with session_scope(engine) as session:
        record = session.get(SolveJobRecord, job_id)
        assert record is not None
        return record


def test_a_job_another_live_worker_solves_goes_back_on_the_queue(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    job_id = _running_elsewhere(engine, network_id)
    with pytest.raises(Reject) as rejected:
        worker.solve_task(job_id, database_identity(engine))
    assert rejected.value.requeue is True  # looked at again later, in case that worker dies
    assert (_row(engine, job_id).owner, _row(engine, job_id).attempts) == ("other:1", 1)


def test_a_queued_job_is_solved_and_a_finished_one_is_left_alone(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        ticket = create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor="t", settings=LOCAL
        )
    worker.solve_task(ticket.id, database_identity(engine))
    done = _row(engine, ticket.id)
    assert (done.state, done.attempts) == ("done", 1)
    worker.solve_task(ticket.id, database_identity(engine))  # delivered a second time
    again = _row(engine, ticket.id)
    assert (again.state, again.attempts, again.finished_at) == ("done", 1, done.finished_at)


def test_a_job_of_another_database_is_not_touched(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        ticket = create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor="t", settings=LOCAL
        )
    worker.solve_task(ticket.id, "postgresql:some_other_database")
    assert _row(engine, ticket.id).state == "queued"


def test_a_database_that_does_not_answer_puts_the_job_back_on_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'rotapool.sqlite'}")
    monkeypatch.setattr(worker.WORKER, "engine", missing)
    monkeypatch.setattr(worker, "REQUEUE_PAUSE", 0.0)
    with pytest.raises(Reject) as rejected:
        worker.solve_task(1, database_identity(missing))
    assert rejected.value.requeue is True
    missing.dispose()


def test_the_worker_settings_solve_one_job_at_a_time_and_acknowledge_late() -> None:
    settings = queue_settings({"BROKER_URL": "redis://127.0.0.1:6379/0", "VISIBILITY_TIMEOUT": 120})
    conf = worker.celery_app(settings).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert (conf.worker_prefetch_multiplier, conf.worker_concurrency) == (1, 1)
    assert conf.worker_pool == "solo"
    assert conf.broker_transport_options["visibility_timeout"] == 120
    arguments = worker.worker_arguments(settings)
    assert {"--pool=solo", "--concurrency=1", "--prefetch-multiplier=1"} <= set(arguments)
    assert f"--queues={DEFAULT_QUEUE}" in arguments


class Recorder:
    """A back end that keeps what it was sent (the broker is not what this test is about)."""

    name = "celery"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def submit(self, engine: Engine, job_id: int) -> None:
        self.sent.append(job_id)

    def stop(self, engine: Engine, job_id: int) -> None:
        """Nothing to stop."""


def test_only_celery_jobs_left_queued_long_after_sending_are_sent_again(
    tiny: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, network_id = tiny
    long_ago, lately = now() - dt.timedelta(hours=1), now()
    rows = [
        old_job(network_id, "2026-W49", "queued", backend="local", owner=None),
        old_job(network_id, "2026-W50", "queued", backend="celery", sent_at=long_ago),
        old_job(network_id, "2026-W51", "queued", backend="celery", sent_at=lately),
        old_job(network_id, "2026-W52", "queued", backend="celery", sent_at=None),
        old_job(network_id, "2026-W53", "running", backend="celery", sent_at=long_ago),
    ]
    with session_scope(engine) as session:
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
    recorder = Recorder()
    monkeypatch.setattr(job_queue, "backend_for", lambda _settings: recorder)
    settings = queue_settings({"BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert resend_unclaimed(engine, settings) == [ids[1], ids[3]]  # created an hour ago
    assert recorder.sent == [ids[1], ids[3]]
    assert _row(engine, ids[1]).sent_at is not None
    assert resend_unclaimed(engine, settings) == []  # just sent: they wait their turn
    assert resend_unclaimed(engine, LOCAL, older_than=0) == []  # no queue, no sending
