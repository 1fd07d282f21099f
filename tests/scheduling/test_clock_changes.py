"""Job times are Europe/London wall-clock times; each run happens once across clock changes."""

from __future__ import annotations

import dataclasses
import datetime as dt

from apscheduler.triggers.cron import CronTrigger

from scheduler.domain import JobSettings
from scheduler.jobs.timetable import (
    LONDON,
    due_time,
    fire_times,
    run_identity,
    trigger_for,
    when,
)
from tests.scheduling.support import DAILY_0130, UTC, fires_between, london, utc


def test_a_0130_job_runs_once_on_the_night_the_clocks_go_forward() -> None:
    """29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 never happens on the clock."""
    trigger = trigger_for(DAILY_0130, "recheck")
    fires = fires_between(trigger, london(2026, 3, 28, 12), london(2026, 3, 29, 23))
    assert [f.astimezone(UTC) for f in fires] == [utc(2026, 3, 29, 1, 30)]  # 02:30 BST
    assert when(fires[0]) == "Sun 29 Mar 2026 02:30 BST"
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
