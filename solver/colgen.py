"""A lower bound from the linear programme over personal schedules (column generation).

Nearly every hard rule concerns one person and cover is a goal, so a rota is
one valid personal schedule per person, and its cost is each schedule's own
cost (preferences, hours, fairness, home site, cost...) plus the cover cost
of how many people each need gets.  The linear relaxation over whole
schedules (one column per valid schedule, each person choosing a convex
combination of theirs) is far tighter than the relaxation over assignment
literals that CP-SAT proves its bound with.

The master LP (GLOP) has, per person, a row choosing one schedule; per need,
a row counting the people it gets, whose count pays the product's own cover
goals as slack variables (each one short of ``min``, short of ``target``,
over ``target``, with the weights of ``solver.soft_rules``).  Its duals
price a fill of each need; each person's pricing problem is their own
``RotaModel`` (the rule registry applied to them alone, as in
``solver.construct``) minimising their own cost minus the price of the fills.

The bound is the Lagrangian dual function at the prices of each round:
``L(p) = sum over people of min(own cost - p.fills) + sum over needs of
min over counts c of (cover cost(c) + p c)``, with each person's minimum
replaced by CP-SAT's proven bound on it.  That is a valid lower bound for
*any* prices, so it holds at every round, when a pricing search stops at
its time limit, and whatever the LP's rounding; with the LP's exact duals it
is the Farley-Lasdon bound ``z_RMP + sum min(0, reduced cost)``, and it
meets the LP's value once no person has a schedule of negative reduced
cost.  The best bound of any round is returned.  Prices are smoothed
towards the best prices so far (Wentges), which shortens the tail.

What is left out keeps the bound valid, because only non-negative costs
and constraints are dropped: the network-wide goals (enhanced access,
practices' hub-duty fairness, distinct clinicians per site: each a
non-negative penalty while its weight is, which ``colgen_bound`` checks) are
not counted, and rooms (the one cross-person hard rule besides pins, which
stay in their person's model) are relaxed.  A need nobody can fill costs its
whole shortfall in every rota and is added as a constant.  Every rota's
objective is a whole multiple of the greatest common divisor of its terms'
points, so the bound is rounded up to one.

Used by ``rotapool bench curtois --colgen SECONDS`` (``scheduler.bench``), and by
``solver.guided``, whose first rota follows the LP's solution.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from scheduler.domain import Staff
from scheduler.horizon import Horizon
from solver.construct import person_bundle, residual_needs
from solver.model import SCALE, Key, PenaltyTerm, RotaModel, gc_paused
from solver.result import SolveOptions
from solver.rules import HARD_RULES, SOFT_RULES

COVER_RULES = frozenset({"min_cover", "target_cover", "over_target"})
PRICE_STEPS = 16  # a fill's price is rounded to 1/16 of an objective point
SMOOTHING = 0.5  # weight of the best prices so far in the prices of the next round
MIN_PRICING_SECONDS = 0.2  # the least one person's pricing search is given
PRICING_WORKERS = 2
TOLERANCE = 1e-6
WARM_UP_PEOPLE = 16  # from this many people on, a warm-up prices a batch at a time
WARM_UP_BATCHES = 8
WARM_UP_GAIN = 0.05  # the warm-up ends when a pass lowers the LP's value less than this
WARM_UP_SHARE = 0.5  # or when it has had this share of the time left
COLUMNS_PER_PRICING = 5  # the last (best) schedules a pricing search found, all offered


@dataclass(frozen=True)
class CoverCost:
    """A need's cover goals in objective points, as ``solver.soft_rules`` weighs them.

    ``cap`` is how many people could fill the need at all; ``over`` is zero
    when no rota can put more than ``target`` on it (the model adds no term).
    """

    need: int
    min: int
    target: int
    cap: int
    short_min: int
    short_target: int
    over: int

    def at(self, count: float) -> float:
        """The cover cost of ``count`` people on this need (piecewise linear and convex)."""
        return (
            self.short_min * max(0.0, self.min - count)
            + self.short_target * max(0.0, self.target - count)
            + self.over * max(0.0, count - self.target)
        )

    def least_with_price(self, price: float) -> float:
        """``min over 0 <= c <= cap of at(c) + price c``: at a breakpoint, the cost is convex."""
        counts = {0, self.cap, min(self.min, self.cap), min(self.target, self.cap)}
        return min(self.at(c) + price * c for c in counts)

    @property
    def grain(self) -> int:
        """The greatest common divisor of its costs (0 when it has none)."""
        return math.gcd(self.short_min, self.short_target, self.over)

    @property
    def first_fill(self) -> float:
        """What the first person on the need saves (a starting price)."""
        return self.at(0) - self.at(1) if self.cap else 0.0

    @property
    def matters(self) -> bool:
        """Whether the people's choices change this need's cost (one nobody can fill costs
        ``at(0)`` whatever they do)."""
        return self.cap > 0 and (self.short_min or self.short_target or self.over) > 0


def cover_costs(horizon: Horizon) -> dict[int, CoverCost]:
    """Each need's cover goals, weighed exactly as ``cover_minimum``, ``cover_target`` and
    ``avoid_overstaffing`` weigh them (``tests/test_colgen.py`` holds them to it)."""
    needs, weights = horizon.needs, horizon.bundle.weights
    lightest = min((n.demand.weight for n in needs), default=1.0)
    heaviest = max((n.demand.weight for n in needs), default=1.0)
    away = {p.staff_id: horizon.whole_days_off(p.staff_id) for p in horizon.staff}
    out = {}
    for need in needs:
        cap = sum(
            1
            for p in horizon.staff
            if need.admits(p)
            and (p.sites is None or need.site_id in p.sites)
            and need.date not in away[p.staff_id]
        )
        row = need.demand
        short_min = _points(weights.min_cover * row.weight / lightest) if row.min else 0
        short_target = _points(weights.target_cover * row.weight / heaviest) if row.target else 0
        over = _points(weights.over_target) if cap > row.target else 0
        out[need.index] = CoverCost(
            need.index, row.min, row.target, cap, short_min, short_target, over
        )
    return out


def _points(coefficient: float) -> int:
    """A weight as whole objective points, rounded as ``PenaltyTerm.points`` rounds it."""
    return round(coefficient * SCALE)


@dataclass(frozen=True)
class Column:
    """One person's valid schedule: its own cost in points and the needs it fills."""

    staff_id: str
    cost: int
    fills: tuple[int, ...]
    keys: tuple[Key, ...]


