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
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

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
    *,
    fallback: Sequence[SolveResult] | None = None,
) -> list[SolveResult] | None:
    """Each cluster's own plan (their rotas together are a valid rota of the network, see
    ``joined``), or None when the network does not split.

    Clusters are planned side by side, one search worker each, on as many lanes as
    ``options.workers`` (one worker per cluster found better rotas in the same core
    seconds than two: BENCHMARKS.md).  They share ``seconds``: each cluster, as it
    starts, gets the time left in proportion to its needs among the needs not yet
    started, so a cluster that finishes early (its plan proven best) leaves its time to
    the ones after it.  None also when any cluster finds no rota (the full model then
    decides).  ``fallback`` is an earlier plan of the same clusters: a cluster's plan
    with no rota, or with more people short of a minimum than its fallback, is replaced
    by the fallback (the fewest short come first).
    """
    bundle = horizon.bundle
    clusters = site_clusters(bundle)
    if len(clusters) < 2 or not pins_stay_in_clusters(bundle, clusters):
        return None
    parts = []
    for group in clusters:
        part = cluster_bundle(bundle, group)
        count = sum(1 for n in horizon.needs if n.site_id in group)
        if part.staff and count:
            parts.append((part, count))
    parts.sort(key=lambda p: -p[1])  # the largest first, so the lanes end together
    lanes = max(1, min(options.workers, len(parts)))
    shares = _Shares(time.monotonic() + seconds, sum(count for _, count in parts), lanes)
    one = dataclasses.replace(options, workers=1) if lanes > 1 else options

    def plan(part: Bundle, count: int) -> SolveResult:
        limit = dataclasses.replace(one, time_limit=shares.take(count))
        return solve(Horizon(part, horizon.dates), limit, stop)

    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="cluster") as pool:
        results = list(pool.map(lambda p: plan(*p), parts))
    if fallback is not None and len(fallback) == len(results):
        results = [_fewest_short(new, old) for new, old in zip(results, fallback, strict=True)]
    if not all(r.status.has_rota for r in results):
        return None
    return results


def _fewest_short(new: SolveResult, old: SolveResult) -> SolveResult:
    """The newer plan of a cluster, unless it has no rota or more people short."""
    if not new.status.has_rota or (old.status.has_rota and new.shortfall > old.shortfall):
        return old
    return new


def joined(plans: Sequence[SolveResult]) -> tuple[Assignment, ...]:
    """The network's rota made of its clusters' plans."""
    return tuple(sorted(a for plan in plans for a in plan.assignments))


class _Shares:
    """The seconds each cluster gets as it starts, out of what is left before the deadline."""

    def __init__(self, deadline: float, needs: int, lanes: int) -> None:
        self._deadline = deadline
        self._needs_left = max(needs, 1)
        self._lanes = lanes
        self._lock = threading.Lock()

    def take(self, count: int) -> float:
        with self._lock:
            left = self._deadline - time.monotonic()
            share = min(left, left * self._lanes * count / self._needs_left)
            self._needs_left = max(self._needs_left - count, 1)
        return max(MIN_CLUSTER_SECONDS, share)
