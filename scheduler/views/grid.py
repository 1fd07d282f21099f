"""The rota grid, by site or by person, filtered by role and skill."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scheduler.domain import (
    Assignment,
    Bundle,
    Site,
    Staff,
)
from scheduler.views.heatmap import Column, week_columns

# --------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class GridFilter:
    """The grid's filters; None = no filter."""

    role: str | None = None
    skill: str | None = None
    site: str | None = None

    @property
    def narrows_people(self) -> bool:
        return self.role is not None or self.skill is not None

    def admits(self, person: Staff) -> bool:
        """Whether the person has the role and the skill asked for."""
        role_ok = self.role is None or person.role == self.role
        return role_ok and (self.skill is None or self.skill in person.skills)


@dataclass(frozen=True)
class Placement:
    """One person in one session at one site, as a grid cell shows it."""

    date: dt.date
    session_id: str
    site_id: str
    staff_id: str
    name: str
    role: str
    home_site: str

    @property
    def borrowed(self) -> bool:
        """Working away from their home site: the network lends them here."""
        return self.home_site != self.site_id


def placements(
    bundle: Bundle, assignments: Iterable[Assignment], flt: GridFilter
) -> list[Placement]:
    """Assignments of people the filter admits, with their names, sorted by name."""
    staff = {p.staff_id: p for p in bundle.staff}
    out = []
    for a in assignments:
        person = staff.get(a.staff_id)
        if person is None or not flt.admits(person):
            continue
        out.append(
            Placement(
                a.date,
                a.session_id,
                a.site_id,
                a.staff_id,
                person.name,
                person.role,
                person.home_site,
            )
        )
    return sorted(out, key=lambda p: (p.name, p.staff_id))


def filter_options(bundle: Bundle) -> tuple[list[str], list[str]]:
    """The roles and skills the filter selects offer: those somebody on the staff has."""
    roles = sorted({p.role for p in bundle.staff})
    skills = sorted({skill for p in bundle.staff for skill in p.skills})
    return roles, skills


@dataclass(frozen=True)
class SiteGridRow:
    """One session of the week with who is at each shown site."""

    column: Column
    cells: tuple[tuple[Placement, ...], ...]  # one per shown site, in site order


def site_grid(
    bundle: Bundle, dates: Sequence[dt.date], assignments: Iterable[Assignment], flt: GridFilter
) -> tuple[list[Site], list[SiteGridRow]]:
    """Rows: the week's sessions; columns: the sites (or the one chosen); cells: who is there.

    With a role or skill filter, sessions where nobody matching works are left out.
    """
    sites = [s for s in bundle.sites if flt.site is None or s.site_id == flt.site]
    slots: dict[tuple[dt.date, str, str], list[Placement]] = defaultdict(list)
    for placed in placements(bundle, assignments, flt):
        slots[(placed.date, placed.session_id, placed.site_id)].append(placed)
    rows = []
    for column in week_columns(bundle, dates):
        cells = tuple(
            tuple(slots.get((column.date, column.session_id, s.site_id), ())) for s in sites
        )
        if flt.narrows_people and not any(cells):
            continue
        rows.append(SiteGridRow(column, cells))
    return sites, rows


@dataclass(frozen=True)
class PersonRow:
    """One person's week: their sessions on each date."""

    person: Staff
    days: tuple[tuple[Placement, ...], ...]  # one per date of the week

    @property
    def sessions(self) -> int:
        return sum(len(day) for day in self.days)


def shows_at_site(person: Staff, week: Sequence[Placement], site_id: str | None) -> bool:
    """With a site chosen, a person's row shows when they are based or work there."""
    if site_id is None or person.home_site == site_id:
        return True
    return any(p.site_id == site_id for p in week)


def person_grid(
    bundle: Bundle, dates: Sequence[dt.date], assignments: Iterable[Assignment], flt: GridFilter
) -> tuple[list[dt.date], list[PersonRow]]:
    """Rows: the people the filter admits; columns: the dates with sessions; cells: session at site.

    With a site chosen, the people based there or working there this week.
    """
    days = sorted({column.date for column in week_columns(bundle, dates)})
    starts = {s.session_id: s.start for s in bundle.session_types}
    mine: dict[str, list[Placement]] = defaultdict(list)
    for placed in placements(bundle, assignments, flt):
        mine[placed.staff_id].append(placed)
    rows = []
    for person in sorted(bundle.staff, key=lambda p: (p.name, p.staff_id)):
        week = sorted(
            mine.get(person.staff_id, []), key=lambda p: starts.get(p.session_id, dt.time.max)
        )
        if flt.admits(person) and shows_at_site(person, week, flt.site):
            rows.append(
                PersonRow(person, tuple(tuple(p for p in week if p.date == d) for d in days))
            )
    return days, rows
