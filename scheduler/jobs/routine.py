"""The scheduled jobs by kind: the one table the scheduler runs them from.

Each job is an ordinary function of a SQLAlchemy session, a network, the
moment it runs (an aware Europe/London datetime) and the app's settings; it
returns one line for the run history and raises ``RoutineError`` (or any
error) when it could not do its work.  The runner claims the run, calls the
function in a transaction and records the outcome; tests call the functions
directly with a fixed ``now``.  A new kind of job is a function in a module
of its own here and one line in ``JOBS``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from scheduler.jobs.digest import run_digest
from scheduler.jobs.drafts import run_drafts
from scheduler.jobs.recheck import run_recheck
from scheduler.jobs.reminders import run_reminder
from scheduler.jobs.retention import run_retention

log = logging.getLogger(__name__)


JobFunction = Callable[[Session, int, dt.datetime, Mapping[str, Any]], str]

JOBS: dict[str, JobFunction] = {
    "drafts": run_drafts,
    "recheck": run_recheck,
    "reminder": run_reminder,
    "retention": run_retention,
    "digest": run_digest,
}
