"""The scheduler's wiring: ``[jobs]`` settings, job sync, clock changes and run-once claims.

Jobs here are small functions of this module (the real ones are tested in their own
module); every clock is passed in, so no test depends on when it runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from scheduler import importer, scheduling
from scheduler.domain import JOB_KINDS, JobSettings, Problem
from scheduler.importer import BundleError, read_bundle
from scheduler.scheduling import (
    CLAIMED_ELSEWHERE,
    LONDON,
    JobSpec,
    Runner,
    WallClockTrigger,
    build_scheduler,
    due_time,
    fire_times,
    job_specs,
    run_identity,
    start_paused,
    sync_jobs,
    trigger_for,
)
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models import JobRunRecord, NetworkRecord, WeekAlertRecord
from scheduler.storage.repository import load_bundle
from scheduler.tables import Setting
from scheduler.usecases import import_bundle
from tests.bundles import edit_text, write_bundle

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC
NETWORK = "Example network"
ALL_AT_0130 = """
[jobs]
enabled = ["drafts", "recheck", "reminder", "retention"]
draft_day = "Sun"
draft_time = "01:30"
recheck_time = "01:30"
reminder_time = "01:30"
retention_time = "01:30"
"""


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> dt.datetime:
    """A Europe/London wall-clock time (``fold=1``: the second of a repeated one)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON, fold=fold)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def fixed_clock(moment: dt.datetime) -> Any:
    return lambda: moment


# -- [jobs] in network.toml ----------------------------------------------------------------


def jobs_bundle(tmp_path: Path, jobs: str, name: str = "bundle", network: str = NETWORK) -> Path:
    """The example bundle with ``jobs`` appended to its network.toml."""
    folder = write_bundle(tmp_path, name)
    edit_text(folder, "network", 'name = "Example network"', f'name = "{network}"')
    path = folder / "network.toml"
    path.write_text(path.read_text(encoding="utf-8") + jobs, encoding="utf-8")
    return folder


def network_toml_line(folder: Path, text: str) -> int:
    lines = (folder / "network.toml").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(text))


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(BundleError) as error:
        read_bundle(folder)
    return [str(problem) for problem in error.value.problems if not problem.warning]


def test_jobs_settings_are_read_from_network_toml(tmp_path: Path) -> None:
    folder = jobs_bundle(
        tmp_path,
        """
[jobs]
enabled = ["drafts", "reminder"]
draft_day = "Wednesday"
draft_time = "05:45"
draft_weeks_ahead = 4
recheck_time = "01:30"
reminder_time = 07:15:00
reminder_days = 10
retention_time = "04:00"
audit_retention_days = 3650
version_retention_days = 90
""",
    )
    bundle, _ = read_bundle(folder)
    assert bundle.jobs == JobSettings(
        enabled=frozenset({"drafts", "reminder"}),
        draft_day=2,
        draft_time=dt.time(5, 45),
        draft_weeks_ahead=4,
        recheck_time=dt.time(1, 30),
        reminder_time=dt.time(7, 15),
        reminder_days=10,
        retention_time=dt.time(4, 0),
        audit_retention_days=3650,
        version_retention_days=90,
    )


def test_without_a_jobs_section_the_defaults_apply(tmp_path: Path) -> None:
    bundle, _ = read_bundle(write_bundle(tmp_path))
    assert bundle.jobs == JobSettings()
    assert bundle.jobs.enabled == frozenset(JOB_KINDS)


