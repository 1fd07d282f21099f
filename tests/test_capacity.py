"""Spare capacity: who is free, with contracted time left, and where they could work.

The rules of ``scheduler.checks.capacity`` are a cheaper route to the validator's
verdict on adding one session; the property test at the end holds them to
the validator on random small networks.
"""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.checks.capacity import RotaIndex, capacity_rows, spare_capacity
from scheduler.checks.validator import check_rota
from scheduler.domain import (
    Assignment,
    Bundle,
    DemandRow,
    ForbiddenSequence,
    SessionLimit,
    SiteKind,
    Staff,
    Travel,
)
from scheduler.horizon import Horizon
from tests.factories import (
    WEEK,
    assign,
    make_bundle,
    make_demand,
    make_leave,
    make_preference,
    make_session,
    make_site,
    make_staff,
    make_travel,
)

MON, TUE, WED = WEEK[0], WEEK[1], WEEK[2]
AM = make_session("AM", "08:00", "12:30")
PM = make_session("PM", "13:30", "18:00")
EVE = make_session("EVE", "18:30", "20:00", "Mon-Fri", "extended")
SAT = make_session("SAT", "09:00", "13:00", "Sat", "extended")


def small_network(**overrides: object) -> Bundle:
    """Two practices 15 minutes apart; P02 has one consulting room."""
    fields: dict[str, object] = {
        "sites": [make_site(), make_site(site_id="P02", name="Station Road", rooms=1)],
        "session_types": [AM, PM],
        "staff": [
            make_staff(
                staff_id="S1", name="Ann", contract_hours=9, sites="P01;P02", hourly_rate=90
            ),
            make_staff(staff_id="S2", name="Ben", home_site="P02", contract_hours=4.5),
            make_staff("PN", staff_id="S3", name="Cat", contract_hours=9),
            make_staff(staff_id="S4", name="Dev", home_site="P02", contract_hours=9, sites="*"),
        ],
        "demand": [
            make_demand("P01", "Mon", "AM", role="GP", min=1, target=1),
            make_demand("P02", "Mon", "AM", role="GP", min=1, target=2),
            make_demand("P01", "Mon", "PM", role="GP", min=0, target=1),
            make_demand("P02", "Mon", "PM", role="GP", min=0, target=1),
            make_demand("P01", "Tue", "AM", role="PN", min=0, target=1),
            make_demand("P01", "Wed", "AM", role="PN", min=0, target=1),
        ],
        "leave": [make_leave("S3", TUE)],
        "preferences": [make_preference("S4", "Mon", "PM", "P01")],
        "travel": [make_travel("P01", "P02", 15)],
    }
    fields.update(overrides)
    return make_bundle(**fields)  # type: ignore[arg-type]


ROTA = [assign("S1", MON, "AM", "P01"), assign("S2", MON, "AM", "P02")]


def summary(bundle: Bundle, rota: list[Assignment]) -> list[tuple[object, ...]]:
    return [
        (
            s.date,
            s.session_id,
            s.person.staff_id,
            s.spare_hours,
            [(o.site_id, o.travel_minutes, o.wanted) for o in s.sites],
        )
        for s in spare_capacity(bundle, WEEK, rota)
    ]


def test_spare_capacity_of_a_tiny_network_exactly() -> None:
    assert summary(small_network(), ROTA) == [
        # P02 is full (one room, Ben there); P01's need is met, so not wanted.
        (MON, "AM", "S4", Decimal("9.00"), [("P01", 15, False)]),
        # Ann works the morning at P01: 60 minutes is time enough to reach P02.
        (MON, "PM", "S1", Decimal("4.50"), [("P01", 0, True), ("P02", 15, True)]),
        # Dev is unavailable at P01 on Monday afternoons only.
        (MON, "PM", "S4", Decimal("9.00"), [("P02", 0, True)]),
        # Cat's day of leave takes 9 / 5 hours off her spare time; Tuesday she is away.
        (WED, "AM", "S3", Decimal("7.20"), [("P01", 0, True)]),
    ]


def test_capacity_rows_follow_the_header() -> None:
    rows = capacity_rows(spare_capacity(small_network(), WEEK, ROTA))
    assert rows[1] == (
        "2026-11-30",
        "Mon",
        "PM",
        "S1",
        "Ann",
        "GP",
        "",
        "P01",
        "P01",
        Decimal("4.50"),
        Decimal("4.50"),
        Decimal("90.00"),
        "P01 (0 min, wanted); P02 (15 min, wanted)",
    )


