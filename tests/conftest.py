"""Fixtures shared by the test modules: a database for each test, migrated once per run.

``db_url`` is a database migrated to head and holding no rows.  Running
every migration for each of a thousand tests was most of the suite's time,
so the migrations run once per test process:

- SQLite: a template file is migrated at the start and copied for each test;
- PostgreSQL (``ROTAPOOL_TEST_DATABASE_URL``): each test process has a
  database of its own (``<name>_gw0``, ... under pytest-xdist), migrated
  once; before each test every table is emptied (every sequence starts at
  1 again, so ids do too) and anything a test added to the schema is
  dropped.

``empty_db_url`` is a database with no tables at all, for the tests of the
migrations themselves (they must run from empty on both back ends).

When ``ROTAPOOL_TEST_DATABASE_URL`` is set, only the tests that use a
database are collected: the rest (solver, import, validator...) never see
one and already ran in the SQLite pass.  Tests marked ``pages_only`` (the
crawl of every page, the long browser walk) use a database but check pages,
not storage: they too run in the SQLite pass only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import settings
from playwright.sync_api import Browser
from sqlalchemy import Connection, Engine, MetaData, make_url, text

from scheduler.jobs import run as job_run
from scheduler.storage.db import make_engine, normalise_url, upgrade
from scheduler.storage.models.base import Base
from scheduler.usecases import accounts
from tests.jobs.support import Gate

# Property tests draw the same examples on every run: a CI failure can be run again.
settings.register_profile("rotapool", derandomize=True, print_blob=True)
settings.load_profile("rotapool")

POSTGRESQL = "ROTAPOOL_TEST_DATABASE_URL"
DATABASE_FIXTURES = {"db_url", "empty_db_url"}
KEPT = "alembic_version"
PUBLIC_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run only the tests that use a database."""
    if not os.environ.get(POSTGRESQL):
        return
    chosen, skipped = [], []
    for item in items:
        uses = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        walks = item.get_closest_marker("pages_only") is not None
        (chosen if uses and not walks else skipped).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = chosen


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


@cache
def process_database(url: str) -> str:
    """This test process's own PostgreSQL database, migrated from scratch on first use.

    Under pytest-xdist it is a database beside ``url``'s (``<name>_gw0``, made on
    first use: the user needs the CREATEDB right); it outlives the run, so its
    schema is made again rather than trusted (another branch may have left it).
    """
    mine = own_database(url)
    drop_everything(mine)
    upgrade(mine)
    return mine


def own_database(url: str) -> str:
    """``url``, or under pytest-xdist a database of this process's own beside it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = make_engine(parsed).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            found = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not found:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@cache
def cleaner(url: str) -> Engine:
    """One engine per test process for emptying its database (its idle connection holds no lock)."""
    return make_engine(url)


def emptied_postgresql(url: str) -> None:
    """Leave ``url`` migrated to head with no rows; migrate it from scratch if it is not.

    Only the tables that hold rows are emptied (children first), and every
    sequence starts again at 1: far quicker than a TRUNCATE of every table.
    """
    wanted = set(Base.metadata.tables) | {KEPT}
    with cleaner(url).begin() as connection:
        tables = set(connection.scalars(text(PUBLIC_TABLES)))
        stale = not wanted <= tables
        if not stale:
            empty_tables(connection, tables - wanted)
    if stale:
        drop_everything(url)
        upgrade(url)


def empty_tables(connection: Connection, extra: set[str]) -> None:
    """Drop the tables a test added (APScheduler's job store); delete every row of ours."""
    for name in sorted(extra):
        connection.execute(text(f'DROP TABLE "{name}" CASCADE'))
    children_first = [table.name for table in reversed(Base.metadata.sorted_tables)]
    holding = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in children_first
    )
    full = set(connection.scalars(text(holding)))
    for name in children_first:
        if name in full:
            connection.execute(text(f'DELETE FROM "{name}"'))
    connection.execute(
        text(
            "SELECT setval(c.oid, 1, false) FROM pg_class c "
            "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
        )
    )


@pytest.fixture(scope="session", autouse=True)
def instance_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands that read the settings make the instance folder: keep it out of the checkout."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROTAPOOL_INSTANCE", str(tmp_path_factory.mktemp("instance")))
        yield


@pytest.fixture(scope="session", autouse=True)
def remembered_password_hashes() -> Iterator[None]:
    """Hash each password once, and check each (hash, password) once, per test process.

    scrypt is slow on purpose (about 0.1 s a hash); the tests make the same
    accounts and log in with the same passwords thousands of times.  The
    hashes stay real scrypt hashes, made and checked by werkzeug.
    """
    made: dict[str, str] = {}
    checked: dict[tuple[str, str], bool] = {}
    make, check = accounts.generate_password_hash, accounts.check_password_hash

    def remembered_make(password: str) -> str:
        if password not in made:
            made[password] = make(password)
        return made[password]

    def remembered_check(stored: str, password: str) -> bool:
        if (stored, password) not in checked:
            checked[(stored, password)] = check(stored, password)
        return checked[(stored, password)]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "generate_password_hash", remembered_make)
        patch.setattr(accounts, "check_password_hash", remembered_check)
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied by every test that asks for a database."""
    path = tmp_path_factory.mktemp("template") / "rotapool.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's chromium through Playwright, headless (``tests.browser_support``)."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import launch_options

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
        yield launched
        launched.close()


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a database migrated to head, with no rows."""
    url = os.environ.get(POSTGRESQL)
    if url:
        mine = process_database(url)
        emptied_postgresql(mine)
        return mine
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """URL of a migrated SQLite file with no rows, whichever database the pass is about.

    For the tests of SQLite's own locking; they run in the SQLite pass only.
    """
    target = tmp_path / "rotapool.sqlite"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def empty_db_url(tmp_path: Path) -> str:
    """URL of a database with no tables at all (for the tests of the migrations)."""
    url = os.environ.get(POSTGRESQL)
    if url:
        mine = process_database(url)
        drop_everything(mine)
        return mine
    return f"sqlite:///{tmp_path / 'empty.sqlite'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's migrated database; disposed after the test."""
    made = make_engine(normalise_url(db_url))
    yield made
    made.dispose()


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
