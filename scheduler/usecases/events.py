"""Recording what happens after a rota is published: absences and changes to a site's need.

A coordinator records an *absence* (someone sick or away for whole days or
one session) or a *demand change* (an extra need at a site, a cancelled
clinic).  Both join the network's bundle for every plan made afterwards
(``storage.events.current_bundle``), and the repair of a published week
works around them.

Plain functions of a SQLAlchemy session, inside the caller's transaction,
each audited there.  An absence's reason is health data: it stays on the
absence, where only managers and coordinators read it, and never reaches the
audit log; nor does its kind.  Events are withdrawn, never deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import (
    DAY_NAMES,
    Bundle,
    LeaveKind,
)
from scheduler.horizon import Horizon
from scheduler.storage import audit
from scheduler.storage.clock import now
from scheduler.storage.events import (
    Absence,
    DemandChange,
    absence_of,
    current_bundle,
    demand_change_of,
)
from scheduler.storage.models.app import AbsenceRecord, DemandChangeRecord
from scheduler.usecases import requests
from scheduler.usecases.inbox import tell_practice
from scheduler.usecases.requests import (
    CoverRequest,
    RequestError,
    RequestNotFoundError,
    form_date,
    form_optional_text,
    form_text,
)

ABSENCE_KINDS: tuple[str, ...] = tuple(kind.value for kind in LeaveKind)
MAX_ABSENCE_DAYS = 366
MAX_PEOPLE = 99


class EventError(RequestError):
    """An event cannot be stored as given; ``problems`` maps each field to what to do."""


# -- checking forms ----------------------------------------------------------------


def _check_dates(
    form: Mapping[str, str], problems: dict[str, str]
) -> tuple[dt.date | None, dt.date | None]:
    start = form_date(form, "start", problems)
    end = form_date(form, "end", problems) if form_text(form, "end") else start
    if start is not None and end is not None:
        if end < start:
            problems["end"] = "the last day is before the first; swap them or correct one"
        elif (end - start).days >= MAX_ABSENCE_DAYS:
            problems["end"] = f"record at most {MAX_ABSENCE_DAYS} days at a time"
    return start, end


def _check_session(
    bundle: Bundle, form: Mapping[str, str], problems: dict[str, str], required: bool
) -> str | None:
    session_id = form_text(form, "session_id") or None
    known = [s.session_id for s in bundle.session_types]
    if session_id is None:
        if required:
            problems["session_id"] = f"choose one of the network's sessions ({', '.join(known)})"
        return None
    if session_id not in known:
        problems["session_id"] = (
            f"{session_id!r} is not a session in session_types.csv; "
            f"choose one of {', '.join(known)}"
            + ("" if required else ", or leave it blank for whole days")
        )
    return session_id


def check_absence(bundle: Bundle, staff_id: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The absence's checked fields, or ``EventError`` naming every field to fix."""
    problems: dict[str, str] = {}
    known = {p.staff_id for p in bundle.staff}
    if staff_id not in known:
        problems["staff_id"] = f"{staff_id!r} is not in staff.csv; use an id from that file"
    start, end = _check_dates(form, problems)
    session_id = _check_session(bundle, form, problems, required=False)
    kind = form_text(form, "kind")
    if kind not in ABSENCE_KINDS:
        problems["kind"] = f"choose one of {', '.join(ABSENCE_KINDS)}"
    reason = form_optional_text(form, "reason", problems)
    if problems or start is None or end is None:
        raise EventError(problems)
    return {
        "staff_id": staff_id,
        "start_date": start,
        "end_date": end,
        "session_id": session_id,
        "kind": kind,
        "reason": reason,
    }


def _count(form: Mapping[str, str], field: str, problems: dict[str, str]) -> int:
    text = form_text(form, field)
    try:
        value = int(text)
    except ValueError:
        problems[field] = f"{text!r} is not a whole number; write how many people (0-{MAX_PEOPLE})"
        return 0
    if not 0 <= value <= MAX_PEOPLE:
        problems[field] = f"write a number of people from 0 to {MAX_PEOPLE}"
    return value


def _check_runs_on(bundle: Bundle, session_id: str, day: dt.date, problems: dict[str, str]) -> None:
    if not bundle.session_type(session_id).runs_on(day):
        problems["session_id"] = (
            f"{session_id} does not run on {DAY_NAMES[day.weekday()]}s; "
            "choose another date or session"
        )


def check_demand_change(bundle: Bundle, form: Mapping[str, str]) -> dict[str, Any]:
    """The demand change's checked fields, or ``EventError`` naming every field to fix.

    ``kind`` is ``set`` (the need of one role/skill on that date, with
    ``min`` and ``target``) or ``cancel`` (the whole session at the site).
    """
    problems: dict[str, str] = {}
    site_id = form_text(form, "site_id")
    if site_id not in {s.site_id for s in bundle.sites}:
        problems["site_id"] = f"{site_id!r} is not in sites.csv; use a site id from that file"
    day = form_date(form, "date", problems)
    session_id = _check_session(bundle, form, problems, required=True)
    if day is not None and session_id is not None and "session_id" not in problems:
        _check_runs_on(bundle, session_id, day, problems)
    kind = form_text(form, "kind") or "set"
    role = form_text(form, "role") or None
    skill = form_text(form, "skill") or None
    minimum = target = 0
    if kind not in ("set", "cancel"):
        problems["kind"] = "choose set (a need) or cancel (the whole session)"
    elif kind == "set":
        roles = sorted({p.role for p in bundle.staff})
        if role is not None and role not in roles:
            problems["role"] = f"choose one of the network's roles ({', '.join(roles)})"
        skills = sorted({s for p in bundle.staff for s in p.skills})
        if skill is not None and skill not in skills:
            problems["skill"] = f"nobody has the skill {skill!r}; choose another or leave it blank"
        minimum = _count(form, "min", problems)
        target = _count(form, "target", problems) if form_text(form, "target") else minimum
        if "min" not in problems and "target" not in problems and target < minimum:
            problems["target"] = f"the target ({target}) is below the minimum ({minimum})"
    note = form_optional_text(form, "note", problems)
    if problems or day is None or session_id is None:
        raise EventError(problems)
    if kind == "cancel":
        role = skill = None
    return {
        "site_id": site_id,
        "date": day,
        "session_id": session_id,
        "kind": kind,
        "role": role,
        "skill": skill,
        "min": minimum,
        "target": target,
        "note": note,
    }


