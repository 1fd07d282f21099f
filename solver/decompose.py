"""Plan a large network cluster by cluster, to seed the search of the whole network.

A federation is made of groups of practices (Primary Care Networks) whose
staff rarely cross from one group to another: only people allowed to work
anywhere (``sites = *``) link the groups.  Sites are therefore clustered by
the people restricted to them; each cluster, with its own staff (the
anywhere-staff kept to their home cluster), is a network of a size the
solver plans near-optimally in seconds.  The clusters' rotas together are a
valid rota of the whole network, because no hard rule spans two clusters
once every person belongs to one.  That rota is the starting hint of the
full model, which may still move anywhere-staff between clusters and which
alone proves the bound: nothing is fixed by the decomposition.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from scheduler.domain import Assignment, Bundle
from scheduler.horizon import Horizon
from solver.result import SolveOptions, SolveResult

MIN_CLUSTER_SECONDS = 1.0

Solve = Callable[[Horizon, SolveOptions, threading.Event | None], SolveResult]


def site_clusters(bundle: Bundle) -> list[frozenset[str]]:
    """Groups of sites linked by people who may work at more than one of them (not anywhere)."""
    parent = {s.site_id: s.site_id for s in bundle.sites}

    def root(site: str) -> str:
        while parent[site] != site:
            parent[site] = parent[parent[site]]
            site = parent[site]
        return site

    for person in bundle.staff:
        linked = sorted(s for s in {person.home_site, *(person.sites or ())} if s in parent)
        for other in linked[1:]:
            parent[root(other)] = root(linked[0])
    groups: dict[str, set[str]] = {}
    for site_id in parent:
        groups.setdefault(root(site_id), set()).add(site_id)
    return sorted((frozenset(g) for g in groups.values()), key=min)


def cluster_bundle(bundle: Bundle, sites: frozenset[str]) -> Bundle:
    """The part of the bundle that lives in one cluster; anywhere-staff stay at home."""
    staff = tuple(
        person if person.sites is not None else dataclasses.replace(person, sites=sites)
        for person in bundle.staff
        if person.home_site in sites
    )
    ids = {p.staff_id for p in staff}
    return dataclasses.replace(
        bundle,
        sites=tuple(s for s in bundle.sites if s.site_id in sites),
        staff=staff,
        demand=tuple(d for d in bundle.demand if d.site_id in sites),
        leave=tuple(lv for lv in bundle.leave if lv.staff_id in ids),
        preferences=tuple(p for p in bundle.preferences if p.staff_id in ids),
        fixed=tuple(f for f in bundle.fixed if f.staff_id in ids),
        travel=tuple(t for t in bundle.travel if t.from_site in sites and t.to_site in sites),
        session_limits=tuple(lim for lim in bundle.session_limits if lim.staff_id in ids),
        # Network-wide goals are the full model's: a cluster alone would chase the whole
        # network's enhanced-access floor, or even out hub duty among its few practices.
        enhanced_access_settings=None,
        fairness_balance={},
    )


def pins_stay_in_clusters(bundle: Bundle, clusters: list[frozenset[str]]) -> bool:
    """Whether every pinned session is in its person's home cluster (else no split)."""
    home = {p.staff_id: p.home_site for p in bundle.staff}
    cluster_of = {site: i for i, group in enumerate(clusters) for site in group}
    return all(
        cluster_of.get(f.site_id) == cluster_of.get(home.get(f.staff_id, "")) for f in bundle.fixed
    )


def plan_by_clusters(
    horizon: Horizon,
    options: SolveOptions,
    seconds: float,
    solve: Solve,
    stop: threading.Event | None = None,
) -> tuple[Assignment, ...] | None:
    """A valid rota made of each cluster's own plan, or None when the network does not split.

    Each cluster gets a share of ``seconds`` in proportion to its needs.
    None also when any cluster finds no rota (the full model then decides).
    """
    bundle = horizon.bundle
    clusters = site_clusters(bundle)
    if len(clusters) < 2 or not pins_stay_in_clusters(bundle, clusters):
        return None
    needs = [sum(1 for n in horizon.needs if n.site_id in group) for group in clusters]
    total = max(sum(needs), 1)
    rota: list[Assignment] = []
    for group, count in zip(clusters, needs, strict=True):
        part = cluster_bundle(bundle, group)
        if not part.staff or not count:
            continue
        budget = max(MIN_CLUSTER_SECONDS, seconds * count / total)
        result = solve(
            Horizon(part, horizon.dates), dataclasses.replace(options, time_limit=budget), stop
        )
        if not result.status.has_rota:
            return None
        rota.extend(result.assignments)
    return tuple(sorted(rota))
