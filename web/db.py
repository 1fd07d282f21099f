"""The app's database: one engine per app, one transaction per unit of work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from scheduler.storage.db import make_engine, reader, session_scope

ENGINE_KEY = "rotapool.engine"
KEEP_OPEN = 8  # SQLite connections kept open between requests (one per waitress thread)
MIGRATED_KEY = "rotapool.migrated"
_MAKING = threading.Lock()


def engine() -> Engine:
    """The current app's engine, made on first use and disposed with the app.

    Made under a lock: the first requests arrive together on waitress's
    threads, and an engine made twice would leave one never disposed.
    """
    app = current_app
    with _MAKING:
        made = app.extensions.get(ENGINE_KEY)
        if made is None:
            made = make_engine(app.config["DATABASE_URL"], keep_open=KEEP_OPEN)
            app.extensions[ENGINE_KEY] = made
    return made


def dispose(app: Flask) -> None:
    """Close the app's connections (tests and shutdown)."""
    made = app.extensions.pop(ENGINE_KEY, None)
    if made is not None:
        made.dispose()


def migrated() -> bool:
    """Whether the database has the web tables (``rotapool serve`` migrates first).

    Remembered once true: tables are not dropped under a running app.
    """
    if current_app.extensions.get(MIGRATED_KEY):
        return True
    with reader(engine()).connect() as connection:
        found = inspect(connection).has_table("users")
    current_app.extensions[MIGRATED_KEY] = found
    return found


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work on the app's database: all of it is committed, or none.

    On SQLite it holds the write lock from its start (other writers wait), so
    a view that only reads uses ``reading`` instead.
    """
    with session_scope(engine()) as session:
        yield session


@contextmanager
def reading() -> Iterator[Session]:
    """A unit of work that only reads: it never waits for, nor holds up, a writer."""
    with session_scope(reader(engine())) as session:
        yield session
