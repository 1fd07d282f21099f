"""The first rota guided by the LP over personal schedules (solver/guided.py).

On the tiny Curtois-style instance (optimum 203, proven by ``solve``): the
options the LP settles stay as the LP has them in the rota found around it,
that rota keeps every hard rule, the solve that starts from it still proves
the optimum, and a guidance that finds nothing leaves the other steps to find
it.  The LP's bound is reported only where it is below the objective.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import threading

import pytest

from scheduler.bench.curtois_check import evaluate
from scheduler.bench.curtois_format import parse_instance
from scheduler.bench.curtois_map import roster_of
from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver import Progress, SolveOptions, SolveResult, SolveStatus, guided, solve
from solver.colgen import colgen_bound
from solver.model import SCALE, RotaModel
from solver.rules import build
from solver.solve import _with_bound
from tests.test_colgen import TINY_OPTIMUM, _horizon
from tests.test_construct import TINY

OPTIONS = SolveOptions(time_limit=20, workers=1, seed=3)


@pytest.fixture
def a_week_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tiny instance is a week: guidance is tried from seven days on."""
    monkeypatch.setattr(guided, "MIN_DAYS", 7)


def _model() -> RotaModel:
    m = build(RotaModel(_horizon(parse_instance(TINY, "Tiny"))))
    m.objective()
    return m


def test_the_rota_around_the_lp_keeps_what_it_settles_and_every_rule() -> None:
    m = _model()
    worked = colgen_bound(m.horizon, OPTIONS, 30).worked
    settled = {k: v for k, v in worked.items() if v >= 1 - guided.SETTLED}
    assert settled  # the test means something only if the LP settles some options
    values = guided.around(m, worked, OPTIONS, 10)
    assert values is not None
    on = {key for key, var in m.x.items() if values.value(var)}
    assert set(settled) <= on
    assert all(worked.get(key, 0.0) > guided.SETTLED for key in on)
    instance = parse_instance(TINY, "Tiny")
    rota = [Assignment(k[1], k[2], k[3], k[0]) for k in on]
    assert evaluate(instance, roster_of(instance, rota)).ok


def test_a_guided_solve_proves_the_optimum(
    a_week_counts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    real = guided.guide
    steps = importlib.import_module("solver.solve")  # the module, not the function
    monkeypatch.setattr(
        steps, "guide", lambda m, o, s, stop=None: calls.append(s) or real(m, o, s, stop)
    )
    result = solve(_horizon(parse_instance(TINY, "Tiny")), OPTIONS)
    assert calls  # the guided step ran
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(TINY_OPTIMUM)
    assert result.bound == pytest.approx(TINY_OPTIMUM)


def test_guidance_that_finds_nothing_leaves_the_other_steps_to_it(
    a_week_counts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guided, "around", lambda *args: None)
    result = solve(_horizon(parse_instance(TINY, "Tiny")), OPTIONS)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(TINY_OPTIMUM)


def test_guidance_is_for_weeks_of_personal_rules_that_fit_the_time() -> None:
    week = _horizon(parse_instance(TINY, "Tiny"))
    assert not guided.worth_guiding(week, 600)  # seven days
    first = week.dates[0]
    fortnight = Horizon(week.bundle, [first + dt.timedelta(days=i) for i in range(14)])
    people_days = len(fortnight.staff) * len(fortnight.dates)
    enough = people_days / (guided.PERSON_DAYS_PER_SECOND * guided.LP_SHARE)
    assert guided.worth_guiding(fortnight, enough)
    assert not guided.worth_guiding(fortnight, enough * 0.9)
    loose = tuple(
        dataclasses.replace(p, min_consecutive_days=None, min_days_off_in_row=None)
        for p in week.bundle.staff
    )
    assert any(p.min_horizon_hours for p in loose)  # the least minutes over the horizon stay
    assert guided.worth_guiding(
        Horizon(dataclasses.replace(week.bundle, staff=loose), fortnight.dates), enough
    )
    weekly = tuple(dataclasses.replace(p, min_horizon_hours=None) for p in loose)
    weekly_only = Horizon(dataclasses.replace(week.bundle, staff=weekly), fortnight.dates)
    assert not guided.worth_guiding(weekly_only, enough * 100)  # weekly rules alone


@pytest.mark.parametrize(
    ("cp_sat", "lp", "objective", "expected"),
    [(100.0, 150.0, 200.0, 150.0), (100.0, 250.0, 200.0, 200.0), (180.0, 150.0, 200.0, 180.0)],
)
def test_the_lp_bound_counts_only_where_it_proves_more(
    cp_sat: float, lp: float, objective: float, expected: float
) -> None:
    result = SolveResult(SolveStatus.FEASIBLE, objective=objective, bound=cp_sat)
    assert _with_bound(result, lp).bound == expected
    assert _with_bound(result, None).bound == cp_sat
    proven = SolveStatus.OPTIMAL if expected == objective else SolveStatus.FEASIBLE
    assert _with_bound(result, lp).status is proven


def test_a_stop_ends_the_search_around_the_lp_without_a_rota() -> None:
    m = _model()
    worked = colgen_bound(m.horizon, OPTIONS, 30).worked
    stop = threading.Event()
    stop.set()
    assert guided.around(m, worked, OPTIONS, 10, stop) is None


def test_the_guided_rota_is_reported_as_progress(
    a_week_counts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    guidance: list[guided.Guidance] = []
    real = guided.guide
    steps = importlib.import_module("solver.solve")
    monkeypatch.setattr(steps, "guide", lambda *args: guidance.append(real(*args)) or guidance[-1])
    reports: list[Progress] = []
    before_the_search: list[int] = []  # reports made when the steps after the seeding begin
    clusters = steps._seed_with_clusters
    monkeypatch.setattr(
        steps,
        "_seed_with_clusters",
        lambda *args, **kw: before_the_search.append(len(reports)) or clusters(*args, **kw),
    )
    result = solve(_horizon(parse_instance(TINY, "Tiny")), OPTIONS, progress=reports.append)
    rota = guidance[0].rota
    assert rota is not None
    assert before_the_search[0] == 1  # the first step after the seeding
    assert reports[0].objective == pytest.approx(rota.objective_value / SCALE)
    scores = [r.objective for r in reports]
    assert scores == sorted(scores, reverse=True)  # each report better than the last
    assert scores[-1] == pytest.approx(result.objective)
