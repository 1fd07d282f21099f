"""Change notices: which changes are recorded, and the e-mails a real SMTP server receives.

The tiny network's week 2026-W49 is published twice (tests.feeds.support's rotas:
the second moves S02's Wednesday morning from P02 to P01 and removes S03's
Wednesday afternoon).  A local aiosmtpd server on a free loopback port takes
the e-mails; nothing is mocked between ``deliver_pending`` and the socket.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import Engine, select, update

from scheduler.domain import Assignment
from scheduler.storage.db import session_scope
from scheduler.storage.feeds import EventChange
from scheduler.storage.models.app import ChangeNoticeRecord
from scheduler.storage.models.network import StaffRecord
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.notices import (
    NO_ADDRESS,
    DeliveryReport,
    SmtpSettings,
    deliver_pending,
    notifiable,
    person_notices,
    record_notices,
    smtp_settings,
)
from scheduler.usecases.publishing import PublishedVersion, publish_week
from tests.feeds.support import FIRST_ROTA, MOVED, REMOVED, SECOND_ROTA, WEEK, save_draft
from tests.web_support import TINY

TODAY = dt.date(2026, 11, 26)  # Thursday before WEEK: the window runs to Wed 9 Dec
FAR_TODAY = dt.date(2026, 11, 10)  # WEEK is beyond this day's 14
HOST = "rota.example.test"
SENDER = "rota@example.test"
ACTOR = "coordinator@tiny.test"
S02_EMAIL = "imran.shah@example.nhs.uk"
S03_EMAIL = "nia.walsh@example.nhs.uk"


# -- a real SMTP server ----------------------------------------------------------------------


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives; ``refuse`` rejects those recipients."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(content, _class=EmailMessage, policy=email.policy.default)
            for _sender, _to, content in self.received
        ]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A running SMTP server on 127.0.0.1 and a free port; stopped afterwards."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


def settings(port: int) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, timeout=5.0)


# -- the network and its publications --------------------------------------------------------


@pytest.fixture
def tiny(db_url: str, engine: Engine) -> int:
    network_id, _ = import_bundle(db_url, TINY)
    return network_id


def publish(engine: Engine, network_id: int, cells: Sequence[Assignment]) -> PublishedVersion:
    with session_scope(engine) as session:
        save_draft(session, network_id, cells, WEEK)
        return publish_week(session, network_id, WEEK, ACTOR)


def publish_twice(engine: Engine, network_id: int, today: dt.date = TODAY) -> list[int]:
    """Publish the first and the second rota, recording notices as the publish views do."""
    ids = []
    for cells in (FIRST_ROTA, SECOND_ROTA):
        with session_scope(engine) as session:
            save_draft(session, network_id, cells, WEEK)
            done = publish_week(session, network_id, WEEK, ACTOR)
            ids += record_notices(session, notifiable(done), today)
    return ids


def stored(engine: Engine) -> list[ChangeNoticeRecord]:
    with session_scope(engine) as session:
        statement = select(ChangeNoticeRecord).order_by(ChangeNoticeRecord.id)
        return list(session.scalars(statement))


def change(network_id: int, day: dt.date, staff_id: str = "S02") -> EventChange:
    return EventChange(network_id, staff_id, day, "AM", "moved", "P02", "P01", 1)


# -- recording -------------------------------------------------------------------------------


def test_only_changes_in_the_next_14_days_are_recorded(tiny: int, engine: Engine) -> None:
    days = [TODAY + dt.timedelta(days=n) for n in (-1, 0, 13, 14)]
    with session_scope(engine) as session:
        ids = record_notices(session, [change(tiny, day) for day in days], TODAY)
    assert len(ids) == 2
    assert [n.date for n in stored(engine)] == [TODAY, TODAY + dt.timedelta(days=13)]


def test_a_first_publication_is_no_change_to_notify(tiny: int, engine: Engine) -> None:
    done = publish(engine, tiny, FIRST_ROTA)
    assert done.changes  # every session is new to the feeds ...
    assert notifiable(done) == ()  # ... but no published session changed


def test_a_republication_records_the_move_and_the_removal(tiny: int, engine: Engine) -> None:
    publish_twice(engine, tiny)
    with session_scope(engine) as session:
        since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        moved = person_notices(session, tiny, "S02", since)
        removed = person_notices(session, tiny, "S03", since)
    assert [n.text for n in moved] == ["Wed 2 Dec AM moved from P02 to P01"]
    assert [n.text for n in removed] == ["Wed 2 Dec PM removed"]


def test_changes_beyond_14_days_record_and_send_nothing(
    tiny: int, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    assert publish_twice(engine, tiny, today=FAR_TODAY) == []
    report = deliver_pending(engine, settings(port), HOST, today=FAR_TODAY)
    assert report == DeliveryReport()
    assert received.received == []


# -- delivering ------------------------------------------------------------------------------


def test_each_person_gets_one_email_with_their_changes(
    tiny: int, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    publish_twice(engine, tiny)
    report = deliver_pending(engine, settings(port), HOST, today=TODAY)
    assert report == DeliveryReport(people_sent=2, notices_sent=2)
    assert sorted((sender, to) for sender, to, _ in received.received) == [
        (SENDER, [S02_EMAIL]),
        (SENDER, [S03_EMAIL]),
    ]
    by_to = {str(m["To"]): m for m in received.messages()}
    moved = by_to[S02_EMAIL]
    assert moved["Subject"] == "Rota change: Wed 2 Dec AM moved"
    body = moved.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Hello Imran Shah," in text
    assert (
        "- Wed 2 Dec, Morning surgery (AM, 08:00-12:30): moved from Station Road Surgery (P02) "
        "to Mill Lane Surgery (P01)." in text
    )
    removed_body = by_to[S03_EMAIL].get_body(preferencelist=("plain",))
    assert removed_body is not None
    assert "removed: you no longer work this session" in removed_body.get_content()


def attachments(message: EmailMessage) -> list[tuple[str, Calendar]]:
    found = []
    for part in message.iter_attachments():
        assert part.get_content_type() == "text/calendar"
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        found.append((str(part.get_filename()), Calendar.from_ical(data)))
    return found


def only_event(calendar: Calendar) -> Any:
    (event,) = calendar.walk("VEVENT")
    return event


def test_the_attachment_is_the_changed_event_with_its_uid_and_sequence(
    tiny: int, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    publish_twice(engine, tiny)
    deliver_pending(engine, settings(port), HOST, today=TODAY)
    by_to = {str(m["To"]): m for m in received.messages()}
    ((name, calendar),) = attachments(by_to[S02_EMAIL])
    assert name == "rota-2026-12-02-AM.ics"
    event = only_event(calendar)
    assert str(event["UID"]) == f"rotapool-{tiny}-S02-20261202-AM@{HOST}"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["LOCATION"]) == "Mill Lane Surgery"
    ((_, cancelled),) = attachments(by_to[S03_EMAIL])
    event = only_event(cancelled)
    assert str(event["UID"]) == f"rotapool-{tiny}-S03-20261202-PM@{HOST}"
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (1, "CANCELLED")
    assert MOVED.date == REMOVED.date == dt.date(2026, 12, 2)


def test_delivered_notices_are_marked_and_never_sent_twice(
    tiny: int, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    publish_twice(engine, tiny)
    deliver_pending(engine, settings(port), HOST, today=TODAY)
    again = deliver_pending(engine, settings(port), HOST, today=TODAY)
    assert again == DeliveryReport()
    assert len(received.received) == 2
    assert all(n.emailed_at is not None and n.email_error is None for n in stored(engine))


def test_a_person_without_an_address_is_skipped_with_the_reason(
    tiny: int, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    with session_scope(engine) as session:
        session.execute(update(StaffRecord).where(StaffRecord.staff_id == "S03").values(email=None))
    publish_twice(engine, tiny)
    report = deliver_pending(engine, settings(port), HOST, today=TODAY)
    assert (report.people_sent, report.people_without_address) == (1, 1)
    assert [to for _, to, _ in received.received] == [[S02_EMAIL]]
    outcome = {n.staff_id: (n.emailed_at is not None, n.email_error) for n in stored(engine)}
    assert outcome == {"S02": (True, None), "S03": (False, NO_ADDRESS)}


def test_a_mail_server_that_is_down_is_recorded_not_raised(
    tiny: int, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    publish_twice(engine, tiny)
    report = deliver_pending(engine, settings(free_port()), HOST, today=TODAY)
    assert (report.people_sent, report.people_failed) == (0, 2)
    assert report.failure == "could not reach the mail server (ConnectionRefusedError)"
    assert "failed: could not reach the mail server" in report.summary
    notices = stored(engine)
    assert [(n.emailed_at, n.email_error) for n in notices] == [(None, report.failure)] * 2
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("scheduler", "web"))]
    assert ours
    assert not any("@" in line for line in ours)


def test_a_refused_recipient_is_recorded_without_the_address(
    tiny: int, engine: Engine, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    received, port = inbox
    received.refuse.add(S03_EMAIL)
    caplog.set_level(logging.DEBUG)
    publish_twice(engine, tiny)
    report = deliver_pending(engine, settings(port), HOST, today=TODAY)
    assert (report.people_sent, report.people_failed) == (1, 1)
    errors = {n.staff_id: n.email_error for n in stored(engine)}
    assert errors == {"S02": None, "S03": "the mail server refused the recipient's address"}
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("scheduler", "web"))]
    assert not any("@" in line for line in ours)


def test_notices_of_days_already_past_are_not_sent(
    tiny: int, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    publish_twice(engine, tiny)
    report = deliver_pending(engine, settings(port), HOST, today=dt.date(2026, 12, 3))
    assert report == DeliveryReport()
    assert received.received == []
    assert all(n.emailed_at is None and n.email_error is None for n in stored(engine))


# -- settings --------------------------------------------------------------------------------


def test_no_smtp_host_means_no_email() -> None:
    assert smtp_settings({}) is None
    assert smtp_settings({"SMTP_HOST": "", "SMTP_PORT": 587}) is None


def test_smtp_settings_from_configuration_text() -> None:
    found = smtp_settings(
        {
            "SMTP_HOST": "mail.example.test",
            "SMTP_PORT": "587",
            "SMTP_STARTTLS": "true",
            "SMTP_USERNAME": "rota",
            "SMTP_PASSWORD": "secret",
            "SMTP_FROM": SENDER,
        }
    )
    assert found == SmtpSettings(
        host="mail.example.test",
        sender=SENDER,
        port=587,
        username="rota",
        password="secret",
        starttls=True,
    )
    defaults = smtp_settings({"SMTP_HOST": "mail.example.test"})
    assert defaults is not None
    assert (defaults.port, defaults.starttls, defaults.sender) == (
        25,
        False,
        "rotapool@mail.example.test",
    )
