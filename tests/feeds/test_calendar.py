"""Calendar feeds: tokens, the published life of each session, and the .ics files.

The tiny network (sample_data/tiny) is imported, hand-made rotas that pass the
validator are saved as drafts and published with ``publishing.publish_week``
at fixed moments (``scheduler.usecases.publishing.now`` is replaced), and the feeds are
rendered for a fixed ``today``.  Every rendered feed is read back with two
independent parsers, icalendar and vobject, which must agree.

Golden files: tests/data/feeds/*.ics, compared after DTSTAMP is normalised (it
follows the import time, which is the wall clock).  After an intended change
to the feeds, regenerate them and read the diff before keeping it:

    ROTAPOOL_REGENERATE_FEEDS=1 .venv/bin/pytest tests/feeds -k golden
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select, update

from scheduler.domain import Assignment
from scheduler.outputs.calendar import event_calendar
from scheduler.storage.db import session_scope
from scheduler.storage.feeds import EventChange, FeedSubject, feed_version
from scheduler.storage.models.app import CalendarEventRecord
from scheduler.storage.models.network import SiteRecord, StaffRecord
from scheduler.usecases.feeds import (
    record_publication,
)
from tests.feeds.support import (
    FIRST,
    FIRST_ROTA,
    GOLDEN,
    GOLDEN_FEEDS,
    HOST,
    MONDAY,
    MOVED,
    REGENERATE,
    REMOVED,
    SECOND,
    SECOND_ROTA,
    THIRD,
    TODAY,
    WEEK,
    cell,
    events,
    normalised,
    person,
    publish,
    render,
    save_draft,
    uid,
)


@pytest.mark.parametrize(("kind", "subject", "name"), GOLDEN_FEEDS)
def test_golden_feed_after_a_move_and_a_removal(
    tiny: int,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    subject: str,
    name: str,
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    publish(engine, tiny, SECOND_ROTA, SECOND, monkeypatch)
    ics = normalised(render(engine, FeedSubject(tiny, kind, subject)))
    events(ics)  # both parsers read it alike
    path = GOLDEN / name
    if os.environ.get(REGENERATE):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ics)
        pytest.skip(f"regenerated {path.name}; review the diff")
    assert ics == path.read_bytes()


def test_golden_files_hold_what_the_issue_asks(tiny: int) -> None:
    """The golden files themselves are checked, so a careless regeneration cannot pass."""
    s01 = (GOLDEN / "staff-S01.ics").read_bytes()
    assert all(line.endswith(b"\r") for line in s01.split(b"\n")[:-1])
    text = s01.decode("utf-8")
    for line in (
        "PRODID:-//rotapool//rotapool feeds//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:rotapool - Grace Rees",
        "X-WR-TIMEZONE:Europe/London",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/London",
        "SUMMARY:Morning surgery - Mill Lane Surgery",
        "DTSTART;TZID=Europe/London:20261130T080000",
        "LOCATION:Mill Lane Surgery",
        "LAST-MODIFIED:20261120T090000Z",
        "STATUS:CONFIRMED",
        f"UID:rotapool-{tiny}-S01-20261130-AM@{HOST}",
    ):
        assert line in text.splitlines(), line
    p02 = (GOLDEN / "site-P02.ics").read_text("utf-8")
    assert "STATUS:CANCELLED" in p02.splitlines()
    assert "SUMMARY:Afternoon surgery - Nia Walsh (GP)" in p02.splitlines()
    assert "SEQUENCE:1" in (GOLDEN / "staff-S02.ics").read_text("utf-8").splitlines()


# -- what a feed shows ------------------------------------------------------------------------


def test_person_feed_shows_their_published_sessions(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    seen = events(render(engine, person(tiny, "S01")))
    assert sorted(seen) == sorted(uid(tiny, item) for item in FIRST_ROTA[:2])
    morning = seen[uid(tiny, FIRST_ROTA[0])]
    assert morning.summary == "Morning surgery - Mill Lane Surgery"
    assert morning.location == "Mill Lane Surgery"
    assert (morning.sequence, morning.status) == (0, "CONFIRMED")
    assert morning.start == dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)  # GMT in winter
    assert morning.end == dt.datetime(2026, 11, 30, 12, 30, tzinfo=dt.UTC)
    assert "Role: GP" in morning.description
    assert "Hours: 08:00-12:30 (4.5 hours)" in morning.description
    assert "Who to call: your rota coordinator at Tiny Test Network" in morning.description


def test_a_line_break_stored_in_a_name_never_breaks_a_feed(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imports refuse control characters now; a name stored before they did still renders."""
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    with session_scope(engine) as session:
        session.execute(
            update(SiteRecord).where(SiteRecord.site_id == "P01").values(name="Mill\nLane")
        )
        session.execute(
            update(StaffRecord).where(StaffRecord.staff_id == "S01").values(name="Grace\rRees")
        )
    seen = events(render(engine, person(tiny, "S01")))  # both parsers must read it
    morning = seen[uid(tiny, FIRST_ROTA[0])]
    assert morning.summary == "Morning surgery - Mill Lane"
    assert morning.location == "Mill Lane"
    site_feed = events(render(engine, FeedSubject(tiny, "site", "P01")))
    assert "Who: Grace Rees" in site_feed[uid(tiny, FIRST_ROTA[0], "rotapool-site")].description


