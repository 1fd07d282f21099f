"""The reminder job: weeks starting soon that are still a draft or have no rota."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from scheduler.checks.wording import short_day
from scheduler.domain import (
    iso_week_label,
    parse_iso_week,
)
from scheduler.jobs.alerts import (
    REMINDER,
    Mail,
    add_alert,
    alert_records,
    count_words,
    job_settings,
    mail_after_commit,
    network_name,
    recipients,
    week_link,
)
from scheduler.storage.rotas import find_rota

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
    for record in alert_records(session, network_id, REMINDER, open_only=True):
        over = parse_iso_week(record.week)[-1] < today
        if over or find_rota(session, network_id, record.week, "published") is not None:
            record.cleared_at = at.astimezone(dt.UTC)
            cleared += 1
    session.flush()
    return cleared


def _reminder_mail(
    session: Session, network_id: int, config: Mapping[str, Any], new: Sequence[tuple[str, str]]
) -> Mail:
    network = network_name(session, network_id)
    lines = [f"- {message} ({week_link(config, network_id, week)})." for week, message in new]
    weeks = count_words(len(new), "week", "weeks")
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
    settings = job_settings(session, network_id)
    cleared = _clear_reminders(session, network_id, today, now)
    reminded = {r.week for r in alert_records(session, network_id, REMINDER, open_only=True)}
    new: list[tuple[str, str]] = []
    for week in reminder_weeks(today, settings.reminder_days):
        if week in reminded or find_rota(session, network_id, week, "published") is not None:
            continue
        message = _reminder_message(session, network_id, week, today)
        add_alert(session, network_id, week, REMINDER, message, at=now)
        new.append((week, message))
    summary = (
        f"{count_words(len(new), 'new reminder', 'new reminders')}"
        f"{' (' + ', '.join(w for w, _ in new) + ')' if new else ''}, "
        f"{count_words(cleared, 'reminder', 'reminders')} cleared"
    )
    if not new:
        return summary
    to = recipients(session, network_id, ("manager", "coordinator"))
    mail = _reminder_mail(session, network_id, config, new)
    return f"{summary}; {mail_after_commit(session, config, to, mail, now)}"
