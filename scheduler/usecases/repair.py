"""Repair a published week: the use case behind ``rotapool repair`` and the repair page.

The repair starts from the week's published rota and the events recorded
since (absences, demand changes), re-plans only the affected dates
(``solver.repair``), checks the result with the independent validator, and
describes it as a coordinator reviews it: who moves where, extra travel,
hours, cost, whose practice lends.  Saved, it is the week's draft; approved,
it is published as the next version, so only the changed sessions' calendar
events change and only their people are told.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from scheduler.checks.explain import ShortfallNote
from scheduler.checks.validator import (
    ValidationReport,
    check_after_change,
    check_rota,
    coverage_of,
)
from scheduler.domain import DAY_NAMES, Assignment, Bundle, iso_week_label, parse_iso_week
from scheduler.horizon import Horizon
from scheduler.outputs.exports import atomic_write_text, rota_rows, write_csv
from scheduler.storage import audit
from scheduler.storage.events import absences, demand_changes, event_dates
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import load_cells
from scheduler.usecases.planning import InvalidRotaError, move_into, save_draft, shortfall_notes
from solver import SolveOptions
from solver.repair import RepairScope, repair
from solver.result import SolveResult

# Seconds of solving a repair gets unless told otherwise: a two-day absence on a 60-practice
# federation is proven the fewest changes within it (BENCHMARKS.md), about 2 s in all.
DEFAULT_TIME_LIMIT = 1.0
CHANGES_HEADER = ("staff_id", "date", "session_id", "from_site", "to_site", "change")


class RepairError(RuntimeError):
    """The week cannot be repaired as asked (nothing published, nothing to repair...)."""


@dataclass(frozen=True, order=True)
class Change:
    """One session of one person that differs from the published rota."""

    date: dt.date
    session_id: str
    staff_id: str
    from_site: str | None  # None: added
    to_site: str | None  # None: removed
    change: str  # "added", "removed" or "moved"

    @property
    def row(self) -> list[object]:
        """The row of ``changes.csv``."""
        return [
            self.staff_id,
            self.date.isoformat(),
            self.session_id,
            self.from_site or "",
            self.to_site or "",
            self.change,
        ]

    def words(self, name: str) -> str:
        """``S0005 Ben Nolan: moved from P01 to P03 on Tue 2026-12-01 PM``."""
        when = f"{DAY_NAMES[self.date.weekday()]} {self.date.isoformat()} {self.session_id}"
        if self.change == "added":
            what = f"added at {self.to_site}"
        elif self.change == "removed":
            what = f"taken off {self.from_site}"
        else:
            what = f"moved from {self.from_site} to {self.to_site}"
        return f"{self.staff_id} {name}: {what} on {when}"


def changes_between(before: Iterable[Assignment], after: Iterable[Assignment]) -> list[Change]:
    """Each (person, date, session) whose site differs between two rotas, in date order."""
    old = {(a.staff_id, a.date, a.session_id): a.site_id for a in before}
    new = {(a.staff_id, a.date, a.session_id): a.site_id for a in after}
    found = []
    for slot in old.keys() | new.keys():
        was, now = old.get(slot), new.get(slot)
        if was == now:
            continue
        kind = "added" if was is None else "removed" if now is None else "moved"
        found.append(Change(slot[1], slot[2], slot[0], was, now, kind))
    return sorted(found)


@dataclass(frozen=True)
class PersonEffect:
    """What a repair does to one person's week."""

    staff_id: str
    name: str
    home_site: str
    hours: Decimal  # change in planned hours
    cost: Decimal | None  # change in cost at their rate (None without a rate)
    extra_travel_minutes: int  # from their home site, summed over the changed sessions
    lent_hours: Decimal  # hours added at a site other than their home practice


