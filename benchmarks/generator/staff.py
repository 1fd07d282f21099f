"""The people of each practice and PCN: roles, hours, skills, sites, leave and preferences."""

from __future__ import annotations

import math
import random

from benchmarks.generator.figures import (
    ARRS_PATIENTS_PER_HEAD,
    ARRS_SKILLS,
    CORE_SLOTS,
    EA_MINUTES_PER_1000,
    EVENING_SHARE,
    FULL_TIME_HOURS,
    GP_SESSION_WEIGHTS,
    GP_SESSIONS,
    GP_SKILLS,
    HCA_SKILLS,
    HOURLY_RATES,
    HUB_SESSIONS,
    LEAVE_SHARE,
    MOBILE_SHARE,
    NURSE_HOURS,
    PATIENTS_PER_GP_WTE,
    PATIENTS_PER_HCA,
    PATIENTS_PER_PN,
    PN_SKILLS,
    PREFERENCE_SHARE,
    SESSION_HOURS,
    SESSION_MINUTES,
    WEEKDAYS,
    WEEKEND_SHARE,
    Network,
    Person,
    SiteSpec,
)
from benchmarks.generator.names import Namer
from benchmarks.generator.sites import neighbours


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
