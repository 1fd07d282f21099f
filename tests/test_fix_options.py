"""Ranked fixes for a shortfall: borrow someone, pay overtime, move the clinic.

One small network where every kind of fix appears: P01 is a GP short on
Tuesday morning.  Ann (P05) and Ben (P02) are free to come, Dee (P01) could
come on overtime, Cat (P02) could come but would leave P02 short, and on
Wednesday morning P01 has one GP more than it needs, so the clinic could
move there.  Each rule has a test where it bites and one where it does not,
and every option is applied to the rota and checked by the validator.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from benchmarks.greedy import greedy_rota
from scheduler.bundle.reader import read_bundle
from scheduler.checks.explain import (
    DISRUPTION,
    LEAVES_SHORT_DISRUPTION,
    FixKind,
    FixOption,
    option_order,
    rank_options,
)
from scheduler.checks.fixes import CLINIC_MOVE_DAYS, ShortfallItem, moved_row, shortfall_items
from scheduler.checks.validator import check_rota, coverage_of
from scheduler.domain import Assignment, Bundle, PreferenceKind, Rules, Staff, parse_iso_week
from scheduler.horizon import Horizon
from scheduler.usecases.planning import SHORTFALL_HEADER, shortfall_rows
from tests.factories import (
    assign,
    make_bundle,
    make_demand,
    make_preference,
    make_session,
    make_site,
    make_staff,
    make_travel,
)
from tests.web_support import TINY

DATES = parse_iso_week("2026-W49")
MON, TUE, WED = "2026-11-30", "2026-12-01", "2026-12-02"
SESSIONS = [
    make_session("AM", "08:00", "12:30"),
    make_session("PM", "13:30", "18:00"),
    make_session("EVE", "18:30", "20:00", kind="extended"),
]


def gp(staff_id: str, name: str, home: str = "P01", **overrides: Any) -> Staff:
    """A full-time GP who may work at home and at P01."""
    sites = "P01" if home == "P01" else f"{home};P01"
    fields: dict[str, Any] = {"contract_hours": 37.5, "sites": sites, **overrides}
    return make_staff("GP", staff_id=staff_id, name=name, home_site=home, **fields)


def network(
    *, dee: dict[str, Any] | None = None, wed_min: int = 1, rules: Rules | None = None
) -> Bundle:
    """P01 needs a GP on Mon and Tue mornings and on Wednesday morning (``wed_min``)."""
    dee_fields: dict[str, Any] = {"contract_hours": 6, "max_hours": 40, **(dee or {})}
    return make_bundle(
        sites=[make_site(site_id=s, name=f"Surgery {s}") for s in ("P01", "P02", "P05")],
        session_types=SESSIONS,
        staff=[
            gp("S0010", "Ann Far", "P05", hourly_rate=60),
            gp("S0011", "Ben Near", "P02", hourly_rate=80),
            gp("S0012", "Cat Needed", "P02", hourly_rate=50),
            gp("S0013", "Dee Over", hourly_rate=50, **dee_fields),
            gp("S0014", "Eve Spare", hourly_rate=70),
            gp("S0015", "Fay Spare", hourly_rate=70),
        ],
        demand=[
            make_demand("P01", "Mon;Tue", "AM", role="GP"),
            make_demand("P02", "Tue", "AM", role="GP"),
            make_demand("P01", "Wed", "AM", role="GP", min=wed_min),
        ],
        preferences=[
            make_preference(s, "Mon;Tue", preference=PreferenceKind.UNAVAILABLE)
            for s in ("S0014", "S0015")
        ],
        travel=[make_travel("P01", "P02", 20), make_travel("P01", "P05", 30)],
        rules=rules or Rules(),
    )


ROTA = (
    assign("S0012", TUE, "AM", "P02"),
    assign("S0013", MON, "AM", "P01"),
    assign("S0014", WED, "AM", "P01"),
    assign("S0015", WED, "AM", "P01"),
)


def items_of(bundle: Bundle, rota: Sequence[Assignment] = ROTA) -> list[ShortfallItem]:
    coverage = coverage_of(bundle, DATES, rota)
    return shortfall_items(bundle, DATES, rota, coverage)


def options_of(bundle: Bundle, rota: Sequence[Assignment] = ROTA) -> tuple[FixOption, ...]:
    """The fixes of the one shortfall: P01, Tuesday morning."""
    [item] = items_of(bundle, rota)
    assert (item.note.site_id, item.note.date.isoformat(), item.note.session_id) == (
        "P01",
        TUE,
        "AM",
    )
    return item.note.options


def texts(options: Sequence[FixOption]) -> list[str]:
    return [o.text for o in options]


# --------------------------------------------------------------------------- ranking


def test_options_are_ranked_least_disruptive_then_cheapest() -> None:
    assert texts(options_of(network())) == [
        "borrow S0010 Ann Far (GP) from P05 at +£270.00 and 30 min travel",
        "borrow S0011 Ben Near (GP) from P02 at +£360.00 and 20 min travel",
        "pay S0013 Dee Over (GP) overtime: +3 h over contract, +£225.00 for the session",
        "move the clinic to Wed 2026-12-02 AM, when 1 GP is free at P01 (no extra cost)",
        "borrow S0012 Cat Needed (GP) from P02 at +£0.00 and 20 min travel, moving them from "
        "P02 AM; leaves P02 Tue 2026-12-01 AM 1 GP short",
    ]


def test_ranking_rule_orders_every_kind() -> None:
    options = options_of(network())
    assert [o.kind for o in options] == [
        FixKind.BORROW,
        FixKind.BORROW,
        FixKind.OVERTIME,
        FixKind.MOVE_CLINIC,
        FixKind.BORROW,
    ]
    assert [o.disruption for o in options] == [0, 0, 1, 2, LEAVES_SHORT_DISRUPTION]
    assert list(options) == sorted(options, key=option_order)


def test_ties_go_to_cost_then_travel_then_name() -> None:
    def option(name: str, cost: str | None, travel: int) -> FixOption:
        price = None if cost is None else Decimal(cost)
        return FixOption(FixKind.BORROW, f"borrow {name}", name, price, travel)

    shuffled = [
        option("Zoe", "10", 5),
        option("Amy", None, 0),
        option("Bob", "10", 5),
        option("Cal", "10", 1),
        option("Dan", "5", 60),
    ]
    assert [o.name for o in rank_options(shuffled)] == ["Dan", "Cal", "Bob", "Zoe", "Amy"]


def test_every_kind_has_a_disruption_tier() -> None:
    assert set(DISRUPTION) == set(FixKind)
    assert max(DISRUPTION.values()) < LEAVES_SHORT_DISRUPTION


def test_shuffled_input_gives_the_same_options() -> None:
    bundle = network()
    expected = options_of(bundle)
    rng = random.Random(6)
    for _ in range(3):
        staff = list(bundle.staff)
        rota = list(ROTA)
        rng.shuffle(staff)
        rng.shuffle(rota)
        assert options_of(dataclasses.replace(bundle, staff=tuple(staff)), rota) == expected


# --------------------------------------------------------------------------- hard rules


def assert_option_keeps_the_rules(
    bundle: Bundle, rota: Sequence[Assignment], item: ShortfallItem, option: FixOption
) -> None:
    """Apply the option and check the whole rota; the need (or its moved clinic) is then met."""
    note = item.note
    changed = [a for a in rota if a not in option.removes] + list(option.adds)
    row = next(r for r in bundle.demand if r.row == note.demand_row)
    if option.moved_to is None:
        report = check_rota(bundle, DATES, changed)
        line = next(
            c for c in report.coverage if c.date == note.date and c.demand_row == note.demand_row
        )
        assert line.assigned == note.assigned + 1, option.text
    else:
        day, session_id = option.moved_to
        extra = dataclasses.replace(moved_row(row, day, session_id, note.short), row=99)
        moved = dataclasses.replace(bundle, demand=(*bundle.demand, extra))
        report = check_rota(moved, DATES, changed)
        slot = (day, session_id, note.site_id)
        there = [c for c in report.coverage if (c.date, c.session_id, c.site_id) == slot]
        assert there and not any(c.shortfall for c in there), option.text
    assert report.ok, (option.text, [v.message for v in report.violations])


def test_no_option_breaks_a_hard_rule() -> None:
    bundle = network()
    [item] = items_of(bundle)
    assert len(item.note.options) == 5
    for option in item.note.options:
        assert_option_keeps_the_rules(bundle, ROTA, item, option)


def test_no_option_breaks_a_hard_rule_in_the_tiny_network() -> None:
    """Every option of every shortfall, with each session in turn taken out of a greedy rota."""
    bundle, _ = read_bundle(TINY)
    rota = greedy_rota(Horizon(bundle, DATES))
    assert check_rota(bundle, DATES, rota).ok
    kinds = set()
    for removed in rota:
        thinned = [a for a in rota if a != removed]
        if not check_rota(bundle, DATES, thinned).ok:
            continue
        for item in items_of(bundle, thinned):
            for option in item.note.options:
                assert_option_keeps_the_rules(bundle, thinned, item, option)
                kinds.add(option.kind)
    assert {FixKind.BORROW, FixKind.OWN_STAFF, FixKind.MOVE_CLINIC} <= kinds


# --------------------------------------------------------------------------- overtime


def kinds_of(options: Sequence[FixOption], name: str) -> list[FixKind]:
    return [o.kind for o in options if o.name == name]


def test_overtime_bites() -> None:
    """Dee's 4.5 h Monday plus 4.5 h on Tuesday is 3 h over a 6 h contract (max 40 h)."""
    [over] = [o for o in options_of(network()) if o.name == "Dee Over"]
    assert over.kind is FixKind.OVERTIME
    assert over.cost is not None and over.cost == 225


