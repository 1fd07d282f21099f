"""Running the jobs: each due run claimed once, in a transaction, its outcome recorded;
two scheduler processes on one database run each due job exactly once."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from scheduler.jobs import scheduling
from scheduler.jobs import timetable as scheduling_timetable
from scheduler.jobs.history import stored_next_runs
from scheduler.jobs.scheduling import (
    CLAIMED_ELSEWHERE,
    INTERRUPTED,
    Runner,
    active,
    close_interrupted,
    run_once,
    run_scheduled,
    serve,
    sync_jobs,
)
from scheduler.network_settings import JOB_KINDS
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import JobRunRecord
from tests.scheduling.support import (
    ALL_AT_0130,
    CALLS,
    GOOD_JOBS,
    NETWORK,
    PROCESS,
    ROOT,
    UTC,
    alerts,
    fail,
    fixed_clock,
    imported,
    london,
    recheck_spec,
    runs,
    specs,
    utc,
)


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
    assert scheduling_timetable.utc(run.due_at) == utc(2026, 12, 1, 2, 30)
    assert scheduling_timetable.utc(run.finished_at or utc(1, 1, 1)) == utc(2026, 12, 1, 2, 31)
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
    assert scheduling_timetable.utc(run.due_at) == utc(2026, 10, 25, 0, 30)
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
    results = run_once(engine, {}, clock, jobs)
    outcomes = {r.job_id.split(":")[1]: r.outcome for r in results}
    assert outcomes == {
        "drafts": "failed",
        "recheck": "done",
        "reminder": "done",
        "retention": "done",
        "digest": "done",
    }
    assert alerts(engine) == len(JOB_KINDS) - 1


def test_run_once_at_the_second_0140_runs_nothing_again(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    imported(db_url, tmp_path, ALL_AT_0130)
    run_once(engine, {}, fixed_clock(utc(2026, 10, 25, 0, 40)), GOOD_JOBS)
    again = run_once(engine, {}, fixed_clock(utc(2026, 10, 25, 1, 40)), GOOD_JOBS)
    # Only drafts and the digest (six and three hours' grace) still see 01:30 as due, and
    # their claims are refused.
    assert sorted((r.job_id, r.outcome) for r in again) == [
        (f"{NETWORK}:digest", CLAIMED_ELSEWHERE),
        (f"{NETWORK}:drafts", CLAIMED_ELSEWHERE),
    ]
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
    run_once(engine, {}, fixed_clock(utc(2026, 10, 25, 0, 40)), GOOD_JOBS)
    with session_scope(engine) as session:
        stored = stored_next_runs(session)
    assert stored[f"{NETWORK}:recheck"] == utc(2026, 10, 26, 1, 30)
    assert stored[f"{NETWORK}:drafts"] == utc(2026, 11, 1, 1, 30)


def test_run_scheduled_runs_the_due_run_of_the_active_runner(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    network_id = imported(db_url, tmp_path)
    runner = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 30, 1)), GOOD_JOBS)
    with active(runner):
        run_scheduled(network_id, "recheck")
        run_scheduled(network_id, "recheck")  # the same fire, delivered twice
    [run] = runs(engine)
    assert scheduling_timetable.utc(run.due_at) == utc(2026, 12, 1, 2, 30)
    with pytest.raises(RuntimeError, match="only inside `rotapool scheduler`"):
        run_scheduled(network_id, "recheck")


def test_run_scheduled_skips_a_job_no_longer_in_the_settings(
    db_url: str, tmp_path: Path, engine: Engine
) -> None:
    network_id = imported(db_url, tmp_path, '\n[jobs]\nenabled = ["drafts"]\n')
    runner = Runner(engine, {}, fixed_clock(utc(2026, 12, 1, 2, 30)), GOOD_JOBS)
    with active(runner):
        run_scheduled(network_id, "recheck")
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
    serving = threading.Thread(target=serve, args=(engine, {}, stop))
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
    assert scheduling_timetable.utc(run.due_at) == utc(2026, 12, 1, 2, 30)
    assert not serving.is_alive()


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
    assert {scheduling_timetable.utc(r.due_at) for r in rows} == {utc(2026, 10, 25, 0, 30)}
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
    assert close_interrupted(engine) == 1
    outcomes = {run.job_id: (run.outcome, run.error) for run in runs(engine)}
    assert outcomes["dead"] == ("failed", INTERRUPTED)
    assert outcomes["alive"] == ("running", None)
    assert outcomes["elsewhere"] == ("running", None)
