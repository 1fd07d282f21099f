"""Hand edits of a week's rota: assign, unassign, move, pin and unpin, one cell at a time.

Every edit is applied in memory and the whole week re-checked by the
independent validator before anything is written, so a saved draft never
breaks a hard rule the edit introduced.  Each editable rota carries a
``revision``; an edit names the revision its page showed and is refused when
the rota has moved on, so two coordinators editing one week are told instead
of one silently overwriting the other.  Plain functions of a SQLAlchemy
session: the web app and tests call them alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.checks.validator import (
    CoverageLine,
    ValidationReport,
    Violation,
    added_by_change,
    coverage_of,
    newly_broken,
)
from scheduler.domain import Assignment, Bundle, parse_iso_week
from scheduler.reports import continuity
from scheduler.storage import audit
from scheduler.storage.clock import now
from scheduler.storage.models.base import MAX_INTEGER
from scheduler.storage.models.network import AssignmentRecord, RotaRecord
from scheduler.storage.rotas import assignment_record, copied_header, find_rota, normalise_week
from scheduler.views.week import current_network

ACTIONS = ("assign", "unassign", "move", "pin", "unpin")
EDITED = "edited"  # the status of a rota changed by hand: the solver's figures no longer apply
STALE = "someone else changed this week since you opened it; reload to see their change"


class EditError(ValueError):
    """The edit does not make sense for this rota; ``field`` names the form input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class EditRefusedError(RuntimeError):
    """The edit is well formed but may not be saved; nothing was changed."""


class StaleRevisionError(EditRefusedError):
    """The rota changed since the page that asked for the edit was shown."""

    def __init__(self) -> None:
        super().__init__(STALE)


class HardRuleError(EditRefusedError):
    """The edited rota would break hard rules; ``violations`` are the ones the edit adds."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__("; ".join(f"{v.label}: {v.message}" for v in violations))
        self.violations = tuple(violations)


@dataclass(frozen=True)
class Edit:
    """One change asked for; ``to`` is the destination of a move (same person)."""

    action: str
    cell: Assignment
    to: Assignment | None = None


@dataclass(frozen=True)
class Cells:
    """What a rota holds: its assignments and which of them are pinned."""

    assignments: frozenset[Assignment]
    pinned: frozenset[Assignment]


@dataclass(frozen=True)
class EditableRota:
    """The rota an edit of the week works on: the draft, else the published one."""

    rota_id: int
    state: str
    version: int | None
    revision: int
    cells: Cells


@dataclass(frozen=True)
class EditOutcome:
    """What a saved edit left: the draft, its new revision, and its shortfall."""

    rota_id: int
    revision: int
    shortfall: int
    coverage: tuple[CoverageLine, ...] = ()  # the validator's, of the rota as saved


# -- the edit itself, in memory -------------------------------------------------------


def describe(cell: Assignment) -> str:
    """A cell in words, e.g. ``S01 AM at P01 on 2026-12-01``."""
    return f"{cell.staff_id} {cell.session_id} at {cell.site_id} on {cell.date.isoformat()}"


def _require_present(cells: Cells, cell: Assignment) -> None:
    if cell not in cells.assignments:
        raise EditError("session_id", f"the rota has no {describe(cell)}; reload the page")


def _assign(cells: Cells, edit: Edit) -> Cells:
    if edit.cell in cells.assignments:
        raise EditError("staff_id", f"{describe(edit.cell)} is already in the rota")
    return Cells(cells.assignments | {edit.cell}, cells.pinned)


def _unassign(cells: Cells, edit: Edit) -> Cells:
    _require_present(cells, edit.cell)
    return Cells(cells.assignments - {edit.cell}, cells.pinned - {edit.cell})


def _move(cells: Cells, edit: Edit) -> Cells:
    """The person goes elsewhere; a pinned cell stays pinned where it lands."""
    _require_present(cells, edit.cell)
    to = edit.to
    if to is None or to == edit.cell:
        raise EditError("to_site_id", "choose a different date, session or site to move to")
    if to in cells.assignments:
        raise EditError("to_site_id", f"{describe(to)} is already in the rota")
    pinned = cells.pinned - {edit.cell}
    if edit.cell in cells.pinned:
        pinned = pinned | {to}
    return Cells((cells.assignments - {edit.cell}) | {to}, pinned)


def _pin(cells: Cells, edit: Edit) -> Cells:
    _require_present(cells, edit.cell)
    if edit.cell in cells.pinned:
        raise EditError("session_id", f"{describe(edit.cell)} is already pinned")
    return Cells(cells.assignments, cells.pinned | {edit.cell})


def _unpin(cells: Cells, edit: Edit) -> Cells:
    _require_present(cells, edit.cell)
    if edit.cell not in cells.pinned:
        raise EditError("session_id", f"{describe(edit.cell)} is not pinned")
    return Cells(cells.assignments, cells.pinned - {edit.cell})


CHANGES: dict[str, Callable[[Cells, Edit], Cells]] = {
    "assign": _assign,
    "unassign": _unassign,
    "move": _move,
    "pin": _pin,
    "unpin": _unpin,
}


def edited(cells: Cells, edit: Edit) -> Cells:
    """The rota after the edit (pure: nothing is checked against the rules here)."""
    change = CHANGES.get(edit.action)
    if change is None:
        raise EditError("action", f"{edit.action!r} is not one of {', '.join(ACTIONS)}")
    return change(cells, edit)


def added_violations(before: ValidationReport, after: ValidationReport) -> list[Violation]:
    """Rule breaks of the edited rota that the rota did not already have for those people.

    A rota made invalid behind the editor's back (a re-imported bundle adding
    leave, say) can then still be repaired cell by cell; it cannot be
    published until it is valid.
    """
    return newly_broken(before.violations, after.violations)


# -- figures the other pages show -------------------------------------------------------


def _percent(coverage: Sequence[CoverageLine], wanted: Callable[[CoverageLine], int]) -> float:
    """Share of the wanted people that are there (100 when nobody is wanted)."""
    total = sum(wanted(line) for line in coverage)
    met = sum(min(wanted(line), line.assigned) for line in coverage)
    return round(100.0 * met / total, 2) if total else 100.0


def figures(coverage: Sequence[CoverageLine], assignments: int) -> dict[str, Any]:
    """The summary figures that come from the validator, for one week's coverage."""
    return {
        "assignments": assignments,
        "shortfall": sum(line.shortfall for line in coverage),
        "min_cover_pct": _percent(coverage, lambda line: line.min),
        "target_cover_pct": _percent(coverage, lambda line: line.target),
    }