class NoScheduleError(RuntimeError):
    """A person has no valid schedule at all: no rota exists, and no bound is needed."""


class Pricer:
    """One person's schedules as a CP-SAT model, searched again at each round's prices."""

    def __init__(self, horizon: Horizon, person: Staff, options: SolveOptions) -> None:
        self.staff_id = person.staff_id
        self.options = options
        part = Horizon(person_bundle(horizon.bundle, person), horizon.dates)
        part.needs = residual_needs(horizon.needs, {}, person)
        self.m = RotaModel(part)
        with gc_paused():  # the registry's rules, the cover goals left to the master
            for rule in HARD_RULES:
                rule.apply(self.m)
            for rule in SOFT_RULES:
                if rule.rule_id not in COVER_RULES:
                    rule.apply(self.m)
        self.own: list[PenaltyTerm] = list(self.m.penalties)
        self.fills = {i: list(ys) for i, ys in self.m.fills.items() if ys}
        self.last: Column | None = None

    def price(self, prices: dict[int, int], seconds: float) -> tuple[list[Column], float]:
        """Schedules found at these prices (in 1/``PRICE_STEPS`` points per fill), best last,
        and a proven lower bound, in points, on ``own cost - price of the fills`` over every
        schedule of the person.
        """
        variables, coefficients = [], []
        for t in self.own:
            variables.append(t.var)
            coefficients.append(t.points * PRICE_STEPS)
        for i, ys in self.fills.items():
            if prices.get(i):
                variables += ys
                coefficients += [-prices[i]] * len(ys)
        self.m.model.minimize(cp_model.LinearExpr.weighted_sum(variables, coefficients))
        self._hint()
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = min(self.options.workers, PRICING_WORKERS)
        solver.parameters.random_seed = self.options.seed
        if self.options.workers == 1:  # deterministic; the full relaxation proves the bound
            solver.parameters.linearization_level = 2
        solver.parameters.max_time_in_seconds = max(MIN_PRICING_SECONDS, seconds)
        collect = _Collector(self)
        status = solver.solve(self.m.model, collect)
        if status == cp_model.INFEASIBLE:
            raise NoScheduleError(f"{self.staff_id} has no schedule that keeps every hard rule")
        bound = solver.best_objective_bound
        if not math.isfinite(bound):  # every fill paid, every cost at its least
            most = [max(v.proto.domain) for v in variables]
            bound = sum(min(0, c * n) for c, n in zip(coefficients, most, strict=True))
        if collect.found:
            self.last = collect.found[-1]
        return collect.found[-COLUMNS_PER_PRICING:], bound / PRICE_STEPS

    def _hint(self) -> None:
        """The last schedule found starts the next search (a column is never lost)."""
        self.m.model.clear_hints()
        if self.last is not None:
            worked = set(self.last.keys)
            for key, var in self.m.x.items():
                self.m.model.add_hint(var, key in worked)

    def column(self, values: cp_model.CpSolverSolutionCallback) -> Column:
        """The schedule of the solution at hand."""
        cost = sum(t.points * values.value(t.var) for t in self.own)
        fills = tuple(sorted(i for i, ys in self.fills.items() if any(values.value(y) for y in ys)))
        keys = tuple(sorted(k for k, var in self.m.x.items() if values.value(var)))
        return Column(self.staff_id, cost, fills, keys)


