"""Fixtures of the feed tests: the tiny network imported, and S01's token issued."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from scheduler.storage.db import session_scope
from scheduler.usecases.feeds import (
    issue_token,
)
from scheduler.usecases.importing import import_bundle
from tests.feeds.support import SECRET
from tests.web_support import TINY

# -- set-up -----------------------------------------------------------------------------------


@pytest.fixture
def tiny(db_url: str, engine: Engine) -> int:
    """The tiny network in a migrated database; its id."""
    network_id, _ = import_bundle(db_url, TINY)
    return network_id


# -- tokens -----------------------------------------------------------------------------------


@pytest.fixture
def issued(tiny: int, engine: Engine) -> Iterator[str]:
    """S01's token, with site and hub tokens beside it."""
    with session_scope(engine) as session:
        token = issue_token(session, tiny, "staff", "S01", SECRET)
        issue_token(session, tiny, "site", "P01", SECRET)
        issue_token(session, tiny, "hub", "", SECRET)
    yield token
