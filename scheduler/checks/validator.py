"""The independent validator: the second check of every rota before it is saved or published.

It re-reads the hard rules of the scenario format straight from the bundle
and shares no code with the solver or with ``scheduler.horizon``, so a
mistake in one of them shows up as a disagreement instead of being repeated
here.  It also checks rotas that a manager edited by hand, and says in plain
words which rule an assignment breaks and which bundle row it breaks it
against.  Coverage (who counts towards which need) is computed here too, so
every page and export counts it the same way."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from scheduler.checks.rota_facts import Rota, fits_row
from scheduler.checks.rule_table import RULES
from scheduler.domain import (
    Assignment,
    Bundle,
    DemandRow,
    Staff,
)


@dataclass(frozen=True)
class Violation:
    """One broken hard rule, worded for a manager, with the assignments involved."""

    rule_id: str
    label: str
    message: str
    assignments: tuple[Assignment, ...]


@dataclass(frozen=True)
class CoverageLine:
    """How many people one demand row got on one date, and how many it is short."""

    date: dt.date
    site_id: str
    session_id: str
    role: str | None
    skill: str | None
    min: int
    target: int
    weight: float
    assigned: int
    shortfall: int
    demand_row: int


@dataclass(frozen=True)
class ValidationReport:
    """Every broken hard rule plus the coverage of every demand row in force."""

    violations: tuple[Violation, ...]
    coverage: tuple[CoverageLine, ...]

    @property
    def ok(self) -> bool:
        """A rota may be saved or published only when no hard rule is broken."""
        return not self.violations

    @property
    def shortfall(self) -> int:
        """People missing against every ``min``, the first soft goal a manager reviews."""
        return sum(line.shortfall for line in self.coverage)


# -- coverage -----------------------------------------------------------------------------------


def _augment(row: int, fits: dict[int, list[str]], holder: dict[str, int], seen: set[str]) -> bool:
    """Give a row one more person along an augmenting path; no other row loses a person."""
    for staff_id in fits[row]:
        if staff_id in seen or holder.get(staff_id) == row:
            continue
        seen.add(staff_id)
        previous = holder.get(staff_id)
        if previous is None or _augment(previous, fits, holder, seen):
            holder[staff_id] = row
            return True
    return False


def allocate(rows: Sequence[DemandRow], people: Sequence[Staff]) -> list[int]:
    """People per row, maximising weighted met ``min`` units, then ``target``, then the rest."""
    fits = {i: sorted(p.staff_id for p in people if fits_row(r, p)) for i, r in enumerate(rows)}
    order = sorted(range(len(rows)), key=lambda i: (-rows[i].weight, rows[i].row, i))
    holder: dict[str, int] = {}
    for cap in (lambda r: r.min, lambda r: max(r.min, r.target)):
        for i in order:
            while sum(1 for h in holder.values() if h == i) < cap(rows[i]):
                if not _augment(i, fits, holder, set()):
                    break
    for staff_id in sorted(p.staff_id for p in people):
        home = next((i for i in order if staff_id in fits[i]), None)
        if staff_id not in holder and home is not None:
            holder[staff_id] = home
    return [sum(1 for h in holder.values() if h == i) for i in range(len(rows))]


def _coverage_in(ctx: Rota) -> list[CoverageLine]:
    """One line per demand row in force on each planned date whose session runs then."""
    present: dict[tuple[dt.date, str, str], set[str]] = defaultdict(set)
    for a in ctx.assignments:
        if a.staff_id in ctx.staff:
            present[(a.date, a.site_id, a.session_id)].add(a.staff_id)
    slots = sorted({(d, r.site_id, r.session_id) for d in ctx.dates for r in ctx.bundle.demand})
    lines: list[CoverageLine] = []
    for day, site_id, session_id in slots:
        session = ctx.sessions.get(session_id)
        if session is None or not session.runs_on(day):
            continue
        rows = ctx.rows_in_force(site_id, day, session_id)
        people = [ctx.staff[s] for s in sorted(present[(day, site_id, session_id)])]
        for row, got in zip(rows, allocate(rows, people), strict=True):
            lines.append(_line(day, row, got))
    return lines


def _line(day: dt.date, row: DemandRow, got: int) -> CoverageLine:
    """A coverage line for one demand row on one date."""
    return CoverageLine(
        date=day,
        site_id=row.site_id,
        session_id=row.session_id,
        role=row.role,
        skill=row.skill,
        min=row.min,
        target=row.target,
        weight=row.weight,
        assigned=got,
        shortfall=max(0, row.min - got),
        demand_row=row.row,
    )


def _coverage(ctx: Rota) -> tuple[CoverageLine, ...]:
    """Coverage sorted by date, session start, site and demand row."""
    start = {s.session_id: s.start for s in ctx.bundle.session_types}
    lines = _coverage_in(ctx)
    return tuple(
        sorted(lines, key=lambda c: (c.date, start[c.session_id], c.site_id, c.demand_row))
    )


def coverage_of(
    bundle: Bundle, dates: Sequence[dt.date], assignments: Iterable[Assignment]
) -> tuple[CoverageLine, ...]:
    """How well the rota meets every demand row in force on the given dates."""
    return _coverage(Rota(bundle, dates, assignments))


def check_rota(
    bundle: Bundle, dates: Sequence[dt.date], assignments: Iterable[Assignment]
) -> ValidationReport:
    """Every hard-rule violation of a rota, in rule order, plus its coverage."""
    ctx = Rota(bundle, dates, assignments)
    return ValidationReport(tuple(_breaks(ctx)), _coverage(ctx))


def _breaks(ctx: Rota) -> list[Violation]:
    return [
        Violation(rule_id, label, message, involved)
        for rule_id, label, check in RULES
        for message, involved in check(ctx)
    ]


# -- what a change adds ---------------------------------------------------------------------


def _violation_key(violation: Violation) -> tuple[str, tuple[str, ...] | str]:
    """A broken rule and whom it concerns (the message when no assignment is involved)."""
    people = tuple(sorted({a.staff_id for a in violation.assignments}))
    return violation.rule_id, people or violation.message


def newly_broken(before: Iterable[Violation], after: Iterable[Violation]) -> list[Violation]:
    """Violations of ``after`` that ``before`` did not already have for the same people."""
    known = {_violation_key(v) for v in before}
    return [v for v in after if _violation_key(v) not in known]


def _changed_sites(bundle: Bundle, changed: Collection[Assignment]) -> set[str]:
    """The sites of changed sessions and every site sharing a building with one (rooms)."""
    sites = {a.site_id for a in changed}
    for site_id in list(sites):
        building = bundle.building_of(site_id)
        if building is not None:
            sites |= bundle.sites_in(building.building)
    return sites


def _reach(bundle: Bundle, changed: Collection[Assignment]) -> Callable[[Assignment], bool]:
    """Which assignments a change can bear on: every session of a changed person, and every
    session at a changed site or at a site sharing its building (rooms are shared)."""
    people = {a.staff_id for a in changed}
    sites = _changed_sites(bundle, changed)
    return lambda a: a.staff_id in people or a.site_id in sites


def rule_breaks(
    bundle: Bundle, dates: Sequence[dt.date], rota: Iterable[Assignment]
) -> list[Violation]:
    """Every hard-rule violation of a rota, in rule order, without its coverage."""
    return _breaks(Rota(bundle, dates, rota))


def added_by_change(
    bundle: Bundle,
    dates: Sequence[dt.date],
    before: Collection[Assignment],
    after: Collection[Assignment],
) -> list[Violation]:
    """The hard-rule breaks that changing ``before`` into ``after`` adds, in rule order.

    Every rule judges one person's own sessions or the people in one site's
    (or building's) rooms, so only the changed people and the changed sites
    are checked, before and after, and their verdicts compared: the same
    answer as comparing two whole-rota checks, at the cost of a few people.
    A rota already broken elsewhere can still be mended cell by cell.
    """
    changed = set(before) ^ set(after)
    if not changed:
        return []
    near = _reach(bundle, changed)
    was = [a for a in before if near(a)]
    will = [a for a in after if near(a)]
    # Only the people in reach are judged: a rule about everyone (minimum hours, say) then
    # walks a few people, not the whole network.
    people = {a.staff_id for a in (*was, *will)}
    mine = dataclasses.replace(bundle, staff=tuple(p for p in bundle.staff if p.staff_id in people))
    now = rule_breaks(mine, dates, will)
    if not now:
        return []
    return newly_broken(rule_breaks(mine, dates, was), now)


# -- the report of a rota changed in places ---------------------------------------------------

# Rules judging several people's sessions together (the people in one site's or building's
# rooms); every other rule judges one person's own sessions, or one of them.
CROWD_RULES = frozenset({"rooms"})


def check_after_change(
    bundle: Bundle,
    dates: Sequence[dt.date],
    checked: ValidationReport,
    before: Collection[Assignment],
    after: Collection[Assignment],
) -> ValidationReport:
    """``check_rota(bundle, dates, after)``, worked out from ``checked``, the report of ``before``.

    The people judged again are those a change touches: everyone whose sessions changed
    and everyone working at a changed site or a site sharing its building.  Each is
    judged on their whole rota, and the rooms of the changed sites with everyone in them,
    so those verdicts are exact; every other break of ``checked`` stands, its people's
    sessions and its rooms being as they were.  Coverage is counted afresh.  A repair
    changes a few people of a network: this costs their weeks, not every person's again.
    """
    changed = set(before) ^ set(after)
    coverage = coverage_of(bundle, dates, after)
    if not changed:
        return dataclasses.replace(checked, coverage=coverage)
    near = _reach(bundle, changed)
    sites = _changed_sites(bundle, changed)
    judged = {a.staff_id for a in (*before, *after) if near(a)}
    mine = dataclasses.replace(
        bundle,
        staff=tuple(p for p in bundle.staff if p.staff_id in judged),
        fixed=tuple(f for f in bundle.fixed if f.staff_id in judged),
    )

    def exact(v: Violation) -> bool:
        """Whether judging the touched people settles this break (or its absence)."""
        if any(a.staff_id not in judged for a in v.assignments):
            return False
        return v.rule_id not in CROWD_RULES or all(a.site_id in sites for a in v.assignments)

    ours = [a for a in after if a.staff_id in judged]
    found = [v for v in rule_breaks(mine, dates, ours) if exact(v)]
    # A break naming no session (a pinned session missing) is rejudged when it is one of
    # the touched people's: the same break found among their sessions before the change.
    nameless = {(v.rule_id, v.message) for v in checked.violations if not v.assignments}
    if nameless:
        theirs = [a for a in before if a.staff_id in judged]
        rejudged = {(v.rule_id, v.message) for v in rule_breaks(mine, dates, theirs)}
        nameless &= rejudged
    standing = [
        v
        for v in checked.violations
        if not (exact(v) if v.assignments else (v.rule_id, v.message) in nameless)
    ]
    order = {rule_id: i for i, (rule_id, _, _) in enumerate(RULES)}
    violations = sorted([*standing, *found], key=lambda v: order[v.rule_id])
    return ValidationReport(tuple(violations), coverage)
