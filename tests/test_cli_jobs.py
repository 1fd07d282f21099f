"""``rotapool scheduler`` and ``rotapool jobs list``.

The clock and the job functions are replaced in-process; one test runs the real
foreground process and stops it with SIGTERM.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import select

from scheduler.cli.common import EXIT_FAILED, EXIT_INPUT, EXIT_OK
from scheduler.cli.main import main
from scheduler.jobs import scheduling
from scheduler.jobs.history import stored_next_runs
from scheduler.jobs.timetable import LONDON
from scheduler.network_settings import JOB_KINDS
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import JobRunRecord
from scheduler.usecases.importing import import_bundle
from tests.scheduling.support import ALL_AT_0130, GOOD_JOBS, NETWORK, fail, jobs_bundle

ROOT = Path(__file__).resolve().parent.parent
FIRST_0140 = dt.datetime(2026, 10, 25, 0, 40, tzinfo=dt.UTC)  # 01:40 BST


@pytest.fixture
def database(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The example network, every job at 01:30 on Sundays or daily; the clock at 01:40 BST."""
    monkeypatch.setenv("ROTAPOOL_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setattr(scheduling, "utc_now", lambda: FIRST_0140)
    monkeypatch.setattr(scheduling, "routine_jobs", lambda: GOOD_JOBS)
    import_bundle(db_url, jobs_bundle(tmp_path, ALL_AT_0130))
    return db_url


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_jobs_list_before_any_scheduler_says_the_jobs_are_not_registered(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "list", "--database", database]) == EXIT_OK
    assert lines(capsys) == [
        "JOB                        KIND       NETWORK          SCHEDULE               "
        "NEXT RUN (Europe/London)                  LAST RUN",
        *(
            f"{NETWORK}:{kind:<10} {kind:<10} {NETWORK}  {schedule:<21}  "
            "not registered: start rotapool scheduler  never run"
            for kind, schedule in (
                ("drafts", "every Sunday at 01:30"),
                ("recheck", "every day at 01:30"),
                ("reminder", "every day at 01:30"),
                ("retention", "every day at 01:30"),
                ("digest", "every day at 01:30"),
            )
        ),
    ]


def test_scheduler_once_runs_what_is_due_and_prints_each_run(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scheduler", "--once", "--database", database]) == EXIT_OK
    assert lines(capsys) == [
        f"{NETWORK}:{kind} due Sun 25 Oct 2026 01:30 BST: done: recorded (no mark)"
        for kind in ("drafts", "recheck", "reminder", "retention", "digest")
    ] + ["5 run(s) due."]


def test_scheduler_once_again_in_the_repeated_hour_runs_nothing(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["scheduler", "--once", "--database", database])
    capsys.readouterr()
    monkeypatch.setattr(scheduling, "utc_now", lambda: FIRST_0140 + dt.timedelta(hours=1))
    assert main(["scheduler", "--once", "--database", database]) == EXIT_OK
    # Drafts (six hours' grace) and the digest (three) still see 01:30 as due.
    assert lines(capsys) == [
        f"{NETWORK}:drafts due Sun 25 Oct 2026 01:30 BST: claimed elsewhere",
        f"{NETWORK}:digest due Sun 25 Oct 2026 01:30 BST: claimed elsewhere",
        "2 run(s) due.",
    ]


def test_scheduler_once_exits_1_when_a_job_failed(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(scheduling, "routine_jobs", lambda: {**GOOD_JOBS, "reminder": fail})
    assert main(["scheduler", "--once", "--database", database]) == EXIT_FAILED
    out = lines(capsys)
    assert f"{NETWORK}:reminder due Sun 25 Oct 2026 01:30 BST: failed: ValueError: " in out[2]
    assert out[3].endswith("done: recorded (no mark)")  # the next job still ran


def test_jobs_list_shows_the_next_run_and_the_last_outcome(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["scheduler", "--once", "--database", database])
    capsys.readouterr()
    assert main(["jobs", "list", "--database", database]) == EXIT_OK
    rows = {row.split()[2]: row for row in lines(capsys)[1:]}  # by kind
    # APScheduler computes the stored next run from the real clock when it registers a job.
    next_run = re.compile(r"  every \w+ at 01:30 +\w{3} \d\d \w{3} \d{4} 01:30 (GMT|BST)  ")
    assert all(next_run.search(row) for row in rows.values()), rows
    assert rows["recheck"].endswith("done Sun 25 Oct 2026 01:40 BST")


def test_jobs_list_of_one_network(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_bundle(database, jobs_bundle(tmp_path, "", name="second", network="Second"))
    assert main(["jobs", "list", "--network", "Second", "--database", database]) == EXIT_OK
    rows = lines(capsys)[1:]
    assert len(rows) == len(JOB_KINDS) and all(row.startswith("Second:") for row in rows)


def test_jobs_list_of_an_unknown_network_is_an_input_error(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "list", "--network", "Nowhere", "--database", database]) == 2
    assert "no network named 'Nowhere'" in capsys.readouterr().err


def test_jobs_list_with_every_job_off(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_bundle(db_url, jobs_bundle(tmp_path, "\n[jobs]\nenabled = []\n"))
    assert main(["jobs", "list", "--database", db_url]) == EXIT_OK
    assert "No scheduled jobs" in capsys.readouterr().out


def read_until(stream: IO[str] | None, text: str, seconds: float = 60) -> str:
    """Lines of a child's stderr until one contains ``text``."""
    assert stream is not None
    seen = ""
    deadline = time.monotonic() + seconds
    while text not in seen and time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen += line
    return seen


def test_the_foreground_scheduler_registers_the_jobs_and_stops_on_sigterm(
    db_url: str, tmp_path: Path
) -> None:
    # Drafts only, on a day that is neither today nor yesterday: nothing is due while it runs.
    today = dt.datetime.now(LONDON).weekday()
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(today + 3) % 7]
    import_bundle(
        db_url, jobs_bundle(tmp_path, f'\n[jobs]\nenabled = ["drafts"]\ndraft_day = "{day}"\n')
    )
    env = {**os.environ, "ROTAPOOL_INSTANCE": str(tmp_path / "instance")}
    command = [sys.executable, "-m", "scheduler.cli.main", "scheduler", "--database", db_url]
    child = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        started = read_until(child.stderr, "scheduler running")
        assert "jobs synced: 0 unchanged, 1 added or changed, 0 removed" in started
        child.send_signal(signal.SIGTERM)
        _, rest = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == EXIT_OK, rest
    assert "SIGTERM received" in rest and "scheduler stopped" in rest
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            assert list(stored_next_runs(session)) == [f"{NETWORK}:drafts"]
            assert session.scalars(select(JobRunRecord)).all() == []
    finally:
        engine.dispose()


def test_worker_without_a_broker_says_which_setting_to_give(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ROTAPOOL_BROKER_URL", raising=False)
    assert main(["worker", "--database", database]) == EXIT_INPUT
    assert "BROKER_URL: set ROTAPOOL_BROKER_URL" in capsys.readouterr().err
