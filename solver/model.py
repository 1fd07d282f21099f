"""The CP-SAT model of one planning horizon: variables, then rules, then the objective.

Reading order (a table of contents, not a maze):

1. ``RotaModel.__init__`` creates one boolean per (person, date, session, site)
   the person could fill at all, and one per (person, need) saying which
   demand row that assignment fills.
2. ``solver.rules.HARD_RULES`` then ``solver.rules.SOFT_RULES`` each add one
   named rule; soft rules return penalty terms and never touch the objective.
3. ``RotaModel.objective`` is the one place that weighs those terms.

In *explain* mode every hard rule is switched by a literal naming the bundle
row it comes from, so an infeasible bundle can be explained with
``sufficient_assumptions_for_infeasibility``.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ortools.sat.python import cp_model
from ortools.util.python import sorted_interval_list

from scheduler import catalogue
from scheduler.horizon import Horizon, Need, Shift

# Objective coefficients are integers: every weight is multiplied by this
# before rounding, so weights per hour become exact per-minute coefficients.
SCALE = 60
BOOLEAN = sorted_interval_list.Domain(0, 1)

Key = tuple[str, dt.date, str, str]  # staff_id, date, session_id, site_id


@dataclass(frozen=True)
class Guard:
    """The bundle row behind a switchable hard-rule group (explain mode only)."""

    rule_id: str
    file: str
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class PenaltyTerm:
    """One soft-rule cost: ``coefficient * var`` points, named for the breakdown."""

    rule_id: str
    label: str
    subject: str
    coefficient: float
    var: cp_model.IntVar

    @property
    def points(self) -> int:
        """The whole-number objective coefficient (``coefficient`` x ``SCALE``)."""
        return round(self.coefficient * SCALE)


_pausing = threading.Lock()
_paused = {"builds": 0, "was_enabled": False}  # builds under way in any thread


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a model is built.

    Building allocates millions of small objects and no cycles worth
    collecting; the collector's repeated passes over them cost a quarter of
    the build time of a year-long horizon.  Builds may overlap in two threads
    (``construct.models_ahead``): the collector resumes when the last one ends.
    """
    with _pausing:
        if _paused["builds"] == 0:
            _paused["was_enabled"] = gc.isenabled()
            gc.disable()
        _paused["builds"] += 1
    try:
        yield
    finally:
        with _pausing:
            _paused["builds"] -= 1
            if _paused["builds"] == 0 and _paused["was_enabled"]:
                gc.enable()