def _absence_audit(record: AbsenceRecord) -> dict[str, Any]:
    """Who and which dates: never the kind or the reason (health data)."""
    return {
        "staff_id": record.staff_id,
        "start": record.start_date.isoformat(),
        "end": record.end_date.isoformat(),
        "session_id": record.session_id,
        "withdrawn": record.withdrawn_at is not None,
    }


def _change_audit(record: DemandChangeRecord) -> dict[str, Any]:
    return {
        "site_id": record.site_id,
        "date": record.date.isoformat(),
        "session_id": record.session_id,
        "kind": record.kind,
        "role": record.role,
        "skill": record.skill,
        "min": record.min,
        "target": record.target,
        "withdrawn": record.withdrawn_at is not None,
    }


def record_absence(
    session: Session,
    network_id: int,
    bundle: Bundle,
    *,
    staff_id: str,
    form: Mapping[str, str],
    actor: str,
) -> Absence:
    """Store a checked absence; raises ``EventError``."""
    record = AbsenceRecord(
        network_id=network_id,
        **check_absence(bundle, staff_id, form),
        recorded_by=actor,
        recorded_at=now(),
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor,
        "absence recorded",
        f"absence {record.id} ({staff_id})",
        network_id=network_id,
        after=_absence_audit(record),
    )
    return absence_of(record)


def record_demand_change(
    session: Session,
    network_id: int,
    bundle: Bundle,
    form: Mapping[str, str],
    *,
    actor: str,
    cover_request_id: int | None = None,
) -> DemandChange:
    """Store a checked demand change; raises ``EventError``."""
    record = DemandChangeRecord(
        network_id=network_id,
        **check_demand_change(bundle, form),
        cover_request_id=cover_request_id,
        recorded_by=actor,
        recorded_at=now(),
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor,
        "demand changed",
        f"demand change {record.id} ({record.site_id})",
        network_id=network_id,
        after=_change_audit(record),
    )
    return demand_change_of(record)


def withdraw(session: Session, network_id: int, what: str, event_id: int, actor: str) -> None:
    """Withdraw an absence (``what="absence"``) or a demand change: plans ignore it from now on."""
    snapshot: Callable[[Any], dict[str, Any]]
    record: Any
    if what == "absence":
        snapshot, record = _absence_audit, session.get(AbsenceRecord, event_id)
    else:
        snapshot, record = _change_audit, session.get(DemandChangeRecord, event_id)
    if record is None or record.network_id != network_id:
        raise RequestNotFoundError(f"no {what} {event_id} in this network")
    if record.withdrawn_at is not None:
        raise EventError({"id": f"{what} {event_id} is already withdrawn"})
    before = snapshot(record)
    record.withdrawn_at = now()
    session.flush()
    audit.record(
        session,
        actor,
        f"{what} withdrawn",
        f"{what} {event_id}",
        network_id=network_id,
        before=before,
        after=snapshot(record),
    )


# -- cover requests -----------------------------------------------------------------


def decide_cover(
    session: Session, network_id: int, request_id: int, decision: str, actor: str
) -> CoverRequest:
    """Decide a practice's cover request; an approved one becomes a demand change.

    Approved, its people are added to the need in force for that site, date,
    session, role and skill (so the next plan or repair looks for them);
    declined after approval, that demand change is withdrawn.
    """
    decided = requests.decide_cover(session, network_id, request_id, decision, actor)
    day = f"{decided.date:%a} {decided.date.day} {decided.date:%b}"
    tell_practice(
        session,
        network_id,
        decided.site_id,
        kind="decision",
        text=f"Your request for cover on {day} {decided.session_id} was {decided.state}.",
        link=f"/n/{network_id}/sites/{quote(decided.site_id, safe='')}/cover",
    )
    linked = session.scalars(
        select(DemandChangeRecord).where(
            DemandChangeRecord.network_id == network_id,
            DemandChangeRecord.cover_request_id == request_id,
            DemandChangeRecord.withdrawn_at.is_(None),
        )
    ).all()
    if decided.state != "approved":
        for record in linked:
            withdraw(session, network_id, "demand", record.id, actor)
        return decided
    if not linked:
        bundle = current_bundle(session, network_id)
        key = (decided.site_id, decided.session_id, decided.role, decided.skill)
        in_force = [n.demand for n in Horizon(bundle, (decided.date,)).needs if n.demand.key == key]
        form = {
            "site_id": decided.site_id,
            "date": decided.date.isoformat(),
            "session_id": decided.session_id,
            "kind": "set",
            "role": decided.role or "",
            "skill": decided.skill or "",
            "min": str(sum(r.min for r in in_force) + decided.people),
            "target": str(sum(r.target for r in in_force) + decided.people),
            "note": f"cover request {decided.id}",
        }
        record_demand_change(
            session, network_id, bundle, form, actor=actor, cover_request_id=decided.id
        )
    return decided
