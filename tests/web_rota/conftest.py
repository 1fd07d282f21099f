"""Fixtures of the rota blueprint's tests: a seeded app (the gate is tests/conftest.py's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scheduler.storage.db import make_engine
from tests.web_rota.support import Site
from tests.web_support import seeded_app
from web.db import dispose


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    app, network_id = seeded_app(db_url, SOLVE_TIME_LIMIT=10, SOLVE_WORKERS=1)
    engine = make_engine(db_url)
    yield Site(app, network_id, engine)
    engine.dispose()
    dispose(app)
