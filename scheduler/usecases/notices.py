"""Change notices: a published session in the next 14 days changed, so tell the person.

Calendar apps refresh a subscribed feed slowly (Google every 8-24 hours), so
a feed alone would tell a clinician about tomorrow's move the day after.
``record_notices`` stores one notice per changed session within the window,
in the publication's own transaction; ``deliver_pending`` then e-mails each
person once, listing their changes in plain words with a one-event ``.ics``
per change, and marks every notice e-mailed or why not.

Delivery claims the notices it is about to send *before* sending (their
``emailed_at`` set in one statement that is also the first write of its
transaction), so two publications finishing together never send a change
twice; a crash mid-send leaves a notice marked e-mailed that was not, which
is the lesser harm for a message that repeats what the page already shows.
E-mail addresses never go to the log, the audit log or an error text.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from scheduler.checks.wording import short_day
from scheduler.outputs.calendar import event_calendar
from scheduler.storage.clock import now, utc
from scheduler.storage.db import session_scope
from scheduler.storage.feeds import EventChange
from scheduler.storage.models.app import CalendarEventRecord, ChangeNoticeRecord
from scheduler.storage.models.network import (
    NetworkRecord,
    SessionTypeRecord,
    SiteRecord,
    StaffRecord,
)
from scheduler.usecases.inbox import tell_changes
from scheduler.usecases.publishing import PublishedVersion

log = logging.getLogger(__name__)

NOTICE_DAYS = 14  # today and the 13 days after it
DEFAULT_SMTP_PORT = 25
SMTP_TIMEOUT = 10.0  # seconds; a publish waits for the delivery that follows it
NO_ADDRESS = "no e-mail address in staff.csv"


# -- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send e-mail; ``password`` is never shown or logged."""

    host: str
    sender: str
    port: int = DEFAULT_SMTP_PORT
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = SMTP_TIMEOUT


def _flag(value: Any) -> bool:
    """A yes/no setting given as a bool or as text (``ROTAPOOL_SMTP_STARTTLS=true``)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def smtp_settings(config: Mapping[str, Any]) -> SmtpSettings | None:
    """The SMTP settings of an app's configuration; None when ``SMTP_HOST`` is unset.

    Without a host, notices are still recorded and shown on the person page,
    but nobody is e-mailed.  ``SMTP_FROM`` defaults to ``rotapool@<host>``.
    """
    host = config.get("SMTP_HOST")
    if not host:
        return None
    return SmtpSettings(
        host=str(host),
        sender=str(config.get("SMTP_FROM") or f"rotapool@{host}"),
        port=int(config.get("SMTP_PORT") or DEFAULT_SMTP_PORT),
        username=config.get("SMTP_USERNAME") or None,
        password=config.get("SMTP_PASSWORD") or None,
        starttls=_flag(config.get("SMTP_STARTTLS", False)),
    )


# -- recording ------------------------------------------------------------------------------


def in_window(day: dt.date, today: dt.date) -> bool:
    """Whether a session on ``day`` is close enough to e-mail about (today .. today + 13)."""
    return today <= day < today + dt.timedelta(days=NOTICE_DAYS)


def notifiable(published: PublishedVersion) -> tuple[EventChange, ...]:
    """The changes of a publication worth a notice: none for a week's first publication.

    A first publication changes no published session (every one is new), and
    e-mailing each person their whole fortnight would bury the real changes.
    """
    return published.changes if published.superseded_rota_id is not None else ()


def record_notices(session: Session, changes: Sequence[EventChange], today: dt.date) -> list[int]:
    """Store a notice for each change dated within the next 14 days; their ids.

    Called in the publication's transaction, so a publication rolled back
    leaves no notice behind.  Changes further ahead need no notice: the
    feed will have been refreshed long before the day.
    """
    moment = now()
    records = [
        ChangeNoticeRecord(
            network_id=change.network_id,
            staff_id=change.staff_id,
            date=change.date,
            session_id=change.session_id,
            change=change.change,
            from_site=change.from_site,
            to_site=change.to_site,
            created_at=moment,
        )
        for change in changes
        if in_window(change.date, today)
    ]
    session.add_all(records)
    tell_changes(session, changes, today)  # the inbox keeps every change from today on
    session.flush()
    return [record.id for record in records]


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One stored change notice, as the person page and the e-mail show it."""

    id: int
    network_id: int
    staff_id: str
    date: dt.date
    session_id: str
    change: str
    from_site: str | None
    to_site: str | None
    created_at: dt.datetime
    emailed_at: dt.datetime | None
    email_error: str | None

    @property
    def text(self) -> str:
        """``Tue 1 Dec PM moved from P01 to P02`` (also ``added at P02``, ``removed``)."""
        return f"{short_day(self.date)} {self.session_id} {self.what()}"

    def what(self, sites: Mapping[str, str] | None = None) -> str:
        """The change in words; sites by their names when ``sites`` maps ids to names."""
        named = sites or {}

        def site(site_id: str | None) -> str:
            text = site_id or "?"
            return f"{named[text]} ({text})" if text in named else text

        if self.change == "moved":
            return f"moved from {site(self.from_site)} to {site(self.to_site)}"
        if self.change == "added":
            return f"added at {site(self.to_site)}"
        return "removed"


