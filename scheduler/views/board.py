"""The week board: every site's own sessions by the days of the week, one compact cell each.

A row is one session type a site runs (or has someone in) during the week, so a
minor injuries unit's 08:00-20:00 day shows as its own row beside a practice's
AM and PM, never squeezed into columns it does not have.  Rows are grouped by
organisation when the network's sites name more than one.  Each cell adds up the
validator's coverage lines of its site, date and session.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from scheduler.checks.validator import CoverageLine
from scheduler.domain import DAY_NAMES, Assignment, Bundle, SessionType, Site, Staff
from scheduler.views.heatmap import cover_status

Slot = tuple[dt.date, str, str]  # date, site, session


@dataclass(frozen=True)
class BoardFilter:
    """What the board narrows to; None = everything.  ``group`` is an organisation."""

    role: str | None = None
    skill: str | None = None
    site: str | None = None
    group: str | None = None

    def admits(self, person: Staff) -> bool:
        """Whether a person shows under the role and skill filters."""
        role_ok = self.role is None or person.role == self.role
        return role_ok and (self.skill is None or self.skill in person.skills)

    def admits_line(self, line: CoverageLine) -> bool:
        """Whether a demand row counts under the role and skill filters."""
        role_ok = self.role is None or line.role in (None, self.role)
        return role_ok and (self.skill is None or line.skill == self.skill)

    @property
    def narrows(self) -> bool:
        return any(v is not None for v in (self.role, self.skill, self.site, self.group))


@dataclass(frozen=True)
class RoleCount:
    """People of one role in a cell, and how many of that role it is short."""

    role: str
    count: int
    short: int = 0

    @property
    def text(self) -> str:
        return f"{self.role}{self.count}" + (f" −{self.short}" if self.short else "")


@dataclass(frozen=True)
class BoardCell:
    """One site's session on one date.

    ``status``: ``short`` (a minimum unmet), ``min`` (minimums met, a target not),
    ``target`` (every target met), ``none`` (the session runs, nobody is asked
    for), ``idle`` (the site does not run this session on this date).
    """

    date: dt.date
    site_id: str
    session_id: str
    status: str
    assigned: int = 0
    target: int = 0
    short: int = 0
    roles: tuple[RoleCount, ...] = ()
    names: tuple[str, ...] = ()  # who is there, "Ann Example GP", for the one-day printout

    @property
    def key(self) -> str:
        """An id for the page: ``P01-2026-12-07-AM`` (site ids hold no spaces)."""
        return f"{self.site_id}-{self.date.isoformat()}-{self.session_id}"

    @property
    def query(self) -> str:
        """The cell as query arguments of the board's links (``cell_site=P01&...``)."""
        return urlencode(
            {
                "cell_site": self.site_id,
                "cell_date": self.date.isoformat(),
                "cell_session": self.session_id,
            }
        )

    @property
    def symbol(self) -> str:
        """The mark that says what the colour says."""
        return {"short": "✗", "min": "◑", "target": "✓", "none": "·"}.get(self.status, "")

    @property
    def count(self) -> str:
        """``✗ 2 short`` is said by ``short_text``; here assigned against the target."""
        if self.status in ("idle", "none"):
            return "" if self.status == "idle" else "no need"
        return f"{self.assigned}/{self.target}"

    @property
    def words(self) -> str:
        """The whole cell for a screen reader or a tooltip."""
        if self.status == "idle":
            return "not run"
        if self.status == "none":
            return f"nobody needed, {self.assigned} here"
        state = {"short": f"{self.short} short of a minimum", "min": "minimum met"}.get(
            self.status, "target met"
        )
        roles = ", ".join(f"{r.count} {r.role}" for r in self.roles if r.count)
        return f"{state}; {self.assigned} of {self.target} wanted" + (
            f" ({roles})" if roles else ""
        )


@dataclass(frozen=True)
class BoardRow:
    """A site's session across the week; ``first`` starts the site's rows."""

    site: Site
    session: SessionType
    cells: tuple[BoardCell, ...]
    first: bool
    span: int


