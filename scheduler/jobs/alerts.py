"""Week alerts and the e-mail the scheduled jobs send.

E-mail is sent only once the caller's transaction has committed (the
session's ``after_commit`` event), so an alert rolled back is never
e-mailed.  A send that fails is logged (counts only, never an address): the
alert is on the week overview either way.  Alerts never name a leave kind or
reason ("on leave", "absent" only): the overview and the e-mails go to
managers and coordinators alike."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.config import public_address
from scheduler.domain import (
    JobSettings,
)
from scheduler.storage import audit
from scheduler.storage.clock import utc
from scheduler.storage.models.app import UserRecord, WeekAlertRecord
from scheduler.storage.models.network import NetworkRecord
from scheduler.storage.records import jobs_of
from scheduler.storage.repository import NetworkLookupError
from scheduler.storage.rotas import find_rota
from scheduler.usecases.notices import Outgoing, SmtpSettings, send_mail, smtp_settings

log = logging.getLogger(__name__)

ACTOR = "scheduler"  # the audit log's actor for what the jobs do
SHORTFALL, REMINDER = "shortfall", "reminder"  # week_alerts.kind


class RoutineError(RuntimeError):
    """A job could not do its work; the message, safe for the run history, says why."""


class AlertNotFoundError(LookupError):
    """No alert with that id in this network's week."""


# -- alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """A week alert as the overview shows it."""

    id: int
    week: str
    kind: str
    message: str
    created_at: dt.datetime
    cleared_at: dt.datetime | None


def _alert(record: WeekAlertRecord) -> Alert:
    return Alert(
        record.id,
        record.week,
        record.kind,
        record.message,
        utc(record.created_at),
        utc(record.cleared_at) if record.cleared_at else None,
    )


def open_alerts(session: Session, network_id: int, week: str) -> list[Alert]:
    """The week's alerts nobody has cleared, oldest first.

    A reminder is left out once the week is published: the next reminder run
    clears it, but until then it would say the opposite of the page.
    """
    statement = select(WeekAlertRecord).where(
        WeekAlertRecord.network_id == network_id,
        WeekAlertRecord.week == week,
        WeekAlertRecord.cleared_at.is_(None),
    )
    if find_rota(session, network_id, week, "published") is not None:
        statement = statement.where(WeekAlertRecord.kind != REMINDER)
    return [_alert(r) for r in session.scalars(statement.order_by(WeekAlertRecord.id))]


def add_alert(
    session: Session, network_id: int, week: str, kind: str, message: str, *, at: dt.datetime
) -> int:
    """Store an open alert; its id."""
    record = WeekAlertRecord(
        network_id=network_id,
        week=week,
        kind=kind,
        message=message,
        created_at=at.astimezone(dt.UTC),
    )
    session.add(record)
    session.flush()
    return record.id


def clear_alert(
    session: Session, network_id: int, week: str, alert_id: int, *, actor: str, at: dt.datetime
) -> bool:
    """Acknowledge an alert (audited); False when it was already cleared.

    Raises ``AlertNotFoundError`` when the alert is not this network's week's.
    The message stays out of the audit log: it names people who are absent.
    """
    record = session.get(WeekAlertRecord, alert_id)
    if record is None or record.network_id != network_id or record.week != week:
        raise AlertNotFoundError(f"no alert {alert_id} in {week}")
    if record.cleared_at is not None:
        return False
    record.cleared_at = at.astimezone(dt.UTC)
    session.flush()
    audit.record(
        session,
        actor,
        "alert cleared",
        f"{week} alert {alert_id}",
        network_id=network_id,
        before={"kind": record.kind, "cleared": False},
        after={"kind": record.kind, "cleared": True},
    )
    return True


def alert_records(
    session: Session, network_id: int, kind: str, *, open_only: bool
) -> list[WeekAlertRecord]:
    statement = select(WeekAlertRecord).where(
        WeekAlertRecord.network_id == network_id, WeekAlertRecord.kind == kind
    )
    if open_only:
        statement = statement.where(WeekAlertRecord.cleared_at.is_(None))
    return list(session.scalars(statement.order_by(WeekAlertRecord.id)))