def test_an_empty_enabled_list_switches_every_job_off(tmp_path: Path) -> None:
    bundle, _ = read_bundle(jobs_bundle(tmp_path, "\n[jobs]\nenabled = []\n"))
    assert bundle.jobs.enabled == frozenset()


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        ('draft_time = "6am"', "'6am' is not a time; write a time as HH:MM"),
        ('recheck_time = "24:00"', "is not a time of day"),
        ("reminder_time = 8", 'write it in quotes, e.g. "06:00"'),
        ('draft_day = "Funday"', "'Funday' is not a day; write one day, e.g. draft_day = \"Mon\""),
        ('enabled = ["drafts", "backups"]', "unknown job 'backups'; the jobs are drafts, recheck"),
        ('enabled = "drafts, recheck"', "unknown job 'drafts, recheck'"),  # a text is a ;-list
        ("draft_weeks_ahead = 0", "it must be at least 1, e.g. 3"),
        ("reminder_days = 2.5", "must be a whole number of days, e.g. 14"),
        ("audit_retention_days = -1", "at least 1"),
        # Past the calendar's end, retention would fail every night (OverflowError).
        ("audit_retention_days = 1000000", "too large; it must be at most 36500"),
        ("draft_weeks_ahead = 100000000", "too large; it must be at most 52"),
        ("nightly = true", "unknown jobs setting 'nightly'; the settings are enabled, draft_day"),
    ],
)
def test_a_wrong_jobs_setting_names_the_file_line_key_and_what_to_write(
    tmp_path: Path, line: str, phrase: str
) -> None:
    folder = jobs_bundle(tmp_path, f"\n[jobs]\n{line}\n")
    key = line.split(" =", maxsplit=1)[0]
    address = f"network.toml:{network_toml_line(folder, key)}: jobs.{key}: "
    found = problems_of(folder)
    assert len(found) == 1, found
    assert found[0].startswith(address), found
    assert phrase in found[0]


def test_a_string_enabled_value_is_a_list_separated_by_semicolons() -> None:
    """A workbook's network sheet holds text: ``drafts; recheck``."""
    problems: list[Problem] = []
    settings = [Setting("jobs.enabled", "drafts; recheck", 2), Setting("jobs.draft_day", "tue", 3)]
    network = importer.read_network(settings, "network", "x", problems)
    assert problems == []
    assert network.jobs == {"enabled": frozenset({"drafts", "recheck"}), "draft_day": 1}


def test_jobs_settings_survive_the_database(tmp_path: Path, db_url: str) -> None:
    folder = jobs_bundle(tmp_path, '\n[jobs]\nenabled = ["recheck"]\nrecheck_time = "01:30"\n')
    bundle, _ = read_bundle(folder)
    import_bundle(db_url, folder)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            assert load_bundle(session) == bundle
    finally:
        engine.dispose()


def test_a_network_stored_before_jobs_existed_loads_with_the_defaults(
    db_url: str, tmp_path: Path
) -> None:
    import_bundle(db_url, jobs_bundle(tmp_path, '\n[jobs]\nenabled = ["drafts"]\n'))
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            network = session.scalars(select(NetworkRecord)).one()
            assert "jobs" in network.settings
            network.settings = {k: v for k, v in network.settings.items() if k != "jobs"}
        with session_scope(engine) as session:
            assert load_bundle(session).jobs == JobSettings()
    finally:
        engine.dispose()


# -- triggers across the clock changes ------------------------------------------------------