def test_overtime_does_not_bite_within_contract() -> None:
    options = options_of(network(dee={"contract_hours": 37.5}))
    [own] = [o for o in options if o.name == "Dee Over"]
    assert own.kind is FixKind.OWN_STAFF
    assert own.text == "give the session to S0013 Dee Over (GP) of P01 at +£225.00"
    assert FixKind.OVERTIME not in {o.kind for o in options}


@pytest.mark.parametrize(
    ("dee", "rules"),
    [({"max_hours": 8}, None), ({}, Rules(max_week_hours=8))],
    ids=["max_hours", "max_week_hours"],
)
def test_overtime_is_never_offered_past_the_hours_cap(
    dee: dict[str, Any], rules: Rules | None
) -> None:
    """9 h would break Dee's max_hours or the network's weekly cap: no option at all."""
    assert kinds_of(options_of(network(dee=dee, rules=rules)), "Dee Over") == []


# --------------------------------------------------------------------------- move the clinic


def moves(options: Sequence[FixOption]) -> list[str]:
    return [o.text for o in options if o.kind is FixKind.MOVE_CLINIC]


def test_move_clinic_bites() -> None:
    [move] = [o for o in options_of(network()) if o.kind is FixKind.MOVE_CLINIC]
    assert move.moved_to == (DATES[2], "AM")
    assert move.adds == () and move.cost == 0  # Eve is there already and not needed


