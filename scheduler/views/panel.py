"""The week board's side panel: one cell's needs, who is there, and who could come.

Who could come is the shortfalls page's own answer (``CoverContext``): everyone
the role, skills and sites fit whose week stays within every hard rule with the
session added (or swapped for one they give up).  They are ranked as a
coordinator would: people of the site first, then the shortest journey, the
least extra cost, and whoever has worked least of their contract this week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from scheduler.checks.explain import explain_need
from scheduler.checks.fixes import Candidate, CoverContext, LeftShort
from scheduler.checks.reasons import Slot as NeedSlot
from scheduler.checks.validator import CoverageLine
from scheduler.domain import Assignment, Bundle, SessionType, Site, Staff
from scheduler.money import cents

OFFERS_SHOWN = 8  # per cell; the rest are counted


@dataclass(frozen=True)
class HereNow:
    """Somebody in the cell, and whether an edit may take them out."""

    person: Staff
    cell: Assignment
    pinned: bool
    fixed: bool  # fixed in fixed.csv: the rota must keep it

    @property
    def away(self) -> bool:
        return self.person.home_site != self.cell.site_id


@dataclass(frozen=True)
class Offer:
    """Somebody who could be added to the cell; ``gives_up`` makes it a move."""

    candidate: Candidate
    need: str  # which need of the cell they would meet: ``GP``, ``PN with cytology``
    hours_left: Decimal  # of their weekly maximum, before this session

    @property
    def person(self) -> Staff:
        return self.candidate.person

    @property
    def gives_up(self) -> Assignment | None:
        found = self.candidate.gives_up
        return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Panel:
    site: Site
    session: SessionType
    date: dt.date
    needs: tuple[CoverageLine, ...]
    here: tuple[HereNow, ...]
    offers: tuple[Offer, ...]
    more: int  # people who could come beyond those listed
    rooms_left: int | None
    deferred: bool = False  # who could come is looked for in a request of its own
    why: tuple[str, ...] = ()  # why each short need is short (names leave kinds: staff only)

    @property
    def wants_more(self) -> bool:
        """Whether any need of the cell is under its target: only then are offers looked for."""
        return any(line.assigned < line.target for line in self.needs)


def need_words(line: CoverageLine) -> str:
    who = line.role or "anyone"
    return who if line.skill is None else f"{who} with {line.skill}"


def _hours_left(ctx: CoverContext, person: Staff, day: dt.date) -> Decimal:
    planned = ctx.week_minutes(person, ctx.plan.of(person.staff_id), day) / 60
    return cents(max(Decimal(0), Decimal(str(person.max_hours)) - planned))


def _offers(ctx: CoverContext, lines: Sequence[CoverageLine], site_id: str) -> list[Offer]:
    """Everyone who could meet a need of the cell that is under target, best first, once."""
    needs = ctx.needs()
    found: dict[str, Offer] = {}
    # The most pressing need first: a person who fits two needs is offered for the shorter.
    for line in sorted(lines, key=lambda x: (-x.shortfall, x.assigned - x.target)):
        if line.assigned >= line.target:
            continue
        need = needs.get((line.date, line.demand_row))
        if need is None:
            continue
        for c in ctx.candidates(need):
            if c.person.staff_id in found or len(c.gives_up) > 1:
                continue
            hours = _hours_left(ctx, c.person, line.date)
            found[c.person.staff_id] = Offer(c, need_words(line), hours)

    def rank(o: Offer) -> tuple[object, ...]:
        c = o.candidate
        cost = c.extra_cost
        used = Decimal(1) - o.hours_left / Decimal(str(max(o.person.max_hours, 1)))
        return (
            bool(c.leaves_short),
            o.person.home_site != site_id,
            c.travel_minutes,
            cost is None,
            cost or Decimal(0),
            used,
            o.person.name,
        )

    return sorted(found.values(), key=rank)


def _why_short(ctx: CoverContext, lines: Sequence[CoverageLine]) -> tuple[str, ...]:
    """For each short need of the cell, why nobody else is there: the shortfalls page's
    headline ("2 of 5 GP on leave, ..."), in the words managers and coordinators see."""
    needs = ctx.needs()
    found = []
    for line in lines:
        need = needs.get((line.date, line.demand_row))
        if not line.shortfall or need is None:
            continue
        shift = ctx.horizon.shifts[(need.date, need.session_id)]
        note = explain_need(
            NeedSlot(ctx.horizon, ctx.plan, need, shift), line.assigned, line.shortfall
        )
        causes = note.private_causes or note.private_reasons
        if causes:
            found.append(f"{need_words(line)}: {'; '.join(causes)}")
    return tuple(found)


def cell_panel(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Sequence[Assignment],
    coverage: Sequence[CoverageLine],
    *,
    pinned: frozenset[Assignment],
    slot: tuple[dt.date, str, str],
    ctx: CoverContext | None = None,
    defer: bool = False,
) -> Panel:
    """The panel of one cell (date, site, session) of the shown rota; ``ctx`` is the rota
    indexed already (``views.week.week_cover``), else it is indexed here. ``defer`` leaves who
    could come (and the rooms left) to a request of its own: a reply to an edit comes back at
    once and the panel fills in."""
    day, site_id, session_id = slot
    site = next(s for s in bundle.sites if s.site_id == site_id)
    session = next(s for s in bundle.session_types if s.session_id == session_id)
    lines = tuple(
        c for c in coverage if (c.date, c.site_id, c.session_id) == (day, site_id, session_id)
    )
    staff = {p.staff_id: p for p in bundle.staff}
    fixed = {(f.staff_id, f.date, f.session_id, f.site_id) for f in bundle.fixed}
    here = tuple(
        sorted(
            (
                HereNow(
                    staff[a.staff_id],
                    a,
                    a in pinned,
                    (a.staff_id, a.date, a.session_id, a.site_id) in fixed,
                )
                for a in assignments
                if (a.date, a.site_id, a.session_id) == slot and a.staff_id in staff
            ),
            key=lambda h: (h.person.role, h.person.name),
        )
    )
    offers: list[Offer] = []
    rooms: int | None = None
    why: tuple[str, ...] = ()
    wanted = any(line.assigned < line.target for line in lines)
    if wanted and not defer:
        ctx = ctx or CoverContext(bundle, dates, assignments, coverage)
        offers = _offers(ctx, lines, site_id)
        mine = [n for n in ctx.needs().values() if (n.date, n.site_id, n.session_id) == slot]
        rooms = ctx.rooms_left(mine[0]) if mine else None
        why = _why_short(ctx, lines)
    return Panel(
        site,
        session,
        day,
        lines,
        here,
        tuple(offers[:OFFERS_SHOWN]),
        max(0, len(offers) - OFFERS_SHOWN),
        rooms,
        deferred=wanted and defer,
        why=why,
    )


# -- moving someone out of the cell ---------------------------------------------------------


@dataclass(frozen=True)
class MoveChoice:
    """A cell of the week the person could move to, checked against every hard rule."""

    to: Assignment
    site: Site
    session: SessionType
    short: int  # people short of a minimum there now
    travel_minutes: int  # from their home site
    leaves_short: tuple[LeftShort, ...]  # what the cell they leave would then lack


MOVES_SHOWN = 12


def move_choices(ctx: CoverContext, here: Assignment) -> list[MoveChoice]:
    """Cells under target the person fits and could move to without breaking a hard rule:
    people short first, then the same day, then the shortest journey."""
    bundle = ctx.bundle
    person = next(p for p in bundle.staff if p.staff_id == here.staff_id)
    sites = {s.site_id: s for s in bundle.sites}
    sessions = {s.session_id: s for s in bundle.session_types}
    mine = ctx.plan.of(person.staff_id)
    leaves = tuple(ctx.left_short(here))
    seen: set[tuple[dt.date, str, str]] = set()
    found: list[MoveChoice] = []
    for need in ctx.horizon.needs:
        key = (need.date, need.site_id, need.session_id)
        if key in seen or key == (here.date, here.site_id, here.session_id):
            continue
        line = next((x for x in ctx.lines.get(key, []) if x.demand_row == need.demand.row), None)
        if line is None or line.assigned >= line.target:
            continue
        if not need.admits(person) or not person.may_work_at(need.site_id):
            continue
        to = Assignment(need.date, need.session_id, need.site_id, person.staff_id)
        proposed = [a for a in mine if a != here] + [to]
        if to in mine or ctx.rooms_full(need) or ctx.breaks_hard_rule(person, proposed):
            continue
        seen.add(key)
        short = sum(x.shortfall for x in ctx.lines.get(key, []))
        travel = ctx.horizon.travel_minutes(person.home_site, need.site_id)
        found.append(
            MoveChoice(to, sites[need.site_id], sessions[need.session_id], short, travel, leaves)
        )
    found.sort(
        key=lambda m: (
            -m.short,
            m.to.date != here.date,
            m.to.date,
            m.travel_minutes,
            m.site.site_id,
        )
    )
    return found[:MOVES_SHOWN]
