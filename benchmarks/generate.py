"""Generate realistic synthetic scenario bundles for demos, tests and benchmarks.

A generated network is a federation of Primary Care Networks (PCNs): the
practices are grouped into PCNs of about eight, each PCN has one
enhanced-access hub and its own network-employed (ARRS) staff.  Every figure
below says where it comes from; "DOMAIN.md" is the project's domain brief
(/work/shared/DOMAIN.md).  The output follows SCENARIO_FORMAT.md (bundle v1)
and every row is valid: references resolve, ``min <= target``, session types
do not overlap, and pinned sessions are on days their person can work.

Usage::

    python -m benchmarks.generate --practices 8 --seed 1 --out DIR

The generator is deterministic for a given seed: it draws only from its own
``random.Random(seed)`` and never iterates over a set of strings.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scheduler.domain import DAY_NAMES, parse_iso_week

# --- Sessions -------------------------------------------------------------
# DOMAIN.md: practices run a morning (~08:00-12:30) and an afternoon
# (~13:30-18:00) surgery; enhanced access runs 18:30-20:00 Mon-Fri and
# 09:00-17:00 on Saturday (the Network Standard Hours), split here into two
# Saturday sessions so no person has to work eight hours straight.
SESSION_TYPES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("AM", "Morning surgery", "08:00", "12:30", "Mon-Fri", "core"),
    ("PM", "Afternoon surgery", "13:30", "18:00", "Mon-Fri", "core"),
    ("EVE", "Evening enhanced access", "18:30", "20:00", "Mon-Fri", "extended"),
    ("SAT_AM", "Saturday morning enhanced access", "09:00", "13:00", "Sat", "extended"),
    ("SAT_PM", "Saturday afternoon enhanced access", "13:00", "17:00", "Sat", "extended"),
)
SESSION_MINUTES = {"AM": 270, "PM": 270, "EVE": 90, "SAT_AM": 240, "SAT_PM": 240}
SESSION_HOURS = 4.5  # one core session, the unit contracts are written in here
WEEKDAYS = DAY_NAMES[:5]
CORE_SLOTS: tuple[tuple[int, str], ...] = tuple(
    (day, session) for day in range(5) for session in ("AM", "PM")
)
FULL_TIME_HOURS = 37.5  # DOMAIN.md: full time is 37.5 h (BMA model contract, Agenda for Change)

# --- Practices and geography ----------------------------------------------
# DOMAIN.md: the average practice has ~6,650-7,500 patients, and a federation
# of 60 practices has 539,000 (~9,000 each).  A triangular distribution from
# 4,000 to 14,000 with its mode at 5,400 has a mean of 7,800, between those
# two figures: 8 practices come to ~62,000 patients, 60 to ~470,000.
LIST_MIN, LIST_MODE, LIST_MAX = 4_000, 5_400, 14_000
PRACTICES_PER_PCN = 8  # one enhanced-access hub per ~8 practices, ~62k patients
AREA_KM_FOR_60 = 30.0  # 60 practices of a county federation spread over ~30 km
MIN_AREA_KM = 8.0  # even a small network spans a few km
CENTRE = (52.30, -0.70)  # an arbitrary English market-town latitude/longitude
KM_PER_DEGREE = 111.2
MIN_ROOMS, MAX_ROOMS = 3, 10

# --- Staff ratios ----------------------------------------------------------
# Practice staffing per registered patient (typical English general practice):
# ~1 GP whole-time equivalent per 2,000 patients, ~1 practice nurse per 3,500
# and ~1 HCA per 5,000.  GP contracts are in whole sessions: DOMAIN.md's
# model contract counts 9 sessions of 4 h 10 min as full time; these sessions
# last 4.5 h of clock time, so 4-9 sessions are 18-40.5 h.
PATIENTS_PER_GP_WTE = 2_000
PATIENTS_PER_PN = 3_500
PATIENTS_PER_HCA = 5_000
GP_SESSIONS = (4, 5, 6, 7, 8, 9)
GP_SESSION_WEIGHTS = (1, 2, 3, 3, 2, 1)
# DOMAIN.md: nurses are full time at 37.5 h but often on their own terms.
NURSE_HOURS = (22.5, 27.0, 30.0, 37.5)
# DOMAIN.md lists the ARRS roles a PCN employs but no ratios; these headcounts
# per PCN population are illustrative (about five or six per PCN of ~60k).
ARRS_PATIENTS_PER_HEAD = {"PHARM": 30_000, "FCP": 50_000, "PARA": 60_000, "PA": 60_000}
HOURLY_RATES = {
    "GP": (85, 90, 95, 100, 110),
    "PN": (30, 31, 32, 33, 35),
    "HCA": (17,),
    "PHARM": (32,),
    "PARA": (31,),
    "FCP": (32,),
    "PA": (30,),
}
MOBILE_SHARE = {"GP": 0.45, "PN": 0.4, "HCA": 0.2}  # staff who also work at neighbours
EVENING_SHARE = {"GP": 0.5, "PN": 0.35, "HCA": 0.2, "ARRS": 0.3}  # willing to work evenings
WEEKEND_SHARE = {"GP": 0.4, "PN": 0.3, "HCA": 0.2, "ARRS": 0.3}  # willing to work Saturdays
GP_SKILLS = {"coils": 0.3, "minor_surgery": 0.15, "joint_injection": 0.15}
PN_SKILLS = {"cytology": 0.5, "diabetes": 0.35, "imms": 0.7, "asthma": 0.3}
HCA_SKILLS = {"imms": 0.4, "ecg": 0.4}
ARRS_SKILLS = {"PHARM": "medication_review", "PARA": "home_visits", "FCP": "msk", "PA": ""}

# --- Demand ------------------------------------------------------------------
# Core demand is sized so that a week is tight but mostly coverable: the
# sessions asked for at least (min) are 85-90% of the sessions staff can work
# after leave, before the hub's evening and Saturday sessions are added.
CORE_LOAD = (0.85, 0.90)
# DOMAIN.md, enhanced access: at least 60 minutes of appointments per 1,000
# adjusted population per week, with a GP present throughout.  The adjusted
# population is an NHS-published figure; generated networks use the list
# size as a stand-in for it.
EA_MINUTES_PER_1000 = 60
# Leave and preferences in the planned week.
LEAVE_SHARE = (0.08, 0.12)
PREFERENCE_SHARE = {"prefer": 0.04, "avoid": 0.04, "unavailable": 0.025}

FIRST_NAMES = (
    "Aisha",
    "Amir",
    "Anna",
    "Ben",
    "Bethan",
    "Chloe",
    "Daniel",
    "Dev",
    "Eleanor",
    "Emeka",
    "Femi",
    "Fiona",
    "George",
    "Grace",
    "Hannah",
    "Harry",
    "Imran",
    "Isla",
    "Jack",
    "James",
    "Kiran",
    "Laura",
    "Leah",
    "Lucy",
    "Maya",
    "Mo",
    "Nadia",
    "Nia",
    "Oliver",
    "Owen",
    "Priya",
    "Rachel",
    "Rhys",
    "Ruth",
    "Sam",
    "Sana",
    "Sophie",
    "Tom",
    "Will",
    "Zain",
)
SURNAMES = (
    "Ahmed",
    "Baker",
    "Brown",
    "Campbell",
    "Clarke",
    "Davies",
    "Edwards",
    "Evans",
    "Green",
    "Hall",
    "Hughes",
    "Islam",
    "Jones",
    "Kaur",
    "Khan",
    "Lewis",
    "Mensah",
    "Morgan",
    "Nolan",
    "Novak",
    "Owusu",
    "Patel",
    "Price",
    "Rees",
    "Roberts",
    "Shah",
    "Singh",
    "Smith",
    "Taylor",
    "Thomas",
    "Turner",
    "Walker",
    "Walsh",
    "Ward",
    "White",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
)
PLACES = (
    "Riverside",
    "Church",
    "Mill",
    "Station",
    "Park",
    "Abbey",
    "Castle",
    "Meadow",
    "Orchard",
    "Bridge",
    "Market",
    "Victoria",
    "Albion",
    "Oakwood",
    "Willow",
    "Beech",
    "Elm",
    "Cedar",
    "Holly",
    "Priory",
    "Kingsway",
    "Queensway",
    "Hillside",
    "Valley",
    "Brookside",
    "Heath",
    "Moorland",
    "Forest",
    "Lakeside",
    "Harbour",
    "Rosemary",
    "Springfield",
    "Greenfield",
    "Westgate",
    "Eastgate",
    "Northgate",
    "Southgate",
    "Highfield",
    "Ashgrove",
    "Chestnut",
    "Larch",
    "Maple",
    "Rowan",
    "Thornbury",
    "Wellington",
    "Windmill",
    "Cross",
    "Manor",
)
PRACTICE_SUFFIXES = (
    "Road Surgery",
    "Street Surgery",
    "Lane Surgery",
    "Medical Centre",
    "Health Centre",
    "Medical Practice",
    "Surgery",
    "Family Practice",
)
LOCALITIES = (
    "Riverside",
    "Northfield",
    "Southbrook",
    "Eastmoor",
    "Westvale",
    "Marshside",
    "Hilltop",
    "Fenwick",
    "Ashby",
    "Oakley",
    "Brampton",
    "Kingsmead",
    "Stoneleigh",
    "Wolds",
    "Dale",
)


@dataclass
class SiteSpec:
    """A practice or hub as generated, with the PCN it belongs to."""

    site_id: str
    name: str
    kind: str
    list_size: int
    lat: float
    lon: float
    pcn: int
    rooms: int = 0


@dataclass
class Person:
    """A member of staff as generated, with the sessions they cannot work this week."""

    staff_id: str
    name: str
    role: str
    home: str
    employer: str
    contract_hours: float
    max_hours: float
    skills: list[str]
    sites: list[str]  # ["*"] = any site
    hourly_rate: float
    email: str
    pcn: int
    max_evenings: int = 0
    max_weekend: int = 0
    off_days: set[int] = field(default_factory=set)  # weekday indices, leave or unavailable
    off_sessions: set[tuple[int, str]] = field(default_factory=set)

    def free(self, day: int, session: str) -> bool:
        """Whether leave and 'unavailable' rows leave this session open."""
        return day not in self.off_days and (day, session) not in self.off_sessions

    def core_capacity(self) -> int:
        """Core sessions this person can work this week (max hours, two a day, time off)."""
        by_hours = int(self.max_hours // SESSION_HOURS)
        free_slots = sum(1 for day, session in CORE_SLOTS if self.free(day, session))
        return max(0, min(by_hours, free_slots))


@dataclass(frozen=True)
class Need:
    """One demand.csv row."""

    site_id: str
    day: str
    session_id: str
    role: str
    skill: str
    min: int
    target: int
    weight: float = 1.0


@dataclass
class Network:
    """Everything generated, before it is written as files."""

    name: str
    dates: tuple[dt.date, ...]
    sites: list[SiteSpec]
    staff: list[Person] = field(default_factory=list)
    demand: list[Need] = field(default_factory=list)
    leave: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    preferences: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    fixed: list[tuple[str, str, str, str]] = field(default_factory=list)

    def practices(self, pcn: int | None = None) -> list[SiteSpec]:
        """Practices of one PCN, or of the whole network."""
        return [s for s in self.sites if s.kind == "practice" and (pcn is None or s.pcn == pcn)]

    def hub(self, pcn: int) -> SiteSpec:
        """The PCN's enhanced-access hub."""
        return next(s for s in self.sites if s.kind == "hub" and s.pcn == pcn)

    def pcns(self) -> list[int]:
        """PCN numbers in order, so iteration never depends on hashing."""
        return sorted({s.pcn for s in self.sites})

    def people(self, pcn: int, roles: Iterable[str]) -> list[Person]:
        """Staff of the PCN (home practice or hub) holding one of ``roles``."""
        wanted = list(roles)
        return [p for p in self.staff if p.pcn == pcn and p.role in wanted]