def _notice(record: ChangeNoticeRecord) -> Notice:
    return Notice(
        record.id,
        record.network_id,
        record.staff_id,
        record.date,
        record.session_id,
        record.change,
        record.from_site,
        record.to_site,
        utc(record.created_at),
        utc(record.emailed_at) if record.emailed_at else None,
        record.email_error,
    )


def person_notices(
    session: Session, network_id: int, staff_id: str, since: dt.datetime
) -> list[Notice]:
    """The person's notices recorded since ``since``, newest first."""
    statement = (
        select(ChangeNoticeRecord)
        .where(
            ChangeNoticeRecord.network_id == network_id,
            ChangeNoticeRecord.staff_id == staff_id,
            ChangeNoticeRecord.created_at >= since,
        )
        .order_by(ChangeNoticeRecord.created_at.desc(), ChangeNoticeRecord.id.desc())
    )
    return [_notice(record) for record in session.scalars(statement)]


# -- delivering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery did, counted in people (one e-mail each) and notices."""

    people_sent: int = 0
    notices_sent: int = 0
    people_without_address: int = 0
    people_failed: int = 0
    failure: str | None = None  # the first failure's reason, for the flash message

    @property
    def summary(self) -> str:
        """One sentence for the publish flash and the CLI, or '' when there was nothing to send."""
        parts = []
        if self.people_sent:
            parts.append(f"{_people(self.people_sent)} e-mailed about changes in the next 14 days")
        if self.people_without_address:
            parts.append(f"{_people(self.people_without_address)} not e-mailed: {NO_ADDRESS}")
        if self.people_failed:
            parts.append(f"e-mail to {_people(self.people_failed)} failed: {self.failure}")
        return "; ".join(parts) + "." if parts else ""


def unsent_summary(recorded: int) -> str:
    """The flash sentence when notices were recorded but e-mail is not set up."""
    if not recorded:
        return ""
    changes = "1 change" if recorded == 1 else f"{recorded} changes"
    return (
        f"{changes} in the next {NOTICE_DAYS} days listed on the people's pages; "
        "e-mail is not set up (SMTP_HOST), so nobody was e-mailed."
    )


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


@dataclass(frozen=True)
class Outgoing:
    """One person's e-mail, built before sending, with the notices it covers."""

    notice_ids: tuple[int, ...]
    message: EmailMessage


def _claim(session: Session, today: dt.date) -> dt.datetime:
    """Mark every pending notice from today on as being e-mailed now; the claim's moment.

    The first statement of the transaction: on SQLite it takes the write
    lock, on PostgreSQL it locks the rows, so a concurrent delivery finds
    nothing left to claim.
    """
    moment = now()
    session.execute(
        update(ChangeNoticeRecord)
        .where(
            ChangeNoticeRecord.emailed_at.is_(None),
            ChangeNoticeRecord.email_error.is_(None),
            ChangeNoticeRecord.date >= today,
        )
        .values(emailed_at=moment)
        .execution_options(synchronize_session=False)
    )
    return moment


def _claimed(session: Session, moment: dt.datetime) -> list[ChangeNoticeRecord]:
    statement = (
        select(ChangeNoticeRecord)
        .where(ChangeNoticeRecord.emailed_at == moment)
        .order_by(
            ChangeNoticeRecord.network_id,
            ChangeNoticeRecord.staff_id,
            ChangeNoticeRecord.date,
            ChangeNoticeRecord.session_id,
            ChangeNoticeRecord.id,
        )
    )
    return list(session.scalars(statement))