@dataclass(frozen=True)
class BoardGroup:
    """Sites of one organisation (``name`` empty when the network has no groups)."""

    name: str
    rows: tuple[BoardRow, ...]


@dataclass(frozen=True)
class ShortItem:
    """A cell short of a minimum, for the list beside the board."""

    cell: BoardCell
    site_name: str
    session_label: str
    what: str  # ``1 HCA``, ``2 GP with coils``

    @property
    def day(self) -> str:
        return f"{DAY_NAMES[self.cell.date.weekday()]} {self.cell.date.day}"


@dataclass(frozen=True)
class Board:
    dates: tuple[dt.date, ...]
    groups: tuple[BoardGroup, ...]
    short: tuple[ShortItem, ...]

    @property
    def people_short(self) -> int:
        return sum(item.cell.short for item in self.short)

    def cell(self, key: str) -> BoardCell | None:
        for group in self.groups:
            for row in group.rows:
                for cell in row.cells:
                    if cell.key == key:
                        return cell
        return None


def day_heading(day: dt.date) -> str:
    """``Mon 7`` for a column heading."""
    return f"{DAY_NAMES[day.weekday()]} {day.day}"


def _who(line: CoverageLine) -> str:
    who = line.role or "anyone"
    return who if line.skill is None else f"{who} with {line.skill}"


def named(people: Sequence[Staff], twins: frozenset[str]) -> tuple[str, ...]:
    """Who is there, by role then name; a name two people share gets the staff id too."""
    return tuple(
        f"{p.name} {p.role}" + (f" ({p.staff_id})" if p.name in twins else "")
        for p in sorted(people, key=lambda p: (p.role, p.name, p.staff_id))
    )


def build_cell(
    key: Slot,
    lines: Sequence[CoverageLine],
    people: Sequence[Staff],
    runs: bool,
    twins: frozenset[str] = frozenset(),
) -> BoardCell:
    """Add up one slot's coverage lines and the people in it."""
    day, site_id, session_id = key
    present = Counter(p.role for p in people)
    names = named(people, twins)
    if not lines:
        status = "none" if runs or people else "idle"
        roles = tuple(RoleCount(r, n) for r, n in sorted(present.items()))
        return BoardCell(day, site_id, session_id, status, len(people), 0, 0, roles, names)
    short = sum(line.shortfall for line in lines)
    short_by_role: Counter[str] = Counter()
    for line in lines:
        short_by_role[line.role or "any"] += line.shortfall
    status = cover_status(lines)
    wanted = sorted(set(present) | {r for r, n in short_by_role.items() if n})
    roles = tuple(RoleCount(r, present.get(r, 0), short_by_role.get(r, 0)) for r in wanted)
    return BoardCell(
        day,
        site_id,
        session_id,
        status,
        assigned=len(people),
        target=sum(line.target for line in lines),
        short=short,
        roles=roles,
        names=names,
    )


def _groups_of(bundle: Bundle, sites: Iterable[Site]) -> list[tuple[str, list[Site]]]:
    """Sites by organisation, in the bundle's order, when there is more than one."""
    by: dict[str, list[Site]] = defaultdict(list)
    for site in sites:
        by[site.organisation or ""].append(site)
    if len(by) <= 1:
        return [("", [s for group in by.values() for s in group])]
    return list(by.items())


def groups(bundle: Bundle) -> list[str]:
    """The organisations the board can group and filter by (empty: none to choose)."""
    names = [name for name, _ in _groups_of(bundle, bundle.sites)]
    return [n for n in names if n] if len(names) > 1 else []


def _short_item(
    cell: BoardCell, site: Site, session: SessionType, lines: Sequence[CoverageLine]
) -> ShortItem:
    """A short cell for the list beside the board: what it lacks, by role or skill."""
    what = ", ".join(f"{line.shortfall} {_who(line)}" for line in lines if line.shortfall)
    return ShortItem(cell, site.name, session.label, what)


