"""Clinicians say when they can and cannot work in future weeks; managers see who answered.

A week is open for answers from ``[availability] opens_weeks_before`` weeks
before its Monday until its deadline, the Sunday before the Monday
``closes_weeks_before`` weeks ahead of it (answers close at the end of that
day).  A person's answers for a week are saved all or nothing: every old
answer of the week is replaced, and the week is marked answered even when
there is nothing to add ("any session suits me").

What the answers do is ``storage.events.current_bundle``'s: "cannot" is a hard
``unavailable`` preference row, "prefer" a ``prefer`` row of weight 1, so the
planner, the validator, repair, edits and open-session bookings all read them.
A "cannot" for a session the person already holds in the published rota is
refused: that is a leave request or a swap, not an availability answer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduler.domain import DAY_NAMES, Bundle, Staff, iso_week_label, parse_iso_week
from scheduler.storage import audit
from scheduler.storage.clock import utc
from scheduler.storage.models.pool import (
    AVAILABILITY_KINDS,
    AvailabilityAnswerRecord,
    AvailabilityRecord,
    InboxRecord,
)
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import load_cells
from scheduler.usecases.inbox import tell
from scheduler.usecases.publishing import lock_week

WHOLE_DAY = ""  # the session id of a whole-day answer
KIND_WORDS = {"prefer": "I would like to work", "cannot": "I cannot work"}


class AvailabilityError(ValueError):
    """An answer that cannot be saved: ``field`` names the form field, ``message`` what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def day_words(day: dt.date) -> str:
    """``Tue 01 Dec``: how pages and messages name a day."""
    return f"{DAY_NAMES[day.weekday()]} {day.strftime('%d %b %Y')}"


@dataclass(frozen=True)
class AnswerWindow:
    """When a week takes answers: from ``opens_on`` to the end of ``deadline`` (both dates)."""

    week: str
    dates: tuple[dt.date, ...]
    opens_on: dt.date
    deadline: dt.date

    def is_open(self, today: dt.date) -> bool:
        return self.opens_on <= today <= self.deadline

    def closed(self, today: dt.date) -> bool:
        return today > self.deadline


def window(bundle: Bundle, week: str) -> AnswerWindow:
    """The answer window of an ISO week under the network's ``[availability]`` settings."""
    dates = tuple(parse_iso_week(week))
    monday = dates[0]
    settings = bundle.availability
    return AnswerWindow(
        week=iso_week_label(monday),
        dates=dates,
        opens_on=monday - dt.timedelta(weeks=settings.opens_weeks_before),
        deadline=monday - dt.timedelta(weeks=settings.closes_weeks_before, days=1),
    )


def open_weeks(bundle: Bundle, today: dt.date) -> list[AnswerWindow]:
    """The weeks open for answers today, soonest first."""
    monday = today - dt.timedelta(days=today.weekday())
    ahead = bundle.availability.opens_weeks_before + 1
    found = [window(bundle, iso_week_label(monday + dt.timedelta(weeks=i))) for i in range(ahead)]
    return [w for w in found if w.is_open(today)]


def closed_weeks(bundle: Bundle, today: dt.date) -> list[AnswerWindow]:
    """The weeks not yet over whose deadline has passed, soonest first (answers read-only)."""
    monday = today - dt.timedelta(days=today.weekday())
    ahead = bundle.availability.closes_weeks_before + 1
    found = [window(bundle, iso_week_label(monday + dt.timedelta(weeks=i))) for i in range(ahead)]
    return [w for w in found if w.closed(today)]


def planned_staff(bundle: Bundle) -> list[Staff]:
    """The people whose role some demand row plans (a row for anyone plans everyone)."""
    roles = {row.role for row in bundle.demand if not row.closes}
    if None in roles:
        return list(bundle.staff)
    return [p for p in bundle.staff if p.role in roles]


# -- one person's answers ------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Answer:
    """One answer: a date, a session id ('' for the whole day) and ``prefer`` or ``cannot``."""

    date: dt.date
    session_id: str
    kind: str


@dataclass(frozen=True)
class WeekAnswers:
    """A person's answers for a week; ``answered_at`` None when they have not answered."""

    staff_id: str
    window: AnswerWindow
    answers: tuple[Answer, ...]
    answered_at: dt.datetime | None

    def kind_of(self, day: dt.date, session_id: str) -> str:
        """The answer for that day and session ('' for the whole day), or ''."""
        return next(
            (a.kind for a in self.answers if (a.date, a.session_id) == (day, session_id)), ""
        )


def read_answers(
    session: Session, network_id: int, bundle: Bundle, staff_id: str, week: str
) -> WeekAnswers:
    """The person's answers for the week, as saved."""
    span = window(bundle, week)
    records = session.scalars(
        select(AvailabilityRecord).where(
            AvailabilityRecord.network_id == network_id,
            AvailabilityRecord.staff_id == staff_id,
            AvailabilityRecord.date.between(span.dates[0], span.dates[-1]),
        )
    )
    answered = session.scalar(
        select(AvailabilityAnswerRecord.answered_at).where(
            AvailabilityAnswerRecord.network_id == network_id,
            AvailabilityAnswerRecord.staff_id == staff_id,
            AvailabilityAnswerRecord.week == span.week,
        )
    )
    answers = tuple(sorted(Answer(r.date, r.session_id, r.kind) for r in records))
    return WeekAnswers(staff_id, span, answers, utc(answered) if answered else None)


