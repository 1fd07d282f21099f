"""Practices and hubs: list sizes, PCN grouping, rooms and positions on a plausible map."""

from __future__ import annotations

import math
import random

from benchmarks.generator.figures import (
    AREA_KM_FOR_60,
    CENTRE,
    KM_PER_DEGREE,
    LIST_MAX,
    LIST_MIN,
    LIST_MODE,
    MIN_AREA_KM,
    PRACTICES_PER_PCN,
    Network,
    SiteSpec,
)
from benchmarks.generator.names import practice_names

# --- Sites -------------------------------------------------------------------


def list_sizes(rng: random.Random, count: int) -> list[int]:
    """Stratified draws from the triangular list-size distribution, so every network
    gets the usual mix of small and large practices and its total stays near the mean."""
    a, c, b = LIST_MIN, LIST_MODE, LIST_MAX
    split = (c - a) / (b - a)
    sizes = []
    for i in range(count):
        u = (i + rng.random()) / count
        if u < split:
            value = a + math.sqrt(u * (b - a) * (c - a))
        else:
            value = b - math.sqrt((1 - u) * (b - a) * (b - c))
        sizes.append(int(round(value, -1)))
    rng.shuffle(sizes)
    return sizes


def pcn_sizes(practices: int) -> list[int]:
    """How many practices each PCN gets: one hub per ~8 practices, sizes as even as possible."""
    groups = math.ceil(practices / PRACTICES_PER_PCN)
    base, extra = divmod(practices, groups)
    return [base + (1 if i < extra else 0) for i in range(groups)]


def make_sites(rng: random.Random, practices: int) -> list[SiteSpec]:
    """Practices clustered by PCN on a grid of cells over the area, a hub at each cell centre."""
    sizes = pcn_sizes(practices)
    side = max(MIN_AREA_KM, AREA_KM_FOR_60 * math.sqrt(practices / 60))
    cols = math.ceil(math.sqrt(len(sizes)))
    rows = math.ceil(len(sizes) / cols)
    cell_w, cell_h = side / cols, side / rows
    names = practice_names(rng, practices)
    lists = list_sizes(rng, practices)
    width = max(2, len(str(practices)))
    sites: list[SiteSpec] = []
    hubs: list[SiteSpec] = []
    for pcn, size in enumerate(sizes):
        x0, y0 = (pcn % cols) * cell_w, (pcn // cols) * cell_h
        for _ in range(size):
            n = len(sites)
            x, y = x0 + rng.uniform(0.1, 0.9) * cell_w, y0 + rng.uniform(0.1, 0.9) * cell_h
            lat, lon = to_lat_lon(x, y)
            sites.append(
                SiteSpec(f"P{n + 1:0{width}d}", names[n], "practice", lists[n], lat, lon, pcn)
            )
        lat, lon = to_lat_lon(x0 + cell_w / 2, y0 + cell_h / 2)
        hub_name = f"Enhanced access hub {pcn + 1}"
        hubs.append(SiteSpec(f"HUB{pcn + 1}", hub_name, "hub", 0, lat, lon, pcn))
    return sites + hubs


def to_lat_lon(x_km: float, y_km: float) -> tuple[float, float]:
    """Kilometres east/north of the area's corner to rounded latitude and longitude."""
    lat = CENTRE[0] + y_km / KM_PER_DEGREE
    lon = CENTRE[1] + x_km / (KM_PER_DEGREE * math.cos(math.radians(CENTRE[0])))
    return round(lat, 5), round(lon, 5)


def distance_km(a: SiteSpec, b: SiteSpec) -> float:
    """Straight-line distance, good enough for choosing neighbours."""
    dy = (a.lat - b.lat) * KM_PER_DEGREE
    dx = (a.lon - b.lon) * KM_PER_DEGREE * math.cos(math.radians(CENTRE[0]))
    return math.hypot(dx, dy)


def neighbours(net: Network, site: SiteSpec, count: int) -> list[str]:
    """The nearest other practices of the same PCN: where a mobile person also works."""
    others = [p for p in net.practices(site.pcn) if p.site_id != site.site_id]
    others.sort(key=lambda p: (distance_km(site, p), p.site_id))
    return [p.site_id for p in others[:count]]