def fires_between(trigger: Any, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Fire times as APScheduler asks for them: each from the previous one."""
    found = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return found


DAILY_0130 = dataclasses.replace(JobSettings(), recheck_time=dt.time(1, 30))


def test_a_0130_job_runs_once_on_the_night_the_clocks_go_forward() -> None:
    """29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 never happens on the clock."""
    trigger = trigger_for(DAILY_0130, "recheck")
    fires = fires_between(trigger, london(2026, 3, 28, 12), london(2026, 3, 29, 23))
    assert [f.astimezone(UTC) for f in fires] == [utc(2026, 3, 29, 1, 30)]  # 02:30 BST
    assert scheduling.when(fires[0]) == "Sun 29 Mar 2026 02:30 BST"
    later = fires_between(trigger, london(2026, 3, 29, 23), london(2026, 3, 30, 23))
    assert [f.astimezone(UTC) for f in later] == [utc(2026, 3, 30, 0, 30)]  # 01:30 BST


def test_a_0130_job_runs_once_on_the_night_the_clocks_go_back() -> None:
    """25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice."""
    trigger = trigger_for(DAILY_0130, "recheck")
    fires = fires_between(trigger, london(2026, 10, 24, 12), london(2026, 10, 25, 23))
    assert [f.astimezone(UTC) for f in fires] == [utc(2026, 10, 25, 0, 30)]  # the first 01:30
    later = fires_between(trigger, london(2026, 10, 25, 23), london(2026, 10, 26, 23))
    assert [f.astimezone(UTC) for f in later] == [utc(2026, 10, 26, 1, 30)]  # 01:30 GMT


def test_a_plain_cron_trigger_would_fire_twice_when_the_clocks_go_back() -> None:
    """Why WallClockTrigger exists (the pair of the test above)."""
    plain = CronTrigger(hour=1, minute=30, timezone=LONDON)
    fires = fires_between(plain, london(2026, 10, 24, 12), london(2026, 10, 25, 23))
    assert [f.astimezone(UTC) for f in fires] == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 30),
    ]


def test_a_weekly_sunday_0130_job_runs_once_in_each_change_week() -> None:
    settings = dataclasses.replace(JobSettings(), draft_day=6, draft_time=dt.time(1, 30))
    trigger = trigger_for(settings, "drafts")
    spring = fires_between(trigger, london(2026, 3, 23), london(2026, 4, 5, 12))
    autumn = fires_between(trigger, london(2026, 10, 19), london(2026, 11, 1, 12))
    assert [f.astimezone(UTC) for f in spring] == [utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)]
    assert [f.astimezone(UTC) for f in autumn] == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 11, 1, 1, 30),
    ]


def test_job_times_are_europe_london_wall_clock_times() -> None:
    trigger = trigger_for(JobSettings(), "drafts")  # Mondays 06:00
    winter = trigger.get_next_fire_time(None, london(2026, 12, 1))
    summer = trigger.get_next_fire_time(None, london(2026, 7, 1))
    assert winter == london(2026, 12, 7, 6) and winter.astimezone(UTC).hour == 6
    assert summer == london(2026, 7, 6, 6) and summer.astimezone(UTC).hour == 5


def test_the_due_run_is_the_latest_fire_time_within_the_grace_time() -> None:
    trigger = trigger_for(JobSettings(), "recheck")  # daily 02:30
    assert due_time(trigger, london(2026, 12, 1, 2, 30), 3600) == london(2026, 12, 1, 2, 30)
    assert due_time(trigger, london(2026, 12, 1, 3, 29), 3600) == london(2026, 12, 1, 2, 30)
    assert due_time(trigger, london(2026, 12, 1, 3, 31), 3600) is None  # missed: next night
    assert due_time(trigger, london(2026, 12, 1, 2, 29), 3600) is None  # not yet


def test_both_0130s_of_the_autumn_night_name_the_same_run() -> None:
    first, second = london(2026, 10, 25, 1, 30), london(2026, 10, 25, 1, 30, fold=1)
    assert first.astimezone(UTC) != second.astimezone(UTC)
    assert run_identity(first) == run_identity(second) == utc(2026, 10, 25, 0, 30)
    assert run_identity(utc(2026, 10, 26, 1, 30)) == utc(2026, 10, 26, 1, 30)  # no change


def test_fire_times_lists_each_fire_in_the_window() -> None:
    trigger = trigger_for(JobSettings(), "retention")  # daily 03:30
    found = list(fire_times(trigger, london(2026, 12, 1), london(2026, 12, 3, 3, 30)))
    assert found == [london(2026, 12, d, 3, 30) for d in (1, 2, 3)]


# -- syncing the job store --------------------------------------------------------------------


@pytest.fixture
def scheduler(engine: Engine) -> Iterator[Any]:
    made = build_scheduler(engine)
    start_paused(made, engine)
    yield made
    if made.running:
        made.shutdown(wait=False)


def imported(db_url: str, tmp_path: Path, jobs: str = "", network: str = NETWORK) -> int:
    name = f"bundle-{len(list(tmp_path.iterdir()))}"  # a new folder for each import
    folder = jobs_bundle(tmp_path, jobs, name=name, network=network)
    return import_bundle(db_url, folder)[0]


def specs(engine: Engine) -> list[JobSpec]:
    with session_scope(engine) as session:
        return job_specs(session)


def test_each_enabled_job_of_each_network_is_registered_under_its_id(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any
) -> None:
    first = imported(db_url, tmp_path)
    second = imported(db_url, tmp_path, '\n[jobs]\nenabled = ["recheck"]\n', network="Second")
    sync_jobs(scheduler, specs(engine))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == sorted([f"{NETWORK}:{kind}" for kind in JOB_KINDS] + ["Second:recheck"])
    drafts = jobs[f"{NETWORK}:drafts"]
    assert drafts.func is scheduling.run_scheduled
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
    long_id = scheduling.job_id_for("N" * 200, "retention")
    assert len(long_id) <= scheduling.MAX_JOB_ID and long_id.endswith(":retention")
    assert scheduling.job_id_for("N" * 200, "drafts") != scheduling.job_id_for("N" * 199, "drafts")


# -- claiming and running -------------------------------------------------------------------


CALLS: list[tuple[int, str]] = []


def record_alert(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """A job that writes a row, so a test can count how often it ran."""
    CALLS.append((network_id, f"{now:%Y-%m-%d %H:%M %Z}"))
    session.add(
        WeekAlertRecord(
            network_id=network_id, week="2026-W43", kind="reminder", message="ran", created_at=now
        )
    )
    return f"recorded ({config.get('MARK', 'no mark')})"


def fail(session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]) -> str:
    session.add(
        WeekAlertRecord(
            network_id=network_id, week="2026-W43", kind="reminder", message="x", created_at=now
        )
    )
    raise ValueError("S0001 Dr Example is broken")


GOOD_JOBS = dict.fromkeys(JOB_KINDS, record_alert)


@pytest.fixture(autouse=True)
def fresh_calls() -> None:
    CALLS.clear()


def runs(engine: Engine) -> list[JobRunRecord]:
    with session_scope(engine) as session:
        return list(session.scalars(select(JobRunRecord).order_by(JobRunRecord.id)))


def alerts(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.scalars(select(WeekAlertRecord)).all())


def recheck_spec(engine: Engine) -> JobSpec:
    return next(s for s in specs(engine) if s.kind == "recheck")


def test_a_run_is_claimed_runs_in_a_transaction_and_records_done(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    imported(db_url, tmp_path)
    clock = fixed_clock(utc(2026, 12, 1, 2, 31))
    runner = Runner(engine, {"MARK": "config passed"}, clock, GOOD_JOBS)
    result = runner.run(recheck_spec(engine), london(2026, 12, 1, 2, 30))
    assert result.outcome == "done" and result.summary == "recorded (config passed)"
    assert CALLS == [(1, "2026-12-01 02:31 GMT")]  # now: an aware Europe/London time
    [run] = runs(engine)
    assert (run.job_id, run.kind, run.outcome) == (f"{NETWORK}:recheck", "recheck", "done")
    assert scheduling.utc(run.due_at) == utc(2026, 12, 1, 2, 30)
    assert scheduling.utc(run.finished_at or utc(1, 1, 1)) == utc(2026, 12, 1, 2, 31)
    assert run.summary == "recorded (config passed)" and run.error is None
    assert run.runner.endswith(f":{os.getpid()}")
    assert alerts(engine) == 1


def test_a_second_claim_of_the_same_due_run_is_refused(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    imported(db_url, tmp_path)
    spec = recheck_spec(engine)
    first = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 30)), GOOD_JOBS)
    second = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 31)), GOOD_JOBS)
    assert first.run(spec, london(2026, 12, 1, 2, 30)).outcome == "done"
    assert second.run(spec, london(2026, 12, 1, 2, 30)).outcome == CLAIMED_ELSEWHERE
    assert len(runs(engine)) == 1 and alerts(engine) == 1 and len(CALLS) == 1


def test_a_claim_tried_again_after_a_refused_commit_is_not_taken_for_another_runners(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    """SQLite may refuse the claim's COMMIT (locked); meanwhile another runner's claim may
    take the row id the refused INSERT had.  The second try must still claim the run."""
    imported(db_url, tmp_path)
    clock = fixed_clock(utc(2026, 12, 1, 2, 30))
    runner, other = Runner(engine, {}, clock, GOOD_JOBS), Runner(engine, {}, clock, GOOD_JOBS)
    reminder = next(s for s in specs(engine) if s.kind == "reminder")
    tries: list[int] = []

    def locked_once(work: Any) -> Any:
        def flaky(session: Session) -> Any:
            tries.append(1)
            if len(tries) == 1:
                work(session)  # the INSERT went through, then the COMMIT is refused
                raise OperationalError("COMMIT", {}, Exception("database is locked"))
            if len(tries) == 2:  # before the second try: another runner claims another job
                other.claim(reminder, utc(2026, 12, 1, 8, 0))
            return work(session)

        return Runner.write(runner, flaky)

    runner.write = locked_once  # type: ignore[method-assign]
    assert runner.run(recheck_spec(engine), london(2026, 12, 1, 2, 30)).outcome == "done"
    assert sorted(r.kind for r in runs(engine)) == ["recheck", "reminder"]
    assert len(CALLS) == 1


def test_the_next_due_time_is_a_new_run(db_url: str, tmp_path: Path, engine: Engine) -> None:
    """The pair of the test above: another night's run is not refused."""
    imported(db_url, tmp_path)
    spec = recheck_spec(engine)
    runner = Runner(engine, {}, fixed_clock(utc(2026, 12, 2, 2, 30)), GOOD_JOBS)
    runner.run(spec, london(2026, 12, 1, 2, 30))
    assert runner.run(spec, london(2026, 12, 2, 2, 30)).outcome == "done"
    assert len(runs(engine)) == 2


def test_a_repeated_0130_fire_in_october_does_not_run_again(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    """Even a trigger that fired at both 01:30s (a plain CronTrigger) runs the job once."""
    imported(db_url, tmp_path, ALL_AT_0130)
    spec = recheck_spec(engine)
    runner = Runner(engine, {}, fixed_clock(utc(2026, 10, 25, 1, 30)), GOOD_JOBS)
    first = runner.run(spec, london(2026, 10, 25, 1, 30))  # 00:30 UTC
    second = runner.run(spec, london(2026, 10, 25, 1, 30, fold=1))  # 01:30 UTC
    assert (first.outcome, second.outcome) == ("done", CLAIMED_ELSEWHERE)
    [run] = runs(engine)
    assert scheduling.utc(run.due_at) == utc(2026, 10, 25, 0, 30)
    assert len(CALLS) == 1


def test_a_failed_job_records_failed_with_its_error_and_rolls_back(
    db_url: str, tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    imported(db_url, tmp_path)
    runner = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 30)), {"recheck": fail})
    result = runner.run(recheck_spec(engine), london(2026, 12, 1, 2, 30))
    assert result.outcome == "failed"
    [run] = runs(engine)
    assert run.outcome == "failed" and run.finished_at is not None and run.summary is None
    assert run.error == "ValueError: S0001 Dr Example is broken"
    assert alerts(engine) == 0  # the job's own writes are rolled back
    assert "ValueError" in caplog.text
    assert "Dr Example" not in caplog.text  # no personal data in the logs


