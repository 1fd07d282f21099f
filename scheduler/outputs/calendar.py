"""Calendar files: a feed's .ics and the one-event .ics attached to a change notice.

Each event's UID comes from the session's identity (network, person, date,
session) and the public host, so re-publishing never duplicates an event and
a session moved to another site keeps its UID with a higher SEQUENCE.
Calendar clients refresh slowly and Apple shows removed events struck
through, so a removed session stays in the feed, cancelled, until its date.
Rendering is a pure function of (database state, host, today): DTSTAMP is
the feed's last change (``feed_last_modified``), never the clock."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from icalendar import Calendar, Event, vText
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.horizon import session_instants
from scheduler.storage.clock import now, utc
from scheduler.storage.feeds import (
    CANCELLED,
    CONFIRMED,
    REMOVED,
    Directory,
    EventChange,
    FeedSubject,
    feed_last_modified,
    load_directory,
    window_events,
)
from scheduler.storage.models.app import CalendarEventRecord

PRODID = "-//rotapool//rotapool feeds//EN"
REFRESH = "PT1H"  # a string: icalendar would write a timedelta as 1:00:00 in X-PUBLISHED-TTL


@dataclass(frozen=True)
class Occurrence:
    """One event as a feed shows it: the stored event, or a change about to be e-mailed."""

    network_id: int
    staff_id: str
    date: dt.date
    session_id: str
    site_id: str
    status: str
    sequence: int
    created_at: dt.datetime
    modified_at: dt.datetime

    @classmethod
    def of(cls, event: CalendarEventRecord) -> Occurrence:
        return cls(
            event.network_id,
            event.staff_id,
            event.date,
            event.session_id,
            event.site_id,
            event.status,
            event.sequence,
            utc(event.created_at),
            utc(event.modified_at),
        )


def event_uid(occurrence: Occurrence, host: str, kind: str = "staff") -> str:
    """The stable UID: a person's feed, and the site and hub feeds, each their own."""
    prefix = "rotapool" if kind == "staff" else f"rotapool-{kind}"
    return (
        f"{prefix}-{occurrence.network_id}-{occurrence.staff_id}-"
        f"{occurrence.date:%Y%m%d}-{occurrence.session_id}@{host}"
    )


def _hours(start: dt.datetime, end: dt.datetime) -> str:
    """Hours really worked, across a clock change too (``3.5``, ``4``)."""
    return f"{(end - start).total_seconds() / 3600:g}"


def one_line(text: str) -> str:
    """Text with every control character a space: a name never breaks a calendar line.

    Imports refuse them, but a name stored before they did could still hold one.
    """
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def _person(directory: Directory, staff_id: str) -> tuple[str, str | None]:
    """A person's name and role; their id alone once they have left the network."""
    person = directory.staff.get(staff_id)
    if person is None:
        return staff_id, None
    return one_line(person.name), one_line(person.role)


def _site(directory: Directory, site_id: str) -> str:
    return one_line(directory.sites[site_id].name)


def _description(
    directory: Directory, occurrence: Occurrence, kind: str, times: tuple[dt.datetime, ...]
) -> str:
    """Role, hours, place and who to ask, one per line; a cancellation says so first."""
    start, end = times
    name, role = _person(directory, occurrence.staff_id)
    site = _site(directory, occurrence.site_id)
    lines = []
    if occurrence.status == CANCELLED:
        lines.append("Cancelled: this session is no longer in the published rota.")
    if kind != "staff":
        lines.append(f"Who: {name}")
    lines += [
        f"Role: {role or 'not recorded'}",
        f"Hours: {start:%H:%M}-{end:%H:%M} ({_hours(start, end)} hours)",
        f"Where: {site}",
        f"Who to call: your rota coordinator at {one_line(directory.network_name)}, "
        f"or {site} on the day.",
    ]
    return "\n".join(lines)


def _summary(directory: Directory, occurrence: Occurrence, kind: str) -> str:
    """``AM surgery - Riverside Road Surgery``; other feeds name the person and role."""
    label = one_line(directory.sessions[occurrence.session_id].label)
    if kind == "staff":
        return f"{label} - {_site(directory, occurrence.site_id)}"
    name, role = _person(directory, occurrence.staff_id)
    return f"{label} - {name} ({role})" if role else f"{label} - {name}"


def _times(directory: Directory, occurrence: Occurrence) -> tuple[dt.datetime, dt.datetime]:
    """Start and end in the network's time zone (an overnight session ends the next day)."""
    session_type = directory.sessions[occurrence.session_id]
    zone = directory.zone
    start, end = session_instants(session_type, occurrence.date, zone)
    return start.astimezone(zone), end.astimezone(zone)