def unanswered(
    session: Session, network_id: int, bundle: Bundle, staff_id: str, today: dt.date
) -> int:
    """How many weeks open today the person has not answered for."""
    weeks = [w.week for w in open_weeks(bundle, today)]
    answered = session.scalars(
        select(AvailabilityAnswerRecord.week).where(
            AvailabilityAnswerRecord.network_id == network_id,
            AvailabilityAnswerRecord.staff_id == staff_id,
            AvailabilityAnswerRecord.week.in_(weeks),
        )
    )
    return len(weeks) - len(set(answered))


def field_name(day: dt.date, session_id: str) -> str:
    """The form field of one cell: ``a-2026-12-01`` (whole day) or ``a-2026-12-01-AM``."""
    return f"a-{day.isoformat()}" + (f"-{session_id}" if session_id else "")


def parse_answers(bundle: Bundle, week: str, form: Mapping[str, str]) -> list[Answer]:
    """The answers of the week's form (a field per day and per session that runs that day)."""
    span = window(bundle, week)
    found: list[Answer] = []
    for day in span.dates:
        for session_id in (WHOLE_DAY, *session_ids_on(bundle, day)):
            name = field_name(day, session_id)
            kind = (form.get(name) or "").strip().lower()
            if kind in ("", "none"):
                continue
            if kind not in AVAILABILITY_KINDS:
                raise AvailabilityError(
                    name, f"{kind!r} is not an answer: choose prefer, cannot or no answer"
                )
            found.append(Answer(day, session_id, kind))
    return found


def session_ids_on(bundle: Bundle, day: dt.date) -> list[str]:
    """The sessions that run on a day, by start time."""
    running = [s for s in bundle.session_types if s.runs_on(day)]
    return [s.session_id for s in sorted(running, key=lambda s: (s.start, s.session_id))]


def _check_answers(bundle: Bundle, span: AnswerWindow, answers: Iterable[Answer]) -> None:
    """Every answer is in the week, names a session that runs that day, and a day with a
    whole-day answer has no session answer."""
    seen: set[tuple[dt.date, str]] = set()
    whole = {a.date for a in answers if a.session_id == WHOLE_DAY}
    for a in answers:
        name = field_name(a.date, a.session_id)
        if a.date not in span.dates:
            raise AvailabilityError(name, f"{a.date} is not in {span.week}: answer for its days")
        if a.kind not in AVAILABILITY_KINDS:
            raise AvailabilityError(name, f"{a.kind!r} is not an answer: use prefer or cannot")
        if a.session_id and a.session_id not in session_ids_on(bundle, a.date):
            raise AvailabilityError(
                name, f"there is no session {a.session_id!r} on {day_words(a.date)}"
            )
        if a.session_id and a.date in whole:
            raise AvailabilityError(
                name,
                f"{day_words(a.date)} has a whole-day answer and a {a.session_id} answer: "
                "keep one of them",
            )
        if (a.date, a.session_id) in seen:
            raise AvailabilityError(name, "answered twice: keep one answer")
        seen.add((a.date, a.session_id))


def _check_open(span: AnswerWindow, today: dt.date) -> None:
    if today > span.deadline:
        raise AvailabilityError(
            "week",
            f"the deadline for {span.week} was {day_words(span.deadline)}: answers can no "
            "longer be changed. To be off in that week, request leave or ask a coordinator",
        )
    if today < span.opens_on:
        raise AvailabilityError(
            "week", f"answers for {span.week} open on {day_words(span.opens_on)}: come back then"
        )


def _check_published(
    session: Session, network_id: int, staff_id: str, span: AnswerWindow, answers: Iterable[Answer]
) -> None:
    """A "cannot" may not fall on a session the person holds in the published rota."""
    published = find_rota(session, network_id, span.week, "published")
    if published is None:
        return
    held = [a for a in load_cells(session, published.id).assignments if a.staff_id == staff_id]
    for answer in answers:
        if answer.kind != "cannot":
            continue
        for cell in held:
            if cell.date == answer.date and answer.session_id in (WHOLE_DAY, cell.session_id):
                raise AvailabilityError(
                    field_name(answer.date, answer.session_id),
                    f"you already work {cell.session_id} at {cell.site_id} on "
                    f"{day_words(cell.date)} in the published rota: to be off then, request "
                    "leave or offer a swap",
                )