def test_a_failing_job_does_not_stop_the_others(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    imported(db_url, tmp_path, ALL_AT_0130)
    jobs = {**GOOD_JOBS, "drafts": fail}
    clock = fixed_clock(utc(2026, 10, 25, 0, 40))  # 01:40 BST, the first time round
    results = scheduling.run_once(engine, {}, clock, jobs)
    outcomes = {r.job_id.split(":")[1]: r.outcome for r in results}
    assert outcomes == {
        "drafts": "failed",
        "recheck": "done",
        "reminder": "done",
        "retention": "done",
    }
    assert alerts(engine) == 3


def test_run_once_at_the_second_0140_runs_nothing_again(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    imported(db_url, tmp_path, ALL_AT_0130)
    scheduling.run_once(engine, {}, fixed_clock(utc(2026, 10, 25, 0, 40)), GOOD_JOBS)
    again = scheduling.run_once(engine, {}, fixed_clock(utc(2026, 10, 25, 1, 40)), GOOD_JOBS)
    # Only drafts (six hours' grace) still sees 01:30 as due, and its claim is refused.
    assert [(r.job_id, r.outcome) for r in again] == [(f"{NETWORK}:drafts", CLAIMED_ELSEWHERE)]
    assert len(runs(engine)) == len(JOB_KINDS) and len(CALLS) == len(JOB_KINDS)


def test_run_once_moves_past_next_run_times_after_now(
    db_url: str, tmp_path: Path, engine: Engine, scheduler: Any
) -> None:
    """So ``jobs list`` shows the next run after cron-style use too."""
    imported(db_url, tmp_path, ALL_AT_0130)
    sync_jobs(scheduler, specs(engine))
    for kind in ("drafts", "recheck"):
        scheduler.modify_job(f"{NETWORK}:{kind}", next_run_time=london(2026, 10, 25, 1, 30))
    scheduler.shutdown(wait=False)
    scheduling.run_once(engine, {}, fixed_clock(utc(2026, 10, 25, 0, 40)), GOOD_JOBS)
    with session_scope(engine) as session:
        stored = scheduling.stored_next_runs(session)
    assert stored[f"{NETWORK}:recheck"] == utc(2026, 10, 26, 1, 30)
    assert stored[f"{NETWORK}:drafts"] == utc(2026, 11, 1, 1, 30)


def test_run_scheduled_runs_the_due_run_of_the_active_runner(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    network_id = imported(db_url, tmp_path)
    runner = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 30, 1)), GOOD_JOBS)
    with scheduling.active(runner):
        scheduling.run_scheduled(network_id, "recheck")
        scheduling.run_scheduled(network_id, "recheck")  # the same fire, delivered twice
    [run] = runs(engine)
    assert scheduling.utc(run.due_at) == utc(2026, 12, 1, 2, 30)
    with pytest.raises(RuntimeError, match="only inside `rotapool scheduler`"):
        scheduling.run_scheduled(network_id, "recheck")


