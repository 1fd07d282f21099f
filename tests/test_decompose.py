"""Planning cluster by cluster: how sites are grouped, and that the seeded search stays exact."""

from __future__ import annotations

import dataclasses

from scheduler.checks.validator import check_rota
from scheduler.domain import Bundle
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveStatus, solve
from solver.decompose import (
    cluster_bundle,
    pins_stay_in_clusters,
    plan_by_clusters,
    site_clusters,
)
from tests.factories import WEEK, make_bundle, make_demand, make_fixed, make_site, make_staff

OPTIONS = SolveOptions(time_limit=20, workers=2, seed=1)


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
    rota = plan_by_clusters(horizon, OPTIONS, 10, lambda h, o, s: solve(h, o, None, s))
    assert rota is not None and rota
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