# -- e-mail ---------------------------------------------------------------------------------


def recipients(session: Session, network_id: int, roles: Iterable[str]) -> list[str]:
    """Active accounts of these roles that see the network (managers of every network too)."""
    statement = select(UserRecord.email).where(
        UserRecord.active.is_(True),
        UserRecord.role.in_(tuple(roles)),
        or_(UserRecord.network_id == network_id, UserRecord.network_id.is_(None)),
    )
    return list(session.scalars(statement.order_by(UserRecord.email)))


class AfterCommit:
    """E-mails sent once the session's transaction commits; dropped if it rolls back."""

    def __init__(self, smtp: SmtpSettings, messages: Sequence[EmailMessage]) -> None:
        self.smtp = smtp
        self.messages = tuple(messages)
        self.done = False

    def attach(self, session: Session) -> None:
        sa_event.listen(session, "after_commit", self.send)
        sa_event.listen(session, "after_rollback", self.drop)

    def drop(self, _session: Session) -> None:
        self.done = True

    def send(self, _session: Session) -> None:
        """Send every message over one connection; never raises (the alerts are stored)."""
        if self.done:
            return
        self.done = True
        results = send_mail(self.smtp, [Outgoing((), m) for m in self.messages])
        failed = [why for why in results if why]
        if failed:
            log.warning(
                "scheduled job e-mail: %d of %d not sent (%s)",
                len(failed),
                len(results),
                failed[0],
            )


@dataclass(frozen=True)
class Mail:
    """One e-mail's subject and body, sent to each recipient separately."""

    subject: str
    body: str


def _message(smtp: SmtpSettings, host: str, to: str, mail: Mail, at: dt.datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = make_msgid("rota-alert", domain=host.split(":", maxsplit=1)[0])
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies
    message.set_content(mail.body)
    return message


def mail_after_commit(
    session: Session,
    config: Mapping[str, Any],
    to: Sequence[str],
    mail: Mail,
    at: dt.datetime,
) -> str:
    """Queue ``mail`` for each address until the transaction commits; words for the summary."""
    smtp = smtp_settings(config)
    if smtp is None:
        return "e-mail is not set up (SMTP_HOST), so nobody was e-mailed"
    if not to:
        return "nobody to e-mail (no manager or coordinator account)"
    host = _host(config)
    AfterCommit(smtp, [_message(smtp, host, address, mail, at) for address in to]).attach(session)
    return f"e-mail to {count_words(len(to), 'person', 'people')} sent after commit"


def mails_after_commit(
    session: Session,
    config: Mapping[str, Any],
    mails: Sequence[tuple[str, Mail]],
    at: dt.datetime,
) -> str:
    """Queue a different mail for each address, over one connection after the commit."""
    smtp = smtp_settings(config)
    if smtp is None:
        return "e-mail is not set up (SMTP_HOST), so nobody was e-mailed"
    host = _host(config)
    AfterCommit(smtp, [_message(smtp, host, to, mail, at) for to, mail in mails]).attach(session)
    return f"e-mail to {count_words(len(mails), 'person', 'people')} sent after commit"


def _host(config: Mapping[str, Any]) -> str:
    return public_address(config).host


def week_link(config: Mapping[str, Any], network_id: int, week: str) -> str:
    """The week overview's address, where the alerts are shown and cleared."""
    return f"{public_address(config).base}/n/{network_id}/weeks/{week}"


def count_words(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def network_name(session: Session, network_id: int) -> str:
    network = session.get(NetworkRecord, network_id)
    return network.name if network else f"network {network_id}"


def job_settings(session: Session, network_id: int) -> JobSettings:
    """The network's ``[jobs]`` settings, without loading its whole bundle."""
    network = session.get(NetworkRecord, network_id)
    if network is None:
        raise NetworkLookupError(f"no network with id {network_id}")
    return jobs_of(network.settings)
