"""Fixtures shared by the test modules: a fresh database for each test.

SQLite in the test's tmp_path by default; the PostgreSQL database named by
``ROTAPOOL_TEST_DATABASE_URL`` when that is set (emptied first, so each test
starts from nothing either way).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, MetaData

from scheduler.jobs import run as job_run
from scheduler.storage.db import make_engine, upgrade
from tests.jobs.support import Gate

# Property tests draw the same examples on every run: a CI failure can be run again.
settings.register_profile("rotapool", derandomize=True, print_blob=True)
settings.load_profile("rotapool")


def drop_everything(url: str) -> None:
    """Drop every table, Alembic's included, so migrations start from scratch."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            metadata = MetaData()
            metadata.reflect(bind=connection)
            metadata.drop_all(bind=connection)
    finally:
        engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """URL of an empty database (no tables yet)."""
    url = os.environ.get("ROTAPOOL_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'rotapool.sqlite'}"
    drop_everything(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head; disposed after the test."""
    upgrade(db_url)
    migrated = make_engine(db_url)
    yield migrated
    migrated.dispose()


@pytest.fixture(autouse=True)
def close_web_apps() -> Iterator[None]:
    """Web apps hold a connection pool; close it before the next test empties the database."""
    yield
    from scheduler.jobs.local import RUNNER
    from tests.web_support import dispose_apps

    dispose_apps()
    RUNNER.forget_finished()  # job ids start again at 1 in the next test's database


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """Solve jobs plan through a Gate, which holds them until released (always, at the end)."""
    held = Gate()
    monkeypatch.setattr(job_run, "plan_week", held)
    yield held
    held.release.set()
