"""Leave and cover requests: what clinicians and practices ask for, and a manager's answer.

Plain functions of a SQLAlchemy session, inside the caller's transaction, so
the web app and the tests share them.  Every state change writes its audit
entry in that same transaction.

Sickness is health data.  The audit log is kept for years and outlives the
requests it describes, so a leave request's entry holds who, which dates and
the state, never the reason or the kind: those stay on the request, where
only managers and coordinators read them and from where they can be erased.
A cover request's free-text note stays out of the log for the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.domain import DAY_NAMES, LeaveKind, SessionType, Staff
from scheduler.storage import audit
from scheduler.storage.clock import now, utc
from scheduler.storage.models.app import CoverRequestRecord, LeaveRequestRecord
from scheduler.storage.models.network import SessionTypeRecord, SiteRecord, StaffRecord
from scheduler.storage.records import session_type_of, staff_of
from scheduler.storage.repository import rows_of
from scheduler.usecases.inbox import person_link, tell, tell_coordinators

LEAVE_KINDS: tuple[str, ...] = tuple(kind.value for kind in LeaveKind)
MAX_LEAVE_DAYS = 366  # one request covers at most a year; longer leave is split
MAX_TEXT = 2000  # characters of a reason or a note
DECISIONS = {"approve": "approved", "decline": "declined"}
DATE_HINT = "write the date as YYYY-MM-DD, e.g. 2026-12-01"


class RequestError(ValueError):
    """A request cannot be stored as asked; ``problems`` maps each field to what to do."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {text}" for field, text in problems.items()))
        self.problems = dict(problems)


class RequestNotFoundError(LookupError):
    """No such request, person or site in this network."""


@dataclass(frozen=True)
class LeaveRequest:
    """A leave request as pages show it; ``kind`` and ``reason`` are for staff roles only."""

    id: int
    staff_id: str
    start: dt.date
    end: dt.date
    kind: str
    reason: str | None
    state: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    cancel_asked: bool = False  # approved, and the person asked to cancel it

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class CoverRequest:
    """A practice's request for extra people on one date and session."""

    id: int
    site_id: str
    date: dt.date
    session_id: str
    role: str | None
    skill: str | None
    people: int
    note: str | None
    state: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class CoverChoices:
    """What a cover request may name: the network's sessions, roles and skills."""

    sessions: tuple[SessionType, ...]
    staff: tuple[Staff, ...]

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(sorted({person.role for person in self.staff}))

    @property
    def skills(self) -> tuple[str, ...]:
        return tuple(sorted({skill for person in self.staff for skill in person.skills}))

    def session(self, session_id: str) -> SessionType | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)

    def able(self, role: str, skill: str | None) -> int:
        """How many people of the network could fill such a request."""
        return sum(
            1
            for person in self.staff
            if person.role == role and (skill is None or skill in person.skills)
        )


# -- reading form text ---------------------------------------------------------------


def form_text(form: Mapping[str, str], field: str) -> str:
    return (form.get(field) or "").strip()


def form_date(form: Mapping[str, str], field: str, problems: dict[str, str]) -> dt.date | None:
    """A date typed as YYYY-MM-DD (what a date input sends), or a problem naming the field."""
    text = form_text(form, field)
    if not text:
        problems[field] = f"this date is required; {DATE_HINT}"
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems[field] = f"{text!r} is not a date; {DATE_HINT}"
        return None


def form_optional_text(form: Mapping[str, str], field: str, problems: dict[str, str]) -> str | None:
    """Free text, blank meaning none; refused when it is longer than a page can show."""
    text = form_text(form, field)
    if len(text) > MAX_TEXT:
        problems[field] = f"keep it under {MAX_TEXT} characters (it has {len(text)})"
    return text or None


