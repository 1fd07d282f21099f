"""A network's settings for its jobs and its people's own actions (network.toml sections).

``[jobs]``, ``[open_sessions]``, ``[swaps]`` and ``[availability]``: plain frozen
dataclasses with no I/O, read by ``scheduler.bundle.settings`` and stored with
the network's other settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

JOB_KINDS: tuple[str, ...] = ("drafts", "recheck", "reminder", "retention", "digest")


@dataclass(frozen=True)
class JobSettings:
    """The network's scheduled jobs (``[jobs]`` in network.toml); times are Europe/London.

    ``drafts``: each week on ``draft_day`` at ``draft_time``, plan a draft of the week
    ``draft_weeks_ahead`` ahead.  ``recheck``: each night, check the published weeks
    from today on against new leave, absences and demand.  ``reminder``: each morning,
    remind of weeks starting within ``reminder_days`` that are still drafts.
    ``retention``: each night, delete audit entries and superseded versions older than
    their retention periods.  ``digest``: each morning at ``digest_time``, tell each
    person of the open sessions they could take.  ``enabled`` lists the jobs that run.
    """

    enabled: frozenset[str] = frozenset(JOB_KINDS)
    draft_day: int = 0  # 0 = Monday
    draft_time: dt.time = dt.time(6, 0)
    draft_weeks_ahead: int = 3
    recheck_time: dt.time = dt.time(2, 30)
    reminder_time: dt.time = dt.time(8, 0)
    reminder_days: int = 14
    retention_time: dt.time = dt.time(3, 30)
    audit_retention_days: int = 730
    version_retention_days: int = 365
    digest_time: dt.time = dt.time(7, 0)


BOOKING_MODES: tuple[str, ...] = ("first_come", "approval")


@dataclass(frozen=True)
class OpenSessionSettings:
    """How open sessions are booked (``[open_sessions]`` in network.toml).

    ``booking``: ``first_come`` books at once; ``approval`` makes a booking a request a
    manager or coordinator approves (checked again then).  A place closes
    ``closes_hours_before`` hours before its session starts.
    """

    booking: str = "first_come"
    closes_hours_before: float = 0.0

    # The daily e-mail of open sessions a person could take (each person may opt out).
    digest: bool = True


SWAP_APPROVALS: tuple[str, ...] = ("coordinator", "automatic")


@dataclass(frozen=True)
class SwapSettings:
    """How an agreed swap or give-away takes effect (``[swaps]`` in network.toml).

    ``approval``: ``coordinator`` waits for a manager or coordinator to approve it
    (checked again then); ``automatic`` applies it as soon as the taker accepts,
    when every hard rule still holds and no session falls below its minimum.
    """

    approval: str = "coordinator"


@dataclass(frozen=True)
class AvailabilitySettings:
    """When clinicians say when they can and cannot work (``[availability]`` in network.toml).

    A week is open for answers from ``opens_weeks_before`` weeks before it starts
    until ``closes_weeks_before`` weeks before (the network's deadline).
    """

    opens_weeks_before: int = 12
    closes_weeks_before: int = 3