# --- Entry points ------------------------------------------------------------


def generate_network(
    practices: int, seed: int, week: str = "2026-W49", name: str | None = None
) -> dict[str, str]:
    """A complete bundle (file name -> text) for ``practices`` practices, same seed same files."""
    if practices < 1:
        raise ValueError("a network needs at least one practice")
    rng = random.Random(seed)
    net = build_network(rng, practices, parse_iso_week(week), name)
    return render(net)


def write_network(
    out_dir: str | Path, practices: int, seed: int, week: str = "2026-W49", name: str | None = None
) -> dict[str, str]:
    """Write a generated bundle into ``out_dir`` (created if missing) and return its files."""
    files = generate_network(practices, seed, week, name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for file_name, text in files.items():
        (out / file_name).write_text(text, encoding="utf-8")
    return files


def build_network(
    rng: random.Random, practices: int, dates: Sequence[dt.date], name: str | None
) -> Network:
    """Generate in dependency order: places, people, time off, then the demand they meet."""
    sites = make_sites(rng, practices)
    kind = "Primary Care Network" if practices <= PRACTICES_PER_PCN else "GP Federation"
    default_name = f"{rng.choice(LOCALITIES)} {kind}"  # drawn even when named: same stream
    net = Network(name or default_name, tuple(dates), sites)
    make_staff(rng, net)
    ensure_hub_cover(rng, net)
    net.leave = make_leave(rng, net)
    net.preferences = make_preferences(rng, net)
    net.demand = make_demand(rng, net)
    net.fixed = make_fixed(rng, net)
    return net


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


def practice_names(rng: random.Random, count: int) -> list[str]:
    """Plausible practice names, no place used twice while the list of places lasts."""
    places = rng.sample(PLACES, min(count, len(PLACES)))
    names = [f"{place} {rng.choice(PRACTICE_SUFFIXES)}" for place in places]
    for i in range(len(names), count):
        names.append(f"{PLACES[i % len(PLACES)]} Medical Centre {i // len(PLACES) + 1}")
    return names


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


# --- Staff -------------------------------------------------------------------


class Namer:
    """Synthetic names and unique example.nhs.uk addresses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.emails: Counter[str] = Counter()

    def next(self) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
        local = f"{first}.{last}".lower()
        self.emails[local] += 1
        if self.emails[local] > 1:
            local += str(self.emails[local])
        return f"{first} {last}", f"{local}@example.nhs.uk"


def make_staff(rng: random.Random, net: Network) -> None:
    """Practice teams scaled by list size, then each PCN's network-employed ARRS staff."""
    namer = Namer(rng)
    staff = net.staff
    for site in net.practices():
        for role, hours in practice_team(rng, site.list_size):
            number = len(staff) + 1
            staff.append(
                practice_person(rng, net, site, role=role, hours=hours, namer=namer, number=number)
            )
        ensure_clinic_skills(net, site)
    for pcn in net.pcns():
        for role, home in arrs_team(rng, net, pcn):
            number = len(staff) + 1
            hub = net.hub(pcn)
            staff.append(arrs_person(rng, hub, role=role, home=home, namer=namer, number=number))


def practice_team(rng: random.Random, list_size: int) -> list[tuple[str, float]]:
    """(role, contract hours) for a practice: GPs until the WTE is met, then nurses and HCAs."""
    team: list[tuple[str, float]] = []
    gp_hours_needed = list_size / PATIENTS_PER_GP_WTE * FULL_TIME_HOURS
    gp_hours = 0.0
    while gp_hours < gp_hours_needed - SESSION_HOURS:
        sessions = rng.choices(GP_SESSIONS, GP_SESSION_WEIGHTS)[0]
        team.append(("GP", sessions * SESSION_HOURS))
        gp_hours += sessions * SESSION_HOURS
    for _ in range(max(1, round(list_size / PATIENTS_PER_PN))):
        team.append(("PN", rng.choice(NURSE_HOURS)))
    for _ in range(max(1, round(list_size / PATIENTS_PER_HCA))):
        team.append(("HCA", rng.choice(NURSE_HOURS)))
    return team


def practice_person(
    rng: random.Random,
    net: Network,
    site: SiteSpec,
    *,
    role: str,
    hours: float,
    namer: Namer,
    number: int,
) -> Person:
    """One practice-employed person; some also work at the nearest practices of their PCN."""
    name, email = namer.next()
    sites = [site.site_id]
    if rng.random() < MOBILE_SHARE[role]:
        sites += neighbours(net, site, rng.randint(1, 3))
    extra = SESSION_HOURS if role == "GP" and rng.random() < 0.2 else 0.0
    person = Person(
        staff_id=f"S{number:04d}",
        name=name,
        role=role,
        home=site.site_id,
        employer=site.site_id,
        contract_hours=hours,
        max_hours=hours + extra,  # a few GPs will do one extra session a week
        skills=practice_skills(rng, role),
        sites=sites,
        hourly_rate=rng.choice(HOURLY_RATES[role]),
        email=email,
        pcn=site.pcn,
    )
    set_unsocial_hours(rng, person, net.hub(site.pcn), role)
    return person


def practice_skills(rng: random.Random, role: str) -> list[str]:
    """Skills by role, each held by a typical share of that role."""
    table = {"GP": GP_SKILLS, "PN": PN_SKILLS, "HCA": HCA_SKILLS}[role]
    skills = [skill for skill, share in table.items() if rng.random() < share]
    if role == "HCA":
        skills.insert(0, "phlebotomy")
    return skills


def ensure_clinic_skills(net: Network, site: SiteSpec) -> None:
    """Every practice can run its own smear and diabetes clinics: if no nurse of the
    practice holds the skill, its first (cytology) or last (diabetes) nurse gets it."""
    nurses = [p for p in net.staff if p.home == site.site_id and p.role == "PN"]
    for skill, nurse in (("cytology", nurses[0]), ("diabetes", nurses[-1])):
        if not any(skill in p.skills for p in nurses):
            nurse.skills.insert(0, skill)


def set_unsocial_hours(rng: random.Random, person: Person, hub: SiteSpec, group: str) -> None:
    """Evening and Saturday willingness (0-2 each); the willing may work at the PCN hub."""
    if rng.random() < EVENING_SHARE[group]:
        person.max_evenings = rng.randint(1, 2)
    if rng.random() < WEEKEND_SHARE[group]:
        person.max_weekend = rng.randint(1, 2)
    allow_hub(person, hub)


def allow_hub(person: Person, hub: SiteSpec) -> None:
    """Add the hub to the sites of someone willing to work evenings or Saturdays."""
    willing = person.max_evenings or person.max_weekend
    if willing and person.sites != ["*"] and hub.site_id not in person.sites:
        person.sites.append(hub.site_id)


def arrs_team(rng: random.Random, net: Network, pcn: int) -> list[tuple[str, str]]:
    """(role, home practice) for the PCN's ARRS staff, headcount scaled by PCN population."""
    practices = net.practices(pcn)
    population = sum(p.list_size for p in practices)
    team = []
    for role, per_head in ARRS_PATIENTS_PER_HEAD.items():
        count = round(population / per_head)
        if role != "PA":
            count = max(1, count)  # every PCN has a pharmacist, an FCP and a paramedic
        team += [(role, rng.choice(practices).site_id) for _ in range(count)]
    return team


def arrs_person(
    rng: random.Random, hub: SiteSpec, *, role: str, home: str, namer: Namer, number: int
) -> Person:
    """A network-employed (FED) clinician who may work at any site."""
    name, email = namer.next()
    skill = ARRS_SKILLS[role]
    person = Person(
        staff_id=f"S{number:04d}",
        name=name,
        role=role,
        home=home,
        employer="FED",
        contract_hours=FULL_TIME_HOURS,
        max_hours=FULL_TIME_HOURS,
        skills=[skill] if skill else [],
        sites=["*"],
        hourly_rate=rng.choice(HOURLY_RATES[role]),
        email=email,
        pcn=hub.pcn,
    )
    set_unsocial_hours(rng, person, hub, "ARRS")
    return person


HUB_SESSIONS: tuple[tuple[str, str], ...] = (
    *((day, "EVE") for day in WEEKDAYS),
    ("Sat", "SAT_AM"),
    ("Sat", "SAT_PM"),
)


def hub_minutes(net: Network, pcn: int) -> float:
    """DOMAIN.md: 60 minutes per 1,000 adjusted population per week (list size stands in)."""
    population = sum(p.list_size for p in net.practices(pcn))
    return EA_MINUTES_PER_1000 * population / 1000


def hub_plan(net: Network, pcn: int) -> dict[tuple[str, str], int]:
    """Clinicians wanted at least in each hub session to deliver the PCN's minutes.

    One clinician through every hub session (5 evenings of 90 min and two
    Saturday sessions of 240 min) gives 930 minutes.  Each session gets as many
    whole clinicians as fit (never fewer than a GP and one other), then the
    remainder is added one clinician at a time, evenings first.
    """
    window = sum(SESSION_MINUTES[session] for _, session in HUB_SESSIONS)
    minutes = hub_minutes(net, pcn)
    base = max(2, int(minutes // window))
    plan = dict.fromkeys(HUB_SESSIONS, base)
    remaining = minutes - base * window
    for slot in HUB_SESSIONS:
        if remaining <= 0:
            break
        plan[slot] += 1
        remaining -= SESSION_MINUTES[slot[1]]
    return plan


def ensure_hub_cover(rng: random.Random, net: Network) -> None:
    """Top up evening/Saturday willingness until each hub can be staffed with room for leave."""
    for pcn in net.pcns():
        plan = hub_plan(net, pcn)
        hub = net.hub(pcn)
        evenings = sum(people for (day, _), people in plan.items() if day != "Sat")
        saturdays = sum(people for (day, _), people in plan.items() if day == "Sat")
        # (roles, evening sessions needed, Saturday sessions needed), with a 50% margin
        needs = (
            (["GP"], 5, 2),
            (["PN"], 5, 2),
            (["GP", "PN", "HCA", *ARRS_PATIENTS_PER_HEAD], evenings, saturdays),
        )
        for roles, evenings, saturdays in needs:
            pool = net.people(pcn, roles)
            top_up(rng, pool, "max_evenings", math.ceil(1.5 * evenings), hub)
            top_up(rng, pool, "max_weekend", math.ceil(1.5 * saturdays), hub)


def top_up(rng: random.Random, pool: list[Person], attr: str, needed: int, hub: SiteSpec) -> None:
    """Raise a random person's limit by one until the pool's total reaches ``needed``."""
    while sum(getattr(p, attr) for p in pool) < needed:
        open_people = [p for p in pool if getattr(p, attr) < 2]
        if not open_people:
            return
        person = rng.choice(open_people)
        setattr(person, attr, getattr(person, attr) + 1)
        allow_hub(person, hub)


# --- Leave and preferences ----------------------------------------------------


def make_leave(rng: random.Random, net: Network) -> list[tuple[str, str, str, str, str]]:
    """8-12% of staff have leave this week: a sick day, a study day, one or two
    single sessions, and otherwise annual leave of one day to the whole week."""
    count = max(2, round(len(net.staff) * rng.uniform(*LEAVE_SHARE)))
    people = rng.sample(net.staff, min(count, len(net.staff)))
    session_only = 1 if count < 6 else 2
    rows = []
    for i, person in enumerate(people):
        if i == 0:
            rows.append(day_leave(rng, net, person, "sick", 1))
        elif i == 1:
            rows.append(day_leave(rng, net, person, "study", 1))
        elif i < 2 + session_only:
            rows.append(session_leave(rng, net, person))
        else:
            rows.append(day_leave(rng, net, person, "annual", rng.choice((1, 2, 3, 5))))
    return rows


def day_leave(
    rng: random.Random, net: Network, person: Person, kind: str, days: int
) -> tuple[str, str, str, str, str]:
    """Whole weekdays of leave, inside Monday-Friday of the planned week."""
    first = rng.randint(0, 5 - days)
    person.off_days.update(range(first, first + days))
    start, end = net.dates[first], net.dates[first + days - 1]
    return (person.staff_id, str(start), str(end), kind, "")


def session_leave(
    rng: random.Random, net: Network, person: Person
) -> tuple[str, str, str, str, str]:
    """A single session off (a dentist, a school play)."""
    day, session = rng.choice(CORE_SLOTS)
    person.off_sessions.add((day, session))
    date = str(net.dates[day])
    return (person.staff_id, date, date, rng.choice(("annual", "other")), session)


def make_preferences(rng: random.Random, net: Network) -> list[tuple[str, str, str, str, str, str]]:
    """A few prefer/avoid wishes and a few recurring 'unavailable' slots, one person each."""
    counts = {
        kind: max(1, round(len(net.staff) * share)) for kind, share in PREFERENCE_SHARE.items()
    }
    people = rng.sample(net.staff, min(sum(counts.values()), len(net.staff)))
    rows = []
    for kind, count in counts.items():
        for person in people[:count]:
            rows.append(preference(rng, net, person, kind))
        people = people[count:]
    return rows


def preference(
    rng: random.Random, net: Network, person: Person, kind: str
) -> tuple[str, str, str, str, str, str]:
    """One preferences.csv row of the given kind for this person."""
    day = rng.randrange(5)
    if kind == "unavailable":
        session = rng.choice(("", "AM", "PM"))
        if session:
            person.off_sessions.add((day, session))
        else:
            person.off_days.add(day)
        return (person.staff_id, WEEKDAYS[day], session, "", kind, "")
    weight = str(rng.choice((1, 2)))
    if kind == "prefer" and person.max_evenings:
        return (person.staff_id, WEEKDAYS[day], "EVE", net.hub(person.pcn).site_id, kind, weight)
    site = person.home if kind == "prefer" else ""
    return (person.staff_id, WEEKDAYS[day], rng.choice(("AM", "PM")), site, kind, weight)


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


# --- Rendering -----------------------------------------------------------------


def number(value: float) -> str:
    """36.0 -> '36', 40.5 -> '40.5': how a person would type it."""
    return f"{value:g}"


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with Unix line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render(net: Network) -> dict[str, str]:
    """The bundle's files, in the order SCENARIO_FORMAT.md describes them."""
    return {
        "network.toml": render_network(net),
        "sites.csv": render_sites(net),
        "session_types.csv": to_csv(
            ("session_id", "label", "start", "end", "days", "kind"), SESSION_TYPES
        ),
        "staff.csv": render_staff(net),
        "demand.csv": render_demand(net),
        "leave.csv": to_csv(("staff_id", "start", "end", "kind", "session_id"), net.leave),
        "preferences.csv": to_csv(
            ("staff_id", "day", "session_id", "site_id", "preference", "weight"),
            net.preferences,
        ),
        "fixed.csv": to_csv(("staff_id", "date", "session_id", "site_id"), net.fixed),
    }


def render_network(net: Network) -> str:
    """network.toml: the Working Time Regulations defaults and the enhanced-access rule."""
    population = sum(p.list_size for p in net.practices())
    name = net.name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'name = "{name}"\n'
        'timezone = "Europe/London"\n\n'
        "[rules]\n"
        "min_rest_hours = 11        # Working Time Regulations daily rest\n"
        "max_week_hours = 48        # Working Time Regulations weekly cap\n"
        "max_sessions_per_day = 2\n\n"
        "[enhanced_access]          # Network Contract DES\n"
        f"minutes_per_1000_per_week = {EA_MINUTES_PER_1000}\n"
        "# Sum of list sizes, standing in for the NHS-published adjusted population.\n"
        f"adjusted_population = {population}\n"
    )


def render_sites(net: Network) -> str:
    """sites.csv, hubs after practices."""
    header = ("site_id", "name", "kind", "list_size", "rooms", "lat", "lon")
    rows = [(s.site_id, s.name, s.kind, s.list_size, s.rooms, s.lat, s.lon) for s in net.sites]
    return to_csv(header, rows)


def render_staff(net: Network) -> str:
    """staff.csv; min_hours 0 and the network's sessions-per-day rule for everyone."""
    header = (
        "staff_id",
        "name",
        "role",
        "home_site",
        "employer",
        "contract_hours",
        "min_hours",
        "max_hours",
        "skills",
        "sites",
        "max_sessions_per_day",
        "max_evenings",
        "max_weekend_sessions",
        "hourly_rate",
        "email",
    )
    rows = [
        (
            p.staff_id,
            p.name,
            p.role,
            p.home,
            p.employer,
            number(p.contract_hours),
            0,
            number(p.max_hours),
            ";".join(p.skills),
            ";".join(p.sites),
            "",
            p.max_evenings,
            p.max_weekend,
            number(p.hourly_rate),
            p.email,
        )
        for p in net.staff
    ]
    return to_csv(header, rows)


def render_demand(net: Network) -> str:
    """demand.csv in generation order: by PCN, ARRS, practices, hub."""
    header = ("site_id", "day", "session_id", "role", "skill", "min", "target", "weight")
    rows = [
        (n.site_id, n.day, n.session_id, n.role, n.skill, n.min, n.target, number(n.weight))
        for n in net.demand
    ]
    return to_csv(header, rows)


# --- Command line ------------------------------------------------------------------


def summary(files: dict[str, str]) -> str:
    """A one-paragraph description of a bundle: sites, patients, staff by role, demand."""
    sites = list(csv.DictReader(io.StringIO(files["sites.csv"])))
    staff = list(csv.DictReader(io.StringIO(files["staff.csv"])))
    demand = list(csv.DictReader(io.StringIO(files["demand.csv"])))
    practices = [s for s in sites if s["kind"] == "practice"]
    patients = sum(int(s["list_size"]) for s in practices)
    roles = Counter(p["role"] for p in staff)
    by_role = ", ".join(f"{role} {count}" for role, count in sorted(roles.items()))
    return (
        f"{len(practices)} practices, {len(sites) - len(practices)} hub(s), "
        f"{patients:,} patients; {len(staff)} staff ({by_role}); "
        f"{len(demand)} demand rows"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: write a generated bundle and print what it contains."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--practices", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--week", default="2026-W49", help="ISO week of leave and pins")
    parser.add_argument("--name", default=None, help="network name (default: generated)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    files = write_network(args.out, args.practices, args.seed, args.week, args.name)
    print(f"{args.out}: {summary(files)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
