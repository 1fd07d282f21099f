"""What each site needs: core sessions by list size, skill clinics, hub cover and pins."""

from __future__ import annotations

import random
from collections import Counter

from benchmarks.generator.figures import (
    ARRS_PATIENTS_PER_HEAD,
    CORE_LOAD,
    CORE_SLOTS,
    HUB_SESSIONS,
    MAX_ROOMS,
    MIN_ROOMS,
    SESSION_HOURS,
    SESSION_MINUTES,
    WEEKDAYS,
    Need,
    Network,
    Person,
    SiteSpec,
)
from benchmarks.generator.staff import hub_plan

# --- Demand ------------------------------------------------------------------


def make_demand(rng: random.Random, net: Network) -> list[Need]:
    """Per PCN: ARRS clinics, practice skill clinics and sessions, then the hub."""
    demand: list[Need] = []
    for pcn in net.pcns():
        load = rng.uniform(*CORE_LOAD)
        loads = {p.site_id: Counter[tuple[int, str]]() for p in net.practices(pcn)}
        demand += arrs_demand(rng, net, pcn, load, loads)
        budgets = role_budgets(net, pcn, load)
        for site in net.practices(pcn):
            demand += practice_demand(rng, net, site, budgets, loads[site.site_id])
        demand += hub_demand(net, pcn)
    return demand


def role_budgets(net: Network, pcn: int, load: float) -> dict[str, dict[str, int]]:
    """Weekly minimum core sessions per role and practice: ``load`` of the PCN's free
    capacity (after leave and the hub's evening/Saturday needs), shared by list size,
    so a practice short of its own staff needs its neighbours."""
    practices = net.practices(pcn)
    budgets: dict[str, dict[str, int]] = {}
    # One GP and one nurse through every hub session, in core-session equivalents.
    hub_hours = sum(SESSION_MINUTES[session] for _, session in HUB_SESSIONS) / 60
    hub_need = {"GP": hub_hours / SESSION_HOURS, "PN": hub_hours / SESSION_HOURS, "HCA": 0.0}
    for role, hub_sessions in hub_need.items():
        capacity = sum(p.core_capacity() for p in net.people(pcn, [role]))
        total = max(0, round(load * (capacity - hub_sessions)))
        budgets[role] = share_by_list(total, practices)
    return budgets


def share_by_list(total: int, practices: list[SiteSpec]) -> dict[str, int]:
    """Split ``total`` across practices in proportion to list size (largest remainder)."""
    population = sum(p.list_size for p in practices)
    exact = {p.site_id: total * p.list_size / population for p in practices}
    shares = {site: int(value) for site, value in exact.items()}
    order = sorted(exact, key=lambda s: (shares[s] - exact[s], s))
    for site in order[: total - sum(shares.values())]:
        shares[site] += 1
    return shares


def arrs_demand(
    rng: random.Random,
    net: Network,
    pcn: int,
    load: float,
    loads: dict[str, Counter[tuple[int, str]]],
) -> list[Need]:
    """Clinics for each ARRS person on sessions they are free, at practices of their PCN,
    so no slot asks for more pharmacists (etc.) than the PCN has."""
    wanted: Counter[tuple[str, int, str, str]] = Counter()
    for person in net.people(pcn, ARRS_PATIENTS_PER_HEAD):
        free = [slot for slot in CORE_SLOTS if person.free(*slot)]
        sessions = rng.sample(free, round(load * person.core_capacity()))
        for day, session in sorted(sessions):
            site = person.home if rng.random() < 0.4 else rng.choice(net.practices(pcn)).site_id
            wanted[(site, day, session, person.role)] += 1
    needs = []
    for (site, day, session, role), count in sorted(wanted.items()):
        loads[site][(day, session)] += count
        needs.append(Need(site, WEEKDAYS[day], session, role, "", count, count))
    return needs


def practice_demand(
    rng: random.Random,
    net: Network,
    site: SiteSpec,
    budgets: dict[str, dict[str, int]],
    load: Counter[tuple[int, str]],
) -> list[Need]:
    """Skill clinics first, then GP/PN/HCA rows for every core slot; sets the rooms."""
    needs = skill_clinics(rng, net, site, load)
    used = Counter(need.role for need in needs)
    for role, weight in (("GP", 1.0), ("PN", 1.0), ("HCA", 0.5)):
        budget = max(0, budgets[role][site.site_id] - used[role])
        counts = spread(rng, budget, load)
        for day, session in CORE_SLOTS:
            low = counts[(day, session)]
            needs.append(Need(site.site_id, WEEKDAYS[day], session, role, "", low, low + 1, weight))
    peak = max(load.values(), default=0)
    site.rooms = min(MAX_ROOMS, max(MIN_ROOMS, peak + rng.randint(1, 2)))
    return needs


