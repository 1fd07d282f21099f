"""Solve-queue settings and limits, read from the app's settings and checked.

Choices where the issue was silent:

- A cancelled solve saves nothing, even when it had found a rota.  A queued
  job is cancelled at once; a running one stops within about a second (the
  cancel flag is polled every ``CANCEL_POLL`` seconds and the search is
  stopped through ``stop_search``).
- A running job whose heartbeat is older than ``STALE_AFTER`` seconds lost
  its worker.  On the celery back end the broker delivers it again (late
  acknowledgement) and the next worker claims it anew, up to
  ``MAX_ATTEMPTS`` times; on the local back end nothing will, so it is
  marked failed (``INTERRUPTED``) when a page of the network is looked at."""

from __future__ import annotations

import math
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from solver import SolveOptions

PROGRESS_INTERVAL = 0.5  # seconds between progress writes
CANCEL_POLL = 0.5  # seconds between looks at a running job's cancel flag
HEARTBEAT = 2.0  # seconds between a running job's heartbeat writes
STALE_AFTER = 30.0  # seconds without a heartbeat after which a running job's worker is dead
MAX_ATTEMPTS = 3  # claims of one job before it is failed (a solve that kills its worker)
RESEND_AFTER = 600.0  # seconds a Celery job may wait unclaimed before its message is sent again
DEFAULT_QUEUE = "rotapool-solve"
DEFAULT_VISIBILITY = 3600.0  # seconds a taken job's message stays invisible to other workers
ACTIVE = ("queued", "running")
INTERRUPTED = "interrupted: the server restarted before this solve finished; start it again"
LOST = (
    "interrupted: the worker running this solve stopped and no other worker took it up; "
    "start it again"
)
GAVE_UP = (
    "failed: the worker running this solve stopped {attempts} times; nothing was saved. "
    "Plan fewer weeks at once, or ask the administrator to look at the workers' log."
)
NO_QUEUE = "not started: the job queue could not be reached; nothing was saved. Try again."
PIN_ROW = 0  # the "row" of a pin taken from the draft, told apart from fixed.csv's rows
HOST = socket.gethostname()

JobKey = tuple[str, int]  # (database, job id): tests run several databases in one process


class QueueSettingsError(ValueError):
    """The queue settings cannot work; the message names the setting."""


@dataclass(frozen=True)
class QueueSettings:
    """Where solve jobs go: ``broker_url`` None runs them in this process."""

    broker_url: str | None = None
    queue: str = DEFAULT_QUEUE
    visibility_timeout: float = DEFAULT_VISIBILITY
    stale_after: float = STALE_AFTER

    @property
    def backend(self) -> str:
        return "local" if self.broker_url is None else "celery"


def _seconds(config: Mapping[str, Any], name: str, default: float) -> float:
    value = config.get(name, default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise QueueSettingsError(f"{name}: give a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise QueueSettingsError(f"{name}: give a number of seconds above 0, not {value!r}")
    return seconds


def queue_settings(config: Mapping[str, Any]) -> QueueSettings:
    """The queue from the app's settings (``ROTAPOOL_BROKER_URL``, ...), checked.

    The visibility timeout must be longer than the longest solve plus the
    time a dead worker takes to be noticed: a job's message that becomes
    visible again while its solve is still running would be taken by a
    second worker, which then waits for the heartbeat to go stale.
    """
    url = str(config.get("BROKER_URL") or "").strip() or None
    if url is not None and not url.startswith(("redis://", "rediss://")):
        raise QueueSettingsError(
            "BROKER_URL: give a Redis URL such as redis://127.0.0.1:6379/0, or leave it unset "
            "to solve in the web process"
        )
    settings = QueueSettings(
        broker_url=url,
        queue=str(config.get("SOLVE_QUEUE") or DEFAULT_QUEUE),
        visibility_timeout=_seconds(config, "VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY),
        stale_after=_seconds(config, "JOB_STALE_AFTER", STALE_AFTER),
    )
    if settings.stale_after < 3 * HEARTBEAT:
        raise QueueSettingsError(
            f"JOB_STALE_AFTER: give at least {3 * HEARTBEAT:g} seconds (three heartbeats)"
        )
    longest = _seconds(config, "SOLVE_TIME_LIMIT", SolveOptions().time_limit)
    if url is not None and settings.visibility_timeout <= longest + settings.stale_after:
        raise QueueSettingsError(
            f"VISIBILITY_TIMEOUT: give more than the solve time limit plus JOB_STALE_AFTER "
            f"({longest + settings.stale_after:g} seconds), so no solve is delivered twice"
        )
    return settings


LOCAL = QueueSettings()


def solve_options(config: Mapping[str, Any]) -> SolveOptions:
    """Solver limits of a solve job from the app's settings (``SOLVE_TIME_LIMIT``, ...)."""
    default = SolveOptions()
    return SolveOptions(
        time_limit=float(config.get("SOLVE_TIME_LIMIT", default.time_limit)),
        workers=int(config.get("SOLVE_WORKERS", default.workers)),
    )