@dataclass(frozen=True)
class Figures:
    """The review of a repair at a glance."""

    changed_sessions: int
    people: tuple[PersonEffect, ...]
    change_cost: int | None  # the weighted changes the solver minimised

    @property
    def extra_travel_minutes(self) -> int:
        return sum(p.extra_travel_minutes for p in self.people)

    @property
    def hours(self) -> Decimal:
        return sum((p.hours for p in self.people), Decimal(0))

    @property
    def cost(self) -> Decimal:
        return sum((p.cost or Decimal(0) for p in self.people), Decimal(0))

    @property
    def lenders(self) -> dict[str, Decimal]:
        """Hours each home practice lends to other sites in the repair."""
        out: dict[str, Decimal] = {}
        for p in self.people:
            if p.lent_hours:
                out[p.home_site] = out.get(p.home_site, Decimal(0)) + p.lent_hours
        return dict(sorted(out.items()))


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def figures_of(
    bundle: Bundle, dates: Sequence[dt.date], changes: Sequence[Change], change_cost: int | None
) -> Figures:
    """Hours, cost, travel and lending of each person the changes touch.

    A person or session a later import removed has no figures (their changes
    still count): a stored repair is reviewed against today's bundle.
    """
    horizon = Horizon(bundle, tuple(dates))
    staff = {p.staff_id: p for p in bundle.staff}
    by_person: dict[str, list[Change]] = {}
    for change in changes:
        if change.staff_id in staff:
            by_person.setdefault(change.staff_id, []).append(change)
    people = []
    for staff_id, mine in sorted(by_person.items()):
        person = staff[staff_id]
        minutes = lent = travel = 0
        for c in mine:
            shift = horizon.shifts.get((c.date, c.session_id))
            length = 0 if shift is None else shift.minutes
            if c.to_site is not None:
                minutes += length
                travel += horizon.travel_minutes(person.home_site, c.to_site)
                lent += length if c.to_site != person.home_site else 0
            if c.from_site is not None:
                minutes -= length
                travel -= horizon.travel_minutes(person.home_site, c.from_site)
                lent -= length if c.from_site != person.home_site else 0
        hours = _hours(minutes)
        rate = None if person.hourly_rate is None else Decimal(str(person.hourly_rate))
        cost = None if rate is None else (hours * rate).quantize(Decimal("0.01"))
        people.append(
            PersonEffect(
                staff_id, person.name, person.home_site, hours, cost, travel, _hours(max(lent, 0))
            )
        )
    return Figures(len(changes), tuple(people), change_cost)


@dataclass(frozen=True)
class RepairOutcome:
    """A proposed repair, checked by the validator before anyone sees it."""

    week: str
    dates: tuple[dt.date, ...]
    window: frozenset[dt.date]
    published: frozenset[Assignment]
    result: SolveResult
    report: ValidationReport | None
    changes: tuple[Change, ...]
    notes: tuple[ShortfallNote, ...]
    figures: Figures | None

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return self.result.assignments

    # People short of a min if nothing is done: the published rota less the sessions that
    # now break a rule (those of someone now absent).
    shortfall_before: int
    # The solver proved no repair of the window has fewer people short, nor, as few short,
    # cheaper changes (``solver.repair.RepairResult.proven``).
    proven: bool = False

    def in_words(self) -> str:
        """The changes, and whether they are proven the fewest, in plain words."""
        return changes_in_words(self.summary())

    def summary(self) -> dict[str, Any]:
        """The figures of ``summary.json`` and of the saved draft."""
        return {
            "week": self.week,
            "repair": True,
            "status": self.result.status.value,
            "window": [d.isoformat() for d in sorted(self.window)],
            "changed_sessions": len(self.changes),
            "change_cost": self.figures.change_cost if self.figures else None,
            "changes_proven_fewest": self.proven,
            "shortfall_before": self.shortfall_before,
            "shortfall": self.report.shortfall if self.report else None,
            "assignments": len(self.assignments),
            "objective": self.result.objective,
            "bound": self.result.bound,
            "gap": self.result.gap,
            "seconds": round(self.result.seconds, 3),
        }


def changes_in_words(summary: dict[str, Any]) -> str:
    """A repair's changes as a coordinator reads them, from its summary.

    ``5 changes (proven the fewest possible for 31 people short)``; a repair
    stored before the proof was recorded says nothing either way.
    """
    count = summary.get("changed_sessions", 0)
    changes = f"{count} change{'' if count == 1 else 's'}"
    short = summary.get("shortfall")
    if short is None:
        return changes
    people = f"{short} {'person' if short == 1 else 'people'} short"
    proven = summary.get("changes_proven_fewest")
    if proven:
        return f"{changes} (proven the fewest possible for {people})"
    if proven is None:
        return f"{changes} for {people}"
    return f"{changes} for {people} (not proven the fewest: the search ran out of time)"


