"""Planning cluster by cluster: how sites are grouped, and that the seeded search stays exact."""

from __future__ import annotations

import dataclasses
import importlib
import threading
import time

import pytest
from ortools.sat.python import cp_model

from scheduler.checks.validator import check_rota
from scheduler.domain import Bundle
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveResult, SolveStatus, solve
from solver.decompose import (
    MIN_CLUSTER_SECONDS,
    cluster_bundle,
    joined,
    pins_stay_in_clusters,
    plan_by_clusters,
    site_clusters,
)
from solver.model import RotaModel
from solver.rules import build
from solver.steps import Watcher, presolve_lightly, settle_first_goal
from tests.factories import WEEK, make_bundle, make_demand, make_fixed, make_site, make_staff

OPTIONS = SolveOptions(time_limit=20, workers=2, seed=1)
steps = importlib.import_module("solver.solve")  # the module, not the function
search_steps = importlib.import_module("solver.steps")


def _two_groups() -> Bundle:
    """P01+P02 share a GP; P03 has its own GP and a GP who may work anywhere."""
    sites = [make_site(site_id=s, name=s) for s in ("P01", "P02", "P03")]
    staff = [
        make_staff(staff_id="S1", home_site="P01", sites="P01;P02", contract_hours=27),
        make_staff(staff_id="S2", home_site="P02", contract_hours=18),
        make_staff(staff_id="S3", home_site="P03", contract_hours=18),
        make_staff(staff_id="S4", home_site="P03", sites="*", contract_hours=22.5),
    ]
    demand = [make_demand(site, "Mon-Fri", "AM", min=1, target=1) for site in ("P01", "P02", "P03")]
    return make_bundle(sites=sites, staff=staff, demand=demand)


def test_sites_are_grouped_by_people_restricted_to_them() -> None:
    assert site_clusters(_two_groups()) == [frozenset({"P01", "P02"}), frozenset({"P03"})]


def test_anywhere_staff_stay_in_their_home_cluster() -> None:
    part = cluster_bundle(_two_groups(), frozenset({"P03"}))
    assert [p.staff_id for p in part.staff] == ["S3", "S4"]
    assert part.staff[1].sites == frozenset({"P03"})
    assert {d.site_id for d in part.demand} == {"P03"}


def test_a_pin_outside_the_home_cluster_stops_the_split() -> None:
    bundle = _two_groups()
    clusters = site_clusters(bundle)
    assert pins_stay_in_clusters(bundle, clusters)
    pinned = dataclasses.replace(bundle, fixed=(make_fixed("S4", "2026-11-30", "AM", "P01"),))
    assert not pins_stay_in_clusters(pinned, clusters)


def test_cluster_plans_together_are_a_valid_rota() -> None:
    bundle = _two_groups()
    horizon = Horizon(bundle, WEEK)
    plans = plan_by_clusters(horizon, OPTIONS, 10, lambda h, o, s: solve(h, o, None, s))
    assert plans is not None
    rota = joined(plans)
    assert rota
    assert check_rota(bundle, WEEK, rota).ok


def test_one_cluster_is_not_split() -> None:
    bundle = make_bundle()
    assert plan_by_clusters(Horizon(bundle, WEEK), OPTIONS, 10, lambda h, o, s: solve(h, o)) is None


def test_seeding_with_clusters_keeps_the_optimum() -> None:
    bundle = _two_groups()
    plain = solve(Horizon(bundle, WEEK), OPTIONS)
    seeded = solve(Horizon(bundle, WEEK), dataclasses.replace(OPTIONS, decompose=True))
    assert plain.status is seeded.status is SolveStatus.OPTIMAL
    assert seeded.objective == plain.objective
    assert check_rota(bundle, WEEK, seeded.assignments).ok


def test_clusters_are_planned_side_by_side_one_worker_each_within_the_time() -> None:
    given: list[SolveOptions] = []

    def recording(
        horizon: Horizon, options: SolveOptions, stop: threading.Event | None
    ) -> SolveResult:
        given.append(options)
        return solve(horizon, options)

    plans = plan_by_clusters(Horizon(_two_groups(), WEEK), OPTIONS, 10, recording)
    assert plans is not None
    assert len(given) == 2
    assert all(o.workers == 1 for o in given)
    assert all(MIN_CLUSTER_SECONDS <= o.time_limit <= 10 for o in given)
    # On one lane the clusters take turns with the workers they were given.
    given.clear()
    one = dataclasses.replace(OPTIONS, workers=1)
    assert plan_by_clusters(Horizon(_two_groups(), WEEK), one, 10, recording) is not None
    assert [o.workers for o in given] == [1, 1]


def _help_from_anywhere() -> Bundle:
    """P01 needs two GPs on Monday morning and has one; only P03's anywhere-GP can help."""
    sites = [make_site(site_id=s, name=s) for s in ("P01", "P03")]
    staff = [
        make_staff(staff_id="S1", home_site="P01"),
        make_staff(staff_id="S3", home_site="P03"),
        make_staff(staff_id="S4", home_site="P03", sites="*"),
    ]
    demand = [make_demand("P01", "Mon", "AM", min=2), make_demand("P03", "Mon", "AM", min=1)]
    return make_bundle(sites=sites, staff=staff, demand=demand)


