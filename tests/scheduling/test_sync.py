"""Syncing the job store: one job per network and kind, replaced or removed as settings change."""

from __future__ import annotations

import pickle
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from scheduler.jobs.scheduling import (
    OLD_MODULE,
    build_scheduler,
    run_scheduled,
    start_paused,
    sync_jobs,
)
from scheduler.jobs.timetable import (
    JOB_TABLE,
    MAX_JOB_ID,
    WallClockTrigger,
    job_id_for,
)
from scheduler.network_settings import JOB_KINDS
from scheduler.storage.db import session_scope
from scheduler.storage.models.network import NetworkRecord
from tests.scheduling.support import NETWORK, imported, london, specs


def test_each_enabled_job_of_each_network_is_registered_under_its_id(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any
) -> None:
    first = imported(db_url, tmp_path)
    second = imported(db_url, tmp_path, '\n[jobs]\nenabled = ["recheck"]\n', network="Second")
    sync_jobs(scheduler, specs(engine))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == sorted([f"{NETWORK}:{kind}" for kind in JOB_KINDS] + ["Second:recheck"])
    drafts = jobs[f"{NETWORK}:drafts"]
    assert drafts.func is run_scheduled
    assert drafts.args == (first, "drafts")
    assert jobs["Second:recheck"].args == (second, "recheck")
    assert isinstance(drafts.trigger, WallClockTrigger)
    assert str(drafts.trigger) == "cron[day_of_week='0', hour='6', minute='0']"
    assert drafts.misfire_grace_time == 6 * 3600
    assert jobs[f"{NETWORK}:recheck"].misfire_grace_time == 3600
    assert drafts.coalesce is True and drafts.max_instances == 1
    assert str(scheduler.timezone) == "Europe/London"


def test_the_job_store_is_in_the_application_database(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any
) -> None:
    imported(db_url, tmp_path)
    sync_jobs(scheduler, specs(engine))
    other = build_scheduler(engine)  # another process would read the same rows
    start_paused(other, engine)
    try:
        assert len(other.get_jobs()) == len(JOB_KINDS)
    finally:
        other.shutdown(wait=False)


def test_a_changed_time_replaces_the_job_and_a_disabled_kind_is_removed(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any
) -> None:
    imported(db_url, tmp_path)
    sync_jobs(scheduler, specs(engine))
    imported(db_url, tmp_path, '\n[jobs]\nenabled = ["drafts", "recheck"]\ndraft_time = "07:15"\n')
    synced = sync_jobs(scheduler, specs(engine))
    assert (synced.kept, synced.replaced, synced.removed) == (1, 1, len(JOB_KINDS) - 2)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == [f"{NETWORK}:drafts", f"{NETWORK}:recheck"]
    assert str(jobs[f"{NETWORK}:drafts"].trigger) == "cron[day_of_week='0', hour='7', minute='15']"


def test_a_removed_network_loses_its_jobs(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any
) -> None:
    imported(db_url, tmp_path)
    imported(db_url, tmp_path, network="Second")
    sync_jobs(scheduler, specs(engine))
    with session_scope(engine) as session:
        session.delete(session.scalars(select(NetworkRecord).filter_by(name="Second")).one())
    sync_jobs(scheduler, specs(engine))
    assert all(job.id.startswith(f"{NETWORK}:") for job in scheduler.get_jobs())
    assert len(scheduler.get_jobs()) == len(JOB_KINDS)


def test_an_unchanged_job_keeps_its_stored_next_run_time(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any
) -> None:
    """A run missed while the scheduler was stopped still runs within its grace time."""
    imported(db_url, tmp_path)
    sync_jobs(scheduler, specs(engine))
    missed = london(2026, 12, 7, 6)
    scheduler.modify_job(f"{NETWORK}:drafts", next_run_time=missed)
    sync_jobs(scheduler, specs(engine))
    assert scheduler.get_job(f"{NETWORK}:drafts").next_run_time == missed


def test_a_long_network_name_still_makes_a_valid_job_id() -> None:
    long_id = job_id_for("N" * 200, "retention")
    assert len(long_id) <= MAX_JOB_ID and long_id.endswith(":retention")
    assert job_id_for("N" * 200, "drafts") != job_id_for("N" * 199, "drafts")


def test_jobs_stored_under_the_modules_old_name_load_and_are_stored_anew(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Job states pickled by the code before it moved (``scheduler.scheduling``) are kept."""
    imported(db_url, tmp_path)
    sync_jobs(scheduler, specs(engine))
    before = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    old = types.ModuleType(OLD_MODULE)
    vars(old).update(WallClockTrigger=WallClockTrigger, run_scheduled=run_scheduled)
    with monkeypatch.context() as patch:  # pickle them as the old code did
        patch.setitem(sys.modules, OLD_MODULE, old)
        patch.setattr(WallClockTrigger, "__module__", OLD_MODULE)
        restate_jobs(engine, lambda state: {**state, "func": f"{OLD_MODULE}:run_scheduled"})
    monkeypatch.delitem(sys.modules, OLD_MODULE, raising=False)
    assert all(OLD_MODULE.encode() in state for state in job_states(engine))

    reopened = build_scheduler(engine)
    start_paused(reopened, engine)
    try:
        jobs = {job.id: job for job in reopened.get_jobs()}
        assert {job_id: job.next_run_time for job_id, job in jobs.items()} == before
        assert all(job.func is run_scheduled for job in jobs.values())
        sync_jobs(reopened, specs(engine))
    finally:
        reopened.shutdown(wait=False)
    assert not any(OLD_MODULE.encode() in state for state in job_states(engine))


def job_states(engine: Engine) -> list[bytes]:
    with engine.connect() as connection:
        return [
            bytes(row[0]) for row in connection.execute(text(f"SELECT job_state FROM {JOB_TABLE}"))
        ]


def restate_jobs(engine: Engine, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Rewrite every stored job state through ``change`` (APScheduler pickles them)."""
    with engine.begin() as connection:
        rows = connection.execute(text(f"SELECT id, job_state FROM {JOB_TABLE}")).all()
        for job_id, state in rows:
            new = pickle.dumps(change(pickle.loads(state)), pickle.HIGHEST_PROTOCOL)
            connection.execute(
                text(f"UPDATE {JOB_TABLE} SET job_state = :state WHERE id = :id"),
                {"state": new, "id": job_id},
            )
