"""When each network's jobs fire: Europe/London wall-clock times, each run named once.

The identity of a run is (job id, the first instant of its due wall-clock
time, in UTC).  When the clocks go back, 01:30 happens twice and both fires
name the same run, so the second is refused; ``WallClockTrigger`` does not
fire the second 01:30 at all, the identity is the safety net.  A time inside
the missing hour in March runs once, an hour later by the clock."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.network_settings import JOB_KINDS, JobSettings
from scheduler.storage.clock import utc
from scheduler.storage.models.network import NetworkRecord
from scheduler.storage.records import jobs_of

LONDON = ZoneInfo("Europe/London")
JOB_TABLE = "apscheduler_jobs"
MAX_JOB_ID = 191  # APScheduler's id column
HOUR = 3600
GRACE: dict[str, int] = {  # seconds a run may start late
    "drafts": 6 * HOUR,
    "recheck": HOUR,
    "reminder": HOUR,
    "retention": HOUR,
    "digest": 3 * HOUR,
}
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": HOUR}
TIME_OF = {
    "drafts": "draft_time",
    "recheck": "recheck_time",
    "reminder": "reminder_time",
    "retention": "retention_time",
    "digest": "digest_time",
}
WHAT = {
    "drafts": "plan a draft of the week {weeks} ahead",
    "recheck": "re-check published weeks",
    "reminder": "remind of unpublished weeks within {days} days",
    "retention": (
        "delete audit entries after {audit} days and superseded versions of weeks"
        " over {versions} days old"
    ),
    "digest": "tell people of the open sessions they could take",
}
FULL_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

T = TypeVar("T")


def utc_now() -> dt.datetime:
    """The current instant (tests pass their own clock instead)."""
    return dt.datetime.now(dt.UTC)


# -- triggers and due times -------------------------------------------------------------


def repeated(moment: dt.datetime) -> bool:
    """Whether ``moment`` is the second occurrence of a wall-clock time (clocks went back)."""
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


class WallClockTrigger(CronTrigger):
    """A cron trigger that fires once per wall-clock time.

    When the clocks go back, 01:00-01:59 happens twice and CronTrigger fires at both;
    this one skips the second.  A time in the hour skipped in March fires once, an hour
    later by the clock (as CronTrigger does).  Persisted jobs pickle it by name.
    """

    __slots__ = ()

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        fire: dt.datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and repeated(fire):
            fire = super().get_next_fire_time(fire, fire)
        return fire


def trigger_for(settings: JobSettings, kind: str) -> WallClockTrigger:
    """When the job runs: weekly on ``draft_day`` for drafts, daily for the others."""
    at: dt.time = getattr(settings, TIME_OF[kind])
    day = settings.draft_day if kind == "drafts" else None
    return WallClockTrigger(day_of_week=day, hour=at.hour, minute=at.minute, timezone=LONDON)


def schedule_words(settings: JobSettings, kind: str) -> str:
    """The trigger as a manager reads it: ``every Monday at 06:00``."""
    at: dt.time = getattr(settings, TIME_OF[kind])
    days = FULL_DAYS[settings.draft_day] if kind == "drafts" else "day"
    return f"every {days} at {at:%H:%M}"


def purpose_words(settings: JobSettings, kind: str) -> str:
    """What the job does, with the settings that shape it."""
    return WHAT[kind].format(
        weeks=settings.draft_weeks_ahead,
        days=settings.reminder_days,
        audit=settings.audit_retention_days,
        versions=settings.version_retention_days,
    )


def fire_times(
    trigger: WallClockTrigger, start: dt.datetime, end: dt.datetime
) -> Iterator[dt.datetime]:
    """Every fire time from ``start`` up to and including ``end``."""
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        yield fire
        fire = trigger.get_next_fire_time(fire, fire)


def due_time(trigger: WallClockTrigger, now: dt.datetime, grace: int) -> dt.datetime | None:
    """The run that is due at ``now``: the latest fire time no more than ``grace`` s ago.

    APScheduler 3 does not tell a job which fire time it is running for; this is it,
    read from the same trigger, as it calls the job at or just after that time.
    """
    due = None
    for fire in fire_times(trigger, now - dt.timedelta(seconds=grace), now):
        due = fire
    return due


def run_identity(due: dt.datetime) -> dt.datetime:
    """The instant that names a run: its wall-clock time's first occurrence, in UTC.

    Both 01:30s of the night the clocks go back give the same instant (the first),
    so a second fire at 01:30 claims a run that is already claimed.
    """
    local = due.astimezone(dt.UTC).astimezone(LONDON)  # via UTC: a real wall-clock time
    return local.replace(fold=0).astimezone(dt.UTC)


def when(moment: dt.datetime | None) -> str:
    """An instant as Europe/London wall-clock time with its zone: ``Mon 30 Mar 2026 06:00 BST``."""
    if moment is None:
        return ""
    local = utc(moment).astimezone(dt.UTC).astimezone(LONDON)  # via UTC: a real wall time
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


# -- the jobs the settings ask for ------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One (network, kind) job that a network's ``[jobs]`` settings ask for."""

    job_id: str
    network_id: int
    network: str
    kind: str
    trigger: WallClockTrigger
    schedule: str  # in words
    purpose: str  # what it does, in words
    grace: int  # seconds


def job_id_for(network: str, kind: str) -> str:
    """``<network name>:<kind>``; a name too long for the id column is cut and hashed."""
    room = MAX_JOB_ID - 1 - max(len(k) for k in JOB_KINDS)
    if len(network) > room:
        digest = hashlib.sha256(network.encode()).hexdigest()[:8]
        network = f"{network[: room - 9]}~{digest}"
    return f"{network}:{kind}"


def network_specs(network: NetworkRecord) -> list[JobSpec]:
    """The enabled jobs of one network, in ``JOB_KINDS`` order."""
    settings = jobs_of(network.settings)
    return [
        JobSpec(
            job_id=job_id_for(network.name, kind),
            network_id=network.id,
            network=network.name,
            kind=kind,
            trigger=trigger_for(settings, kind),
            schedule=schedule_words(settings, kind),
            purpose=purpose_words(settings, kind),
            grace=GRACE[kind],
        )
        for kind in JOB_KINDS
        if kind in settings.enabled
    ]


def job_specs(session: Session, network_id: int | None = None) -> list[JobSpec]:
    """Every job of every stored network (or of one), by network name."""
    statement = select(NetworkRecord).order_by(NetworkRecord.name)
    if network_id is not None:
        statement = statement.where(NetworkRecord.id == network_id)
    return [spec for network in session.scalars(statement) for spec in network_specs(network)]


def spec_of(session: Session, network_id: int, kind: str) -> JobSpec | None:
    """The network's job of this kind, or None when the network or the job is gone."""
    return next((s for s in job_specs(session, network_id) if s.kind == kind), None)
