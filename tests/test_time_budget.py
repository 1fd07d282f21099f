"""The time limit is the user's whole wait: how it is shared between the model build, the
search steps, the polish and the explanations (``solver/budget.py``), checked on the limits
each step is given, never on the clock."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from scheduler.checks.fixes import shortfall_items
from scheduler.checks.validator import check_rota
from scheduler.domain import Weights
from scheduler.horizon import Horizon
from scheduler.usecases import planning
from solver import SolveOptions, solve
from solver.budget import (
    EXPLAIN_MAX,
    EXPLAIN_MIN,
    TimeBudget,
    polish_seconds,
    search_seconds,
)
from tests.factories import WEEK, make_bundle, make_demand, make_staff

# The modules (``solver.solve`` the name is the function) whose make_solver is recorded.
solver_module = importlib.import_module("solver.solve")
steps_module = importlib.import_module("solver.steps")


@pytest.mark.parametrize("limit", [2.0, 10.0, 60.0, 120.0, 600.0])
def test_the_shares_add_up_to_the_limit(limit: float) -> None:
    budget = TimeBudget(limit)
    assert EXPLAIN_MIN <= budget.explain <= EXPLAIN_MAX
    assert budget.solve + budget.explain == pytest.approx(limit)
    assert 0 < polish_seconds(budget.solve) < budget.solve
    # After a build of a tenth of the limit, the search gets what the polish leaves.
    built = limit / 10
    assert search_seconds(budget.solve, built) == pytest.approx(
        max(1.0, budget.solve - polish_seconds(budget.solve) - built)
    )


def test_a_minute_is_shared_as_the_documentation_says() -> None:
    budget = TimeBudget(60.0)
    assert budget.explain == pytest.approx(3.6)  # 6% of the limit
    assert budget.solve == pytest.approx(56.4)
    assert polish_seconds(56.4) == pytest.approx(2.256)  # 4% of the solve's limit


def short_bundle() -> Any:
    """One GP, two needed every weekday morning: a shortfall every day to explain."""
    return make_bundle(
        staff=[make_staff(contract_hours=9, max_hours=9)],
        demand=[make_demand(role="GP", min=2, target=2)],
        weights=Weights(),
    )


def test_a_plan_gives_the_solver_the_limit_less_the_explanations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    given: list[float] = []

    def recording(horizon: Any, options: SolveOptions, *args: Any) -> Any:
        given.append(options.time_limit)
        return solve(horizon, options, *args)

    monkeypatch.setattr(planning, "solve", recording)
    outcome = planning.plan_week(short_bundle(), "2026-W49", SolveOptions(time_limit=30))
    assert given == [TimeBudget(30).solve]
    assert outcome.notes and not any(n.unexplored for n in outcome.notes)


def test_each_search_step_keeps_within_the_solve_limit_and_the_polish_is_kept_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits: list[float] = []
    real = solver_module.make_solver

    def recording(options: SolveOptions, time_limit: float | None = None, **kw: Any) -> Any:
        limits.append(time_limit or options.time_limit)
        return real(options, time_limit, **kw)

    monkeypatch.setattr(solver_module, "make_solver", recording)
    monkeypatch.setattr(steps_module, "make_solver", recording)
    solve(Horizon(short_bundle(), WEEK), SolveOptions(time_limit=20, workers=1))
    kept = polish_seconds(20)
    search = [limit for limit in limits if limit != kept]
    assert search and all(limit <= 20 - kept for limit in search)


def test_explanations_past_their_deadline_are_marked_not_worked_out() -> None:
    bundle = short_bundle()
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=10, workers=1))
    report = check_rota(bundle, WEEK, result.assignments)
    late = shortfall_items(bundle, WEEK, result.assignments, report.coverage, deadline=0.0)
    assert late and all(i.note.unexplored and not i.note.options for i in late)
    assert all(i.candidates == () for i in late)
    in_time = shortfall_items(bundle, WEEK, result.assignments, report.coverage, deadline=None)
    assert [i.note.summary for i in in_time] == [i.note.summary for i in late]
    assert not any(i.note.unexplored for i in in_time)
    assert planning._options_cell(late[0].note).startswith("not worked out within the time limit")
