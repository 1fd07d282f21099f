"""Publishing a week's draft as an immutable numbered version, listing versions, diffing two.

Publishing re-checks the draft with the validator (a rota that breaks a hard
rule is never published), then in one transaction turns it into version
N + 1 of the week and marks the previous publication superseded.  Published
and superseded rotas are never changed afterwards: an edit of a published
week starts a new draft (``scheduler.usecases.editing``).  ``diff_rotas`` is pure, so
"what changed for whom" is testable without a database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from scheduler.checks.validator import Violation, check_rota
from scheduler.domain import Assignment
from scheduler.storage import audit
from scheduler.storage.clock import now, utc
from scheduler.storage.events import current_bundle
from scheduler.storage.feeds import EventChange
from scheduler.storage.models.network import AssignmentRecord, NetworkRecord, RotaRecord
from scheduler.storage.rotas import assignment_record, copied_header, find_rota, normalise_week
from scheduler.usecases.editing import load_cells, week_dates
from scheduler.usecases.feeds import record_publication


class PublishError(RuntimeError):
    """The week cannot be published as asked; the message says what to do.  Nothing changed."""


class NothingToPublishError(PublishError):
    """The week has no draft."""


class DraftChangedError(PublishError):
    """The draft changed since the page asking to publish it was shown."""


class ShortNotAcceptedError(PublishError):
    """The draft leaves people short of a minimum and the publisher did not say that is known."""


class RotaBreaksRulesError(PublishError):
    """The draft breaks hard rules (``violations``), so it may not be published."""

    def __init__(self, week: str, violations: Sequence[Violation]) -> None:
        listed = "; ".join(f"{v.label}: {v.message}" for v in violations[:5])
        more = f" (and {len(violations) - 5} more)" if len(violations) > 5 else ""
        super().__init__(
            f"the draft of {week} breaks {len(violations)} hard rule(s), so it was not "
            f"published: {listed}{more}. Edit the draft or solve the week again, then publish."
        )
        self.violations = tuple(violations)


@dataclass(frozen=True)
class PublishedVersion:
    """A publication: which rota became which version, by whom, and what it superseded."""

    rota_id: int
    network_id: int
    week: str
    version: int
    published_at: dt.datetime
    published_by: str
    superseded_rota_id: int | None
    # The sessions whose calendar events changed (``scheduler.usecases.feeds``), in date order.
    changes: tuple[EventChange, ...] = ()


@dataclass(frozen=True)
class VersionInfo:
    """One rota of a week as the versions page lists it."""

    rota_id: int
    state: str
    version: int | None
    published_at: dt.datetime | None
    published_by: str | None
    created_at: dt.datetime
    assignments: int


# -- publishing ------------------------------------------------------------------------------


def _claim_draft(session: Session, network_id: int, week: str, expected: int | None) -> bool:
    """Advance the draft's revision (if still ``expected``): an open edit page is now stale.

    The first statement of the transaction, so that on SQLite it takes the
    write lock before anything is read (see ``scheduler.usecases.editing``).
    """
    statement = update(RotaRecord).where(
        RotaRecord.network_id == network_id,
        RotaRecord.week == week,
        RotaRecord.state == "draft",
    )
    if expected is not None:
        statement = statement.where(RotaRecord.revision == expected)
    result = session.execute(
        statement.values(revision=RotaRecord.revision + 1).execution_options(
            synchronize_session=False
        )
    )
    return isinstance(result, CursorResult) and result.rowcount == 1


def _next_version(session: Session, network_id: int, week: str) -> int:
    """One more than the highest version the week has had."""
    statement = select(func.max(RotaRecord.version)).where(
        RotaRecord.network_id == network_id, RotaRecord.week == week
    )
    return (session.scalar(statement) or 0) + 1


def _supersede(session: Session, network_id: int, week: str) -> int | None:
    """Mark the week's published rota superseded; its id, or None if there was none."""
    current = find_rota(session, network_id, week, "published")
    if current is None:
        return None
    current.state = "superseded"
    session.flush()
    return current.id


def lock_week(session: Session, network_id: int) -> None:
    """Wait for any other publication of the network to end (PostgreSQL: a row lock on the
    network, held to the end of the transaction; SQLite already has one writer at a time).

    Every new version goes through it, so two publications (a manager's and a
    clinician's booking, say) never both build on the same version.
    """
    session.execute(
        select(NetworkRecord.id).where(NetworkRecord.id == network_id).with_for_update()
    )


def publish_week(
    session: Session,
    network_id: int,
    week: str,
    actor: str,
    *,
    expected_revision: int | None = None,
    allow_short: bool = True,
) -> PublishedVersion:
    """Publish the week's draft as its next version, in the caller's transaction.

    ``expected_revision`` (the web form's) refuses a draft changed since the
    page was shown; None publishes whatever the draft is (the CLI).  Raises
    ``NothingToPublishError``, ``DraftChangedError`` or
    ``RotaBreaksRulesError``, or ``ShortNotAcceptedError`` when ``allow_short`` is
    False and a minimum is unmet (all ``PublishError``); ``ValueError`` for a
    malformed week.  On any of them the caller rolls back: nothing changed.
    """
    week = normalise_week(week)
    lock_week(session, network_id)  # first: a booking takes the same lock, then the draft's
    claimed = _claim_draft(session, network_id, week, expected_revision)
    draft = find_rota(session, network_id, week, "draft")
    if draft is None:
        raise NothingToPublishError(f"{week} has no draft to publish; solve or edit the week first")
    if not claimed:
        raise DraftChangedError(
            f"the draft of {week} changed since you opened it; reload, check it, then publish"
        )
    session.refresh(draft)
    cells = load_cells(session, draft.id)
    report = check_rota(current_bundle(session, network_id), week_dates(week), cells.assignments)
    if not report.ok:
        raise RotaBreaksRulesError(week, report.violations)
    if report.shortfall and not allow_short:
        raise ShortNotAcceptedError(
            f"{report.shortfall} people are short of a minimum; tick the box that says you know, "
            "or fix the shortfalls first"
        )
    return make_version(session, draft, cells.assignments, actor)