def test_move_clinic_does_not_bite_without_spare_people() -> None:
    """Wednesday needs both GPs it has: nobody is free there."""
    assert moves(options_of(network(wed_min=2))) == []


def test_move_clinic_does_not_bite_into_a_short_session() -> None:
    bundle = network(wed_min=3)
    items = items_of(bundle)
    tuesday = next(i for i in items if i.note.date == DATES[1])
    assert moves(tuesday.note.options) == []


def test_move_clinic_does_not_bite_too_many_days_away() -> None:
    """The spare GP on Friday is three days after Tuesday."""
    friday = "2026-12-04"
    bundle = network()
    bundle = dataclasses.replace(
        bundle,
        demand=tuple(
            dataclasses.replace(r, day=dataclasses.replace(r.day, weekdays=frozenset({4})))
            if r.row == 4
            else r
            for r in bundle.demand
        ),
    )
    rota = [a if a.date != DATES[2] else dataclasses.replace(a, date=DATES[4]) for a in ROTA]
    assert CLINIC_MOVE_DAYS == 2
    assert rota[2].date.isoformat() == friday
    assert moves(options_of(bundle, rota)) == []


@pytest.mark.parametrize("kind", ["core", "extended"])
def test_move_clinic_stays_within_its_kind_of_session(kind: str) -> None:
    """A spare GP at 18:30 (and Dee could come): a core clinic moves there only if it is core."""
    sessions = [*SESSIONS[:2], make_session("EVE", "18:30", "20:00", kind=kind)]
    bundle = network()
    spare = {"S0014", "S0015"}
    bundle = dataclasses.replace(
        bundle,
        session_types=tuple(dataclasses.replace(s, row=i) for i, s in enumerate(sessions, 2)),
        staff=tuple(
            dataclasses.replace(p, max_evenings=1) if p.staff_id in spare else p
            for p in bundle.staff
        ),
        demand=(*bundle.demand[:2], make_demand("P01", "Tue", "EVE", role="GP", row=5)),
        preferences=tuple(
            make_preference(s, "Mon;Tue;Wed", "AM", preference=PreferenceKind.UNAVAILABLE)
            for s in sorted(spare)
        ),
    )
    rota = [*ROTA[:2], assign("S0014", TUE, "EVE", "P01"), assign("S0015", TUE, "EVE", "P01")]
    expected = "move the clinic to Tue 2026-12-01 EVE, when 2 GP are free at P01 (no extra cost)"
    assert moves(options_of(bundle, rota)) == ([expected] if kind == "core" else [])