class _Collector(cp_model.CpSolverSolutionCallback):
    """Every schedule the pricing search finds on its way: more columns for one search."""

    def __init__(self, pricer: Pricer) -> None:
        super().__init__()
        self.pricer = pricer
        self.found: list[Column] = []

    def on_solution_callback(self) -> None:
        self.found.append(self.pricer.column(self))


class Master:
    """The restricted master LP: the columns found so far, each person choosing one."""

    def __init__(self, costs: dict[int, CoverCost], people: Iterable[str]) -> None:
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        self.objective = self.lp.Objective()
        self.link: dict[int, pywraplp.Constraint] = {}
        for i, cover in costs.items():
            self.link[i] = self._need_rows(cover)
        self.choose = {sid: self.lp.Constraint(1, 1) for sid in people}
        self.seen: set[tuple[str, tuple[Key, ...]]] = set()
        self.columns = 0
        self.chosen: list[tuple[Column, pywraplp.Variable]] = []  # each column and its variable
        self.weights: list[float] = []  # each column's weight in the last LP solved

    def _need_rows(self, cover: CoverCost) -> pywraplp.Constraint:
        """``fills - count = 0``, and the count's shortfalls and excess paid as slacks."""
        count = self.lp.NumVar(0, cover.cap, "")
        link = self.lp.Constraint(0, 0)
        link.SetCoefficient(count, -1)
        for weight, sign, level in (
            (cover.short_min, 1, cover.min),
            (cover.short_target, 1, cover.target),
            (cover.over, -1, cover.target),
        ):
            if weight:
                slack = self.lp.NumVar(0, self.lp.infinity(), "")
                self.objective.SetCoefficient(slack, weight)
                row = self.lp.Constraint(sign * level, self.lp.infinity())
                row.SetCoefficient(slack, 1)  # slack >= sign (level - count)
                row.SetCoefficient(count, sign)
        return link

    def add(self, column: Column) -> bool:
        """Add a schedule not seen before; False when it is already there."""
        key = (column.staff_id, column.keys)
        if key in self.seen:
            return False
        self.seen.add(key)
        var = self.lp.NumVar(0, self.lp.infinity(), "")
        self.chosen.append((column, var))
        self.objective.SetCoefficient(var, column.cost)
        self.choose[column.staff_id].SetCoefficient(var, 1)
        for i in column.fills:
            if i in self.link:
                self.link[i].SetCoefficient(var, 1)
        self.columns += 1
        return True

    def add_improving(self, found: Found, duals: Duals | None) -> int:
        """Add the schedules of negative reduced cost at ``duals`` (every one before the first
        LP); how many were new."""
        added = 0
        for columns, _ in found.values():
            for column in columns:
                if duals is None or duals.reduced_cost(column) < -TOLERANCE:
                    added += self.add(column)
        return added

    def worked(self) -> dict[Key, float]:
        """How much of each option the last LP solved works (its schedules' weights summed)."""
        out: dict[Key, float] = defaultdict(float)
        for (column, _), weight in zip(self.chosen, self.weights, strict=False):
            if weight > TOLERANCE:
                for key in column.keys:
                    out[key] += weight
        return dict(out)

    def solve(self) -> tuple[float, Duals]:
        """The LP's value in points and its duals."""
        self.objective.SetMinimization()
        status = self.lp.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            raise RuntimeError(f"the master LP ended with status {status}")
        self.weights = [var.solution_value() for _, var in self.chosen]
        return self.objective.Value(), Duals(
            {i: row.dual_value() for i, row in self.link.items()},
            {sid: row.dual_value() for sid, row in self.choose.items()},
        )


