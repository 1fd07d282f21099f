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
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from ortools.sat.python import cp_model

from scheduler.horizon import Horizon, Need, Shift

# Objective coefficients are integers: every weight is multiplied by this
# before rounding, so weights per hour become exact per-minute coefficients.
SCALE = 60

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


class RotaModel:
    """Variables of the rota and the bookkeeping the rules share."""

    def __init__(self, horizon: Horizon, *, explain: bool = False) -> None:
        self.horizon = horizon
        self.bundle = horizon.bundle
        self.explain = explain
        self.model = cp_model.CpModel()
        self.x: dict[Key, cp_model.IntVar] = {}
        self.fills: dict[int, list[cp_model.IntVar]] = defaultdict(list)  # need -> y vars
        self.fill_of: dict[Key, list[tuple[Need, cp_model.IntVar]]] = {}
        self.guards: list[tuple[cp_model.IntVar, Guard]] = []
        self.penalties: list[PenaltyTerm] = []
        self._create_assignment_vars()

    # -- variables ---------------------------------------------------------------

    def _create_assignment_vars(self) -> None:
        """One x per (person, date, session, site) with a fitting need; one y per fitting need."""
        needs_by_slot: dict[tuple[dt.date, str, str], list[Need]] = defaultdict(list)
        for need in self.horizon.needs:
            needs_by_slot[(need.date, need.session_id, need.site_id)].append(need)
        for person in self.horizon.staff:
            for (day, session_id, site_id), needs in needs_by_slot.items():
                if not person.may_work_at(site_id):
                    continue
                fitting = [n for n in needs if n.admits(person)]
                if fitting:
                    self._add_candidate((person.staff_id, day, session_id, site_id), fitting)

    def _add_candidate(self, key: Key, needs: list[Need]) -> None:
        staff_id, day, session_id, site_id = key
        x = self.model.new_bool_var(f"x_{staff_id}_{day:%m%d}_{session_id}_{site_id}")
        self.x[key] = x
        if len(needs) == 1:
            pairs = [(needs[0], x)]
        else:  # which row it fills is decided by the rule ``fill_a_demand_row``
            pairs = [(n, self.model.new_bool_var(f"y_{staff_id}_{n.index}")) for n in needs]
        self.fill_of[key] = pairs
        for need, y in pairs:
            self.fills[need.index].append(y)

    # -- lookups the rules share --------------------------------------------------

    def keys_of(self, staff_id: str) -> list[Key]:
        return self._keys_by_staff.get(staff_id, [])

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
        return self.shift(key).minutes

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

    def penalise(
        self, rule_id: str, label: str, subject: str, coefficient: float, var: cp_model.IntVar
    ) -> None:
        """Record a soft-rule term; the objective is built from these in one place."""
        if round(coefficient * SCALE) != 0:
            self.penalties.append(PenaltyTerm(rule_id, label, subject, coefficient, var))

    def objective(self) -> None:
        self.model.minimize(sum(round(t.coefficient * SCALE) * t.var for t in self.penalties))
