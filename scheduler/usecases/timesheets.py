"""Timesheets: after the day, a coordinator confirms or corrects what each person worked, and
a clinician flags an entry of their own that looks wrong.

Every action runs in the caller's transaction and is all-or-nothing: when one
session of a "confirm these" cannot be confirmed, none is.  Each change is in
the audit log with its facts before and after (never a note's words: a note
may say why someone was away), and tells the person concerned through the
inbox: a corrected entry tells its clinician, a flag tells every manager and
coordinator.  Actions first take the network's publication lock
(``publishing.lock_week``), so two coordinators confirming the same day at
once queue instead of both inserting the same row.

Only days that have begun may be confirmed, corrected or flagged: a timesheet
says what happened, not what will.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import Bundle
from scheduler.reports.actuals import OUTCOME_WORDS, Entry, Key, Recorded, load_entries, recorded
from scheduler.storage import audit
from scheduler.storage.events import current_bundle
from scheduler.storage.models.base import LABEL
from scheduler.storage.models.pool import TIMESHEET_OUTCOMES, TimesheetRecord
from scheduler.usecases.inbox import tell, tell_coordinators
from scheduler.usecases.publishing import lock_week

HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class TimesheetError(ValueError):
    """An action refused; ``field`` names the form field (or the session) to fix."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.message = problem


@dataclass(frozen=True)
class Correction:
    """What a coordinator says really happened in one person's session of one day."""

    staff_id: str
    date: dt.date
    session_id: str
    site_id: str
    outcome: str  # worked, not_worked or changed
    start: str | None = None  # 'HH:MM' when outcome is changed
    end: str | None = None
    note: str | None = None

    @property
    def key(self) -> Key:
        return (self.staff_id, self.date, self.session_id)


def where(bundle: Bundle, key: Key, site_id: str) -> str:
    """``Tue 1 Dec, Morning surgery at Mill Lane Surgery``: a session as people say it."""
    _, day, session_id = key
    label = next((s.label for s in bundle.session_types if s.session_id == session_id), session_id)
    site = next((s.name for s in bundle.sites if s.site_id == site_id), site_id)
    return f"{day:%a} {day.day} {day:%b}, {label} at {site}"


def timesheet_link(network_id: int, staff_id: str, day: dt.date) -> str:
    """The person's own timesheet page for the month of ``day``."""
    return f"/n/{network_id}/people/{staff_id}/timesheet?month={day:%Y-%m}"


def day_link(network_id: int, day: dt.date) -> str:
    """The coordinators' confirmation page of ``day``."""
    return f"/n/{network_id}/timesheets?date={day.isoformat()}"


# --------------------------------------------------------------------------- reading input