# -- reading an edit from a form --------------------------------------------------------


def _field(fields: Mapping[str, str], name: str) -> str:
    """A required text field, trimmed."""
    value = (fields.get(name) or "").strip()
    if not value:
        raise EditError(name, "this field is required")
    return value


def _cell_from(
    bundle: Bundle, week: str, fields: Mapping[str, str], prefix: str = ""
) -> Assignment:
    """One cell from the fields ``{prefix}date``, ``{prefix}session_id``, ``{prefix}site_id``."""
    staff_id = _field(fields, "staff_id")
    if staff_id not in {p.staff_id for p in bundle.staff}:
        raise EditError("staff_id", f"nobody has staff id {staff_id!r}; choose from the list")
    day_text = _field(fields, f"{prefix}date")
    try:
        day = dt.date.fromisoformat(day_text)
    except ValueError:
        day = None
    if day not in week_dates(week):
        raise EditError(f"{prefix}date", f"give a date of {week} as YYYY-MM-DD, not {day_text!r}")
    session_id = _field(fields, f"{prefix}session_id")
    if session_id not in {s.session_id for s in bundle.session_types}:
        raise EditError(f"{prefix}session_id", f"there is no session {session_id!r}")
    site_id = _field(fields, f"{prefix}site_id")
    if site_id not in {s.site_id for s in bundle.sites}:
        raise EditError(f"{prefix}site_id", f"there is no site {site_id!r}")
    return Assignment(day, session_id, site_id, staff_id)


def parse_edit(bundle: Bundle, week: str, fields: Mapping[str, str]) -> Edit:
    """The edit a form asks for; ``EditError`` names the first field to fix."""
    action = _field(fields, "action")
    if action not in ACTIONS:
        raise EditError("action", f"{action!r} is not one of {', '.join(ACTIONS)}")
    cell = _cell_from(bundle, week, fields)
    to = _cell_from(bundle, week, fields, "to_") if action == "move" else None
    return Edit(action, cell, to)


