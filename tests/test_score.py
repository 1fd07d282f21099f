"""A rota scored by a model of its own sessions costs what the evaluator says, and a horizon
too large for the full model is planned person by person with the same figures."""

from __future__ import annotations

import time

import pytest

from scheduler.bench.curtois_check import evaluate
from scheduler.bench.curtois_format import parse_instance
from scheduler.bench.curtois_map import dates_of, roster_of, to_bundle
from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveStatus, construct
from solver.construct import Roster, first_schedule, person_bundle, person_model
from solver.model import RotaModel
from solver.score import score_rota
from solver.solve import _solve_by_person, option_count
from tests.test_construct import TINY, _brute_force, _keys, _score, _tiny

OPTIONS = SolveOptions(time_limit=10, workers=1, seed=3)


@pytest.mark.parametrize(
    "shifts",
    [
        {"A": "DD-----", "B": "-D-DD--", "C": "-------"},
        {"A": "N--NNN-", "B": "DD-DD--", "C": "-N--D--"},
        {"A": "-----DD", "B": "D--DD--", "C": "--D----"},
    ],
)
def test_a_scored_rota_costs_what_the_evaluator_says(shifts: dict[str, str]) -> None:
    instance, horizon = _tiny()
    keys = [k for sid, row in shifts.items() for k in _keys(instance, sid, tuple(row))]
    verdict = evaluate(instance, roster_of(instance, [Assignment(*k[1:], k[0]) for k in keys]))
    scored = score_rota(horizon, keys, OPTIONS, 5)
    if not verdict.ok:
        assert scored is None
        return
    assert scored is not None
    m, values = scored
    points = sum(t.points * values.value(t.var) for t in m.penalties) / 60
    assert points == verdict.objective


def test_a_rota_breaking_a_hard_rule_scores_none() -> None:
    instance, horizon = _tiny()
    # C may work at most two shifts and no weekend: three shifts, one on Saturday.
    keys = _keys(instance, "C", ("D", "-", "D", "-", "-", "D", "-"))
    assert score_rota(horizon, keys, OPTIONS, 5) is None


@pytest.mark.parametrize("staff_id", ["A", "B", "C"])
def test_a_first_schedule_keeps_the_persons_rules(staff_id: str) -> None:
    _, horizon = _tiny()
    person = next(p for p in horizon.staff if p.staff_id == staff_id)
    m = person_model(horizon, person, Roster(horizon))
    found = first_schedule(m, OPTIONS, 5)
    assert found is not None
    rota = [Assignment(k[1], k[2], k[3], k[0]) for k, x in m.x.items() if found.value(x)]
    if staff_id == "A":  # A must work 960 minutes; B and C may work nothing (goals aside)
        assert sum(horizon.shifts[(a.date, a.session_id)].minutes for a in rota) >= 960
    assert check_rota(person_bundle(horizon.bundle, person), horizon.dates, rota).ok


def test_a_person_with_no_valid_schedule_has_no_first_schedule() -> None:
    instance = parse_instance(TINY.replace("B,2\n", "B,2\nA,1,3,5,6\n"), "Stuck")
    horizon = Horizon(to_bundle(instance), dates_of(instance))
    m = person_model(horizon, horizon.staff[0], Roster(horizon))
    assert first_schedule(m, OPTIONS, 5) is None


def test_the_option_count_is_the_full_models_without_leave() -> None:
    instance = parse_instance(TINY.replace("B,2\n", ""), "NoLeave")
    horizon = Horizon(to_bundle(instance), dates_of(instance))
    assert option_count(horizon) == len(RotaModel(horizon).x)


def test_a_horizon_planned_person_by_person_alone_is_valid_and_scored_exactly() -> None:
    instance, horizon = _tiny()
    result = _solve_by_person(horizon, OPTIONS, None, None, time.monotonic())
    assert result.status is SolveStatus.FEASIBLE and result.objective is not None
    assert check_rota(horizon.bundle, horizon.dates, result.assignments).ok
    verdict = evaluate(instance, roster_of(instance, list(result.assignments)))
    assert verdict.ok and verdict.objective == result.objective
    assert result.bound == 0.0


def test_a_long_horizons_first_schedule_is_priced_to_the_best(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Horizons past PRICE_FIRST_DAYS take any valid schedule first, then price it.
    monkeypatch.setattr(construct, "PRICE_FIRST_DAYS", 0)
    instance, horizon = _tiny()
    fixed = {"B": _keys(instance, "B", tuple("DD-DD--"))}
    person = next(p for p in horizon.staff if p.staff_id == "A")
    schedule = construct.plan_person(horizon, person, Roster(horizon, dict(fixed)), OPTIONS, 10)
    assert schedule is not None
    best = _brute_force(instance, "A", fixed)
    assert _score(instance, {**fixed, "A": schedule}) == best