def read_day(text: str, field_name: str = "date") -> dt.date:
    """A date written YYYY-MM-DD, or a TimesheetError naming the field."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise TimesheetError(field_name, f"{text!r} is not a date such as 2026-12-01") from None


def read_time(text: str | None, field_name: str) -> str:
    """A clock time written HH:MM (24-hour)."""
    value = (text or "").strip()
    if not HHMM.fullmatch(value):
        raise TimesheetError(field_name, f"{value!r} is not a time such as 13:30; write HH:MM")
    return value


def read_note(text: str | None, field_name: str = "note", *, required: bool = False) -> str | None:
    """A short note: at most LABEL characters; required for a flag."""
    value = (text or "").strip()
    if required and not value:
        raise TimesheetError(field_name, "say in a few words what is wrong")
    if len(value) > LABEL:
        raise TimesheetError(field_name, f"is {len(value)} characters; keep it to {LABEL}")
    return value or None


def parse_correction(bundle: Bundle, form: Mapping[str, str]) -> Correction:
    """A correction from a form's fields, checked against the network; TimesheetError names
    the field to fix."""
    staff_id = (form.get("staff_id") or "").strip()
    if staff_id not in {p.staff_id for p in bundle.staff}:
        raise TimesheetError("staff_id", f"there is nobody {staff_id!r} in staff.csv")
    day = read_day(form.get("date") or "")
    session_id = (form.get("session_id") or "").strip()
    kind = next((s for s in bundle.session_types if s.session_id == session_id), None)
    if kind is None:
        raise TimesheetError("session_id", f"there is no session {session_id!r}")
    if not kind.runs_on(day):
        raise TimesheetError("session_id", f"{session_id} does not run on {day:%A} {day}")
    site_id = (form.get("site_id") or "").strip()
    if site_id not in {s.site_id for s in bundle.sites}:
        raise TimesheetError("site_id", f"there is no site {site_id!r}")
    outcome = (form.get("outcome") or "").strip()
    if outcome not in TIMESHEET_OUTCOMES:
        choices = ", ".join(f"{k} ({v})" for k, v in OUTCOME_WORDS.items())
        raise TimesheetError("outcome", f"{outcome!r} is not one of {choices}")
    start = end = None
    if outcome == "changed":
        start, end = read_time(form.get("start"), "start"), read_time(form.get("end"), "end")
        if end <= start:
            raise TimesheetError("end", f"{end} is not after the start {start}")
    note = read_note(form.get("note"))
    return Correction(staff_id, day, session_id, site_id, outcome, start, end, note)


# --------------------------------------------------------------------------- writing


def _row(session: Session, network_id: int, key: Key) -> TimesheetRecord | None:
    staff_id, day, session_id = key
    return session.scalar(
        select(TimesheetRecord).where(
            TimesheetRecord.network_id == network_id,
            TimesheetRecord.staff_id == staff_id,
            TimesheetRecord.date == day,
            TimesheetRecord.session_id == session_id,
        )
    )


def _entries(
    session: Session, network_id: int, bundle: Bundle, days: Iterable[dt.date]
) -> dict[Key, Entry]:
    chosen = sorted(set(days))
    if not chosen:
        return {}
    found = load_entries(session, network_id, bundle, chosen[0], chosen[-1])
    return {e.key: e for e in found}


def _not_future(day: dt.date, today: dt.date, field_name: str = "date") -> None:
    if day > today:
        raise TimesheetError(field_name, f"{day} has not come yet; confirm a day after it")


def _audit(
    session: Session,
    network_id: int,
    actor: str,
    action: str,
    *,
    before: Recorded | None,
    row: TimesheetRecord,
) -> Recorded:
    after = recorded(row)
    audit.record(
        session,
        actor,
        action,
        f"{after.staff_id} {after.date} {after.session_id}",
        network_id=network_id,
        before=None if before is None else before.facts(),
        after=after.facts(),
    )
    return after


def confirm(
    session: Session,
    network_id: int,
    keys: Iterable[Key],
    *,
    actor: str,
    moment: dt.datetime,
    today: dt.date,
) -> list[Recorded]:
    """Confirm these sessions as they stand (planned ones as worked): all or none.

    A session already confirmed is left alone; a flagged one is confirmed and its flag
    cleared.  Returns the rows confirmed now."""
    lock_week(session, network_id)
    bundle = current_bundle(session, network_id)
    wanted = list(dict.fromkeys(keys))
    entries = _entries(session, network_id, bundle, (k[1] for k in wanted))
    done: list[Recorded] = []
    for key in wanted:
        entry = entries.get(key)
        if entry is None:
            staff_id, day, session_id = key
            raise TimesheetError("session", f"{staff_id} has no {session_id} session on {day}")
        _not_future(key[1], today)
        if entry.confirmed and not entry.flagged:
            continue
        row = _row(session, network_id, key) or _new_row(session, network_id, entry)
        before = None if entry.record is None else recorded(row)
        row.confirmed_by, row.confirmed_at = actor, moment
        row.flagged_at = row.flag_note = None
        session.flush()
        done.append(
            _audit(session, network_id, actor, "timesheet confirmed", before=before, row=row)
        )
    return done


def confirm_day(
    session: Session,
    network_id: int,
    day: dt.date,
    *,
    actor: str,
    moment: dt.datetime,
    today: dt.date,
) -> list[Recorded]:
    """Confirm every planned session of ``day`` not yet confirmed as worked as planned;
    flagged entries are left for a coordinator to look at."""
    bundle = current_bundle(session, network_id)
    entries = _entries(session, network_id, bundle, [day]).values()
    keys = [e.key for e in entries if not e.confirmed and not e.flagged and e.planned]
    _not_future(day, today)
    return confirm(session, network_id, keys, actor=actor, moment=moment, today=today)


def _new_row(session: Session, network_id: int, entry: Entry) -> TimesheetRecord:
    row = TimesheetRecord(
        network_id=network_id,
        staff_id=entry.staff_id,
        date=entry.date,
        session_id=entry.session_id,
        site_id=entry.site_id,
        outcome="worked",
    )
    session.add(row)
    return row


def correct(
    session: Session,
    network_id: int,
    change: Correction,
    *,
    actor: str,
    moment: dt.datetime,
    today: dt.date,
) -> Recorded:
    """Record what really happened in one session (confirmed at once) and tell the person."""
    lock_week(session, network_id)
    bundle = current_bundle(session, network_id)
    _not_future(change.date, today)
    entry = _entries(session, network_id, bundle, [change.date]).get(change.key)
    if entry is None and change.outcome == "not_worked":
        raise TimesheetError(
            "outcome", f"{change.staff_id} had no {change.session_id} session on {change.date}"
        )
    row = _row(session, network_id, change.key)
    before = None if row is None else recorded(row)
    if row is None:
        row = TimesheetRecord(
            network_id=network_id,
            staff_id=change.staff_id,
            date=change.date,
            session_id=change.session_id,
        )
        session.add(row)
    row.site_id, row.outcome = change.site_id, change.outcome
    row.start, row.end, row.note = change.start, change.end, change.note
    row.confirmed_by, row.confirmed_at = actor, moment
    row.flagged_at = row.flag_note = None
    session.flush()
    after = _audit(session, network_id, actor, "timesheet corrected", before=before, row=row)
    tell(
        session,
        network_id,
        staff_id=change.staff_id,
        kind="timesheet",
        text=f"Your timesheet was corrected: {where(bundle, change.key, change.site_id)}, "
        f"{_outcome_words(after)}.",
        link=timesheet_link(network_id, change.staff_id, change.date),
    )
    return after


def _outcome_words(row: Recorded) -> str:
    if row.outcome == "changed":
        return f"worked {row.start}-{row.end}"
    return OUTCOME_WORDS[row.outcome]


def flag(
    session: Session,
    network_id: int,
    key: Key,
    note: str,
    *,
    actor: str,
    moment: dt.datetime,
    today: dt.date,
) -> Recorded:
    """A clinician says their entry ``key`` is wrong, in a few words; coordinators are told."""
    lock_week(session, network_id)
    bundle = current_bundle(session, network_id)
    words = read_note(note, "note", required=True)
    staff_id, day, session_id = key
    _not_future(day, today)
    entry = _entries(session, network_id, bundle, [day]).get(key)
    if entry is None:
        raise TimesheetError("session", f"you had no {session_id} session on {day}")
    row = _row(session, network_id, key) or _new_row(session, network_id, entry)
    before = None if entry.record is None else recorded(row)
    row.flagged_at, row.flag_note = moment, words
    session.flush()
    after = _audit(session, network_id, actor, "timesheet flagged", before=before, row=row)
    name = next((p.name for p in bundle.staff if p.staff_id == staff_id), staff_id)
    tell_coordinators(
        session,
        network_id,
        kind="timesheet",
        text=f"{name} flagged a timesheet entry as wrong: {where(bundle, key, entry.site_id)}.",
        link=day_link(network_id, day),
    )
    return after