def save_answers(
    session: Session,
    network_id: int,
    bundle: Bundle,
    staff_id: str,
    week: str,
    *,
    answers: Iterable[Answer],
    actor: str,
    today: dt.date,
    moment: dt.datetime,
) -> WeekAnswers:
    """Replace the person's answers for the week (none: "any session suits me"), in the
    caller's transaction; ``AvailabilityError`` when any answer cannot stand."""
    if staff_id not in {p.staff_id for p in bundle.staff}:
        raise AvailabilityError("staff_id", f"there is nobody {staff_id!r} in this network")
    span = window(bundle, week)
    chosen = sorted(set(answers))
    _check_open(span, today)
    _check_answers(bundle, span, chosen)
    lock_week(session, network_id)  # a booking or publication of the week waits for us
    _check_published(session, network_id, staff_id, span, chosen)
    session.execute(
        delete(AvailabilityRecord).where(
            AvailabilityRecord.network_id == network_id,
            AvailabilityRecord.staff_id == staff_id,
            AvailabilityRecord.date.between(span.dates[0], span.dates[-1]),
        )
    )
    session.add_all(
        AvailabilityRecord(
            network_id=network_id,
            staff_id=staff_id,
            date=a.date,
            session_id=a.session_id,
            kind=a.kind,
            updated_at=moment,
        )
        for a in chosen
    )
    _mark_answered(session, network_id, staff_id, span.week, moment)
    kinds = Counter(a.kind for a in chosen)
    audit.record(
        session,
        actor,
        "availability.save",
        f"{staff_id} {span.week}",
        network_id=network_id,
        after={"prefer": kinds["prefer"], "cannot": kinds["cannot"]},
    )
    session.flush()
    return WeekAnswers(staff_id, span, tuple(chosen), moment)


def _mark_answered(
    session: Session, network_id: int, staff_id: str, week: str, moment: dt.datetime
) -> None:
    record = session.scalar(
        select(AvailabilityAnswerRecord).where(
            AvailabilityAnswerRecord.network_id == network_id,
            AvailabilityAnswerRecord.staff_id == staff_id,
            AvailabilityAnswerRecord.week == week,
        )
    )
    if record is None:
        session.add(
            AvailabilityAnswerRecord(
                network_id=network_id, staff_id=staff_id, week=week, answered_at=moment
            )
        )
    else:
        record.answered_at = moment


# -- the network's answers for a week ---------------------------------------------------------


@dataclass(frozen=True)
class WeekReplies:
    """Who answered for a week and what they said, for managers and coordinators."""

    window: AnswerWindow
    answered: tuple[tuple[Staff, dt.datetime], ...]
    missing: tuple[Staff, ...]
    counts: dict[tuple[dt.date, str], Counter[str]]  # (date, session or '') -> kind -> people

    @property
    def asked(self) -> int:
        return len(self.answered) + len(self.missing)


def replies(session: Session, network_id: int, bundle: Bundle, week: str) -> WeekReplies:
    """Everyone planned: who answered for the week (newest first), who has not, and how many
    said "prefer" and "cannot" for each day and session."""
    span = window(bundle, week)
    people = planned_staff(bundle)
    asked = {p.staff_id for p in people}
    when = dict(
        session.execute(
            select(AvailabilityAnswerRecord.staff_id, AvailabilityAnswerRecord.answered_at).where(
                AvailabilityAnswerRecord.network_id == network_id,
                AvailabilityAnswerRecord.week == span.week,
            )
        ).all()
    )
    counts: dict[tuple[dt.date, str], Counter[str]] = {}
    records = session.scalars(
        select(AvailabilityRecord).where(
            AvailabilityRecord.network_id == network_id,
            AvailabilityRecord.date.between(span.dates[0], span.dates[-1]),
        )
    )
    for r in records:
        if r.staff_id in asked:
            counts.setdefault((r.date, r.session_id), Counter())[r.kind] += 1
    answered = sorted(
        ((p, utc(when[p.staff_id])) for p in people if p.staff_id in when),
        key=lambda pair: (-pair[1].timestamp(), pair[0].staff_id),
    )
    missing = tuple(p for p in people if p.staff_id not in when)
    return WeekReplies(span, tuple(answered), missing, counts)


def answers_link(network_id: int, staff_id: str, week: str) -> str:
    """The path of a person's answers for a week (the inbox item's link)."""
    return f"/n/{network_id}/people/{staff_id}/availability/{week}"


def remind_missing(
    session: Session, network_id: int, bundle: Bundle, week: str, *, actor: str, today: dt.date
) -> int:
    """An inbox item to each person who has not answered for the open week, at most one per
    person and week; how many were sent."""
    span = window(bundle, week)
    _check_open(span, today)
    found = replies(session, network_id, bundle, week)
    sent = 0
    for person in found.missing:
        link = answers_link(network_id, person.staff_id, span.week)
        already = session.scalar(
            select(InboxRecord.id).where(
                InboxRecord.network_id == network_id,
                InboxRecord.staff_id == person.staff_id,
                InboxRecord.kind == "availability",
                InboxRecord.link == link,
            )
        )
        if already is not None:
            continue
        text = (
            f"Say when you can and cannot work in {span.week} (from "
            f"{day_words(span.dates[0])}) by {day_words(span.deadline)}."
        )
        tell(
            session, network_id, staff_id=person.staff_id, kind="availability", text=text, link=link
        )
        sent += 1
    audit.record(
        session,
        actor,
        "availability.remind",
        span.week,
        network_id=network_id,
        after={"sent": sent},
    )
    return sent
