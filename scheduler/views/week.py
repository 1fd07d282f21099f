"""A network's week as its pages load it: the bundle, the rotas, the one shown, coverage.

The bundle of an import and the coverage of a rota are remembered across
requests (a few of each), keyed so that a new import or a changed rota is
never served stale."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.checks.fixes import CoverContext
from scheduler.checks.validator import CoverageLine, coverage_of
from scheduler.domain import (
    Assignment,
    Bundle,
    iso_week_label,
    parse_iso_week,
)
from scheduler.storage.events import absences, demand_changes, with_availability, with_events
from scheduler.storage.models.network import AssignmentRecord, NetworkRecord, RotaRecord
from scheduler.storage.repository import NetworkLookupError, approved_leave, load_bundle
from scheduler.storage.rotas import RotaInfo, normalise_week, week_rotas

SHOWN_STATES = ("draft", "published")  # the states a week page can show (``?state=``)

# --------------------------------------------------------------------------- weeks


def week_label(text: str) -> str:
    """``2026-w49`` -> ``2026-W49``; ValueError naming the expected form otherwise."""
    return normalise_week(text)


def neighbour_weeks(week: str) -> tuple[str, str]:
    """The weeks before and after, for the previous/next links."""
    monday = parse_iso_week(week)[0]
    step = dt.timedelta(days=7)
    return iso_week_label(monday - step), iso_week_label(monday + step)


# --------------------------------------------------------------------------- stored rotas


def pick_rota(rotas: Sequence[RotaInfo], state: str | None) -> RotaInfo | None:
    """The rota a page shows: the one in ``state``, else the draft, else the published one."""
    wanted = (state,) if state else SHOWN_STATES
    for choice in wanted:
        found = next((r for r in rotas if r.state == choice), None)
        if found is not None:
            return found
    return None


def rota_assignments(session: Session, rota_id: int) -> list[Assignment]:
    """A rota's assignments, sorted; plain column rows, as a large rota has thousands."""
    columns = (
        AssignmentRecord.date,
        AssignmentRecord.session_id,
        AssignmentRecord.site_id,
        AssignmentRecord.staff_id,
    )
    rows = session.execute(select(*columns).where(AssignmentRecord.rota_id == rota_id))
    return sorted(Assignment(*row) for row in rows)


Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")
BundleKey = tuple[str, int, dt.datetime]  # database, network id, import time