def build_board(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Iterable[Assignment],
    coverage: Iterable[CoverageLine],
    flt: BoardFilter = BoardFilter(),
) -> Board:
    """The board of a week's rota: each site's sessions by date, and what is short."""
    staff = {p.staff_id: p for p in bundle.staff}
    twins = frozenset(n for n, k in Counter(p.name for p in bundle.staff).items() if k > 1)
    lines: dict[Slot, list[CoverageLine]] = defaultdict(list)
    for line in coverage:
        if flt.admits_line(line):
            lines[(line.date, line.site_id, line.session_id)].append(line)
    people: dict[Slot, list[Staff]] = defaultdict(list)
    for a in assignments:
        person = staff.get(a.staff_id)
        if person is not None and flt.admits(person):
            people[(a.date, a.site_id, a.session_id)].append(person)
    # Every session a site runs this week, asked for or worked; all rows of a site keep
    # their own times whatever the filter, so a filtered board does not lose its shape.
    runs = {(d, site, session) for d, site, session in {*lines, *people}}
    runs |= {(line.date, line.site_id, line.session_id) for line in coverage}
    rows_of: dict[str, set[str]] = defaultdict(set)
    for _, site_id, session_id in runs:
        rows_of[site_id].add(session_id)
    sessions = {s.session_id: s for s in bundle.session_types}
    order = sorted(sessions.values(), key=lambda s: (s.start, s.end, s.session_id))
    wanted_sites = [
        s
        for s in bundle.sites
        if (flt.site is None or s.site_id == flt.site)
        and (flt.group is None or (s.organisation or "") == flt.group)
    ]
    built: list[BoardGroup] = []
    short: list[ShortItem] = []
    for name, sites in _groups_of(bundle, wanted_sites):
        rows: list[BoardRow] = []
        for site in sites:
            mine = [s for s in order if s.session_id in rows_of.get(site.site_id, ())]
            for i, session in enumerate(mine):
                cells = []
                for day in dates:
                    key = (day, site.site_id, session.session_id)
                    here = people.get(key, ())
                    cell = build_cell(key, lines.get(key, ()), here, key in runs, twins)
                    cells.append(cell)
                    if cell.short:
                        short.append(_short_item(cell, site, session, lines[key]))
                rows.append(BoardRow(site, session, tuple(cells), i == 0, len(mine)))
        if rows:
            built.append(BoardGroup(name, tuple(rows)))
    short.sort(
        key=lambda item: (item.cell.date, sessions[item.cell.session_id].start, item.cell.site_id)
    )
    return Board(tuple(dates), tuple(built), tuple(short))


# -- the person view ------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonDay:
    """What a person works on one date: ``P01 AM`` and so on."""

    date: dt.date
    places: tuple[tuple[str, str], ...]  # (site, session) in time order
    away: bool  # some of it away from their home site


@dataclass(frozen=True)
class PersonLine:
    person: Staff
    days: tuple[PersonDay, ...]
    sessions: int


def _works_in(worked: Iterable[Assignment], site_ids: set[str]) -> bool:
    return any(a.site_id in site_ids for a in worked)


def person_board(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Iterable[Assignment],
    flt: BoardFilter = BoardFilter(),
) -> list[PersonLine]:
    """People by the days of the week, each day the sites and sessions they work."""
    start = {s.session_id: s.start for s in bundle.session_types}
    mine: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        mine[a.staff_id].append(a)
    site_ids = {
        s.site_id
        for s in bundle.sites
        if (flt.site is None or s.site_id == flt.site)
        and (flt.group is None or (s.organisation or "") == flt.group)
    }
    lines = []
    for person in sorted(bundle.staff, key=lambda p: (p.name, p.staff_id)):
        if not flt.admits(person):
            continue
        worked = sorted(
            mine.get(person.staff_id, []), key=lambda a: (a.date, start.get(a.session_id))
        )
        narrowed = flt.site is not None or flt.group is not None
        if narrowed and person.home_site not in site_ids and not _works_in(worked, site_ids):
            continue
        days = []
        for day in dates:
            today = [(a.site_id, a.session_id) for a in worked if a.date == day]
            away = any(site != person.home_site for site, _ in today)
            days.append(PersonDay(day, tuple(today), away))
        lines.append(PersonLine(person, tuple(days), len(worked)))
    return lines
