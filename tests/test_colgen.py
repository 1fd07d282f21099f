"""The column-generation bound: never above a known optimum, equal to it where the LP over
personal schedules is integral by construction, each person's pricing against brute force."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import pytest

from scheduler.bench.curtois_check import evaluate
from scheduler.bench.curtois_format import CurtoisInstance, parse_instance, read_instance
from scheduler.bench.curtois_map import dates_of, to_bundle
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveStatus, colgen, solve
from solver.colgen import (
    COVER_RULES,
    PRICE_STEPS,
    NoScheduleError,
    Pricer,
    colgen_bound,
    cover_costs,
)
from solver.model import SCALE, RotaModel
from solver.rules import build
from tests.test_construct import TINY
from tests.test_solver import WEEK, _two_gp_week

OPTIONS = SolveOptions(time_limit=10, workers=1, seed=3)
INSTANCE1 = Path("/work/shared/benchmarks/curtois_qu/instances") / "Instance1.txt"
TINY_OPTIMUM = 203  # solve() proves it (test_the_tiny_optimum_is_proven)


def _only(text: str, keep: set[str], drop: set[str]) -> str:
    """The instance text without the staff in ``drop`` (their rows, leave and requests)."""
    lines = [line for line in text.splitlines() if line.split(",")[0] not in drop]
    assert keep.isdisjoint(drop)
    return "\n".join(lines) + "\n"


def _horizon(instance: CurtoisInstance) -> Horizon:
    return Horizon(to_bundle(instance), dates_of(instance))


def _brute_force(instance: CurtoisInstance, staff_id: str) -> list[tuple[dict, int, int]]:
    """Every valid schedule of a one-person instance: (roster, objective, own requests cost)."""
    out = []
    for shifts in itertools.product("-DN", repeat=instance.horizon):
        roster = {(staff_id, d): s for d, s in enumerate(shifts) if s != "-"}
        verdict = evaluate(instance, roster)
        if verdict.ok:
            out.append((roster, verdict.objective, verdict.on_requests + verdict.off_requests))
    return out


def test_the_tiny_optimum_is_proven() -> None:
    result = solve(_horizon(parse_instance(TINY, "Tiny")), OPTIONS)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == TINY_OPTIMUM


def test_cover_costs_are_the_models_own_cover_terms() -> None:
    horizon = _horizon(parse_instance(TINY, "Tiny"))
    bundle = horizon.bundle
    demand = tuple(
        dataclasses.replace(r, target=r.min + i % 2, weight=1.0 + i % 3)
        for i, r in enumerate(bundle.demand)
    )
    weights = dataclasses.replace(bundle.weights, target_cover=7.0, min_cover=90.0)
    horizon = Horizon(dataclasses.replace(bundle, demand=demand, weights=weights), horizon.dates)
    m = build(RotaModel(horizon))
    terms = {
        (t.rule_id, int(t.var.name.rsplit("_", 1)[1])): t.points
        for t in m.penalties
        if t.rule_id in COVER_RULES
    }
    mine = {}
    for i, c in cover_costs(horizon).items():
        assert c.cap == len(m.fills.get(i, []))
        for rule_id, points in (
            ("min_cover", c.short_min),
            ("target_cover", c.short_target),
            ("over_target", c.over),
        ):
            if points:
                mine[(rule_id, i)] = points
    assert mine == terms
    assert {r for r, _ in terms} == COVER_RULES  # every kind of term was compared


@pytest.mark.parametrize("kind", ["zero", "first_fill", "random"])
def test_a_persons_pricing_is_the_brute_force_minimum(kind: str) -> None:
    instance = parse_instance(_only(TINY, {"A"}, {"B", "C"}), "A alone")
    horizon = _horizon(instance)
    index = {(n.date, n.session_id): n.index for n in horizon.needs}
    dates = dates_of(instance)
    rng = random.Random(7)
    if kind == "zero":
        steps = {}
    elif kind == "first_fill":
        steps = {i: round(c.first_fill * PRICE_STEPS) for i, c in cover_costs(horizon).items()}
    else:
        steps = {i: rng.randint(-30 * SCALE, 120 * SCALE) * PRICE_STEPS for i in index.values()}

    def priced(roster: dict, own: int) -> int:
        fills = [index[(dates[d], s)] for (_, d), s in roster.items()]
        return own * SCALE * PRICE_STEPS - sum(steps.get(i, 0) for i in fills)

    best = min(priced(roster, own) for roster, _, own in _brute_force(instance, "A"))
    columns, bound = Pricer(horizon, horizon.staff[0], OPTIONS).price(steps, 10)
    assert bound * PRICE_STEPS == best
    column = columns[-1]  # the best found, last
    assert column.cost * PRICE_STEPS - sum(steps.get(i, 0) for i in column.fills) == best


def test_one_person_the_bound_is_the_optimum() -> None:
    # One person: every count is 0 or 1 and the cover cost is linear there, so the LP
    # chooses one schedule and its value is the integer optimum.
    instance = parse_instance(_only(TINY, {"A"}, {"B", "C"}), "A alone")
    optimum = min(objective for _, objective, _ in _brute_force(instance, "A"))
    result = colgen_bound(_horizon(instance), OPTIONS, 30)
    assert result.converged
    assert result.bound == optimum


def test_people_sharing_no_need_the_bound_is_the_optimum() -> None:
    # A works only nights, B only days: each need has one candidate, as for one person.
    text = _only(TINY, {"A", "B"}, {"C"}).replace("A,D=7|N=7", "A,D=0|N=7")
    horizon = _horizon(parse_instance(text, "Apart"))
    optimum = solve(horizon, OPTIONS)
    assert optimum.status is SolveStatus.OPTIMAL
    result = colgen_bound(horizon, OPTIONS, 30)
    assert result.converged
    assert result.bound == optimum.objective


@pytest.mark.parametrize("rounds", [1, 2, 3, None])
def test_the_bound_of_every_round_stays_below_the_optimum(rounds: int | None) -> None:
    result = colgen_bound(_horizon(parse_instance(TINY, "Tiny")), OPTIONS, 30, max_rounds=rounds)
    assert result.bound is not None
    assert result.bound <= TINY_OPTIMUM
    if rounds is None:  # run to the end, the LP is solved and the bound reaches it
        assert result.converged and result.bound == pytest.approx(result.lp_value)


def test_the_bound_is_deterministic() -> None:
    horizon = _horizon(parse_instance(TINY, "Tiny"))
    first = colgen_bound(horizon, OPTIONS, 30)
    again = colgen_bound(horizon, OPTIONS, 30)
    assert dataclasses.replace(first, seconds=0) == dataclasses.replace(again, seconds=0)


def test_the_product_goals_bound_stays_below_the_hand_computed_optimum() -> None:
    # tests/test_solver.py computes this week's optimum by hand: 5019.8.
    result = colgen_bound(Horizon(_two_gp_week(), WEEK), OPTIONS, 30)
    assert result.bound is not None and result.bound <= 5019.8 + 1e-9
    assert result.converged


def test_a_person_with_no_valid_schedule_means_no_bound() -> None:
    # A must work at least 960 minutes in runs of two, but is on leave on days 1, 3, 5 and 6.
    instance = parse_instance(TINY.replace("B,2\n", "B,2\nA,1,3,5,6\n"), "Stuck")
    with pytest.raises(NoScheduleError):
        colgen_bound(_horizon(instance), OPTIONS, 30)


def test_a_published_instance_is_bounded_below_its_optimum() -> None:
    if not INSTANCE1.is_file():
        pytest.skip(f"{INSTANCE1} is not available")
    result = colgen_bound(_horizon(read_instance(INSTANCE1)), OPTIONS, 60)
    assert result.bound is not None and result.bound <= 607  # proven optimal in the literature


def test_the_warm_up_keeps_the_bound_below_the_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    # The warm-up starts at 16 people; the tiny instance's three get it when the threshold is 1.
    monkeypatch.setattr(colgen, "WARM_UP_PEOPLE", 1)
    monkeypatch.setattr(colgen, "WARM_UP_BATCHES", 3)
    warm_up, calls = colgen._warm_up, []
    monkeypatch.setattr(colgen, "_warm_up", lambda *a: calls.append(1) or warm_up(*a))
    result = colgen_bound(_horizon(parse_instance(TINY, "Tiny")), OPTIONS, 30)
    assert calls == [1]
    assert result.bound is not None and result.bound <= TINY_OPTIMUM
    assert result.converged


def test_no_bound_when_a_goal_left_out_could_pay_back() -> None:
    bundle = _two_gp_week()
    weights = dataclasses.replace(bundle.weights, practice_fairness=-1.0)
    horizon = Horizon(dataclasses.replace(bundle, weights=weights), WEEK)
    with pytest.raises(ValueError, match="negative weight"):
        colgen_bound(horizon, OPTIONS, 30)
