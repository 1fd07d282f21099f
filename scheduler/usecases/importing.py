"""What a manager asks the product to do, as plain functions of a database URL.

The CLI and the web views call these and only format the results, so the
same all-or-nothing behaviour holds whichever door a request comes through.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.orm import Session

from scheduler.bundle.reader import read_bundle
from scheduler.bundle.tables import MAX_ROWS
from scheduler.domain import Problem
from scheduler.storage.db import database_url, make_engine, migrate
from scheduler.storage.repository import save_bundle


def import_bundle(
    url: str | None, source: str | Path, caps: Mapping[str, int] = MAX_ROWS
) -> tuple[int, list[Problem]]:
    """Read and validate a bundle, then store it in one transaction.

    Validation happens before the database is touched; migrating and saving
    share one transaction, so a broken bundle (``BundleError``) or a crash
    mid-save leaves the database exactly as it was, never half a network.
    ``url`` None means the default database (``database_url()``).  Returns
    the network id and the importer's warnings.  ``caps``: the most rows each
    file may have (``IMPORT_MAX_ROWS``).
    """
    bundle, warnings = read_bundle(source, caps)
    engine = make_engine(url or database_url())
    try:
        with engine.begin() as connection:
            migrate(connection)
            with Session(bind=connection) as session:
                network_id = save_bundle(session, bundle)
    finally:
        engine.dispose()
    return network_id, warnings
