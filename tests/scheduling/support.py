"""What the scheduler tests share: bundles with a ``[jobs]`` section, clocks, small jobs.

Jobs here are small functions (the real ones are tested in tests/routine);
every clock is passed in, so no test depends on when it runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.jobs.timetable import (
    LONDON,
    JobSpec,
    job_specs,
)
from scheduler.network_settings import JOB_KINDS, JobSettings
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import JobRunRecord, WeekAlertRecord
from scheduler.usecases.importing import import_bundle
from tests.bundles import edit_text, write_bundle

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC
NETWORK = "Example network"
ALL_AT_0130 = """
[jobs]
enabled = ["drafts", "recheck", "reminder", "retention", "digest"]
draft_day = "Sun"
draft_time = "01:30"
recheck_time = "01:30"
reminder_time = "01:30"
retention_time = "01:30"
digest_time = "01:30"
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


def imported(db_url: str, tmp_path: Path, jobs: str = "", network: str = NETWORK) -> int:
    name = f"bundle-{len(list(tmp_path.iterdir()))}"  # a new folder for each import
    folder = jobs_bundle(tmp_path, jobs, name=name, network=network)
    return import_bundle(db_url, folder)[0]


def specs(engine: Engine) -> list[JobSpec]:
    with session_scope(engine) as session:
        return job_specs(session)


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


def runs(engine: Engine) -> list[JobRunRecord]:
    with session_scope(engine) as session:
        return list(session.scalars(select(JobRunRecord).order_by(JobRunRecord.id)))


def alerts(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.scalars(select(WeekAlertRecord)).all())


def recheck_spec(engine: Engine) -> JobSpec:
    return next(s for s in specs(engine) if s.kind == "recheck")


# -- two scheduler processes on one database -------------------------------------------------


PROCESS = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from scheduler.jobs.scheduling import run_once
    from scheduler.storage.db import make_engine
    from scheduler.storage.models.app import WeekAlertRecord

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
    from scheduler.network_settings import JOB_KINDS
    jobs = dict.fromkeys(JOB_KINDS, slow_job)
    for result in run_once(engine, {"NAME": name}, lambda: now, jobs):
        print(result.job_id, result.outcome, flush=True)
    engine.dispose()
    """
)