def _by_person(
    records: Iterable[ChangeNoticeRecord],
) -> dict[tuple[int, str], list[ChangeNoticeRecord]]:
    grouped: dict[tuple[int, str], list[ChangeNoticeRecord]] = {}
    for record in records:
        grouped.setdefault((record.network_id, record.staff_id), []).append(record)
    return grouped


@dataclass(frozen=True)
class Names:
    """What an e-mail needs of a network: its name, people, sites and session types."""

    network: str
    people: Mapping[str, StaffRecord]
    sites: Mapping[str, str]
    sessions: Mapping[str, SessionTypeRecord]


def _names(session: Session, network_id: int) -> Names:
    """The few tables an e-mail reads, without loading the whole bundle."""
    network = session.get(NetworkRecord, network_id)

    def rows(table: Any) -> list[Any]:
        return list(session.scalars(select(table).where(table.network_id == network_id)))

    return Names(
        network.name if network else "",
        {r.staff_id: r for r in rows(StaffRecord)},
        {r.site_id: r.name for r in rows(SiteRecord)},
        {r.session_id: r for r in rows(SessionTypeRecord)},
    )


def _line(record: ChangeNoticeRecord, names: Names) -> str:
    """``- Tue 1 Dec, Afternoon surgery (PM, 13:30-18:00): moved from ... to ...``."""
    notice = _notice(record)
    kind = names.sessions.get(record.session_id)
    when = record.session_id
    if kind is not None:
        when = f"{kind.label} ({record.session_id}, {kind.start_time:%H:%M}-{kind.end_time:%H:%M})"
    what = notice.what(names.sites)
    if record.change == "removed":
        what = f"removed: you no longer work this session (it was at {_site(record, names)})"
    return f"- {short_day(record.date)}, {when}: {what}."


def _site(record: ChangeNoticeRecord, names: Names) -> str:
    site_id = record.from_site or "?"
    return f"{names.sites[site_id]} ({site_id})" if site_id in names.sites else site_id


def _body(person_name: str, network: str, lines: Sequence[str]) -> str:
    """The plain-text e-mail: who, what changed, and what the attachments are for."""
    return "\n".join(
        [
            f"Hello {person_name},",
            "",
            f"Your published rota in {network} has changed for "
            f"{'this session' if len(lines) == 1 else 'these sessions'} "
            f"in the next {NOTICE_DAYS} days:",
            "",
            *lines,
            "",
            "Each changed session is attached as a calendar file (.ics): open it to update "
            "your calendar now. A subscribed rotapool calendar catches up by itself, but "
            "Google Calendar can take up to a day to refresh it.",
            "",
            "This message was sent by rotapool when the rota was published.",
            "",
        ]
    )


def _subject(records: Sequence[ChangeNoticeRecord]) -> str:
    if len(records) == 1:
        only = records[0]
        return f"Rota change: {short_day(only.date)} {only.session_id} {only.change}"
    return f"Rota changes: {len(records)} sessions in the next {NOTICE_DAYS} days"


def _attach_events(
    session: Session, message: EmailMessage, records: Sequence[ChangeNoticeRecord], host: str
) -> None:
    """One ``.ics`` per changed event, at the event's current SEQUENCE (latest notice wins)."""
    latest = {(r.date, r.session_id): r for r in records}
    for (day, session_id), record in sorted(latest.items()):
        event = session.scalar(
            select(CalendarEventRecord).where(
                CalendarEventRecord.network_id == record.network_id,
                CalendarEventRecord.staff_id == record.staff_id,
                CalendarEventRecord.date == day,
                CalendarEventRecord.session_id == session_id,
            )
        )
        change = EventChange(
            network_id=record.network_id,
            staff_id=record.staff_id,
            date=day,
            session_id=session_id,
            change=record.change,
            from_site=record.from_site,
            to_site=record.to_site,
            sequence=event.sequence if event is not None else 0,
        )
        message.add_attachment(
            event_calendar(session, change, host),
            maintype="text",
            subtype="calendar",
            filename=f"rota-{day.isoformat()}-{session_id}.ics",
            params={"method": "PUBLISH"},
        )


