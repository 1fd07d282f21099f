"""Where the database lives, how to connect to it, and how to bring it up to date.

Every entry point (CLI, web app, tests) goes through these few functions so
that SQLite and PostgreSQL behave alike: foreign keys enforced, schema made
only by Alembic migrations, and one transaction per unit of work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_INSTANCE = "instance"
DATABASE_FILE = "rotapool.sqlite"


def instance_folder(instance_path: str | os.PathLike[str] | None = None) -> Path:
    """The folder for local state: the argument, else ``ROTAPOOL_INSTANCE``, else ./instance."""
    folder = instance_path or os.environ.get("ROTAPOOL_INSTANCE") or DEFAULT_INSTANCE
    path = Path(folder).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(instance_path: str | os.PathLike[str] | None = None) -> str:
    """``DATABASE_URL`` when set (deployments), else a SQLite file in the instance folder."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{instance_folder(instance_path) / DATABASE_FILE}"


def normalise_url(url: str | URL) -> URL:
    """Send plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs to psycopg 3.

    SQLAlchemy would otherwise pick psycopg2, which this project does not use.
    """
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    if text.startswith("postgres://"):
        text = "postgresql://" + text.removeprefix("postgres://")
    parsed = make_url(text)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Enforce foreign keys and let SQLAlchemy, not pysqlite, open transactions.

    SQLite ignores ON DELETE CASCADE unless each connection opts in.  pysqlite
    by default runs DDL outside any transaction, so a failed migration could
    leave half a schema (and every CREATE costs a disk sync); see
    ``_begin_sqlite_transaction``.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Open a real transaction wherever SQLAlchemy begins one (DDL included)."""
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; callers own it and must ``dispose()`` it.

    SQLite files get no connection pool: opening one is cheap, and no idle
    connection then holds the file (or leaks a handle) between units of work.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(parsed) if in_memory else create_engine(parsed, poolclass=NullPool)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def alembic_config() -> Config:
    """Alembic settings built in code, so no alembic.ini is needed next to the caller."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


MIGRATION_LOCK = 7_284_001  # a PostgreSQL advisory lock key of this project's own


def migrate(connection: Connection, revision: str = "head") -> None:
    """Run the migrations on ``connection``, inside the caller's transaction.

    On PostgreSQL the transaction first takes an advisory lock, so web
    processes, workers and the scheduler starting together migrate one after
    another: the first upgrades, the others then find the database current.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (idempotent: an up-to-date database is left alone)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            migrate(connection, revision)
    finally:
        engine.dispose()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception.

    A crash half-way through an import or a save therefore leaves the last
    committed state, never a half-written network or rota.  Objects stay
    readable after the commit so callers can return what they wrote.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
