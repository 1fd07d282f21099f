"""The generator's figures and shapes: every number below says where it comes from.

"DOMAIN.md" is the project's domain brief (``../shared/DOMAIN.md``).  The
dataclasses are the generator's own view of a network before it is written
as a bundle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from scheduler.domain import DAY_NAMES

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


HUB_SESSIONS: tuple[tuple[str, str], ...] = (
    *((day, "EVE") for day in WEEKDAYS),
    ("Sat", "SAT_AM"),
    ("Sat", "SAT_PM"),
)