def _shown(directory: Directory, occurrence: Occurrence) -> bool:
    """Events of a session type or site that a re-import removed cannot be placed or timed."""
    return occurrence.session_id in directory.sessions and occurrence.site_id in directory.sites


def make_event(
    directory: Directory,
    occurrence: Occurrence,
    host: str,
    kind: str,
    stamp: dt.datetime,
) -> Event:
    """One VEVENT."""
    start, end = _times(directory, occurrence)
    event = Event()
    event.add("uid", event_uid(occurrence, host, kind))
    event.add("summary", _summary(directory, occurrence, kind))
    event.add("location", _site(directory, occurrence.site_id))
    event.add("description", _description(directory, occurrence, kind, (start, end)))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", stamp)
    event.add("created", occurrence.created_at)
    event.add("last-modified", occurrence.modified_at)
    event.add("sequence", occurrence.sequence)
    event.add("status", occurrence.status.upper())
    # A cancelled session no longer makes the person busy.
    event.add("transp", "TRANSPARENT" if occurrence.status == CANCELLED else "OPAQUE")
    return event


def _calendar(name: str, timezone: str) -> Calendar:
    """The VCALENDAR header every feed and attachment shares."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone)
    calendar.add("refresh-interval", vText(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    return calendar


def _finish(calendar: Calendar, events: list[tuple[dt.datetime, dt.datetime, Event]]) -> bytes:
    """Add the events in time order and the VTIMEZONE they need; the .ics bytes (CRLF)."""
    events.sort(key=lambda item: (item[0], str(item[2]["uid"])))
    for _start, _end, event in events:
        calendar.add_component(event)
    if events:
        first = min(start for start, _end, _event in events).date()
        last = max(end for _start, end, _event in events).date()
        calendar.add_missing_timezones(dt.date(first.year, 1, 1), dt.date(last.year + 1, 1, 1))
    return bytes(calendar.to_ical())


def feed_name(directory: Directory, feed: FeedSubject) -> str:
    """The calendar's name as the user's calendar app lists it."""
    if feed.kind == "staff":
        return f"rotapool - {_person(directory, feed.subject)[0]}"
    if feed.kind == "site":
        site = directory.sites.get(feed.subject)
        return f"rotapool - {one_line(site.name) if site else feed.subject}"
    return f"rotapool - {one_line(directory.network_name)} hub sessions"


def render_feed(session: Session, feed: FeedSubject, host: str, today: dt.date) -> bytes:
    """The feed's .ics (UTF-8, CRLF), as of ``today`` in the network's time zone."""
    directory = load_directory(session, feed.network_id)
    stamp = feed_last_modified(session, feed)
    events = []
    for record in window_events(session, feed, today):
        occurrence = Occurrence.of(record)
        if _shown(directory, occurrence):
            start, end = _times(directory, occurrence)
            events.append((start, end, make_event(directory, occurrence, host, feed.kind, stamp)))
    return _finish(_calendar(feed_name(directory, feed), directory.timezone), events)


def event_calendar(session: Session, change: EventChange, host: str) -> bytes:
    """A one-event .ics of a changed session, to attach to the notice e-mail.

    Same UID and SEQUENCE as in the person's feed, so a calendar that already
    has the event updates it (or marks it cancelled) instead of adding another.
    """
    directory = load_directory(session, change.network_id)
    occurrence = _change_occurrence(session, change)
    person = FeedSubject(change.network_id, "staff", change.staff_id)
    calendar = _calendar(feed_name(directory, person), directory.timezone)
    if not _shown(directory, occurrence):
        return _finish(calendar, [])
    start, end = _times(directory, occurrence)
    event = make_event(directory, occurrence, host, "staff", occurrence.modified_at)
    return _finish(calendar, [(start, end, event)])


def _change_occurrence(session: Session, change: EventChange) -> Occurrence:
    """The event as the change left it (times of creation and change from the stored event)."""
    stored = session.scalar(
        select(CalendarEventRecord).where(
            CalendarEventRecord.network_id == change.network_id,
            CalendarEventRecord.staff_id == change.staff_id,
            CalendarEventRecord.date == change.date,
            CalendarEventRecord.session_id == change.session_id,
        )
    )
    moment = now() if stored is None else utc(stored.modified_at)
    created = moment if stored is None else utc(stored.created_at)
    return Occurrence(
        change.network_id,
        change.staff_id,
        change.date,
        change.session_id,
        change.to_site or change.from_site or "",
        CANCELLED if change.change == REMOVED else CONFIRMED,
        change.sequence,
        created,
        moment,
    )