def _message(
    session: Session,
    records: Sequence[ChangeNoticeRecord],
    *,
    person: StaffRecord,
    names: Names,
    smtp: SmtpSettings,
    host: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = str(person.email)
    message["Subject"] = _subject(records)
    message["Date"] = format_datetime(now())
    message["Message-ID"] = make_msgid("rota", domain=host.split(":", maxsplit=1)[0])
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies
    message.set_content(_body(person.name, names.network, [_line(r, names) for r in records]))
    _attach_events(session, message, records, host)
    return message


def _prepare(
    session: Session, smtp: SmtpSettings, host: str, today: dt.date
) -> tuple[list[Outgoing], int]:
    """Claim the pending notices and build one e-mail per person who has an address.

    People without an address get ``NO_ADDRESS`` recorded on their notices
    (and no claim); the count of them is returned beside the e-mails.
    """
    moment = _claim(session, today)
    outgoing: list[Outgoing] = []
    without = 0
    names_of: dict[int, Names] = {}
    for (network_id, staff_id), records in _by_person(_claimed(session, moment)).items():
        names = names_of.get(network_id) or names_of.setdefault(
            network_id, _names(session, network_id)
        )
        person = names.people.get(staff_id)
        if person is None or not person.email:
            without += 1
            for record in records:
                record.emailed_at, record.email_error = None, NO_ADDRESS
            continue
        message = _message(session, records, person=person, names=names, smtp=smtp, host=host)
        outgoing.append(Outgoing(tuple(r.id for r in records), message))
    session.flush()
    return outgoing, without


def _reason(error: BaseException) -> str:
    """Why sending failed, in words without any address in them (SMTP errors quote them)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "the mail server refused the recipient's address"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return "the mail server refused the sender address (SMTP_FROM)"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "the mail server refused the login (SMTP_USERNAME, SMTP_PASSWORD)"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "the mail server does not offer what SMTP_STARTTLS or SMTP_USERNAME need"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the mail server answered {error.smtp_code}"
    return f"could not reach the mail server ({type(error).__name__})"


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
    except BaseException:
        client.close()
        raise
    return client


def send_mail(smtp: SmtpSettings, outgoing: Sequence[Outgoing]) -> list[str | None]:
    """Send each e-mail over one connection; per e-mail, None or why it failed.  Never raises."""
    results: list[str | None] = []
    try:
        client = _connect(smtp)
    except (OSError, smtplib.SMTPException) as err:
        return [_reason(err)] * len(outgoing)
    try:
        for item in outgoing:
            try:
                client.send_message(item.message)
                results.append(None)
            except (OSError, smtplib.SMTPException) as err:
                results.append(_reason(err))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return results


def _record_failures(
    engine: Engine, outgoing: Sequence[Outgoing], results: Sequence[str | None]
) -> None:
    """Notices whose e-mail failed: not e-mailed after all, and why."""
    failed = [(item, why) for item, why in zip(outgoing, results, strict=True) if why]
    if not failed:
        return
    with session_scope(engine) as session:
        for item, why in failed:
            session.execute(
                update(ChangeNoticeRecord)
                .where(ChangeNoticeRecord.id.in_(item.notice_ids))
                .values(emailed_at=None, email_error=why)
                .execution_options(synchronize_session=False)
            )


def deliver_pending(
    engine: Engine, smtp: SmtpSettings, host: str, *, today: dt.date
) -> DeliveryReport:
    """E-mail every pending notice dated from ``today`` on, one e-mail per person.

    Never raises for a mail server that is down or refuses: the notices keep
    the reason in ``email_error`` (no retry; the person page still shows the
    change).  Notices of days already past are left unsent.  Only counts are
    logged, never an address.
    """
    with session_scope(engine) as session:
        outgoing, without = _prepare(session, smtp, host, today)
    results = send_mail(smtp, outgoing) if outgoing else []
    _record_failures(engine, outgoing, results)
    failures = [why for why in results if why]
    report = DeliveryReport(
        people_sent=len(results) - len(failures),
        notices_sent=sum(
            len(item.notice_ids) for item, why in zip(outgoing, results, strict=True) if not why
        ),
        people_without_address=without,
        people_failed=len(failures),
        failure=failures[0] if failures else None,
    )
    if outgoing or without:
        log.info(
            "change notices: %d e-mailed, %d without address, %d failed",
            report.people_sent,
            without,
            report.people_failed,
        )
    return report