@pytest.mark.parametrize("most_short", [0, None])
def test_a_cluster_rota_with_more_people_short_than_proven_is_not_hinted(
    most_short: int | None,
) -> None:
    bundle = _help_from_anywhere()
    m = build(RotaModel(Horizon(bundle, WEEK)))
    watcher = Watcher(time.monotonic(), None, None)
    how = (steps._solve_part, watcher)
    options = dataclasses.replace(OPTIONS, decompose=True)
    # Alone, P01's cluster leaves one person short; the network needs nobody short.
    steps._seed_with_clusters(m, options, 5, how, most_short=most_short)
    assert (m.hinted is None) is (most_short is not None)


def test_the_network_proves_fewer_short_than_its_clusters_alone() -> None:
    bundle = _help_from_anywhere()
    result = solve(Horizon(bundle, WEEK), dataclasses.replace(OPTIONS, decompose=True))
    assert result.shortfall == 0
    assert result.shortfall_proven and result.shortfall_floor == 0
    assert check_rota(bundle, WEEK, result.assignments).ok


def test_a_cluster_keeps_its_earlier_plan_when_the_new_one_is_worse_on_the_first_goal() -> None:
    horizon = Horizon(_two_groups(), WEEK)
    earlier = plan_by_clusters(horizon, OPTIONS, 10, lambda h, o, s: solve(h, o))
    assert earlier is not None

    def one_more_short(h: Horizon, o: SolveOptions, s: object) -> SolveResult:
        result = solve(h, o)
        cover = [dataclasses.replace(c, short=c.short + 1) for c in result.cover]
        return dataclasses.replace(result, cover=tuple(cover))

    def no_rota(h: Horizon, o: SolveOptions, s: object) -> SolveResult:
        return SolveResult(SolveStatus.NO_SOLUTION)

    for worse in (one_more_short, no_rota):
        kept = plan_by_clusters(horizon, OPTIONS, 10, worse, fallback=earlier)
        assert kept is not None
        assert all(a is b for a, b in zip(kept, earlier, strict=True))
    assert plan_by_clusters(horizon, OPTIONS, 10, no_rota) is None
    # A plan as good on the first goal replaces the earlier one.
    again = plan_by_clusters(horizon, OPTIONS, 10, lambda h, o, s: solve(h, o), fallback=earlier)
    assert again is not None and not any(a is b for a, b in zip(again, earlier, strict=True))


@pytest.mark.parametrize(
    ("presolve", "light"), [(6.5, True), (1.6, True), (1.4, False), (None, False)]
)
def test_presolve_is_light_only_when_the_full_one_takes_over_its_share(
    presolve: float | None, light: bool
) -> None:
    solver = cp_model.CpSolver()
    full = (solver.parameters.max_presolve_iterations, solver.parameters.cp_model_probing_level)
    presolve_lightly(solver, presolve, 12.0)  # a quarter of 12 s is 3 s, twice 1.5 s
    got = (solver.parameters.max_presolve_iterations, solver.parameters.cp_model_probing_level)
    assert got == ((1, 0) if light else full)


def test_the_proof_of_the_fewest_short_reads_how_long_presolve_took() -> None:
    m = build(RotaModel(Horizon(_help_from_anywhere(), WEEK)))
    floor = settle_first_goal(m, OPTIONS, 5, Watcher(time.monotonic(), None, None))
    assert floor.proven and floor.people == 0
    assert floor.presolve is not None and 0 <= floor.presolve < 5


@pytest.mark.parametrize("decompose", [True, False])
def test_only_the_last_search_after_the_clusters_may_presolve_lightly(
    monkeypatch: pytest.MonkeyPatch, decompose: bool
) -> None:
    made: list[cp_model.CpSolver] = []
    make = steps.make_solver

    def recording(options: SolveOptions, seconds: float) -> cp_model.CpSolver:
        made.append(make(options, seconds))
        return made[-1]

    monkeypatch.setattr(steps, "make_solver", recording)
    monkeypatch.setattr(search_steps, "LIGHT_PRESOLVE_SHARE", -1.0)  # any presolve is too long
    options = dataclasses.replace(OPTIONS, decompose=decompose)
    assert solve(Horizon(_two_groups(), WEEK), options).status is SolveStatus.OPTIMAL
    network = [s.parameters for s in made if s.parameters.num_workers == 2]
    clusters = [s.parameters for s in made if s.parameters.num_workers == 1]
    assert len(network) == 1 and len(clusters) == (2 if decompose else 0)
    default = cp_model.CpSolver().parameters
    light = (network[0].max_presolve_iterations, network[0].cp_model_probing_level)
    full = (default.max_presolve_iterations, default.cp_model_probing_level)
    assert light == ((1, 0) if decompose else full)
    assert all((p.max_presolve_iterations, p.cp_model_probing_level) == full for p in clusters)
