"""Instants as the database keeps them: always UTC, whatever the driver returns."""

from __future__ import annotations

import datetime as dt


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite drops the zone of stored datetimes; everything is stored in UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def now() -> dt.datetime:
    """The current instant in UTC."""
    return dt.datetime.now(dt.UTC)