def skill_clinics(
    rng: random.Random, net: Network, site: SiteSpec, load: Counter[tuple[int, str]]
) -> list[Need]:
    """Cytology and diabetes nurse clinics, and a coil clinic if a home GP fits coils."""
    clinics = [("PN", "cytology", 2.0), ("PN", "diabetes", 2.0)]
    if site.list_size > 9_000:
        clinics.append(("PN", "cytology", 2.0))  # a large list needs a second smear clinic
    home_gps = [p for p in net.staff if p.home == site.site_id and p.role == "GP"]
    if any("coils" in p.skills for p in home_gps):
        clinics.append(("GP", "coils", 1.5))
    slots = rng.sample(CORE_SLOTS, len(clinics))
    needs = []
    for (role, skill, weight), (day, session) in zip(clinics, slots, strict=True):
        load[(day, session)] += 1
        needs.append(Need(site.site_id, WEEKDAYS[day], session, role, skill, 1, 1, weight))
    return needs


def spread(
    rng: random.Random, budget: int, load: Counter[tuple[int, str]]
) -> Counter[tuple[int, str]]:
    """Place ``budget`` sessions one at a time on the least-loaded slot (ties at random),
    never above the largest room count, so the rooms can always hold the minimum."""
    counts: Counter[tuple[int, str]] = Counter()
    for _ in range(budget):
        open_slots = [slot for slot in CORE_SLOTS if load[slot] < MAX_ROOMS]
        if not open_slots:
            break
        slot = min(open_slots, key=lambda s: (load[s], rng.random()))
        load[slot] += 1
        counts[slot] += 1
    return counts


def hub_demand(net: Network, pcn: int) -> list[Need]:
    """Every hub session: a GP throughout, a nurse, and any clinicians to reach the minutes."""
    hub = net.hub(pcn)
    plan = hub_plan(net, pcn)
    hub.rooms = max(plan.values()) + 1
    needs = []
    for (day, session), people in plan.items():
        needs.append(Need(hub.site_id, day, session, "GP", "", 1, 1, 1.5))
        needs.append(Need(hub.site_id, day, session, "PN", "", 1, 1, 1.0))
        needs.append(Need(hub.site_id, day, session, "", "", people - 2, people - 1, 1.0))
    return needs


# --- Pinned sessions ----------------------------------------------------------


def make_fixed(rng: random.Random, net: Network) -> list[tuple[str, str, str, str]]:
    """Two to four pinned sessions: a GP leading a Saturday hub session, then home sessions
    of GPs and nurses on slots they are free and their practice has a row for them."""
    wanted = rng.randint(2, 4)
    rows = []
    lead = [p for p in net.staff if p.role == "GP" and p.max_weekend and p.pcn == 0]
    if lead:
        person = rng.choice(lead)
        rows.append((person.staff_id, str(net.dates[5]), "SAT_AM", net.hub(0).site_id))
    candidates = [p for p in net.staff if p.role in ("GP", "PN")]
    rng.shuffle(candidates)
    taken = {row[0] for row in rows}
    slots_used: set[tuple[str, int, str]] = set()
    for person in candidates:
        if len(rows) >= wanted:
            break
        if person.staff_id in taken:
            continue
        slot = pin_slot(rng, net, person, slots_used)
        if slot:
            day, session = slot
            slots_used.add((person.home, day, session))
            rows.append((person.staff_id, str(net.dates[day]), session, person.home))
            taken.add(person.staff_id)
    return rows


def pin_slot(
    rng: random.Random, net: Network, person: Person, used: set[tuple[str, int, str]]
) -> tuple[int, str] | None:
    """A free core slot where the home practice asks for this person's role, or None."""
    rows = {
        (WEEKDAYS.index(n.day), n.session_id)
        for n in net.demand
        if n.site_id == person.home and n.role == person.role and not n.skill and n.target > 0
    }
    options = [
        slot
        for slot in CORE_SLOTS
        if slot in rows and person.free(*slot) and (person.home, *slot) not in used
    ]
    return rng.choice(options) if options else None
