"""The scheduled jobs page: managers see each job's next run and the run history.

Runs are made by the real runner with this module's small job functions and a
fixed clock; the page is read through the real app with CSRF on.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from scheduler.jobs.scheduling import Runner, build_scheduler, start_paused, sync_from_database
from scheduler.jobs.timetable import LONDON, job_specs
from scheduler.network_settings import JOB_KINDS
from scheduler.storage.db import make_engine, session_scope
from scheduler.usecases.accounts import add_user
from scheduler.usecases.importing import import_bundle
from tests.scheduling.support import GOOD_JOBS, fail, jobs_bundle
from tests.web_support import PASSWORD, client_as, login, seeded_app

TINY = "Tiny Test Network"
UNBOUND = "chief@federation.test"


@dataclass(frozen=True)
class Seeded:
    app: Flask
    engine: Engine
    tiny: int
    other: int


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> Iterator[Seeded]:
    """The tiny network (with the role accounts), a second network and a manager of both."""
    app, tiny = seeded_app(db_url)
    other, _ = import_bundle(db_url, jobs_bundle(tmp_path, "", network="Other Federation"))
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        add_user(session, UNBOUND, PASSWORD, "manager")
    yield Seeded(app, engine, tiny, other)
    engine.dispose()


def run(seeded: Seeded, network_id: int, kind: str, due: dt.datetime, ok: bool = True) -> None:
    """One run of the network's job, finished a minute after it was due."""
    with session_scope(seeded.engine) as session:
        spec = next(s for s in job_specs(session, network_id) if s.kind == kind)
    jobs = GOOD_JOBS if ok else {kind: fail}
    clock = lambda: due + dt.timedelta(minutes=1)  # noqa: E731 - a fixed clock
    Runner(seeded.engine, {"MARK": "tested"}, clock, jobs).run(spec, due)


def page(seeded: Seeded, role: str = "manager") -> str:
    response = client_as(seeded.app, role).get("/admin/jobs")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_lists_each_job_with_its_schedule_before_any_scheduler_ran(
    seeded: Seeded,
) -> None:
    html = page(seeded)
    assert f'<h2 id="network-{seeded.tiny}">{TINY}</h2>' in html
    for words in (
        "every Monday at 06:00",
        "plan a draft of the week 3 ahead",
        "every day at 02:30",
        "re-check published weeks",
        "remind of unpublished weeks within 14 days",
        "delete audit entries after 730 days and superseded versions of weeks over 365 days old",
    ):
        assert words in html
    assert html.count("not registered: start rotapool scheduler") == len(JOB_KINDS)
    assert "never run" in html and "No runs yet." in html


def test_the_page_shows_the_recent_runs_with_outcome_summary_and_error(seeded: Seeded) -> None:
    run(seeded, seeded.tiny, "recheck", dt.datetime(2026, 12, 1, 2, 30, tzinfo=LONDON))
    run(
        seeded,
        seeded.tiny,
        "reminder",
        dt.datetime(2026, 7, 1, 8, 0, tzinfo=LONDON),
        ok=False,
    )
    html = page(seeded)
    assert '<span class="badge job-done">done</span>' in html
    assert "recorded (tested)" in html
    assert '<span class="badge job-failed">failed</span>' in html
    assert "<code>ValueError: S0001 Dr Example is broken</code>" in html
    assert "Tue 01 Dec 2026 02:30 GMT" in html and "Tue 01 Dec 2026 02:31 GMT" in html
    assert "Wed 01 Jul 2026 08:00 BST" in html  # summer times in BST
    assert "The newest 2 (at most 30), newest first." in html


def test_the_job_store_next_run_is_shown_once_a_scheduler_registered_the_jobs(
    seeded: Seeded,
) -> None:
    scheduler = build_scheduler(seeded.engine)
    start_paused(scheduler, seeded.engine)
    try:
        sync_from_database(scheduler, seeded.engine)
        scheduler.modify_job(
            f"{TINY}:drafts", next_run_time=dt.datetime(2026, 12, 7, 6, tzinfo=LONDON)
        )
    finally:
        scheduler.shutdown(wait=False)
    html = page(seeded)
    assert "Mon 07 Dec 2026 06:00 GMT" in html
    assert "not registered" not in html


def test_a_manager_of_one_network_sees_only_its_jobs(seeded: Seeded) -> None:
    run(seeded, seeded.other, "recheck", dt.datetime(2026, 12, 1, 2, 30, tzinfo=LONDON))
    html = page(seeded)
    assert TINY in html and "Other Federation" not in html
    assert "recorded (tested)" not in html


def test_a_manager_of_every_network_sees_them_all(seeded: Seeded) -> None:
    run(seeded, seeded.other, "recheck", dt.datetime(2026, 12, 1, 2, 30, tzinfo=LONDON))
    client = seeded.app.test_client()
    login(client, UNBOUND)
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert TINY in html and "Other Federation" in html and "recorded (tested)" in html


@pytest.mark.parametrize("role", ["coordinator", "practice", "clinician"])
def test_other_roles_may_not_see_the_page(seeded: Seeded, role: str) -> None:
    assert client_as(seeded.app, role).get("/admin/jobs").status_code == 403


def test_strangers_are_sent_to_log_in(seeded: Seeded) -> None:
    response = seeded.app.test_client().get("/admin/jobs")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_admin_navigation_links_to_the_page(seeded: Seeded) -> None:
    assert '<a href="/admin/jobs">Scheduled jobs</a>' in page(seeded)
    coordinator = client_as(seeded.app, "coordinator").get("/").get_data(as_text=True)
    assert "/admin/jobs" not in coordinator


def test_the_web_app_starts_no_scheduler(seeded: Seeded) -> None:
    page(seeded)
    assert not [t for t in threading.enumerate() if t.name == "APScheduler"]