def repair_window(
    dates: Sequence[dt.date],
    before: ValidationReport,
    event_days: Iterable[dt.date],
    today: dt.date,
    extra_days: Iterable[dt.date] = (),
) -> frozenset[dt.date]:
    """The dates a repair may change.

    The week's dates with a current event or asked for, from today on; and
    any date (past ones too) where the published rota now breaks a hard rule,
    which must change whatever the day.
    """
    week = set(dates)
    broken = {a.date for v in before.violations for a in v.assignments} & week
    wanted = (set(event_days) | set(extra_days)) & week
    return frozenset({d for d in wanted if d >= today} | broken)


def check_extra_days(
    dates: Sequence[dt.date], extra_days: Iterable[dt.date], today: dt.date
) -> None:
    """Refuse dates asked for that a repair would ignore: outside the week, or past."""
    week = iso_week_label(dates[0])
    for day in sorted(extra_days):
        if day not in dates:
            raise RepairError(
                f"dates to re-plan: {day} is not in {week}; name dates from "
                f"{dates[0]} to {dates[-1]}, or repair that date's own week"
            )
        if day < today:
            raise RepairError(
                f"dates to re-plan: {day} is before today ({today}) and a repair adds nothing "
                "to the past; record an absence or demand change for it, or name later dates"
            )


def _begun_slots(
    horizon: Horizon, today: dt.date, now: dt.datetime | None
) -> frozenset[tuple[dt.date, str]]:
    """Today's sessions that have begun by ``now`` (none when ``now`` is not given)."""
    return frozenset(
        slot
        for slot, shift in horizon.shifts.items()
        if now is not None and slot[0] == today and shift.start <= now
    )


def _checked_repair(
    bundle: Bundle,
    dates: Sequence[dt.date],
    published: tuple[ValidationReport, frozenset[Assignment]],
    assignments: Sequence[Assignment],
) -> ValidationReport:
    """The validator's report of the repaired rota; ``InvalidRotaError`` if it breaks a rule.

    Worked out from the published rota's report: only the people and rooms the repair
    changed are judged again (``check_after_change``, the same verdict as a whole check).
    """
    checked, cells = published
    report = check_after_change(bundle, dates, checked, cells, assignments)
    if not report.ok:
        details = "; ".join(v.message for v in report.violations[:5])
        raise InvalidRotaError(
            f"internal error: the repaired rota breaks hard rules: {details}",
            (v.rule_id for v in report.violations),
        )
    return report


def propose_repair(
    bundle: Bundle,
    week: str,
    published: Iterable[Assignment],
    *,
    today: dt.date,
    event_days: Iterable[dt.date],
    extra_days: Iterable[dt.date] = (),
    options: SolveOptions | None = None,
    stop: threading.Event | None = None,
    now: dt.datetime | None = None,
) -> RepairOutcome:
    """Repair one published week around its events; raises ``RepairError`` when there is
    nothing to repair, ``InvalidRotaError`` if the solver's rota fails the validator.

    ``now`` (an aware time on ``today``) makes today's sessions that have begun history
    too; without it the whole of today may still change.
    """
    dates = parse_iso_week(week)
    week = iso_week_label(dates[0])
    published = frozenset(published)
    extra_days = list(extra_days)
    check_extra_days(dates, extra_days, today)
    before = check_rota(bundle, dates, list(published))
    window = repair_window(dates, before, event_days, today, extra_days)
    if not window:
        raise RepairError(
            f"nothing to repair in {week}: no absence or demand change from {today} on, and "
            "the published rota breaks no rule; record the event first, or name the dates"
        )
    broken = {a for v in before.violations for a in v.assignments}
    shortfall_before = before.shortfall
    if broken:  # the standing rota breaks no rule: only its coverage is wanted
        shortfall_before = sum(c.shortfall for c in coverage_of(bundle, dates, published - broken))
    horizon = Horizon(bundle, dates)
    begun = _begun_slots(horizon, today, now)
    scope = RepairScope(published, window, today, frozenset(published - broken), begun)
    repaired = repair(horizon, scope, options, stop)
    result = repaired.result
    if not result.status.has_rota:
        return RepairOutcome(
            week, dates, repaired.window, published, result, None, (), (), None, shortfall_before
        )
    report = _checked_repair(bundle, dates, (before, published), result.assignments)
    changes = tuple(changes_between(published, result.assignments))
    return RepairOutcome(
        week=week,
        dates=dates,
        window=repaired.window,
        published=published,
        result=result,
        report=report,
        changes=changes,
        notes=tuple(shortfall_notes(horizon, result, report, options=False)),
        figures=figures_of(bundle, dates, changes, repaired.change_cost),
        shortfall_before=shortfall_before,
        proven=repaired.proven,
    )


