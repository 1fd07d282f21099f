"""Fixtures of the scheduled-job tests: the tiny network, a real SMTP server, a published week."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from scheduler.jobs.alerts import SHORTFALL
from scheduler.jobs.recheck import run_recheck
from tests.routine.support import CELLS, SENDER, WEEK, open_messages, publish, run
from tests.test_notices import Inbox, smtp_server
from tests.web_support import seeded_app


@pytest.fixture
def tiny(db_url: str, engine: Engine) -> int:
    """The tiny network with one account per role (tests.web_support); its id."""
    _app, network_id = seeded_app(db_url)
    return network_id


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, dict[str, Any]]]:
    """A running SMTP server and the settings that send to it."""
    with smtp_server() as (inbox, port):
        yield inbox, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_FROM": SENDER}


@pytest.fixture
def published(engine: Engine, tiny: int) -> set[str]:
    """WEEK published (sparse: most lines short), and the alerts of a first re-check."""
    publish(engine, tiny, WEEK, CELLS)
    run(engine, run_recheck, tiny)
    return open_messages(engine, tiny, SHORTFALL)