def test_shuffled_rota_and_staff_give_the_same_capacity() -> None:
    bundle = small_network()
    reversed_staff = make_bundle(
        sites=bundle.sites,
        session_types=bundle.session_types,
        staff=list(reversed(bundle.staff)),
        demand=bundle.demand,
        leave=bundle.leave,
        preferences=bundle.preferences,
        travel=bundle.travel,
    )
    assert summary(reversed_staff, list(reversed(ROTA))) == summary(bundle, ROTA)


def test_travel_longer_than_the_lunch_break_keeps_ann_at_home() -> None:
    far = small_network(travel=[make_travel("P01", "P02", 75)])
    ann = [row for row in summary(far, ROTA) if row[2] == "S1"]
    assert ann == [(MON, "PM", "S1", Decimal("4.50"), [("P01", 0, True)])]


def test_nobody_is_offered_past_their_weekly_hours() -> None:
    bundle = small_network()
    capped = make_bundle(
        sites=bundle.sites,
        session_types=bundle.session_types,
        staff=[
            make_staff(staff_id="S1", name="Ann", contract_hours=9, max_hours=4.5, sites="P01;P02"),
            *bundle.staff[1:],
        ],
        demand=bundle.demand,
        leave=bundle.leave,
        preferences=bundle.preferences,
        travel=bundle.travel,
    )
    assert [row for row in summary(capped, ROTA) if row[2] == "S1"] == []
    assert [row for row in summary(bundle, ROTA) if row[2] == "S1"] != []


def test_people_whose_contract_is_used_up_are_not_spare() -> None:
    assert all(row[2] != "S2" for row in summary(small_network(), ROTA))  # Ben: 4.5 of 4.5


# --------------------------------------------------------------------------- random networks

ROLES = ("GP", "PN")
SITES = ("P01", "P02", "H1")


def random_staff(rng: random.Random) -> list[Staff]:
    """Three to seven people with most of the limits a person can have."""
    staff = []
    for i in range(rng.randint(3, 7)):
        home = rng.choice(SITES)
        contract = rng.choice([9.0, 13.5, 18.0, 22.5])
        staff.append(
            make_staff(
                rng.choice(ROLES),
                staff_id=f"S{i:02d}",
                name=f"Person {i}",
                home_site=home,
                employer=rng.choice([home, "FED"]),
                sites=rng.choice(["*", home, f"{home};P02", "P01;P02"]),
                contract_hours=contract,
                max_hours=contract + rng.choice([0, 4.5, 9]),
                max_sessions_per_day=rng.choice([None, 1, 2, 3]),
                max_evenings=rng.randint(0, 2),
                max_weekend_sessions=rng.randint(0, 1),
                hourly_rate=rng.choice([None, 30.0, 90.0]),
                skills=rng.choice(["", "cytology"]),
                max_consecutive_days=rng.choice([None, None, 2, 3]),
                min_consecutive_days=rng.choice([None, None, None, None, 2]),
                min_days_off_in_row=rng.choice([None, None, None, None, 2]),
                max_weekends=rng.choice([None, 0, 1]),
                max_horizon_hours=rng.choice([None, None, 13.5]),
            )
        )
    return staff


def random_demand(rng: random.Random) -> list[DemandRow]:
    """Needs on a few weekdays of each session, and the hub on Saturday."""
    demand = [
        make_demand(
            rng.choice(SITES),
            day,
            session.session_id,
            role=rng.choice([*ROLES, None]),
            skill=rng.choice([None, None, "cytology"]),
            min=rng.randint(0, 2),
            target=rng.randint(2, 3),
        )
        for session in (AM, PM, EVE, SAT)
        for day in rng.sample(["Mon", "Tue", "Wed", "Mon-Fri"], rng.randint(1, 3))
        if session is not SAT
    ] + [make_demand("H1", "Sat", "SAT", min=rng.randint(0, 1), target=2)]
    return demand


def random_travel(rng: random.Random) -> list[Travel]:
    """Travel times between the sites, one way or both."""
    travel = [make_travel("P01", "P02", rng.choice([10, 45, 70]))]
    if rng.random() < 0.5:
        travel.append(make_travel("P02", "P01", rng.choice([20, 65])))
    travel.append(make_travel("P01", "H1", rng.choice([0, 40])))
    return travel


