"""``[jobs]`` in network.toml: read, checked with the line and key named, stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.bundle import settings as importer
from scheduler.bundle.reader import read_bundle
from scheduler.bundle.tables import Setting
from scheduler.domain import JobSettings, Problem
from scheduler.network_settings import JOB_KINDS
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.network import NetworkRecord
from scheduler.storage.repository import load_bundle
from scheduler.usecases.importing import import_bundle
from tests.bundles import write_bundle
from tests.scheduling.support import jobs_bundle, network_toml_line, problems_of


def test_jobs_settings_are_read_from_network_toml(tmp_path: Path) -> None:
    folder = jobs_bundle(
        tmp_path,
        """
[jobs]
enabled = ["drafts", "reminder"]
draft_day = "Wednesday"
draft_time = "05:45"
draft_weeks_ahead = 4
recheck_time = "01:30"
reminder_time = 07:15:00
reminder_days = 10
retention_time = "04:00"
audit_retention_days = 3650
version_retention_days = 90
""",
    )
    bundle, _ = read_bundle(folder)
    assert bundle.jobs == JobSettings(
        enabled=frozenset({"drafts", "reminder"}),
        draft_day=2,
        draft_time=dt.time(5, 45),
        draft_weeks_ahead=4,
        recheck_time=dt.time(1, 30),
        reminder_time=dt.time(7, 15),
        reminder_days=10,
        retention_time=dt.time(4, 0),
        audit_retention_days=3650,
        version_retention_days=90,
    )


def test_without_a_jobs_section_the_defaults_apply(tmp_path: Path) -> None:
    bundle, _ = read_bundle(write_bundle(tmp_path))
    assert bundle.jobs == JobSettings()
    assert bundle.jobs.enabled == frozenset(JOB_KINDS)


def test_an_empty_enabled_list_switches_every_job_off(tmp_path: Path) -> None:
    bundle, _ = read_bundle(jobs_bundle(tmp_path, "\n[jobs]\nenabled = []\n"))
    assert bundle.jobs.enabled == frozenset()


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        ('draft_time = "6am"', "'6am' is not a time; write a time as HH:MM"),
        ('recheck_time = "24:00"', "is not a time of day"),
        ("reminder_time = 8", 'write it in quotes, e.g. "06:00"'),
        ('draft_day = "Funday"', "'Funday' is not a day; write one day, e.g. draft_day = \"Mon\""),
        ('enabled = ["drafts", "backups"]', "unknown job 'backups'; the jobs are drafts, recheck"),
        ('enabled = "drafts, recheck"', "unknown job 'drafts, recheck'"),  # a text is a ;-list
        ("draft_weeks_ahead = 0", "it must be at least 1, e.g. 3"),
        ("reminder_days = 2.5", "must be a whole number of days, e.g. 14"),
        ("audit_retention_days = -1", "at least 1"),
        # Past the calendar's end, retention would fail every night (OverflowError).
        ("audit_retention_days = 1000000", "too large; it must be at most 36500"),
        ("draft_weeks_ahead = 100000000", "too large; it must be at most 52"),
        ("nightly = true", "unknown jobs setting 'nightly'; the settings are enabled, draft_day"),
    ],
)
def test_a_wrong_jobs_setting_names_the_file_line_key_and_what_to_write(
    tmp_path: Path, line: str, phrase: str
) -> None:
    folder = jobs_bundle(tmp_path, f"\n[jobs]\n{line}\n")
    key = line.split(" =", maxsplit=1)[0]
    address = f"network.toml:{network_toml_line(folder, key)}: jobs.{key}: "
    found = problems_of(folder)
    assert len(found) == 1, found
    assert found[0].startswith(address), found
    assert phrase in found[0]


def test_a_string_enabled_value_is_a_list_separated_by_semicolons() -> None:
    """A workbook's network sheet holds text: ``drafts; recheck``."""
    problems: list[Problem] = []
    settings = [Setting("jobs.enabled", "drafts; recheck", 2), Setting("jobs.draft_day", "tue", 3)]
    network = importer.read_network(settings, "network", "x", problems)
    assert problems == []
    assert network.jobs == {"enabled": frozenset({"drafts", "recheck"}), "draft_day": 1}


def test_jobs_settings_survive_the_database(tmp_path: Path, db_url: str) -> None:
    folder = jobs_bundle(tmp_path, '\n[jobs]\nenabled = ["recheck"]\nrecheck_time = "01:30"\n')
    bundle, _ = read_bundle(folder)
    import_bundle(db_url, folder)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            assert load_bundle(session) == bundle
    finally:
        engine.dispose()


def test_a_network_stored_before_jobs_existed_loads_with_the_defaults(
    db_url: str, tmp_path: Path
) -> None:
    import_bundle(db_url, jobs_bundle(tmp_path, '\n[jobs]\nenabled = ["drafts"]\n'))
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            network = session.scalars(select(NetworkRecord)).one()
            assert "jobs" in network.settings
            network.settings = {k: v for k, v in network.settings.items() if k != "jobs"}
        with session_scope(engine) as session:
            assert load_bundle(session).jobs == JobSettings()
    finally:
        engine.dispose()
