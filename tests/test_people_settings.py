"""The network.toml sections for what people do themselves: ``[swaps]``, ``[availability]``
and ``[open_sessions] digest``: read, stored, read back, and refused with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.network_settings import AvailabilitySettings, OpenSessionSettings, SwapSettings
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from tests.test_open_sessions import published_empty, twenty_gps

SETTINGS = """
[open_sessions]
digest = false

[swaps]
approval = "automatic"

[availability]
opens_weeks_before = 8
closes_weeks_before = 2
"""


def with_settings(folder: Path, text: str) -> Path:
    with (folder / "network.toml").open("a", encoding="utf-8") as toml:
        toml.write(text)
    return folder


def test_unset_sections_take_their_defaults(tmp_path: Path) -> None:
    bundle, _warnings = read_bundle(twenty_gps(tmp_path))
    assert bundle.swaps == SwapSettings(approval="coordinator")
    assert bundle.availability == AvailabilitySettings(opens_weeks_before=12, closes_weeks_before=3)
    assert bundle.open_sessions.digest is True


def test_the_settings_are_stored_and_read_back(db_url: str, tmp_path: Path) -> None:
    engine, network_id = published_empty(db_url, with_settings(twenty_gps(tmp_path), SETTINGS))
    try:
        with session_scope(engine) as db:
            stored = current_bundle(db, network_id)
    finally:
        engine.dispose()
    assert stored.swaps == SwapSettings(approval="automatic")
    assert stored.availability == AvailabilitySettings(opens_weeks_before=8, closes_weeks_before=2)
    assert stored.open_sessions == OpenSessionSettings(digest=False)


@pytest.mark.parametrize(
    ("section", "line", "words"),
    [
        ("swaps", 'approval = "whoever"', "is not a way of approving swaps"),
        ("swaps", "deadline = 2", "unknown swaps setting 'deadline'; the only one is approval"),
        ("availability", "closes_weeks_before = 2.5", "is not a number of weeks"),
        ("availability", "closes_weeks_before = 60", "from 0 to 52"),
        ("availability", "deadline = 3", "unknown availability setting 'deadline'"),
        ("availability", "closes_weeks_before = 12", "make opens_weeks_before the larger"),
        ("open_sessions", 'digest = "sometimes"', "write digest = true or digest = false"),
    ],
)
def test_wrong_settings_are_refused_naming_the_line(
    tmp_path: Path, section: str, line: str, words: str
) -> None:
    folder = with_settings(twenty_gps(tmp_path), f"\n[{section}]\n{line}\n")
    with pytest.raises(BundleError) as refused:
        read_bundle(folder)
    found = [str(p) for p in refused.value.problems]
    assert any(words in p and "network.toml:" in p for p in found), found