def random_bundle(rng: random.Random) -> Bundle:
    """Three sites, up to seven people, and most of the rules a person can break."""
    sites = [
        make_site(site_id="P01", rooms=rng.choice([0, 1, 2])),
        make_site(site_id="P02", rooms=rng.choice([0, 2])),
        make_site(site_id="H1", kind=SiteKind.HUB, rooms=0),
    ]
    staff = random_staff(rng)
    demand = random_demand(rng)
    leave = [
        make_leave(p.staff_id, rng.choice(WEEK[:3]), session_id=rng.choice([None, "AM", "PM"]))
        for p in staff
        if rng.random() < 0.3
    ]
    prefs = [
        make_preference(
            p.staff_id,
            rng.choice(["Mon", "Tue", "Wed"]),
            rng.choice([None, "AM", "PM"]),
            rng.choice([None, "P01", "P02"]),
        )
        for p in staff
        if rng.random() < 0.3
    ]
    travel = random_travel(rng)
    return make_bundle(
        sites=sites,
        session_types=[AM, PM, EVE, SAT],
        staff=staff,
        demand=demand,
        leave=leave,
        preferences=prefs,
        travel=travel,
        rules={"min_rest_hours": rng.choice([11.0, 13.0]), "max_sessions_per_day": 2},
        forbidden_sequences=(
            (ForbiddenSequence("EVE", "AM", row=2),) if rng.random() < 0.5 else ()
        ),
        session_limits=tuple(
            SessionLimit(p.staff_id, "PM", rng.randint(0, 2), row=2 + i)
            for i, p in enumerate(staff)
            if rng.random() < 0.3
        ),
    )


def every_cell(bundle: Bundle) -> list[Assignment]:
    """Every (date, session, site, person) of the week, whether or not it makes sense."""
    return [
        Assignment(day, session.session_id, site.site_id, person.staff_id)
        for day in WEEK
        for session in bundle.session_types
        if session.runs_on(day)
        for site in bundle.sites
        for person in bundle.staff
    ]


def random_rota(bundle: Bundle, rng: random.Random, share: float = 0.6) -> list[Assignment]:
    """A valid rota: random cells added one at a time while the validator accepts them."""
    rota: list[Assignment] = []
    needs = {(n.date, n.session_id, n.site_id) for n in Horizon(bundle, WEEK).needs}
    cells = [c for c in every_cell(bundle) if (c.date, c.session_id, c.site_id) in needs]
    rng.shuffle(cells)
    for cell in cells:
        if rng.random() < share and check_rota(bundle, WEEK, [*rota, cell]).ok:
            rota.append(cell)
    return rota


def random_network(seed: int) -> tuple[Bundle, list[Assignment]]:
    """A random small network and a valid random rota of 2026-W49, the same for the same seed."""
    rng = random.Random(seed)
    bundle = random_bundle(rng)
    return bundle, random_rota(bundle, rng)


networks = st.integers(0, 100_000).map(random_network)


@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(networks)
def test_the_cheap_rules_agree_with_the_validator_on_every_added_session(
    network: tuple[Bundle, list[Assignment]],
) -> None:
    bundle, rota = network
    index = RotaIndex(bundle, WEEK, rota)
    wrong = []
    for cell in every_cell(bundle):
        if cell in rota:
            continue
        shift = index.shift(cell.date, cell.session_id)
        assert shift is not None
        week = index.week_of(bundle.person(cell.staff_id))
        cheap = index.breaks(week, shift, cell.site_id)
        report = check_rota(bundle, WEEK, [*rota, cell])
        if (cheap is None) != report.ok:
            wrong.append((cell, cheap, [v.rule_id for v in report.violations]))
    assert wrong == []


@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(networks)
def test_every_spare_session_is_one_the_validator_accepts(
    network: tuple[Bundle, list[Assignment]],
) -> None:
    bundle, rota = network
    for spare in spare_capacity(bundle, WEEK, rota):
        assert spare.spare_hours > 0
        for option in spare.sites:
            cell = Assignment(spare.date, spare.session_id, option.site_id, spare.person.staff_id)
            assert check_rota(bundle, WEEK, [*rota, cell]).ok, cell


def test_the_random_networks_exercise_both_verdicts() -> None:
    """The property tests above cannot pass by never finding anyone, nor everyone."""
    offered = refused = assigned = 0
    for seed in range(10):
        bundle, rota = random_network(seed)
        index = RotaIndex(bundle, WEEK, rota)
        for cell in every_cell(bundle):
            shift = index.shift(cell.date, cell.session_id)
            assert shift is not None
            week = index.week_of(bundle.person(cell.staff_id))
            if index.breaks(week, shift, cell.site_id) is None:
                offered += 1
            else:
                refused += 1
        assigned += len(rota)
    assert assigned > 30
    assert offered > 20
    assert refused > 100