def test_site_and_hub_feeds_name_the_person_and_keep_their_own_uids(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    site = events(render(engine, FeedSubject(tiny, "site", "P01")))
    at_p01 = [item for item in FIRST_ROTA if item.site_id == "P01"]
    assert sorted(site) == sorted(uid(tiny, item, "rotapool-site") for item in at_p01)
    assert site[uid(tiny, FIRST_ROTA[0], "rotapool-site")].summary == (
        "Morning surgery - Grace Rees (GP)"
    )
    hub = events(render(engine, FeedSubject(tiny, "hub", "")))
    assert list(hub) == [uid(tiny, FIRST_ROTA[1], "rotapool-hub")]
    assert hub[uid(tiny, FIRST_ROTA[1], "rotapool-hub")].summary == (
        "Evening enhanced access - Grace Rees (GP)"
    )


def test_drafts_never_appear_in_any_feed(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    every_feed = [
        person(tiny, "S01"),
        person(tiny, "S04"),
        FeedSubject(tiny, "site", "P01"),
        FeedSubject(tiny, "site", "P02"),
        FeedSubject(tiny, "hub", ""),
    ]
    before = [render(engine, feed) for feed in every_feed]
    draft_only = [
        cell("S04", 0, "AM", "P02"),
        cell("S04", 0, "EVE", "HUB1"),
        cell("S01", 4, "AM", "P01"),
    ]
    next_week = [replace(item, date=item.date + dt.timedelta(days=7)) for item in draft_only]
    with session_scope(engine) as session:
        save_draft(session, tiny, [*FIRST_ROTA, *draft_only], WEEK)
        save_draft(session, tiny, next_week, "2026-W50")
    after = [render(engine, feed) for feed in every_feed]
    assert after == before
    assert b"S04" not in b"".join(after)


def test_an_empty_feed_is_still_a_calendar(tiny: int, engine: Engine) -> None:
    ics = render(engine, person(tiny, "S01"))
    assert events(ics) == {}
    assert b"METHOD:PUBLISH\r\n" in ics


# -- the published life of a session ----------------------------------------------------------


def test_first_publication_adds_every_session(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    assert {(c.staff_id, c.date, c.session_id) for c in changes} == {
        (item.staff_id, item.date, item.session_id) for item in FIRST_ROTA
    }
    assert {(c.change, c.from_site, c.sequence) for c in changes} == {("added", None, 0)}
    assert [c.date for c in changes] == sorted(c.date for c in changes)


def test_republishing_unchanged_keeps_uids_and_sequences(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    feed = FeedSubject(tiny, "site", "P01")
    with session_scope(engine) as session:
        version = feed_version(session, feed)
    before = render(engine, feed)
    assert publish(engine, tiny, list(reversed(FIRST_ROTA)), SECOND, monkeypatch) == ()
    assert render(engine, feed) == before  # DTSTAMP and LAST-MODIFIED included
    with session_scope(engine) as session:
        assert feed_version(session, feed) == version
        stamps = session.scalars(select(CalendarEventRecord.modified_at)).all()
    assert {stamp.replace(tzinfo=dt.UTC) for stamp in stamps} == {FIRST}


def test_moving_one_session_raises_only_its_sequence(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    moved_rota = [MOVED if item == cell("S02", 2, "AM", "P02") else item for item in FIRST_ROTA]
    feed = person(tiny, "S02")
    before = events(render(engine, feed))
    changes = publish(engine, tiny, moved_rota, SECOND, monkeypatch)
    assert changes == (EventChange(tiny, "S02", MOVED.date, "AM", "moved", "P02", "P01", 1),)
    after = events(render(engine, feed))
    assert sorted(after) == sorted(before)
    for key, seen in after.items():
        if key == uid(tiny, MOVED):
            assert seen.sequence == before[key].sequence + 1
            assert seen.location == "Mill Lane Surgery"
        else:
            assert seen == before[key]


def test_a_session_moved_away_leaves_the_old_sites_feed(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    p02 = FeedSubject(tiny, "site", "P02")
    with session_scope(engine) as session:
        version = feed_version(session, p02)
    moved_rota = [MOVED if item == cell("S02", 2, "AM", "P02") else item for item in FIRST_ROTA]
    publish(engine, tiny, moved_rota, SECOND, monkeypatch)
    assert uid(tiny, MOVED, "rotapool-site") not in events(render(engine, p02))
    assert uid(tiny, MOVED, "rotapool-site") in events(
        render(engine, FeedSubject(tiny, "site", "P01"))
    )
    with session_scope(engine) as session:
        assert feed_version(session, p02) != version


def test_a_removed_session_is_cancelled_until_its_date_has_passed(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    without = [item for item in FIRST_ROTA if item != REMOVED]
    changes = publish(engine, tiny, without, SECOND, monkeypatch)
    assert changes == (EventChange(tiny, "S03", REMOVED.date, "PM", "removed", "P02", None, 1),)
    feed = person(tiny, "S03")
    for today in (TODAY, REMOVED.date):
        (seen,) = events(render(engine, feed, today)).values()
        assert (seen.uid, seen.status, seen.sequence) == (uid(tiny, REMOVED), "CANCELLED", 1)
        assert seen.description.startswith("Cancelled:")
    assert events(render(engine, feed, REMOVED.date + dt.timedelta(days=1))) == {}
    # A confirmed session stays after its date, for HISTORY.
    s02 = events(render(engine, person(tiny, "S02"), REMOVED.date + dt.timedelta(days=1)))
    assert uid(tiny, cell("S02", 0, "PM", "P01")) in s02


def test_a_cancelled_session_that_comes_back_is_added_with_a_higher_sequence(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    publish(engine, tiny, [item for item in FIRST_ROTA if item != REMOVED], SECOND, monkeypatch)
    changes = publish(engine, tiny, FIRST_ROTA, THIRD, monkeypatch)
    assert changes == (EventChange(tiny, "S03", REMOVED.date, "PM", "added", None, "P02", 2),)
    (seen,) = events(render(engine, person(tiny, "S03"))).values()
    assert (seen.status, seen.sequence) == ("CONFIRMED", 2)


def test_confirmed_sessions_older_than_eight_weeks_leave_the_feed(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    first = FIRST_ROTA[0].date
    feed = person(tiny, "S01")
    assert len(events(render(engine, feed, first + dt.timedelta(weeks=8)))) == 2
    assert events(render(engine, feed, first + dt.timedelta(weeks=8, days=1))) == {}


def test_record_publication_refuses_a_date_outside_the_week(tiny: int, engine: Engine) -> None:
    stray = Assignment(MONDAY + dt.timedelta(days=7), "AM", "P01", "S01")
    with session_scope(engine) as session, pytest.raises(ValueError, match="not a date of"):
        record_publication(session, tiny, WEEK, [stray], FIRST)


# -- clock changes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "utc_hour"),
    [
        (dt.date(2026, 3, 27), 8),  # Friday before 29 March: GMT
        (dt.date(2026, 3, 30), 7),  # Monday after: BST
        (dt.date(2026, 10, 23), 7),  # Friday before 25 October: BST
        (dt.date(2026, 10, 26), 8),  # Monday after: GMT
    ],
)
def test_times_are_right_across_the_2026_clock_changes(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch, date: dt.date, utc_hour: int
) -> None:
    """An 08:00 session is 08:00 in London whichever side of the change it falls."""
    week = f"{date.isocalendar().year}-W{date.isocalendar().week:02d}"
    publish(engine, tiny, [Assignment(date, "AM", "P01", "S01")], FIRST, monkeypatch, week)
    ics = render(engine, person(tiny, "S01"), date - dt.timedelta(days=3))
    (seen,) = events(ics).values()
    assert seen.start == dt.datetime.combine(date, dt.time(utc_hour), tzinfo=dt.UTC)
    assert seen.end == seen.start + dt.timedelta(hours=4, minutes=30)
    assert f"DTSTART;TZID=Europe/London:{date:%Y%m%d}T080000".encode() in ics


def test_both_clock_changes_in_one_feed(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One VTIMEZONE serves sessions on both sides of both changes."""
    dates = [
        dt.date(2026, 3, 27),
        dt.date(2026, 3, 30),
        dt.date(2026, 10, 23),
        dt.date(2026, 10, 26),
    ]
    for date in dates:
        week = f"{date.isocalendar().year}-W{date.isocalendar().week:02d}"
        publish(engine, tiny, [Assignment(date, "AM", "P01", "S01")], FIRST, monkeypatch, week)
    ics = render(engine, person(tiny, "S01"), dt.date(2026, 3, 1))
    starts = sorted(seen.start for seen in events(ics).values())
    assert [start.hour for start in starts] == [8, 7, 7, 8]
    assert ics.count(b"BEGIN:VTIMEZONE") == 1


# -- change notices' attachment ---------------------------------------------------------------


def test_event_calendar_matches_the_person_feed(
    tiny: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(engine, tiny, FIRST_ROTA, FIRST, monkeypatch)
    changes = publish(engine, tiny, SECOND_ROTA, SECOND, monkeypatch)
    with session_scope(engine) as session:
        attachments = {c.change: event_calendar(session, c, HOST) for c in changes}
    assert set(attachments) == {"moved", "removed"}
    (moved,) = events(attachments["moved"]).values()
    feed = events(render(engine, person(tiny, "S02")))
    assert moved == feed[uid(tiny, MOVED)]
    (removed,) = events(attachments["removed"]).values()
    assert (removed.uid, removed.status, removed.sequence) == (
        uid(tiny, REMOVED),
        "CANCELLED",
        1,
    )
    assert b"METHOD:PUBLISH\r\n" in attachments["removed"]
