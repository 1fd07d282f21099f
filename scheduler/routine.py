"""The scheduled jobs themselves: draft generation, the nightly re-check, reminders, retention.

Each job is an ordinary function of a SQLAlchemy session, a network, the
moment it runs (an aware Europe/London datetime) and the app's settings; it
returns one line for the run history and raises ``RoutineError`` (or any
error) when it could not do its work.  The runner (``rotapool scheduler``)
claims the run, calls the function in a transaction and records the outcome;
tests call the functions directly with a fixed ``now``.

What leaves the transaction:

- E-mail is sent only once the caller's transaction has committed (the
  session's ``after_commit`` event, registered by the job), so an alert
  rolled back is never e-mailed; the runner need do nothing for it.  A send
  that fails is logged (counts only, never an address): the alert is on the
  week overview either way.
- ``run_drafts`` only enqueues: it writes a solve job in the caller's
  transaction and sends it to the solve queue (``scheduler.jobs``) once
  that has committed.  The job saves its draft only if the week still has
  neither a draft nor a publication when the solve ends; its outcome is on
  the job's page and in the audit log, not in the run history.

Choices where the issue is silent:

- A draft is planned only for a week with neither a draft nor a publication:
  the job never overwrites anyone's work, and says why it skipped.
- The re-check compares each published week from this week on
  (``RECHECK_WEEKS`` weeks ahead) with the current bundle, from today's date
  on (a shortfall yesterday cannot be fixed).  Someone on leave or absent
  but still on the rota is one problem; the cover their absence leaves short
  is another (coverage is counted without them).  Any other broken hard
  rule is reported with the validator's words.  A problem is keyed by its
  message: it raises an alert only when no alert of that week carries the
  same message, open or cleared, so an alert a coordinator acknowledged is
  not raised again the next night (nor, the one limit of this, if the same
  problem comes back after going away).  An open alert whose problem went
  away, or whose day has passed, is cleared.
- Alerts never name a leave kind or reason ("on leave", "absent" only): the
  overview and the e-mails go to managers and coordinators alike.
- Re-check e-mails go to the network's coordinators (the issue's word), or
  to its managers when it has no coordinator; reminders go to both.
- Retention is the only code that deletes audit entries: the audit log is
  otherwise append-only.  Entries with no network (all-network managers'
  accounts) are kept: no one network's period governs them.  Each
  retention run is itself audited, with its counts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, or_, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from scheduler import audit, events, feeds, jobs
from scheduler.domain import (
    ABSENCES,
    Assignment,
    Bundle,
    JobSettings,
    iso_week_label,
    parse_iso_week,
)
from scheduler.notices import Outgoing, SmtpSettings, send_mail, short_day, smtp_settings
from scheduler.storage.models import (
    AuditRecord,
    JobRunRecord,
    LoginFailureRecord,
    NetworkRecord,
    RotaRecord,
    UserRecord,
    WeekAlertRecord,
)
from scheduler.storage.repository import (
    NetworkLookupError,
    find_rota,
    jobs_of,
    load_rota,
    utc,
)
from scheduler.validator import CoverageLine, check_rota, coverage_of

log = logging.getLogger(__name__)

ACTOR = "scheduler"  # the audit log's actor for what the jobs do
RECHECK_WEEKS = 8  # the re-check looks at this week and this many weeks after it
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


def _alert_records(
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
    return f"e-mail to {_count(len(to), 'person', 'people')} sent after commit"


def _host(config: Mapping[str, Any]) -> str:
    return str(config.get("PUBLIC_HOST") or feeds.DEFAULT_HOST)


def week_link(config: Mapping[str, Any], network_id: int, week: str) -> str:
    """The week overview's address, where the alerts are shown and cleared."""
    return f"https://{_host(config)}/n/{network_id}/weeks/{week}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _network_name(session: Session, network_id: int) -> str:
    network = session.get(NetworkRecord, network_id)
    return network.name if network else f"network {network_id}"


def _job_settings(session: Session, network_id: int) -> JobSettings:
    """The network's ``[jobs]`` settings, without loading its whole bundle."""
    network = session.get(NetworkRecord, network_id)
    if network is None:
        raise NetworkLookupError(f"no network with id {network_id}")
    return jobs_of(network.settings)


# -- drafts ---------------------------------------------------------------------------------


def weeks_ahead(now: dt.datetime, weeks: int) -> str:
    """The ISO week ``weeks`` after the week of ``now``."""
    return iso_week_label(now.date() + dt.timedelta(weeks=weeks))


def _taken(session: Session, network_id: int, week: str) -> str | None:
    """Why the week may not get a new draft, or None when it is free."""
    if find_rota(session, network_id, week, "draft") is not None:
        return "it already has a draft"
    if find_rota(session, network_id, week, "published") is not None:
        return "it is already published"
    return None


