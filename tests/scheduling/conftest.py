"""Fixtures of the scheduler tests: a paused scheduler on the test's database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from scheduler.jobs.scheduling import (
    build_scheduler,
    start_paused,
)
from tests.scheduling.support import CALLS

# -- syncing the job store --------------------------------------------------------------------


@pytest.fixture
def scheduler(engine: Engine) -> Iterator[Any]:
    made = build_scheduler(engine)
    start_paused(made, engine)
    yield made
    if made.running:
        made.shutdown(wait=False)


@pytest.fixture(autouse=True)
def fresh_calls() -> None:
    CALLS.clear()