def test_move_clinic_counts_own_staff_who_could_come_within_contract() -> None:
    """Nobody spare on Wednesday, but Dee (37.5 h contract) could come in then."""
    options = options_of(network(wed_min=2, dee={"contract_hours": 37.5}))
    assert moves(options) == [
        "move the clinic to Wed 2026-12-02 AM, when 1 GP is free at P01 (at +£225.00)"
    ]
    [move] = [o for o in options if o.kind is FixKind.MOVE_CLINIC]
    assert move.adds == (assign("S0013", WED, "AM", "P01"),)


def test_move_clinic_does_not_count_own_staff_on_overtime() -> None:
    """With a 6 h contract, Dee coming in on Wednesday would be overtime: not 'free'."""
    assert moves(options_of(network(wed_min=2))) == []


# --------------------------------------------------------------------------- shortfalls.csv


def test_shortfalls_csv_adds_causes_and_options_after_the_old_columns() -> None:
    assert SHORTFALL_HEADER[:9] == [
        "date",
        "site_id",
        "session_id",
        "role",
        "skill",
        "min",
        "assigned",
        "shortfall",
        "reasons",
    ]
    assert SHORTFALL_HEADER[9:] == ["causes", "options"]
    [item] = items_of(network())
    [row] = shortfall_rows([item.note], private=False)
    assert len(row) == len(SHORTFALL_HEADER)
    assert row[9] == (
        "S0014 Eve Spare and S0015 Fay Spare marked unavailable; "
        "1 other GP is needed at their own practice; "
        "3 other GP could cover it but are needed elsewhere or were left for other goals"
    )
    options = str(row[10]).split("; ")
    assert options[0] == "1. borrow S0010 Ann Far (GP) from P05 at +£270.00 and 30 min travel"
    assert options[3].startswith("4. move the clinic to Wed 2026-12-02 AM")
