"""A person's "open sessions" calendar: the places they could book now, as tentative events.

A separate feed from their rota's (its own address, ``/feeds/<token>/open.ics``), so a
calendar app can show it in another colour or not at all.  Each place is one
TENTATIVE, TRANSPARENT event (it does not make the person busy) whose UID comes
from the place, so a calendar keeps one event per place; a place that is booked,
withdrawn, closed, or that the person could no longer take without breaking a
rule, simply leaves the feed at the next refresh.  DTSTAMP is when the newest
place was offered: the same places give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from icalendar import Event

from scheduler.horizon import session_instants
from scheduler.outputs.calendar import _calendar, _finish, one_line
from scheduler.storage.feeds import Directory
from scheduler.usecases.open_sessions import OpenSession


def open_event(directory: Directory, place: OpenSession, host: str, link: str) -> Event | None:
    """One place as a tentative VEVENT; None when its session type or site is gone."""
    session_type = directory.sessions.get(place.session_id)
    site = directory.sites.get(place.site_id)
    if session_type is None or site is None:
        return None
    start, end = session_instants(session_type, place.date, directory.zone)
    start, end = start.astimezone(directory.zone), end.astimezone(directory.zone)
    event = Event()
    event.add("uid", f"rotapool-open-{place.network_id}-{place.id}@{host}")
    event.add("summary", f"Open: {one_line(session_type.label)} - {one_line(site.name)}")
    event.add("location", one_line(site.name))
    lines = [
        "An open session you could take: not booked yet.",
        f"For: {place.need}",
        f"Hours: {start:%H:%M}-{end:%H:%M}",
        f"Where: {one_line(site.name)}",
    ]
    if place.note:
        lines.append(f"Note: {one_line(place.note)}")
    lines.append(f"Book it: {link}")
    event.add("description", "\n".join(lines))
    event.add("dtstart", start)
    event.add("dtend", end)
    offered = place.offered_at or dt.datetime.combine(place.date, dt.time(), dt.UTC)
    event.add("dtstamp", offered)
    event.add("created", offered)
    event.add("status", "TENTATIVE")
    event.add("transp", "TRANSPARENT")
    return event


def render_open_feed(
    directory: Directory,
    person_name: str,
    places: Sequence[OpenSession],
    host: str,
    link: str,
) -> bytes:
    """The person's open-sessions feed (.ics bytes, CRLF)."""
    calendar = _calendar(
        f"rotapool - open sessions for {one_line(person_name)}", directory.timezone
    )
    events: list[tuple[dt.datetime, dt.datetime, Event]] = []
    for place in places:
        event = open_event(directory, place, host, link)
        if event is not None:
            events.append((event.decoded("dtstart"), event.decoded("dtend"), event))
    return _finish(calendar, events)
