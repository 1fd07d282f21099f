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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool, QueuePool

if TYPE_CHECKING:
    from alembic.config import Config

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


# How long a SQLite write waits for another process's write to finish before it gives up
# (the web app then answers 503, the command line exits EXIT_BUSY).  Writes are short: an
# import of the largest bundle the caps allow commits in a few seconds.
BUSY_TIMEOUT = 15.0
READ_ONLY = "rotapool_read_only"  # an execution option: this unit of work only reads


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Enforce foreign keys, write ahead, and let SQLAlchemy, not pysqlite, open transactions.

    SQLite ignores ON DELETE CASCADE unless each connection opts in.  In
    write-ahead mode (kept in the file once set) readers never wait for a
    writer nor a writer for readers: a page or a feed reads while a solve
    saves.  pysqlite by default runs DDL outside any transaction, so a failed
    migration could leave half a schema; see ``_begin_sqlite_transaction``.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Open a real transaction wherever SQLAlchemy begins one (DDL included).

    A unit of work that may write takes the write lock as it begins (BEGIN
    IMMEDIATE), waiting up to ``BUSY_TIMEOUT`` for another writer.  Begun
    lazily, a transaction that has read would find the lock taken only when
    it first writes, and SQLite then fails it at once, not after the wait.
    Units that only read (``READ_ONLY``) take no lock at all, and SQLite
    refuses any write they attempt.
    """
    read_only = bool(connection.get_execution_options().get(READ_ONLY, False))
    connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str | URL, *, keep_open: int = 0) -> Engine:
    """An engine for ``url``; callers own it and must ``dispose()`` it.

    SQLite files get no connection pool unless ``keep_open`` asks for one:
    opening a connection is cheap, and no idle connection then holds the file
    (or leaks a handle) between units of work.  The web app, which opens a
    few per request for as long as it runs, keeps up to ``keep_open`` open
    (the connection set-up was a fifth of a board page's time).
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    in_memory = parsed.database in (None, "", ":memory:")
    # hide_parameters: an error names the statement, never the values (names, tokens) it carried.
    options = {"connect_args": {"timeout": BUSY_TIMEOUT}, "hide_parameters": True}
    if in_memory:
        engine = create_engine(parsed, **options)
    elif keep_open:
        engine = create_engine(
            parsed, poolclass=QueuePool, pool_size=keep_open, max_overflow=keep_open, **options
        )
    else:
        engine = create_engine(parsed, poolclass=NullPool, **options)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def reader(engine: Engine) -> Engine:
    """The engine for a unit of work that only reads: it takes no write lock, and may not write."""
    return engine.execution_options(**{READ_ONLY: True}, postgresql_readonly=True)


def engine_of(session: Session) -> Engine:
    """The engine a session works on (bound to an engine or to one of its connections)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


BUSY = "the database is busy: another rotapool process is writing; try again in a moment"
UNREACHABLE = (
    "the database cannot be reached; try again in a moment, "
    "and tell whoever runs rotapool if it persists"
)
DATABASE_ERRORS = (OperationalError, PoolTimeoutError)  # what ``database_trouble`` may explain
# PostgreSQL errors that mean "wait your turn": lock not available, serialisation failure,
# deadlock, statement cancelled (a timeout), too many connections. Class 08 (connection
# exception) and 57P01-57P05 (the server shutting down or refusing) mean out of reach.
BUSY_STATES = frozenset({"55P03", "40001", "40P01", "57014", "53300"})


def database_trouble(err: BaseException) -> str | None:
    """What to tell a person when ``err`` means the database is busy or out of reach.

    None for every other error (a missing table, a broken constraint): those
    are faults, reported as such, not "try again".
    """
    if isinstance(err, PoolTimeoutError):
        return BUSY
    if not isinstance(err, OperationalError):
        return None
    words = str(err.orig).lower()
    state = getattr(err.orig, "sqlstate", None)
    if "locked" in words or "busy" in words or state in BUSY_STATES:
        return BUSY
    if state is not None:  # PostgreSQL: only connection trouble means "out of reach"
        unreachable = state.startswith(("08", "57P0"))
    else:
        unreachable = any(sign in words for sign in ("unable to open", "disk i/o", "connection"))
    return UNREACHABLE if unreachable else None


# The newest migration. A database already there is left alone without loading alembic,
# which would cost every command a quarter of a second; tests/test_storage.py checks
# that this is alembic's head.
HEAD = "0013"


def alembic_config() -> Config:
    """Alembic settings built in code, so no alembic.ini is needed next to the caller."""
    from alembic.config import Config  # noqa: PLC0415 - loaded only when migrating

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
    if revision == "head" and at_head(connection):
        return
    from alembic import command  # noqa: PLC0415 - loaded only when migrating

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def at_head(connection: Connection) -> bool:
    """Whether the database has every migration (a read; no lock is taken)."""
    if not sa_inspect(connection).has_table("alembic_version"):
        return False
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return found == [HEAD]


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


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads: a consistent snapshot, and no lock for writers to wait on."""
    with session_scope(reader(engine)) as session:
        yield session