def _day(day: dt.date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


# -- leave ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaveForm:
    """A checked leave request form."""

    start: dt.date
    end: dt.date
    kind: str
    reason: str | None


def check_leave_form(form: Mapping[str, str]) -> LeaveForm:
    """The leave form's values, or ``RequestError`` naming every field to fix."""
    problems: dict[str, str] = {}
    start = form_date(form, "start", problems)
    end = form_date(form, "end", problems)
    kind = form_text(form, "kind")
    if kind not in LEAVE_KINDS:
        problems["kind"] = f"choose one of {', '.join(LEAVE_KINDS)}"
    reason = form_optional_text(form, "reason", problems)
    if start is not None and end is not None:
        if end < start:
            problems["end"] = f"the last day is before the first ({start}); swap the dates"
        elif (end - start).days + 1 > MAX_LEAVE_DAYS:
            problems["end"] = f"ask for at most {MAX_LEAVE_DAYS} days at a time; split longer leave"
    if problems or start is None or end is None:
        raise RequestError(problems)
    return LeaveForm(start, end, kind, reason)


def leave_request_of(record: LeaveRequestRecord) -> LeaveRequest:
    return LeaveRequest(
        id=record.id,
        staff_id=record.staff_id,
        start=record.start_date,
        end=record.end_date,
        kind=record.kind,
        reason=record.reason,
        state=record.state,
        requested_by=record.requested_by,
        requested_at=utc(record.requested_at),
        decided_by=record.decided_by,
        decided_at=None if record.decided_at is None else utc(record.decided_at),
        cancel_asked=record.cancel_asked_at is not None,
    )


def _leave_audit(record: LeaveRequestRecord) -> dict[str, Any]:
    """What the audit log keeps of a leave request: no kind, no reason (health data)."""
    return {
        "staff_id": record.staff_id,
        "start": record.start_date.isoformat(),
        "end": record.end_date.isoformat(),
        "state": record.state,
    }


def staff_exists(session: Session, network_id: int, staff_id: str) -> bool:
    statement = select(func.count()).where(
        StaffRecord.network_id == network_id, StaffRecord.staff_id == staff_id
    )
    return bool(session.scalar(statement))


def request_leave(
    session: Session, network_id: int, staff_id: str, form: Mapping[str, str], actor: str
) -> LeaveRequest:
    """Store a checked leave request, awaiting a manager; raises ``RequestError``."""
    if not staff_exists(session, network_id, staff_id):
        raise RequestNotFoundError(f"{staff_id!r} is not in the network's staff.csv")
    checked = check_leave_form(form)
    record = LeaveRequestRecord(
        network_id=network_id,
        staff_id=staff_id,
        start_date=checked.start,
        end_date=checked.end,
        kind=checked.kind,
        reason=checked.reason,
        state="requested",
        requested_by=actor,
        requested_at=now(),
    )
    session.add(record)
    session.flush()
    subject = f"leave request {record.id} ({staff_id})"
    tell_coordinators(
        session,
        network_id,
        kind="request",
        text=f"{staff_id} asked for time off from {_day(checked.start)} to {_day(checked.end)}.",
        link=f"/n/{network_id}/leave",
    )
    audit.record(
        session,
        actor,
        "leave requested",
        subject,
        network_id=network_id,
        after=_leave_audit(record),
    )
    return leave_request_of(record)


def leave_requests(
    session: Session, network_id: int, staff_id: str | None = None
) -> list[LeaveRequest]:
    """A network's leave requests (one person's when named): undecided first, then by date."""
    statement = select(LeaveRequestRecord).where(LeaveRequestRecord.network_id == network_id)
    if staff_id is not None:
        statement = statement.where(LeaveRequestRecord.staff_id == staff_id)
    found = [leave_request_of(record) for record in session.scalars(statement)]
    return sorted(
        found, key=lambda r: (r.state != "requested" and not r.cancel_asked, r.start, r.id)
    )


def _own_request(
    session: Session, network_id: int, staff_id: str, request_id: int
) -> LeaveRequestRecord:
    record = session.get(LeaveRequestRecord, request_id, populate_existing=True)
    if record is None or record.network_id != network_id or record.staff_id != staff_id:
        raise RequestNotFoundError(f"no leave request {request_id} of {staff_id}")
    return record


def withdraw_leave(
    session: Session, network_id: int, staff_id: str, request_id: int, actor: str
) -> LeaveRequest:
    """Withdraw one's own leave request before a manager decides it."""
    record = _own_request(session, network_id, staff_id, request_id)
    if record.state != "requested":
        raise RequestError(
            {
                "request": f"leave request {request_id} is {record.state}: it can no longer be "
                "withdrawn" + ("; ask to cancel it instead" if record.state == "approved" else "")
            }
        )
    before = _leave_audit(record)
    record.state = "withdrawn"
    session.flush()
    audit.record(
        session,
        actor,
        "leave withdrawn",
        f"leave request {record.id} ({staff_id})",
        network_id=network_id,
        before=before,
        after=_leave_audit(record),
    )
    return leave_request_of(record)


def ask_to_cancel_leave(
    session: Session, network_id: int, staff_id: str, request_id: int, actor: str
) -> LeaveRequest:
    """Ask a manager to cancel one's approved leave (declining it cancels it)."""
    record = _own_request(session, network_id, staff_id, request_id)
    if record.state != "approved" or record.cancel_asked_at is not None:
        said = "already asked" if record.cancel_asked_at is not None else record.state
        raise RequestError({"request": f"leave request {request_id} is {said}"})
    record.cancel_asked_at = now()
    session.flush()
    audit.record(
        session,
        actor,
        "leave cancellation asked",
        f"leave request {record.id} ({staff_id})",
        network_id=network_id,
        after=_leave_audit(record),
    )
    return leave_request_of(record)


def _decision(decision: str) -> str:
    state = DECISIONS.get(decision)
    if state is None:
        raise RequestError({"decision": f"choose {' or '.join(DECISIONS)}"})
    return state


def decide_leave(
    session: Session, network_id: int, request_id: int, decision: str, actor: str
) -> LeaveRequest:
    """Approve or decline a leave request; approved leave counts when the network is planned.

    A decision may be changed later (leave cancelled after approval), and
    each change is audited; asking for the state it already has is refused.
    """
    record = _decide(
        session,
        LeaveRequestRecord,
        (network_id, request_id, decision, actor),
        _leave_audit,
        lambda r: f"leave request {r.id} ({r.staff_id})",
    )
    # Dates and the decision only: the kind and reason are health data.
    days = _day(record.start_date)
    if record.end_date != record.start_date:
        days += f" to {_day(record.end_date)}"
    tell(
        session,
        network_id,
        staff_id=record.staff_id,
        kind="decision",
        text=f"Your request for time off {days} was {record.state}.",
        link=person_link(network_id, record.staff_id),
    )
    return leave_request_of(record)


Decided = TypeVar("Decided", LeaveRequestRecord, CoverRequestRecord)


def _decide(
    session: Session,
    table: type[Decided],
    asked: tuple[int, int, str, str],
    snapshot: Callable[[Decided], dict[str, Any]],
    subject: Callable[[Decided], str],
) -> Decided:
    """Set a request's state as decided, audited with what it was before and after.

    ``asked`` is (network_id, request_id, decision, actor).  A request of
    another network is "not found"; asking for the state it already has is refused.
    """
    network_id, request_id, decision, actor = asked
    what = "leave" if table is LeaveRequestRecord else "cover"
    state = _decision(decision)
    record = session.get(table, request_id)
    if record is None or record.network_id != network_id:
        raise RequestNotFoundError(f"no {what} request {request_id} in this network")
    if record.state == state:
        raise RequestError({"decision": f"{what} request {request_id} is already {state}"})
    before = snapshot(record)
    record.state, record.decided_by, record.decided_at = state, actor, now()
    if isinstance(record, LeaveRequestRecord):
        record.cancel_asked_at = None  # a decision answers any request to cancel
    session.flush()
    audit.record(
        session,
        actor,
        f"{what} {state}",
        subject(record),
        network_id=network_id,
        before=before,
        after=snapshot(record),
    )
    return record


# -- cover ---------------------------------------------------------------------------


def site_exists(session: Session, network_id: int, site_id: str) -> bool:
    statement = select(func.count()).where(
        SiteRecord.network_id == network_id, SiteRecord.site_id == site_id
    )
    return bool(session.scalar(statement))


def cover_choices(session: Session, network_id: int) -> CoverChoices:
    """The session types and staff a cover request is checked against."""
    return CoverChoices(
        sessions=tuple(map(session_type_of, rows_of(session, SessionTypeRecord, network_id))),
        staff=tuple(map(staff_of, rows_of(session, StaffRecord, network_id))),
    )


@dataclass(frozen=True)
class CoverForm:
    """A checked cover request form."""

    date: dt.date
    session_id: str
    role: str
    skill: str | None
    people: int
    note: str | None


def _session_on(
    form: Mapping[str, str], choices: CoverChoices, day: dt.date | None, problems: dict[str, str]
) -> str:
    """The chosen session type, which must run on the chosen date."""
    session_id = form_text(form, "session_id")
    session_type = choices.session(session_id)
    if session_type is None:
        known = ", ".join(s.session_id for s in choices.sessions)
        problems["session_id"] = f"choose one of the network's sessions ({known})"
    elif day is not None and not session_type.runs_on(day):
        runs = ", ".join(DAY_NAMES[d] for d in sorted(session_type.days))
        problems["session_id"] = (
            f"{session_id} runs on {runs}, not on {_day(day)}; choose another date or session"
        )
    return session_id


def _role_and_skill(
    form: Mapping[str, str], choices: CoverChoices, problems: dict[str, str]
) -> tuple[str, str | None]:
    """A role the network employs and, if given, a skill someone in that role has."""
    role = form_text(form, "role")
    skill = form_text(form, "skill") or None
    if not choices.roles:
        problems["role"] = "the network has no staff yet; a manager must import its staff first"
    elif role not in choices.roles:
        problems["role"] = f"choose one of the network's roles ({', '.join(choices.roles)})"
    elif skill is not None and not choices.able(role, skill):
        problems["skill"] = (
            f"nobody with role {role} has the skill {skill!r}; choose another or leave it blank"
        )
    return role, skill


def _people(
    form: Mapping[str, str],
    choices: CoverChoices,
    role: str,
    skill: str | None,
    problems: dict[str, str],
) -> int:
    """At least one person, and no more than the network has who could come."""
    text = form_text(form, "people")
    try:
        people = int(text)
    except ValueError:
        problems["people"] = f"{text!r} is not a number; write how many people, at least 1"
        return 0
    able = choices.able(role, skill)
    if people < 1:
        problems["people"] = "ask for at least 1 person"
    elif "role" not in problems and "skill" not in problems and people > able:
        problems["people"] = f"the network has only {able} who could come; ask for at most {able}"
    return people


def check_cover_form(form: Mapping[str, str], choices: CoverChoices) -> CoverForm:
    """The cover form's values, or ``RequestError`` naming every field to fix."""
    problems: dict[str, str] = {}
    day = form_date(form, "date", problems)
    session_id = _session_on(form, choices, day, problems)
    role, skill = _role_and_skill(form, choices, problems)
    people = _people(form, choices, role, skill, problems)
    note = form_optional_text(form, "note", problems)
    if problems or day is None:
        raise RequestError(problems)
    return CoverForm(day, session_id, role, skill, people, note)


def cover_request_of(record: CoverRequestRecord) -> CoverRequest:
    return CoverRequest(
        id=record.id,
        site_id=record.site_id,
        date=record.date,
        session_id=record.session_id,
        role=record.role,
        skill=record.skill,
        people=record.people,
        note=record.note,
        state=record.state,
        requested_by=record.requested_by,
        requested_at=utc(record.requested_at),
        decided_by=record.decided_by,
        decided_at=None if record.decided_at is None else utc(record.decided_at),
    )


def _cover_audit(record: CoverRequestRecord) -> dict[str, Any]:
    """What the audit log keeps of a cover request (the free-text note stays out)."""
    return {
        "site_id": record.site_id,
        "date": record.date.isoformat(),
        "session_id": record.session_id,
        "role": record.role,
        "skill": record.skill,
        "people": record.people,
        "state": record.state,
    }


def request_cover(
    session: Session, network_id: int, site_id: str, form: Mapping[str, str], actor: str
) -> CoverRequest:
    """Store a checked cover request for a site; raises ``RequestError``."""
    if not site_exists(session, network_id, site_id):
        raise RequestNotFoundError(f"{site_id!r} is not in the network's sites.csv")
    checked = check_cover_form(form, cover_choices(session, network_id))
    record = CoverRequestRecord(
        network_id=network_id,
        site_id=site_id,
        date=checked.date,
        session_id=checked.session_id,
        role=checked.role,
        skill=checked.skill,
        people=checked.people,
        note=checked.note,
        state="requested",
        requested_by=actor,
        requested_at=now(),
    )
    session.add(record)
    session.flush()
    subject = f"cover request {record.id} ({site_id})"
    audit.record(
        session,
        actor,
        "cover requested",
        subject,
        network_id=network_id,
        after=_cover_audit(record),
    )
    return cover_request_of(record)


def cover_requests(
    session: Session, network_id: int, site_id: str | None = None
) -> list[CoverRequest]:
    """A network's cover requests (one site's when named): undecided first, then by date."""
    statement = select(CoverRequestRecord).where(CoverRequestRecord.network_id == network_id)
    if site_id is not None:
        statement = statement.where(CoverRequestRecord.site_id == site_id)
    found = [cover_request_of(record) for record in session.scalars(statement)]
    return sorted(found, key=lambda r: (r.state != "requested", r.date, r.id))


def decide_cover(
    session: Session, network_id: int, request_id: int, decision: str, actor: str
) -> CoverRequest:
    """Approve or decline a cover request: only its state changes (demand is not touched)."""
    record = _decide(
        session,
        CoverRequestRecord,
        (network_id, request_id, decision, actor),
        _cover_audit,
        lambda r: f"cover request {r.id} ({r.site_id})",
    )
    return cover_request_of(record)