class Recent(Generic[Key, Value]):
    """The few most recently used results, shared by the app's threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Key, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Value | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Key, value: Value) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


# A bundle changes only when its network is imported again, which sets a new
# ``imported_at``: that time in the key keeps a remembered bundle current.
BUNDLES: Recent[BundleKey, Bundle] = Recent(8)
# The same rota of the same bundle always has the same coverage: keyed by content.
# (import, week, demand changes, number of assignments, their hash): a rota of thousands of
# cells is hashed once per page (``Week.fingerprint``), not at each look-up. The week is in
# the key: two weeks can hold the same assignments (none, say) and still differ in coverage.
CoverageKey = tuple[BundleKey, str, tuple[int, ...], int, int]
COVERAGE: Recent[CoverageKey, tuple[CoverageLine, ...]] = Recent(16)


# A rota's assignments change only with its revision: every edit bumps it in the transaction
# that writes the cells, and a new plan is a new rota.  (database, rota id, created, revision)
# therefore names one content, read from the database once and hashed once.
RotaKey = tuple[str, int, dt.datetime, int]
ROTA_CELLS: Recent[RotaKey, tuple[tuple[Assignment, ...], int]] = Recent(16)


def shown_cells(session: Session, rota: RotaInfo) -> tuple[tuple[Assignment, ...], int]:
    """The rota's assignments, sorted, and their hash (remembered per revision).

    Read on a miss, then remembered only if the revision is still the one the
    header said after the read: a commit landing between the two reads (read
    committed, as PostgreSQL has it) would otherwise be filed under the old one.
    """
    key = (str(session.get_bind().engine.url), rota.id, rota.created_at, rota.revision)
    found = ROTA_CELLS.get(key)
    if found is not None:
        return found
    cells = tuple(rota_assignments(session, rota.id))
    read = (cells, hash(cells))
    if session.scalar(select(RotaRecord.revision).where(RotaRecord.id == rota.id)) == rota.revision:
        ROTA_CELLS.put(key, read)
    return read


def stored_bundle(session: Session, network_id: int) -> tuple[BundleKey, Bundle]:
    """The network's bundle as imported, without reloading 2,000 rows for every page.

    Only what the import wrote is remembered: leave approved in the app
    changes without a new import, so ``load_week`` adds it afresh each time.
    """
    network = session.get(NetworkRecord, network_id)
    if network is None:
        raise NetworkLookupError(f"no network with id {network_id}")
    key = (str(session.get_bind().engine.url), network_id, network.imported_at)
    bundle = BUNDLES.get(key)
    if bundle is None:
        bundle = load_bundle(session, network.name)
        BUNDLES.put(key, bundle)
    return key, bundle


def current_network(session: Session, network_id: int) -> Bundle:
    """The network's bundle as plans and checks use it (``storage.events.current_bundle``:
    approved leave, current absences and demand changes, availability answers), from the
    remembered import."""
    _, imported = stored_bundle(session, network_id)
    bundle = with_events(
        dataclasses.replace(imported, leave=imported.leave + approved_leave(session, network_id)),
        absences(session, network_id, current_only=True),
        demand_changes(session, network_id, current_only=True),
    )
    return with_availability(session, network_id, bundle)


@dataclass(frozen=True)
class Week:
    """A network's week as its pages see it: the bundle, its rotas and the one shown."""

    network_id: int
    label: str
    dates: tuple[dt.date, ...]
    source: BundleKey  # which import of the network ``bundle`` is
    bundle: Bundle  # as imported plus approved leave and events: what ``rotapool export`` checks
    rotas: tuple[RotaInfo, ...]
    shown: RotaInfo | None
    assignments: tuple[Assignment, ...]
    changes: tuple[int, ...] = ()  # the week's demand changes in force (coverage depends on them)
    content: int | None = None  # hash(assignments) when already known (``shown_cells``)

    @functools.cached_property
    def fingerprint(self) -> CoverageKey:
        """What the shown rota's coverage depends on, hashed once."""
        return (
            self.source,
            self.label,
            self.changes,
            len(self.assignments),
            hash(self.assignments) if self.content is None else self.content,
        )


def load_week(session: Session, network_id: int, week: str, state: str | None) -> Week:
    """Everything a week page needs, read in one transaction."""
    label = week_label(week)
    source, imported = stored_bundle(session, network_id)
    approved = approved_leave(session, network_id)
    dates = parse_iso_week(label)
    found_changes = demand_changes(session, network_id, dates, current_only=True)
    bundle = with_events(
        dataclasses.replace(imported, leave=imported.leave + approved),
        absences(session, network_id, dates, current_only=True),
        found_changes,
    )
    bundle = with_availability(session, network_id, bundle, dates)
    rotas = week_rotas(session, network_id, label)
    shown = pick_rota(rotas, state)
    assignments, content = shown_cells(session, shown) if shown else ((), hash(()))
    return Week(
        network_id=network_id,
        label=label,
        dates=dates,
        source=source,
        bundle=bundle,
        rotas=tuple(rotas),
        shown=shown,
        assignments=assignments,
        changes=tuple(sorted(c.id for c in found_changes)),
        content=content,
    )


def week_coverage(week: Week) -> tuple[CoverageLine, ...]:
    """The validator's coverage of the shown rota (leave plays no part in coverage)."""
    key = week.fingerprint
    coverage = COVERAGE.get(key)
    if coverage is None:
        coverage = coverage_of(week.bundle, week.dates, week.assignments)
        COVERAGE.put(key, coverage)
    return coverage


# "Who could fill this gap?" indexes the whole rota: built once per rota shown. Unlike
# coverage it depends on leave, absences and "cannot" answers (nobody on leave or unavailable
# is offered): they are in the key.
CoverKey = tuple[CoverageKey, int]
COVER: Recent[CoverKey, CoverContext] = Recent(4)


def week_cover(week: Week) -> CoverContext:
    """The shown rota indexed for the board's panel and the moves it offers (remembered)."""
    key = (week.fingerprint, hash((week.bundle.leave, week.bundle.preferences)))
    found = COVER.get(key)
    if found is None:
        found = CoverContext(week.bundle, week.dates, week.assignments, week_coverage(week))
        COVER.put(key, found)
    return found
