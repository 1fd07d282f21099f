"""What the feed tests share: hand-made rotas, publishing at fixed moments, two parsers.

Every rendered feed is read back with two independent parsers, icalendar and
vobject, which must agree."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import vobject
from icalendar import Calendar
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.domain import Assignment
from scheduler.outputs.calendar import render_feed
from scheduler.storage.db import session_scope
from scheduler.storage.feeds import EventChange, FeedSubject
from scheduler.storage.rotas import save_rota
from scheduler.usecases.feeds import (
    current_token,
    find_feed,
)
from scheduler.usecases.publishing import publish_week

GOLDEN = Path(__file__).parents[1] / "data" / "feeds"
REGENERATE = "ROTAPOOL_REGENERATE_FEEDS"
WEEK = "2026-W49"
MONDAY = dt.date(2026, 11, 30)
TODAY = dt.date(2026, 11, 23)  # the Monday before WEEK
HOST = "rota.example.test"
SECRET = "a test secret key"
ACTOR = "coordinator@tiny.test"
FIRST = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
SECOND = dt.datetime(2026, 11, 21, 14, 30, tzinfo=dt.UTC)
THIRD = dt.datetime(2026, 11, 22, 8, 15, tzinfo=dt.UTC)


def cell(staff_id: str, day: int, session_id: str, site_id: str) -> Assignment:
    """A session of WEEK; ``day`` 0 is Monday."""
    return Assignment(MONDAY + dt.timedelta(days=day), session_id, site_id, staff_id)


# A valid week of the tiny network (shortfalls are allowed; hard rules hold).
FIRST_ROTA = (
    cell("S01", 0, "AM", "P01"),
    cell("S01", 0, "EVE", "HUB1"),
    cell("S02", 0, "PM", "P01"),
    cell("S05", 1, "AM", "P01"),  # fixed.csv pins this one
    cell("S08", 1, "PM", "P02"),
    cell("S02", 2, "AM", "P02"),
    cell("S03", 2, "PM", "P02"),
    cell("S07", 3, "AM", "P01"),
)
MOVED = cell("S02", 2, "AM", "P01")  # S02's Wednesday morning, at the other practice
REMOVED = cell("S03", 2, "PM", "P02")
SECOND_ROTA = tuple(
    MOVED if item == cell("S02", 2, "AM", "P02") else item for item in FIRST_ROTA if item != REMOVED
)


def publish(
    engine: Engine,
    network_id: int,
    cells: Sequence[Assignment],
    at: dt.datetime,
    monkeypatch: pytest.MonkeyPatch,
    week: str = WEEK,
) -> tuple[EventChange, ...]:
    """Save ``cells`` as the week's draft and publish it at ``at``; the event changes."""
    monkeypatch.setattr("scheduler.usecases.publishing.now", lambda: at)
    with session_scope(engine) as session:
        save_draft(session, network_id, cells, week)
        return publish_week(session, network_id, week, ACTOR).changes


def save_draft(session: Session, network_id: int, cells: Sequence[Assignment], week: str) -> None:
    save_rota(
        session,
        network_id,
        week,
        cells,
        status="optimal",
        objective=0.0,
        bound=0.0,
        gap=0.0,
        seconds=0.1,
        summary={},
    )


def render(engine: Engine, feed: FeedSubject, today: dt.date = TODAY, host: str = HOST) -> bytes:
    with session_scope(engine) as session:
        return render_feed(session, feed, host, today)


def person(network_id: int, staff_id: str) -> FeedSubject:
    return FeedSubject(network_id, "staff", staff_id)


def uid(network_id: int, item: Assignment, prefix: str = "rotapool") -> str:
    return f"{prefix}-{network_id}-{item.staff_id}-{item.date:%Y%m%d}-{item.session_id}@{HOST}"


# -- reading feeds back -----------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Seen:
    """One VEVENT as a parser read it."""

    uid: str
    sequence: int
    status: str
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC
    summary: str
    location: str
    description: str


def read_with_icalendar(ics: bytes) -> list[Seen]:
    calendar = Calendar.from_ical(ics)
    return sorted(
        Seen(
            str(event["UID"]),
            int(event["SEQUENCE"]),
            str(event["STATUS"]),
            event.decoded("DTSTART").astimezone(dt.UTC),
            event.decoded("DTEND").astimezone(dt.UTC),
            str(event["SUMMARY"]),
            str(event["LOCATION"]),
            str(event["DESCRIPTION"]),
        )
        for event in calendar.walk("VEVENT")
    )


def read_with_vobject(ics: bytes) -> list[Seen]:
    calendar = vobject.readOne(ics.decode("utf-8"))
    return sorted(
        Seen(
            event.uid.value,
            int(event.sequence.value),
            event.status.value,
            event.dtstart.value.astimezone(dt.UTC),
            event.dtend.value.astimezone(dt.UTC),
            event.summary.value,
            event.location.value,
            event.description.value,
        )
        for event in calendar.contents.get("vevent", [])
    )


def events(ics: bytes) -> dict[str, Seen]:
    """The feed's events by UID, once both parsers agree on every one of them."""
    by_icalendar = read_with_icalendar(ics)
    assert by_icalendar == read_with_vobject(ics)
    return {seen.uid: seen for seen in by_icalendar}


def normalised(ics: bytes) -> bytes:
    """DTSTAMP follows the import time (the wall clock): the one line compared loosely."""
    return re.sub(rb"DTSTAMP:\d{8}T\d{6}Z", b"DTSTAMP:19700101T000000Z", ics)


# -- golden files -----------------------------------------------------------------------------

GOLDEN_FEEDS = [
    ("staff", "S01", "staff-S01.ics"),
    ("staff", "S02", "staff-S02.ics"),
    ("site", "P01", "site-P01.ics"),
    ("site", "P02", "site-P02.ics"),
    ("hub", "", "hub.ics"),
]


def find(engine: Engine, token: str, secret: str = SECRET) -> FeedSubject | None:
    with session_scope(engine) as session:
        return find_feed(session, token, secret)


def feeds_token(engine: Engine, network_id: int, kind: str, subject: str) -> str:
    with session_scope(engine) as session:
        token = current_token(session, network_id, kind, subject, SECRET)
    assert token is not None
    return token