def test_run_scheduled_skips_a_job_no_longer_in_the_settings(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    network_id = imported(db_url, tmp_path, '\n[jobs]\nenabled = ["drafts"]\n')
    runner = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 30)), GOOD_JOBS)
    with scheduling.active(runner):
        scheduling.run_scheduled(network_id, "recheck")
    assert runs(engine) == []


def test_the_runner_looks_up_scheduler_routine_jobs_by_kind_at_run_time(
    db_url: str, tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported(db_url, tmp_path)
    monkeypatch.setattr(scheduling, "routine_jobs", lambda: GOOD_JOBS)
    runner = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 30)))
    assert runner.run(recheck_spec(engine), london(2026, 12, 1, 2, 30)).outcome == "done"


def test_the_running_scheduler_runs_a_run_missed_while_it_was_stopped(
    db_url: str,
    tmp_path: Path,
    engine: Engine,
    scheduler: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole path: job store -> APScheduler's loop -> run_scheduled -> the claim."""
    imported(db_url, tmp_path, '\n[jobs]\nenabled = ["recheck"]\n')
    sync_jobs(scheduler, specs(engine))
    # Stopped before its last fire time (APScheduler's own clock is the real one).
    missed = dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    scheduler.modify_job(f"{NETWORK}:recheck", next_run_time=missed)
    scheduler.shutdown(wait=False)
    monkeypatch.setattr(scheduling, "utc_now", fixed_clock(utc(2026, 12, 1, 2, 30, 5)))
    monkeypatch.setattr(scheduling, "routine_jobs", lambda: GOOD_JOBS)
    stop = threading.Event()
    serving = threading.Thread(target=scheduling.serve, args=(engine, {}, stop))
    serving.start()
    try:
        deadline = time.monotonic() + 60
        while not [r for r in runs(engine) if r.outcome == "done"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        serving.join(timeout=60)
    [run] = runs(engine)
    assert (run.job_id, run.outcome) == (f"{NETWORK}:recheck", "done")
    assert scheduling.utc(run.due_at) == utc(2026, 12, 1, 2, 30)
    assert not serving.is_alive()


# -- two scheduler processes on one database -------------------------------------------------


PROCESS = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from scheduler.scheduling import run_once
    from scheduler.storage.db import make_engine
    from scheduler.storage.models import WeekAlertRecord

    def slow_job(session, network_id, now, config):
        time.sleep(0.2)  # long enough for the other process to try the same run
        session.add(WeekAlertRecord(network_id=network_id, week="2026-W43", kind="reminder",
                                    message=config["NAME"], created_at=now))
        return "ran in " + config["NAME"]

    url, name, ready, go = sys.argv[1:]
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    now = dt.datetime(2026, 10, 25, 0, 40, tzinfo=dt.UTC)  # 01:40 BST, the first time round
    engine = make_engine(url)
    jobs = dict.fromkeys(("drafts", "recheck", "reminder", "retention"), slow_job)
    for result in run_once(engine, {"NAME": name}, lambda: now, jobs):
        print(result.job_id, result.outcome, flush=True)
    engine.dispose()
    """
)


def test_two_scheduler_processes_run_each_due_job_exactly_once(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    imported(db_url, tmp_path, ALL_AT_0130)
    imported(db_url, tmp_path, ALL_AT_0130, network="Second")
    go = tmp_path / "go"
    processes = []
    for name in ("one", "two"):
        ready = tmp_path / f"{name}.ready"
        command = [sys.executable, "-c", PROCESS, db_url, name, str(ready), str(go)]
        processes.append(
            (
                ready,
                subprocess.Popen(
                    command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                ),
            )
        )
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in processes) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # both processes start claiming together
    outputs = []
    for _, process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out.split("\n"))
    due = sorted(f"{network}:{kind}" for network in (NETWORK, "Second") for kind in JOB_KINDS)
    done = sorted(
        line.split(" done")[0] for out in outputs for line in out if line.endswith(" done")
    )
    assert done == due  # each job done by exactly one of the two
    rows = runs(engine)
    assert sorted(r.job_id for r in rows) == due
    assert {r.outcome for r in rows} == {"done"}
    assert {scheduling.utc(r.due_at) for r in rows} == {utc(2026, 10, 25, 0, 30)}
    assert alerts(engine) == len(due)  # the jobs' own writes, once each


def test_runs_left_running_by_a_dead_process_of_this_host_are_recorded_as_interrupted(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    network_id = imported(db_url, tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    host = socket.gethostname()
    runners = {
        "dead": f"{host}:{int(gone.stdout)}",  # exited: its pid is free (not reused this soon)
        "alive": f"{host}:{os.getpid()}",
        "elsewhere": "another-host:1",
    }
    with session_scope(engine) as session:
        for i, (job, runner) in enumerate(runners.items()):
            session.add(
                JobRunRecord(
                    network_id=network_id,
                    job_id=job,
                    kind="recheck",
                    due_at=utc(2026, 12, 1, 2, 30 + i),
                    started_at=utc(2026, 12, 1, 2, 30 + i),
                    outcome="running",
                    runner=runner,
                )
            )
    assert scheduling.close_interrupted(engine) == 1
    outcomes = {run.job_id: (run.outcome, run.error) for run in runs(engine)}
    assert outcomes["dead"] == ("failed", scheduling.INTERRUPTED)
    assert outcomes["alive"] == ("running", None)
    assert outcomes["elsewhere"] == ("running", None)