def run_drafts(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Queue a draft of the week ``draft_weeks_ahead`` ahead, unless it has any rota yet.

    The scheduler only enqueues: the solve job runs on the solve queue (a
    worker, or this process's solve thread) once this run has committed,
    and saves only into a week still without a draft or a publication.
    """
    with Session(session.get_bind()) as reader:  # so that on SQLite this run writes first
        week = weeks_ahead(now, _job_settings(reader, network_id).draft_weeks_ahead)
        taken = _taken(reader, network_id, week)
        reader.rollback()
    if taken:
        return f"skipped {week}: {taken}"
    settings = jobs.queue_settings(config)
    try:
        ticket = jobs.create_job(
            session,
            network_id,
            week,
            weeks=1,
            keep_pins=False,
            actor=ACTOR,
            options=jobs.solve_options(config),
            if_free=True,
            settings=settings,
        )
    except jobs.SolveRunningError as err:
        return f"skipped {week}: solve job {err.job_id} of it is already queued or running"
    if not ticket.created:
        return f"skipped {week}: solve job {ticket.id} already planned it from the same data"
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    sa_event.listen(
        session, "after_commit", lambda _: _start(engine, ticket.id, settings), once=True
    )
    return f"queued solve job {ticket.id} to draft {week}"


def _start(engine: Engine, job_id: int, settings: jobs.QueueSettings) -> None:
    """Send a committed draft job to the queue; a queue that is down fails the job (logged)."""
    try:
        jobs.start(engine, job_id, settings)
    except jobs.QueueUnavailableError:
        log.error("the draft solve job %s could not be queued; it was marked failed", job_id)


# -- re-check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """Names for messages: sites and session types of the bundle."""

    bundle: Bundle

    def site(self, site_id: str) -> str:
        found = [s for s in self.bundle.sites if s.site_id == site_id]
        return f"{found[0].name} ({site_id})" if found else site_id

    def session(self, session_id: str) -> str:
        found = [s for s in self.bundle.session_types if s.session_id == session_id]
        return f"{found[0].label} ({session_id})" if found else session_id

    def person(self, staff_id: str) -> str:
        found = [p for p in self.bundle.staff if p.staff_id == staff_id]
        return f"{found[0].name} ({staff_id})" if found else staff_id


def _away(bundle: Bundle, cell: Assignment) -> str | None:
    """``absent`` or ``on leave`` when leave keeps the person off this session, else None."""
    rows = [
        lv
        for lv in bundle.leave
        if lv.staff_id == cell.staff_id
        and lv.covers(cell.date)
        and lv.session_id in (None, cell.session_id)
    ]
    if not rows:
        return None
    return "absent" if any(lv.source == ABSENCES for lv in rows) else "on leave"


def _away_message(words: Words, cell: Assignment, away: str) -> str:
    return (
        f"{words.person(cell.staff_id)} is {away} on {short_day(cell.date)} but is on the "
        f"published rota for {words.session(cell.session_id)} at {words.site(cell.site_id)}"
    )


def _shortfall_message(words: Words, line: CoverageLine) -> str:
    who = line.role or ("person" if line.min == 1 else "people")
    if line.skill:
        who = f"{who} with {line.skill}"
    return (
        f"{words.site(line.site_id)}, {short_day(line.date)}, {words.session(line.session_id)}: "
        f"needs at least {line.min} {who}, has {line.assigned} who can work: "
        f"{line.shortfall} short"
    )


def week_problems(
    bundle: Bundle, week: str, assignments: Sequence[Assignment], today: dt.date
) -> list[str]:
    """What is wrong with a published week now, from ``today`` on, in words; one line each.

    People on leave or absent are left out of the cover they were planned for.
    """
    dates = parse_iso_week(week)
    words = Words(bundle)
    away = {cell: why for cell in assignments if (why := _away(bundle, cell))}
    dated = [(cell.date, _away_message(words, cell, why)) for cell, why in sorted(away.items())]
    for violation in check_rota(bundle, dates, assignments).violations:
        if violation.rule_id != "leave":  # worded above, without the leave's kind
            days = [cell.date for cell in violation.assignments] or [dates[-1]]
            dated.append((max(days), f"{violation.label}: {violation.message}"))
    working = [cell for cell in assignments if cell not in away]
    dated += [
        (line.date, _shortfall_message(words, line))
        for line in coverage_of(bundle, dates, working)
        if line.shortfall > 0
    ]
    return list(dict.fromkeys(message for day, message in dated if day >= today))


def published_weeks(session: Session, network_id: int, today: dt.date) -> list[str]:
    """The published weeks from the week of ``today`` to ``RECHECK_WEEKS`` weeks after it."""
    first = iso_week_label(today)
    last = iso_week_label(today + dt.timedelta(weeks=RECHECK_WEEKS))
    statement = select(RotaRecord.week).where(
        RotaRecord.network_id == network_id,
        RotaRecord.state == "published",
        RotaRecord.week >= first,
        RotaRecord.week <= last,
    )
    return sorted(set(session.scalars(statement)))


def _known(
    session: Session, network_id: int, kind: str, weeks: Iterable[str]
) -> set[tuple[str, str]]:
    """(week, message) of every alert of these weeks, open or cleared."""
    statement = select(WeekAlertRecord.week, WeekAlertRecord.message).where(
        WeekAlertRecord.network_id == network_id,
        WeekAlertRecord.kind == kind,
        WeekAlertRecord.week.in_(tuple(weeks)),
    )
    return {(week, message) for week, message in session.execute(statement)}


def _clear_resolved(
    session: Session, network_id: int, found: Mapping[str, Sequence[str]], at: dt.datetime
) -> int:
    """Clear the open shortfall alerts whose problem no longer holds; how many."""
    cleared = 0
    for record in _alert_records(session, network_id, SHORTFALL, open_only=True):
        if record.message not in found.get(record.week, ()):
            record.cleared_at = at.astimezone(dt.UTC)
            cleared += 1
    session.flush()
    return cleared


def _recheck_mail(
    session: Session,
    network_id: int,
    config: Mapping[str, Any],
    new: Sequence[tuple[str, str]],
) -> Mail:
    network = _network_name(session, network_id)
    lines: list[str] = []
    for week in sorted({week for week, _ in new}):
        lines += ["", f"{week} ({week_link(config, network_id, week)}):"]
        lines += [f"- {message}." for w, message in new if w == week]
    problems = _count(len(new), "new problem", "new problems")
    body = [
        "Hello,",
        "",
        f"The nightly re-check of the published rota of {network} found {problems}:",
        *lines,
        "",
        "Open the week to see its cover and repair it. Each alert stays on the week's "
        "overview until it is cleared.",
        "",
        "This message was sent by rotapool's nightly re-check.",
        "",
    ]
    return Mail(f"Rota alert: {problems} in {network}", "\n".join(body))


def run_recheck(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Check the published weeks against today's leave, absences and demand; alert what is new."""
    today = now.date()
    bundle = events.network_bundle(session, network_id)
    found: dict[str, list[str]] = {}
    for week in published_weeks(session, network_id, today):
        loaded = load_rota(session, network_id, week, "published")
        if loaded is not None:
            found[week] = week_problems(bundle, week, loaded[1], today)
    known = _known(session, network_id, SHORTFALL, found)
    cleared = _clear_resolved(session, network_id, found, now)
    new = [
        (week, m) for week, messages in found.items() for m in messages if (week, m) not in known
    ]
    for week, message in new:
        add_alert(session, network_id, week, SHORTFALL, message, at=now)
    summary = (
        f"checked {_count(len(found), 'published week', 'published weeks')}: "
        f"{_count(len(new), 'new problem', 'new problems')}, "
        f"{_count(cleared, 'alert', 'alerts')} cleared"
    )
    if not new:
        return summary
    to = recipients(session, network_id, ("coordinator",)) or recipients(
        session, network_id, ("manager",)
    )
    mail = _recheck_mail(session, network_id, config, new)
    return f"{summary}; {mail_after_commit(session, config, to, mail, now)}"


# -- reminder -------------------------------------------------------------------------------


def reminder_weeks(today: dt.date, days: int) -> list[str]:
    """This week and every week starting within ``days`` days of ``today``."""
    monday = today - dt.timedelta(days=today.weekday())
    last = today + dt.timedelta(days=days)
    count = (last - monday).days // 7 + 1
    return [iso_week_label(monday + dt.timedelta(weeks=i)) for i in range(count)]


def _reminder_message(session: Session, network_id: int, week: str, today: dt.date) -> str:
    monday = parse_iso_week(week)[0]
    starts = "started" if monday < today else "starts"
    if find_rota(session, network_id, week, "draft") is None:
        state = "has no rota yet: plan it, review it and publish it"
    else:
        state = "is still a draft: review it and publish it"
    return f"{week} {starts} on {short_day(monday)} and {state}"


def _clear_reminders(session: Session, network_id: int, today: dt.date, at: dt.datetime) -> int:
    """Clear the open reminders of weeks now published, or over; how many."""
    cleared = 0
    for record in _alert_records(session, network_id, REMINDER, open_only=True):
        over = parse_iso_week(record.week)[-1] < today
        if over or find_rota(session, network_id, record.week, "published") is not None:
            record.cleared_at = at.astimezone(dt.UTC)
            cleared += 1
    session.flush()
    return cleared


def _reminder_mail(
    session: Session, network_id: int, config: Mapping[str, Any], new: Sequence[tuple[str, str]]
) -> Mail:
    network = _network_name(session, network_id)
    lines = [f"- {message} ({week_link(config, network_id, week)})." for week, message in new]
    weeks = _count(len(new), "week", "weeks")
    body = [
        "Hello,",
        "",
        f"{'This week' if len(new) == 1 else 'These weeks'} of {network} "
        f"{'is' if len(new) == 1 else 'are'} not published yet:",
        "",
        *lines,
        "",
        "Clinicians see a week in their calendars only once it is published.",
        "",
        "This message was sent by rotapool's publication reminder.",
        "",
    ]
    return Mail(f"Rota reminder: {weeks} of {network} not published yet", "\n".join(body))


def run_reminder(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Remind, once per week, of weeks starting soon that are not published yet."""
    today = now.date()
    settings = _job_settings(session, network_id)
    cleared = _clear_reminders(session, network_id, today, now)
    reminded = {r.week for r in _alert_records(session, network_id, REMINDER, open_only=True)}
    new: list[tuple[str, str]] = []
    for week in reminder_weeks(today, settings.reminder_days):
        if week in reminded or find_rota(session, network_id, week, "published") is not None:
            continue
        message = _reminder_message(session, network_id, week, today)
        add_alert(session, network_id, week, REMINDER, message, at=now)
        new.append((week, message))
    summary = (
        f"{_count(len(new), 'new reminder', 'new reminders')}"
        f"{' (' + ', '.join(w for w, _ in new) + ')' if new else ''}, "
        f"{_count(cleared, 'reminder', 'reminders')} cleared"
    )
    if not new:
        return summary
    to = recipients(session, network_id, ("manager", "coordinator"))
    mail = _reminder_mail(session, network_id, config, new)
    return f"{summary}; {mail_after_commit(session, config, to, mail, now)}"


# -- retention ------------------------------------------------------------------------------


SINGULAR = {
    "audit entries": "audit entry",
    "superseded versions": "superseded version",
    "login failures": "login failure",
    "job runs": "job run",
    "cleared alerts": "cleared alert",
}


def _deleted(session: Session, statement: Any) -> int:
    """Run a bulk DELETE; how many rows it removed."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount if isinstance(result, CursorResult) else 0


def _delete_old(
    session: Session, network_id: int, old: dt.datetime, before_week: str
) -> dict[str, int]:
    """Delete what is older than ``old`` (or superseded before ``before_week``); counts by name."""
    return {
        "audit entries": _deleted(
            session,
            delete(AuditRecord).where(AuditRecord.network_id == network_id, AuditRecord.at < old),
        ),
        "superseded versions": _deleted(  # their assignments go with them (ON DELETE CASCADE)
            session,
            delete(RotaRecord).where(
                RotaRecord.network_id == network_id,
                RotaRecord.state == "superseded",
                RotaRecord.week < before_week,
            ),
        ),
        "login failures": _deleted(
            session, delete(LoginFailureRecord).where(LoginFailureRecord.at < old)
        ),
        "job runs": _deleted(
            session,
            delete(JobRunRecord).where(
                JobRunRecord.network_id == network_id,
                JobRunRecord.started_at < old,
                JobRunRecord.outcome != "running",
            ),
        ),
        "cleared alerts": _deleted(
            session,
            delete(WeekAlertRecord).where(
                WeekAlertRecord.network_id == network_id, WeekAlertRecord.cleared_at < old
            ),
        ),
    }


def run_retention(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Delete audit entries, superseded versions, login failures, job runs and cleared alerts
    older than the network's retention periods; never a draft or a published rota."""
    settings = _job_settings(session, network_id)
    old = now.astimezone(dt.UTC) - dt.timedelta(days=settings.audit_retention_days)
    # A week ended more than N days ago exactly when it comes before the week of that day.
    before_week = iso_week_label(now.date() - dt.timedelta(days=settings.version_retention_days))
    counts = _delete_old(session, network_id, old, before_week)
    if any(counts.values()):
        audit.record(
            session,
            ACTOR,
            "retention",
            f"network {network_id}",
            network_id=network_id,
            after={
                **{name.replace(" ", "_"): n for name, n in counts.items()},
                "audit_before": old.isoformat(),
                "versions_before_week": before_week,
            },
        )
    listed = ", ".join(_count(n, SINGULAR[name], name) for name, n in counts.items())
    return f"deleted {listed} (versions of weeks before {before_week})"


JobFunction = Callable[[Session, int, dt.datetime, Mapping[str, Any]], str]

JOBS: dict[str, JobFunction] = {
    "drafts": run_drafts,
    "recheck": run_recheck,
    "reminder": run_reminder,
    "retention": run_retention,
}
