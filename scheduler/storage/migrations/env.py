"""Alembic environment: runs migrations on the connection the caller hands in.

``scheduler.storage.db.upgrade`` passes an open connection through
``config.attributes["connection"]`` so the URL, engine options and SQLite
foreign-key setting are the application's own.  Without one (e.g. the
``alembic`` command line pointed at this folder), ``sqlalchemy.url`` or the
application's default database is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from scheduler.storage.db import database_url, make_engine
from scheduler.storage.models.base import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    """Configure the migration context and run the pending revisions."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Use the caller's connection, or open one from the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or database_url()
    engine = make_engine(url)
    try:
        with engine.begin() as own_connection:
            run_on(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("rotapool migrations run online only; use scheduler.storage.db.upgrade")
run_online()