def make_version(
    session: Session, rota: RotaRecord, cells: Iterable[Assignment], actor: str
) -> PublishedVersion:
    """Turn ``rota`` (checked already, holding ``cells``) into the week's next version: the one
    published before is superseded, calendar events recorded, the audit log written."""
    network_id, week = rota.network_id, rota.week
    before = rota.state
    version = _next_version(session, network_id, week)
    superseded = _supersede(session, network_id, week)
    moment = now()
    rota.state, rota.version = "published", version
    rota.published_at, rota.published_by = moment, actor
    session.flush()
    changes = record_publication(session, network_id, week, list(cells), moment)
    audit.record(
        session,
        actor,
        "rota published",
        f"{week} version {version}",
        network_id=network_id,
        before={"rota_id": rota.id, "state": before, "superseded_rota_id": superseded},
        after={"rota_id": rota.id, "state": "published", "version": version},
    )
    return PublishedVersion(
        rota.id, network_id, week, version, moment, actor, superseded, tuple(changes)
    )


# -- versions -------------------------------------------------------------------------------


def list_versions(session: Session, network_id: int, week: str) -> list[VersionInfo]:
    """The week's draft (if any) then its publications, newest first."""
    week = normalise_week(week)
    counts = (
        select(AssignmentRecord.rota_id, func.count().label("n"))
        .group_by(AssignmentRecord.rota_id)
        .subquery()
    )
    statement = (
        select(RotaRecord, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.rota_id == RotaRecord.id)
        .where(RotaRecord.network_id == network_id, RotaRecord.week == week)
        .order_by(
            (RotaRecord.state == "draft").desc(), RotaRecord.version.desc(), RotaRecord.id.desc()
        )
    )
    return [
        VersionInfo(
            rota.id,
            rota.state,
            rota.version,
            utc(rota.published_at) if rota.published_at else None,
            rota.published_by,
            utc(rota.created_at),
            int(count),
        )
        for rota, count in session.execute(statement)
    ]


def week_rota_cells(session: Session, network_id: int, week: str, rota_id: int) -> list[Assignment]:
    """The assignments of one rota of this week; ``LookupError`` when it is not one."""
    rota = session.get(RotaRecord, rota_id)
    if rota is None or rota.network_id != network_id or rota.week != normalise_week(week):
        raise LookupError(f"rota {rota_id} is not a rota of {week}")
    return sorted(load_cells(session, rota_id).assignments)


# -- diff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A session that went elsewhere: another site, or another session the same day."""

    before: Assignment
    after: Assignment


@dataclass(frozen=True)
class PersonChange:
    """What changed for one person between two rotas."""

    staff_id: str
    moved: tuple[Move, ...]
    added: tuple[Assignment, ...]
    removed: tuple[Assignment, ...]


def _pair_moves(
    removed: list[Assignment], added: list[Assignment], same_session: bool
) -> list[Move]:
    """Pair removed with added cells of the same date (and session, when asked), in order.

    Paired cells are taken out of both lists, so each cell is in one move at most.
    """
    moves: list[Move] = []
    for old in list(removed):
        match = next(
            (
                new
                for new in added
                if new.date == old.date and (not same_session or new.session_id == old.session_id)
            ),
            None,
        )
        if match is not None:
            moves.append(Move(old, match))
            removed.remove(old)
            added.remove(match)
    return moves


def _person_change(staff_id: str, old: set[Assignment], new: set[Assignment]) -> PersonChange:
    """One person's moves first at the same session elsewhere, then to another session that day."""
    removed = sorted(old - new)
    added = sorted(new - old)
    moves = _pair_moves(removed, added, same_session=True)
    moves += _pair_moves(removed, added, same_session=False)
    moves.sort(key=lambda move: move.before)
    return PersonChange(staff_id, tuple(moves), tuple(added), tuple(removed))


def diff_rotas(old: Iterable[Assignment], new: Iterable[Assignment]) -> list[PersonChange]:
    """Per person, by staff id: sessions moved, added and removed from ``old`` to ``new``.

    A move is the same person on the same date at another site for the same
    session, or in another session that date; whatever cannot be paired so is
    an addition or a removal.  People without changes are left out.
    """
    before: dict[str, set[Assignment]] = defaultdict(set)
    after: dict[str, set[Assignment]] = defaultdict(set)
    for cell in old:
        before[cell.staff_id].add(cell)
    for cell in new:
        after[cell.staff_id].add(cell)
    changes = []
    for staff_id in sorted(set(before) | set(after)):
        if before[staff_id] != after[staff_id]:
            changes.append(_person_change(staff_id, before[staff_id], after[staff_id]))
    return changes


def copied_rota(
    session: Session,
    published: RotaRecord,
    cells: Iterable[Assignment],
    pinned: frozenset[Assignment],
) -> RotaRecord:
    """A new rota of the week holding ``cells`` (pins kept), to become its next version."""
    rota = copied_header(published, "superseded", 0)  # ``make_version`` publishes it
    session.add(rota)
    session.flush()
    session.add_all(assignment_record(rota.id, cell, cell in pinned) for cell in cells)
    session.flush()
    return rota
