"""Fixtures of the solve-job tests: the tiny network migrated (the gate is tests/conftest.py's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.test_publishing import tiny_network


@pytest.fixture
def tiny(db_url: str) -> Iterator[tuple[Engine, int]]:
    yield from tiny_network(db_url)