@dataclass(frozen=True)
class Duals:
    """The master's prices: of a fill of each need, and of each person's choosing a schedule."""

    fill: dict[int, float]
    choose: dict[str, float]

    def reduced_cost(self, column: Column) -> float:
        paid = sum(self.fill.get(i, 0.0) for i in column.fills)
        return column.cost - paid - self.choose[column.staff_id]


@dataclass(frozen=True)
class ColgenResult:
    """The bound found, in objective units (points / ``SCALE``), and how it was reached.

    ``bound`` is rounded up to a whole point (every rota's objective is a whole
    number of points); None when no round of pricing finished in time.
    ``lp_value`` is the last master LP's value: the LP bound lies between the two,
    and ``converged`` says they met.  ``worked`` is that LP's solution read as
    options: how much of each one its schedules work, between 0 and 1 (``guided``
    fixes what it settles).
    """

    bound: float | None
    lp_value: float | None
    rounds: int
    columns: int
    converged: bool
    seconds: float
    worked: dict[Key, float] = field(default_factory=dict)


def colgen_bound(
    horizon: Horizon,
    options: SolveOptions,
    seconds: float,
    stop: threading.Event | None = None,
    *,
    max_rounds: int | None = None,
) -> ColgenResult:
    """The best Lagrangian bound of column generation within ``seconds`` (and ``max_rounds``
    rounds of pricing everyone, when given).

    Raises ``NoScheduleError`` when some person has no valid schedule at all, and
    ``ValueError`` when a network-wide goal it leaves out has a negative weight (leaving
    it out could then raise the bound above the optimum).
    """
    _check_left_out(horizon)
    started = time.monotonic()
    deadline = started + seconds
    every = cover_costs(horizon)
    costs = {i: c for i, c in every.items() if c.matters}
    unavoidable = sum(c.at(0) for c in every.values() if c.cap == 0)
    pricing = Pricing(horizon, options)
    master = Master(costs, [p.staff_id for p in horizon.staff])
    prices = {i: c.first_fill for i, c in costs.items()}
    best, best_prices, lp_value, duals = -math.inf, prices, None, None
    rounds, smoothing, grain = 0, 0.0, 1
    while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        if max_rounds is not None and rounds >= max_rounds:
            break
        found = pricing.round(_steps(prices), deadline)
        if found is None:
            break  # the round did not finish: its bound would not hold
        rounds += 1
        grain = math.gcd(pricing.grain(), *(c.grain for c in every.values())) or 1
        bound = unavoidable + _lagrangian(found, costs, _steps(prices))
        if bound > best:
            best, best_prices = bound, prices
        added = master.add_improving(found, duals)
        if duals is not None and not added and smoothing == 0.0:
            break  # no schedule of negative reduced cost at the LP's own prices: LP solved
        lp_value, duals = master.solve()
        if rounds == 1 and len(pricing.people) >= WARM_UP_PEOPLE:
            until = time.monotonic() + WARM_UP_SHARE * (deadline - time.monotonic())
            lp_value, duals = _warm_up(pricing, master, lp_value, duals, until)
        lp_value += unavoidable
        if _whole(best, grain) >= lp_value - TOLERANCE:
            break  # the bound, rounded up, already reaches the LP's value
        smoothing = SMOOTHING if added else 0.0  # after a miss, price at the LP's own duals
        prices = {i: smoothing * best_prices[i] + (1 - smoothing) * duals.fill[i] for i in costs}
    whole = _whole(best, grain)
    return ColgenResult(
        bound=None if best == -math.inf else whole / SCALE,
        lp_value=None if lp_value is None else lp_value / SCALE,
        rounds=rounds,
        columns=master.columns,
        converged=lp_value is not None and whole >= lp_value - TOLERANCE,
        seconds=time.monotonic() - started,
        worked={} if lp_value is None else master.worked(),
    )