# -- files and storage ---------------------------------------------------------------


def write_repair(out_dir: Path, bundle: Bundle, outcome: RepairOutcome) -> list[Path]:
    """``changes.csv``, ``rota.csv`` (the repaired week) and ``summary.json``, all or none."""
    if outcome.report is None:
        raise ValueError("only a checked rota can be written")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as tmp:
        scratch = Path(tmp)
        header, rows = rota_rows(bundle, outcome.assignments)
        paths = [
            write_csv(scratch / "changes.csv", CHANGES_HEADER, [c.row for c in outcome.changes]),
            write_csv(scratch / "rota.csv", header, rows),
        ]
        summary = scratch / "summary.json"
        atomic_write_text(summary, json.dumps(outcome.summary(), indent=2) + "\n")
        return [move_into(p, out_dir) for p in (*paths, summary)]


def published_cells(
    session: Session, network_id: int, week: str
) -> tuple[int, frozenset[Assignment], frozenset[Assignment]]:
    """The week's published rota: its id, assignments and pins; ``RepairError`` if none."""
    rota = find_rota(session, network_id, week, "published")
    if rota is None:
        raise RepairError(
            f"{week} has no published rota to repair; publish the week first "
            "(a draft is simply planned again)"
        )
    cells = load_cells(session, rota.id)
    return rota.id, cells.assignments, cells.pinned


def draft_differs(
    session: Session, network_id: int, week: str, published: frozenset[Assignment]
) -> bool:
    """Whether the week has a draft with edits not yet published (a repair would replace it)."""
    draft = find_rota(session, network_id, week, "draft")
    return draft is not None and load_cells(session, draft.id).assignments != published


def week_events(session: Session, network_id: int, dates: Sequence[dt.date]) -> set[dt.date]:
    """The dates of the week touched by a current absence or demand change."""
    return event_dates(
        absences(session, network_id, dates, current_only=True),
        demand_changes(session, network_id, dates, current_only=True),
    ) & set(dates)


def save_repair(
    session: Session,
    network_id: int,
    outcome: RepairOutcome,
    pinned: frozenset[Assignment],
    *,
    replace_draft: bool,
    actor: str,
) -> tuple[int, int]:
    """Store the repair as the week's draft: (rota id, revision), for approval as a publication.

    A draft with unpublished edits is kept unless ``replace_draft``: nothing
    is lost by asking for a repair.  Both checks are made again here, in the
    saving transaction, because the week may have changed while the repair
    was solved: a draft edited meanwhile is kept, and a repair of a version
    since superseded is refused (approving it would undo the newer one).
    """
    if outcome.report is None:
        raise ValueError("only a checked rota can be saved")
    _, current, _ = published_cells(session, network_id, outcome.week)
    if current != outcome.published:
        raise RepairError(
            f"{outcome.week} was published again while the repair was made; "
            "repair again to start from the new version"
        )
    if not replace_draft and draft_differs(session, network_id, outcome.week, outcome.published):
        raise RepairError(
            f"{outcome.week} has a draft with edits not yet published; publish it, "
            "or repair again choosing to replace the draft"
        )
    replaced = find_rota(session, network_id, outcome.week, "draft")
    before = None if replaced is None else {"rota_id": replaced.id, "revision": replaced.revision}
    kept = pinned & frozenset(outcome.assignments)
    rota_id = save_draft(
        session,
        network_id,
        outcome.week,
        outcome.assignments,
        result=outcome.result,
        summary=outcome.summary(),
        pinned=kept,
    )
    draft = find_rota(session, network_id, outcome.week, "draft")
    assert draft is not None and draft.id == rota_id
    audit.record(  # who and which sessions: never why anyone is away
        session,
        actor,
        "repair proposed",
        f"{outcome.week} rota {rota_id}",
        network_id=network_id,
        before=before,
        after={
            "rota_id": rota_id,
            "revision": draft.revision,
            "window": [d.isoformat() for d in sorted(outcome.window)],
            "changes": [dict(zip(CHANGES_HEADER, c.row, strict=True)) for c in outcome.changes],
        },
    )
    return rota_id, draft.revision