class RotaModel:
    """Variables of the rota and the bookkeeping the rules share."""

    def __init__(
        self,
        horizon: Horizon,
        *,
        explain: bool = False,
        offered: Callable[[Key], bool] | None = None,
    ) -> None:
        self.horizon = horizon
        self.bundle = horizon.bundle
        self.explain = explain
        self.model = cp_model.CpModel()
        self.x: dict[Key, cp_model.IntVar] = {}
        self.fills: dict[int, list[cp_model.IntVar]] = defaultdict(list)  # need -> y vars
        # Options that fit more than one demand row: which row each fills (y vars).
        self.fill_of: dict[Key, list[tuple[Need, cp_model.IntVar]]] = {}
        self.guards: list[tuple[cp_model.IntVar, Guard]] = []
        self.penalties: list[PenaltyTerm] = []
        # Who works where in the rota the last search step found and hinted: kept so that
        # a final search that finds nothing better still returns a rota.
        self.hinted: dict[Key, bool] | None = None
        # Which options exist at all (None: every one that fits a need).  A repair offers
        # only what may change and what must stay: an option left out is never worked.
        self._offered = offered
        # What a rule works out once and another reuses (``hard_rules._slots_of``).
        self.memo: dict[tuple[str, str], Any] = {}
        self._create_assignment_vars()

    # -- variables ---------------------------------------------------------------

    def _create_assignment_vars(self) -> None:
        """One x per (person, date, session, site) with a fitting need; one y per fitting need.

        Outside explain mode, options a whole-day leave rules out are never
        created (a pinned one is kept, so the pin still meets the leave as a
        conflict to explain).
        """
        needs_by_slot: dict[tuple[dt.date, str, str], list[Need]] = defaultdict(list)
        for need in self.horizon.needs:
            needs_by_slot[(need.date, need.session_id, need.site_id)].append(need)
        pinned = {(f.staff_id, f.date, f.session_id, f.site_id) for f in self.bundle.fixed}
        slots_by_kind: dict[tuple[str, frozenset[str]], list] = {}
        for person in self.horizon.staff:
            kind = (person.role, person.skills)  # people of a kind fit the same rows
            if kind not in slots_by_kind:
                slots_by_kind[kind] = [
                    (slot, fitting)
                    for slot, needs in needs_by_slot.items()
                    if (fitting := [n for n in needs if n.admits(person)])
                ]
            away = set() if self.explain else self.horizon.whole_days_off(person.staff_id)
            self._add_options(person.staff_id, person.sites, slots_by_kind[kind], away, pinned)

    def _add_options(
        self,
        staff_id: str,
        sites: frozenset[str] | None,
        slots: list[tuple[tuple[dt.date, str, str], list[Need]]],
        away: set[dt.date],
        pinned: set[Key],
    ) -> None:
        """One person's options (the innermost loop of the largest models: kept lean)."""
        proto, x, fills, offered = self.model.model_proto, self.x, self.fills, self._offered
        for (day, session_id, site_id), fitting in slots:
            if sites is not None and site_id not in sites:
                continue
            key = (staff_id, day, session_id, site_id)
            if day in away and key not in pinned:
                continue
            if offered is not None and not offered(key):
                continue
            # What ``new_bool_var`` does, without a name and a domain object per call.
            var = cp_model.IntVar(proto).with_domain(BOOLEAN)
            x[key] = var
            if len(fitting) == 1:
                fills[fitting[0].index].append(var)
            else:  # which row it fills is decided by the rule ``fill_a_demand_row``
                pairs = [(n, self.model.new_bool_var(f"y_{staff_id}_{n.index}")) for n in fitting]
                self.fill_of[key] = pairs
                for need, y in pairs:
                    fills[need.index].append(y)

    # -- lookups the rules share --------------------------------------------------

    def keys_of(self, staff_id: str) -> list[Key]:
        return self._keys_by_staff.get(staff_id, [])

    def keys_on(self, staff_id: str, day: dt.date) -> list[Key]:
        """A person's options on one date (long horizons look these up, never scan)."""
        return self._keys_by_staff_day.get((staff_id, day), [])

    @cached_property
    def _keys_by_staff_day(self) -> dict[tuple[str, dt.date], list[Key]]:
        by_day: dict[tuple[str, dt.date], list[Key]] = defaultdict(list)
        for key in self.x:
            by_day[(key[0], key[1])].append(key)
        return dict(by_day)

    def works(self, staff_id: str, day: dt.date) -> cp_model.IntVar | None:
        """A boolean that is true when the person works any session starting that date.

        None when they have no option that day.  Day-based rules (runs of
        working days, days off, weekends) share these, created once each.
        """
        cache_key = (staff_id, day)
        if cache_key in self._works:
            return self._works[cache_key]
        keys = self.keys_on(staff_id, day)
        var: cp_model.IntVar | None = None
        if len(keys) == 1:
            var = self.x[keys[0]]
        elif keys:
            var = self.model.new_bool_var(f"works_{staff_id}_{day:%Y%m%d}")
            options = [self.x[k] for k in keys]
            if self.one_session_a_day(staff_id) and not self.explain:
                self.model.add(var == cp_model.LinearExpr.sum(options))
            else:
                self.model.add_max_equality(var, options)
        self._works[cache_key] = var
        return var

    def one_session_a_day(self, staff_id: str) -> bool:
        """Whether the person may start at most one session a date (a tighter encoding then)."""
        return self._one_a_day[staff_id]

    @cached_property
    def _one_a_day(self) -> dict[str, bool]:
        network = self.bundle.rules.max_sessions_per_day
        return {
            p.staff_id: (p.max_sessions_per_day if p.max_sessions_per_day is not None else network)
            <= 1
            for p in self.horizon.staff
        }

    def most_minutes(self, keys: Iterable[Key]) -> int:
        """The most minutes these options can add up to (one a date when that is the rule)."""
        by_day: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
        for k in keys:
            by_day[(k[0], k[1])].append(self.minutes(k))
        return sum(
            max(m) if self.one_session_a_day(person) else sum(m)
            for (person, _), m in by_day.items()
        )

    @cached_property
    def _works(self) -> dict[tuple[str, dt.date], cp_model.IntVar | None]:
        return {}

    @cached_property
    def _keys_by_staff(self) -> dict[str, list[Key]]:
        """Options per person; the options are all created in ``__init__`` and never change."""
        by_staff: dict[str, list[Key]] = defaultdict(list)
        for key in self.x:
            by_staff[key[0]].append(key)
        return dict(by_staff)

    def shift(self, key: Key) -> Shift:
        return self.horizon.shifts[(key[1], key[2])]

    def minutes(self, key: Key) -> int:
        return self._minutes[(key[1], key[2])]

    @cached_property
    def _minutes(self) -> dict[tuple[dt.date, str], int]:
        return {slot: shift.minutes for slot, shift in self.horizon.shifts.items()}

    # -- expressions (built in one call each: the models get large) ----------------

    def count(self, keys: Iterable[Key]) -> cp_model.LinearExpr:
        """How many of these options are worked."""
        return cp_model.LinearExpr.sum([self.x[k] for k in keys])

    def minutes_worked(self, keys: Iterable[Key]) -> cp_model.LinearExpr:
        """Minutes worked in these options."""
        keys = list(keys)
        return cp_model.LinearExpr.weighted_sum(
            [self.x[k] for k in keys], [self.minutes(k) for k in keys]
        )

    # -- guards (explain mode) ------------------------------------------------------

    def guard(self, rule_id: str, file: str, row: int, column: str, message: str) -> list:
        """Literals enforcing a hard-rule group: none normally, one assumption in explain mode."""
        if not self.explain:
            return []
        literal = self.model.new_bool_var(f"guard_{len(self.guards)}_{rule_id}")
        self.guards.append((literal, Guard(rule_id, self.bundle.label(file), row, column, message)))
        return [literal]

    def add_guarded(self, constraint: cp_model.Constraint, literals: list) -> None:
        if literals:
            constraint.only_enforce_if(literals)

    # -- objective ------------------------------------------------------------------

    @cached_property
    def always(self) -> cp_model.IntVar:
        """A variable fixed at 1, for a penalty no rota can avoid."""
        return self.model.new_constant(1)

    def matters(self, weight: float) -> bool:
        """Whether a goal is weighed at all: a goal weighted 0 adds no variables."""
        return weight != 0

    def at_least_zero(self, var: cp_model.IntVar, expr: cp_model.LinearExprT) -> None:
        """``var = max(0, expr)`` exactly, not just ``>=``.

        A penalty variable bounded from one side only is tight at an optimum but
        may sit above its true value in a rota found along the way (or given as
        a hint), and a reported objective must be the rota's real cost.
        """
        self.model.add_max_equality(var, [expr, 0])

    def penalise(
        self,
        rule_id: str,
        subject: str,
        coefficient: float,
        var: cp_model.IntVar,
        detail: str | None = None,
    ) -> None:
        """Record a soft-rule term; the objective is built from these in one place.

        The term is labelled with the catalogue's name of the rule, or with
        ``detail`` when one rule has several kinds of term ("Over contract hours").
        """
        term = PenaltyTerm(rule_id, detail or catalogue.label(rule_id), subject, coefficient, var)
        if term.points != 0:
            self.penalties.append(term)

    def objective(self, terms: list[PenaltyTerm] | None = None) -> None:
        """Minimise these penalty terms (every one when None): the one place weighing them."""
        chosen = self.penalties if terms is None else terms
        self.model.minimize(
            cp_model.LinearExpr.weighted_sum([t.var for t in chosen], [t.points for t in chosen])
        )