def _check_left_out(horizon: Horizon) -> None:
    """The goals the bound leaves out must cost nothing below zero."""
    w = horizon.bundle.weights
    if min(w.enhanced_access, w.practice_fairness, w.distinct_clinicians) < 0:
        raise ValueError("a network-wide goal has a negative weight: no bound is given")


def _warm_up(
    pricing: Pricing, master: Master, value: float, duals: Duals, deadline: float
) -> tuple[float, Duals]:
    """Price a batch of people at a time, the LP solved again after each batch, until a pass
    over everyone lowers the LP's value by less than ``WARM_UP_GAIN`` of itself, or the
    ``deadline`` (a share of the time left) passes.

    Early prices are poor, and a round of many people at one set of them yields columns
    that the next prices make useless; batches follow the LP closely.  Their bounds are
    not Lagrangian bounds (the people are priced at different prices), so the rounds
    after the warm-up, each pricing everyone at one set of prices, give the bound.
    """
    size = math.ceil(len(pricing.people) / WARM_UP_BATCHES)
    batches = [pricing.people[i : i + size] for i in range(0, len(pricing.people), size)]
    while True:
        before = value
        for batch in batches:
            found = pricing.round(_steps(duals.fill), deadline, batch)
            if found is None:
                return value, duals
            master.add_improving(found, duals)
            value, duals = master.solve()
        if before - value <= WARM_UP_GAIN * abs(before):
            return value, duals


def _steps(prices: dict[int, float]) -> dict[int, int]:
    """Prices rounded to whole steps: the Lagrangian bound is then computed exactly."""
    return {i: round(p * PRICE_STEPS) for i, p in prices.items()}


def _whole(points: float, grain: int) -> float:
    """A bound in points rounded up to a multiple of ``grain`` (less a hair for floating error).

    Every rota's objective is a sum of whole multiples of its terms' points, so it is a
    multiple of their greatest common divisor, and so is the least of them.
    """
    return float(grain * math.ceil(points / grain - TOLERANCE * max(1.0, abs(points) / grain)))


class Pricing:
    """Every person's pricer, each built on first use (a build counts against the deadline)."""

    def __init__(self, horizon: Horizon, options: SolveOptions) -> None:
        self.horizon = horizon
        self.options = options
        self.people = list(horizon.staff)
        self.pricers: dict[str, Pricer] = {}

    def grain(self) -> int:
        """The greatest common divisor of the people's own costs built so far (0 for none)."""
        return math.gcd(*(t.points for p in self.pricers.values() for t in p.own))

    def round(
        self, steps: dict[int, int], deadline: float, people: list[Staff] | None = None
    ) -> Found | None:
        """Each person's (everyone's, or these people's) best schedule and proven bound at these
        prices; None past the deadline.

        Each person is given an even share of the time left for everyone.
        """
        found = {}
        batch = self.people if people is None else people
        for n, person in enumerate(batch):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            sid = person.staff_id
            if sid not in self.pricers:
                self.pricers[sid] = Pricer(self.horizon, person, self.options)
            share = left / (len(self.people) - n)
            found[sid] = self.pricers[sid].price(steps, share)
        return found


Found = dict[str, tuple[list[Column], float]]  # per person: schedules found, a proven bound


def _lagrangian(found: Found, costs: dict[int, CoverCost], steps: dict[int, int]) -> float:
    """``L(p)`` in points: the people's proven bounds plus each need's least priced cover cost."""
    people = sum(bound for _, bound in found.values())
    needs = sum(c.least_with_price(steps[i] / PRICE_STEPS) for i, c in costs.items())
    return people + needs