def parse_revision(text: str | None) -> int:
    """The revision a page was shown with; a missing or odd one means a stale page."""
    try:
        revision = int((text or "").strip())
    except ValueError:
        revision = -1
    if not 0 <= revision <= MAX_INTEGER:  # no rota has had it: the database could not hold it
        raise EditError("revision", "the page is out of date or incomplete; reload it")
    return revision


# -- the database side ----------------------------------------------------------------------


def week_dates(week: str) -> tuple[dt.date, ...]:
    """The seven dates of an ISO week label."""
    return parse_iso_week(week)


def load_cells(session: Session, rota_id: int) -> Cells:
    """A stored rota's assignments and pins (plain rows: an edit reads thousands)."""
    a = AssignmentRecord
    rows = session.execute(
        select(a.date, a.session_id, a.site_id, a.staff_id, a.pinned).where(a.rota_id == rota_id)
    )
    assignments: set[Assignment] = set()
    pinned: set[Assignment] = set()
    for day, session_id, site_id, staff_id, is_pinned in rows:
        cell = Assignment(day, session_id, site_id, staff_id)
        assignments.add(cell)
        if is_pinned:
            pinned.add(cell)
    return Cells(frozenset(assignments), frozenset(pinned))


def pinned_cells(session: Session, rota_id: int) -> frozenset[Assignment]:
    """A stored rota's pinned cells alone (a page that shows pins reads only these)."""
    a = AssignmentRecord
    rows = session.execute(
        select(a.date, a.session_id, a.site_id, a.staff_id).where(
            a.rota_id == rota_id, a.pinned.is_(True)
        )
    )
    return frozenset(Assignment(*row) for row in rows)


def editable_rota(session: Session, network_id: int, week: str) -> EditableRota | None:
    """The week's draft, else its published rota, else None (nothing to edit yet)."""
    week = normalise_week(week)
    rota = find_rota(session, network_id, week, "draft") or find_rota(
        session, network_id, week, "published"
    )
    if rota is None:
        return None
    return EditableRota(
        rota.id, rota.state, rota.version, rota.revision, load_cells(session, rota.id)
    )


def _bump_draft(session: Session, network_id: int, week: str, expected: int) -> bool:
    """Advance the draft's revision if it is still ``expected``; True when it was.

    This one statement is both the check and the claim, so two simultaneous
    edits cannot both pass it.  It comes first in the transaction: on SQLite
    it takes the write lock at once (a second editor waits instead of
    failing), on PostgreSQL the row lock makes the second re-read the row.
    """
    result = session.execute(
        update(RotaRecord)
        .where(
            RotaRecord.network_id == network_id,
            RotaRecord.week == week,
            RotaRecord.state == "draft",
            RotaRecord.revision == expected,
        )
        .values(revision=RotaRecord.revision + 1)
        .execution_options(synchronize_session=False)
    )
    return isinstance(result, CursorResult) and result.rowcount == 1


def _copy_as_draft(session: Session, published: RotaRecord, revision: int) -> RotaRecord:
    """A new draft holding the published rota's cells and pins (the published one stays as is)."""
    draft = copied_header(published, "draft", revision)
    session.add(draft)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as err:  # another editor made the draft a moment ago
        raise StaleRevisionError() from err
    cells = load_cells(session, published.id)
    session.add_all(
        assignment_record(draft.id, cell, cell in cells.pinned) for cell in cells.assignments
    )
    session.flush()
    return draft


def claim_draft(session: Session, network_id: int, week: str, expected: int) -> RotaRecord:
    """The draft to change, its revision already advanced; refused when ``expected`` is stale.

    With only a published rota, the first edit starts a new draft copied from it.
    """
    claimed = _bump_draft(session, network_id, week, expected)
    draft = find_rota(session, network_id, week, "draft")
    if claimed and draft is not None:
        session.refresh(draft)
        return draft
    if draft is not None:
        raise StaleRevisionError()
    published = find_rota(session, network_id, week, "published")
    if published is None:
        raise EditError("week", f"{week} has no rota to edit yet; solve the week first")
    if published.revision != expected:
        raise StaleRevisionError()
    return _copy_as_draft(session, published, expected + 1)


def _cell_row(cell: Assignment, pinned: bool) -> dict[str, Any]:
    """A cell as the audit log stores it."""
    return {
        "staff_id": cell.staff_id,
        "date": cell.date.isoformat(),
        "session_id": cell.session_id,
        "site_id": cell.site_id,
        "pinned": pinned,
    }


