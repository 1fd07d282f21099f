"""The nightly re-check: published weeks against today's leave, absences and demand.

It compares each published week from this week on (``RECHECK_WEEKS`` ahead)
with the current bundle, from today's date on.  Someone on leave or absent
but still on the rota is one problem; the cover their absence leaves short
is another.  A problem is keyed by its message: it raises an alert only when
no alert of that week carries the same message, open or cleared, so an alert
a coordinator acknowledged is not raised again the next night.  Re-check
e-mails go to the network's coordinators, or to its managers when it has none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.checks.validator import CoverageLine, check_rota, coverage_of
from scheduler.checks.wording import short_day
from scheduler.domain import (
    ABSENCES,
    Assignment,
    Bundle,
    iso_week_label,
    parse_iso_week,
)
from scheduler.jobs.alerts import (
    SHORTFALL,
    Mail,
    add_alert,
    alert_records,
    count_words,
    mail_after_commit,
    network_name,
    recipients,
    week_link,
)
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import WeekAlertRecord
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.rotas import load_rota
from scheduler.usecases.open_sessions import expire_due
from scheduler.usecases.swaps import expire_due as expire_swaps

RECHECK_WEEKS = 8  # the re-check looks at this week and this many weeks after it


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
    for record in alert_records(session, network_id, SHORTFALL, open_only=True):
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
    network = network_name(session, network_id)
    lines: list[str] = []
    for week in sorted({week for week, _ in new}):
        lines += ["", f"{week} ({week_link(config, network_id, week)}):"]
        lines += [f"- {message}." for w, message in new if w == week]
    problems = count_words(len(new), "new problem", "new problems")
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


def _close_unfilled(session: Session, network_id: int, now: dt.datetime) -> int:
    """Close the open sessions whose session has started, each an alert on its week."""
    closed = expire_due(session, network_id, now)
    for place in closed:
        message = f"open session {place.where} ({place.need}) closed unfilled"
        add_alert(session, network_id, place.week, SHORTFALL, message, at=now)
    return len(closed)


def run_recheck(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Check the published weeks against today's leave, absences and demand; alert what is new."""
    today = now.date()
    bundle = current_bundle(session, network_id)
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
    unfilled = _close_unfilled(session, network_id, now)
    unagreed = len(expire_swaps(session, network_id, now))
    summary = (
        f"checked {count_words(len(found), 'published week', 'published weeks')}: "
        f"{count_words(len(new), 'new problem', 'new problems')}, "
        f"{count_words(cleared, 'alert', 'alerts')} cleared"
    )
    if unfilled:
        summary += f", {count_words(unfilled, 'open session', 'open sessions')} closed unfilled"
    if unagreed:
        summary += f", {count_words(unagreed, 'swap offer', 'swap offers')} closed unagreed"
    if not new:
        return summary
    to = recipients(session, network_id, ("coordinator",)) or recipients(
        session, network_id, ("manager",)
    )
    mail = _recheck_mail(session, network_id, config, new)
    return f"{summary}; {mail_after_commit(session, config, to, mail, now)}"
