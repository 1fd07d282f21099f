"""Syncing the job store: one job per network and kind, replaced or removed as settings change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from scheduler.domain import JOB_KINDS
from scheduler.jobs.scheduler import (
    build_scheduler,
    run_scheduled,
    start_paused,
    sync_jobs,
)
from scheduler.jobs.timetable import (
    MAX_JOB_ID,
    WallClockTrigger,
    job_id_for,
)
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
    assert (synced.kept, synced.replaced, synced.removed) == (1, 1, 2)
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