def _changed_rows(cells: Cells, touched: Iterable[Assignment]) -> list[dict[str, Any]]:
    """The touched cells as they are in ``cells`` (absent ones left out)."""
    return [
        _cell_row(cell, cell in cells.pinned)
        for cell in sorted(touched)
        if cell in cells.assignments
    ]


def touched_cells(before: Cells, after: Cells) -> set[Assignment]:
    """Cells added, removed, pinned or unpinned by an edit."""
    return set((before.assignments ^ after.assignments) | (before.pinned ^ after.pinned))


def _write_cells(session: Session, rota_id: int, before: Cells, after: Cells) -> None:
    """Store the difference only: removed rows deleted, new rows added, pins flipped."""
    for cell in before.assignments - after.assignments:
        session.execute(delete(AssignmentRecord).where(*_cell_filter(rota_id, cell)))
    session.add_all(
        assignment_record(rota_id, cell, cell in after.pinned)
        for cell in after.assignments - before.assignments
    )
    for cell in (before.pinned ^ after.pinned) & before.assignments & after.assignments:
        session.execute(
            update(AssignmentRecord)
            .where(*_cell_filter(rota_id, cell))
            .values(pinned=cell in after.pinned)
            .execution_options(synchronize_session=False)
        )
    session.flush()


def _cell_filter(rota_id: int, cell: Assignment) -> tuple[Any, ...]:
    """The WHERE clause of one assignment row."""
    return (
        AssignmentRecord.rota_id == rota_id,
        AssignmentRecord.staff_id == cell.staff_id,
        AssignmentRecord.date == cell.date,
        AssignmentRecord.session_id == cell.session_id,
        AssignmentRecord.site_id == cell.site_id,
    )


def _refresh_summary(
    rota: RotaRecord, coverage: Sequence[CoverageLine], count: int, actor: str
) -> None:
    """Figures from the validator; the solver's objective no longer describes the rota."""
    rota.status = EDITED
    rota.objective = rota.bound = rota.gap = None
    kept = {k: v for k, v in rota.summary.items() if k not in continuity.SUMMARY_KEYS}
    rota.summary = {
        **kept,
        **figures(coverage, count),
        "status": EDITED,
        "objective": None,
        "bound": None,
        "gap": None,
        "penalties": {},
        "edited_by": actor,
        "edited_at": now().isoformat(timespec="seconds"),
    }


def check_edit(bundle: Bundle, week: str, before: Cells, after: Cells) -> tuple[CoverageLine, ...]:
    """The edited week's coverage; raises when the edit breaks a hard rule the rota did not
    already break (the validator judges the people and rooms the edit touches)."""
    dates = week_dates(week)
    added = added_by_change(bundle, dates, before.assignments, after.assignments)
    if added:
        raise HardRuleError(added)
    return coverage_of(bundle, dates, after.assignments)


def apply_edit(
    session: Session,
    network_id: int,
    week: str,
    edit: Edit,
    *,
    expected_revision: int,
    actor: str,
) -> EditOutcome:
    """Make one edit of the week's rota, checked first, in the caller's transaction.

    Raises ``StaleRevisionError`` when ``expected_revision`` is not the
    rota's, ``HardRuleError`` when the edited rota would break a hard rule,
    ``EditError`` when the edit does not fit the rota; the caller's
    transaction must then be rolled back (nothing is meant to be kept).
    """
    week = normalise_week(week)
    rota = claim_draft(session, network_id, week, expected_revision)
    before = load_cells(session, rota.id)
    after = edited(before, edit)
    coverage = check_edit(current_network(session, network_id), week, before, after)
    _write_cells(session, rota.id, before, after)
    _refresh_summary(rota, coverage, len(after.assignments), actor)
    touched = touched_cells(before, after)
    audit.record(
        session,
        actor,
        "rota edited",
        f"{week} rota {rota.id}",
        network_id=network_id,
        before={"revision": expected_revision, "cells": _changed_rows(before, touched)},
        after={
            "action": edit.action,
            "revision": rota.revision,
            "cells": _changed_rows(after, touched),
        },
    )
    session.flush()
    shortfall = sum(line.shortfall for line in coverage)
    return EditOutcome(rota.id, rota.revision, shortfall, coverage)
