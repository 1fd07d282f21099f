"""Scheduled jobs for managers: each job's schedule and next run, and the run history.

Read-only: the jobs run in the one ``rotapool scheduler`` process, never here (the
web app starts no scheduler); this page reads their settings, the job store's next
run times and ``job_runs``.  A manager bound to a network sees that network only.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template

from scheduler.jobs.history import (
    RECENT_RUNS,
    JobView,
    RunInfo,
    job_views,
    next_run_words,
    recent_runs,
)
from scheduler.jobs.timetable import when
from scheduler.storage.repository import NetworkInfo, list_networks
from web.auth import require, signed_in
from web.db import reading

bp = Blueprint("jobs_admin", __name__)


@dataclass(frozen=True)
class NetworkJobs:
    """One network's section of the page."""

    network: NetworkInfo
    jobs: list[JobView]
    runs: list[RunInfo]


@bp.get("/admin/jobs")
@require("manager")
def runs() -> str:
    """Each job of the manager's networks with its next run, then their recent runs."""
    user = signed_in()
    with reading() as db:
        sections = [
            NetworkJobs(n, job_views(db, n.id), recent_runs(db, n.id))
            for n in list_networks(db)
            if user.may_see_network(n.id)
        ]
    return render_template(
        "admin/jobs.html",
        sections=sections,
        when=when,
        next_run=next_run_words,
        recent=RECENT_RUNS,
    )
