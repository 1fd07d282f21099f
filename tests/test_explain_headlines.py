"""Shortfall headlines: order, shuffled input, names first and counts after, verbs that agree."""

from __future__ import annotations

import random

import pytest

from scheduler.checks.explain import ShortfallNote, explain_shortfalls
from scheduler.domain import (
    Assignment,
    Fixed,
    Leave,
    LeaveKind,
    Travel,
)
from scheduler.horizon import Horizon
from tests.explain_support import (
    FREE_ONE,
    at,
    explain_all,
    make_horizon,
    make_row,
    make_staff,
    only_note,
    short_need,
)
from tests.test_explain import MON, TUE, WED

# --------------------------------------------------------------------------- order


def _busy_network() -> tuple[Horizon, tuple[Assignment, ...]]:
    staff = (
        make_staff("S1"),
        make_staff("S2", sites=frozenset({"P01"})),
        make_staff("S3", role="GP", skills=frozenset(), max_evenings=2),
        make_staff("S4", role="GP", skills=frozenset()),
    )
    demand = (
        make_row("P03", TUE, "PM", row=2),
        make_row("P01", TUE, "PM", row=3),
        make_row("P01", TUE, "AM", "GP", None, minimum=2, row=4),
        make_row("HUB", MON, "EVE", "GP", None, minimum=2, row=5),
        make_row("P03", WED, "AM", None, None, minimum=3, row=6),
        make_row("HUB", TUE, "EVE", "GP", None, minimum=1, row=1),
        make_row("P01", TUE, "AM", None, None, minimum=3, row=7),
    )
    leave = (Leave("S4", TUE, TUE, LeaveKind.SICK),)
    assignments = (
        at(TUE, "PM", "P01", "S2"),
        at(TUE, "AM", "P01", "S3"),
        at(MON, "EVE", "HUB", "S3"),
        at(WED, "AM", "P03", "S1"),
    )
    return make_horizon(staff, demand, leave=leave), assignments


def test_notes_come_by_date_start_site_and_row() -> None:
    horizon, assignments = _busy_network()
    keys = [
        (n.date, n.session_id, n.site_id, n.demand_row) for n in explain_all(horizon, assignments)
    ]
    assert keys == [
        (MON, "EVE", "HUB", 5),
        (TUE, "AM", "P01", 4),
        (TUE, "AM", "P01", 7),
        (TUE, "PM", "P01", 3),
        (TUE, "PM", "P03", 2),
        (TUE, "EVE", "HUB", 1),
        (WED, "AM", "P03", 6),
    ]


def test_shuffled_input_gives_the_same_notes() -> None:
    horizon, assignments = _busy_network()
    expected = explain_all(horizon, assignments)
    shorts = [short_need(horizon, assignments, n) for n in horizon.needs]
    shorts = [s for s in shorts if s[2] > 0]
    rng = random.Random(49)
    for _ in range(5):
        shuffled = list(assignments)
        rng.shuffle(shuffled)
        rng.shuffle(shorts)
        assert explain_shortfalls(horizon, shuffled, shorts) == expected


def test_busy_network_reasons() -> None:
    """One note checked in full: the sick GP's leave kind stays private."""
    horizon, assignments = _busy_network()
    tuesday_morning = explain_all(horizon, assignments)[1]
    assert tuesday_morning.reasons == ("1 of 2 GP on leave",)
    assert tuesday_morning.private_reasons == ("1 of 2 GP on sick leave",)
    assert tuesday_morning.summary == "P01 Tue 2026-12-01 AM: 1 GP short (needs 2, has 1)"


# --------------------------------------------------------------------------- headlines


def _issue_example(kind: LeaveKind = LeaveKind.ANNUAL) -> ShortfallNote:
    """The issue's own example: one on leave, one fixed at the hub, three needed at home."""
    staff = (
        make_staff("S0030", name="Ann Here", home_site="P03", employer="P03"),
        make_staff("S0031", name="Jo Bloggs"),
        make_staff("S0044", name="Kim Tan"),
        *(make_staff(f"S005{i}", name=f"Home Nurse {i}") for i in (1, 2, 3)),
    )
    demand = (make_row(minimum=2), make_row("P01", TUE, "PM", minimum=3, row=3))
    rota = (
        at(TUE, "PM", "P03", "S0030"),
        at(TUE, "PM", "HUB", "S0044"),
        *(at(TUE, "PM", "P01", f"S005{i}") for i in (1, 2, 3)),
    )
    horizon = make_horizon(
        staff,
        demand,
        leave=(Leave("S0031", TUE, TUE, kind),),
        fixed=(Fixed("S0044", TUE, "PM", "HUB", row=4),),
    )
    return only_note(horizon, rota)


def test_headline_names_people_in_the_networks_words() -> None:
    note = _issue_example()
    assert note.private_headline == (
        "P03 Tue 2026-12-01 PM needs 2 PN with cytology, has 1: "
        "S0031 Jo Bloggs on annual leave, S0044 Kim Tan fixed at HUB (fixed.csv:4), "
        "the 3 other PN with cytology are needed at their own practices"
    )
    assert note.headline == (
        "P03 Tue 2026-12-01 PM needs 2 PN with cytology, has 1: "
        "S0031 Jo Bloggs on leave, S0044 Kim Tan fixed at HUB (fixed.csv:4), "
        "the 3 other PN with cytology are needed at their own practices"
    )
    assert note.reasons == (
        "1 of 6 PN with cytology on leave",
        "1 of 6 PN with cytology fixed at HUB",
        "3 of 6 PN with cytology are needed at their own practices",
    )


@pytest.mark.parametrize("kind", list(LeaveKind))
def test_public_headline_never_names_the_leave_kind(kind: LeaveKind) -> None:
    note = _issue_example(kind)
    assert note.headline == _issue_example(LeaveKind.ANNUAL).headline
    assert "S0031 Jo Bloggs on leave," in note.headline
    assert f"{kind.value} leave" not in note.headline and "leave (" not in note.headline
    assert all("leave (" not in c and f"{kind.value} leave" not in c for c in note.causes)
    private = "on leave (other)" if kind is LeaveKind.OTHER else f"on {kind.value} leave"
    assert f"S0031 Jo Bloggs {private}," in note.private_headline


def test_headline_names_the_nearest_few_and_counts_the_rest() -> None:
    """Five on leave: the three nearest by travel (then id) are named, two are counted."""
    staff = (
        *(make_staff(f"S{i}") for i in (1, 2, 3)),
        *(make_staff(f"S{i}", home_site="HUB") for i in (4, 5)),
    )
    leave = tuple(Leave(p.staff_id, TUE, TUE, LeaveKind.ANNUAL) for p in staff)
    travel = (Travel("P01", "P03", 30), Travel("HUB", "P03", 10))
    note = only_note(make_horizon(staff, leave=leave, travel=travel))
    assert note.causes == ("S4 Person S4, S5 Person S5, S1 Person S1 and 2 others on leave",)


def test_verbs_agree_with_the_people_named() -> None:
    staff = tuple(make_staff(f"S{i}", role="GP", skills=frozenset()) for i in (1, 2, 3))
    row = make_row("HUB", TUE, "EVE", "GP", None, minimum=1)
    assert only_note(make_horizon(staff[:1], (row,))).causes == (
        "S1 Person S1 has max_evenings 0 (the default for a blank cell)",
    )
    assert only_note(make_horizon(staff, (row,))).causes == (
        "S1 Person S1, S2 Person S2 and S3 Person S3 have max_evenings 0 "
        "(the default for a blank cell)",
    )


def test_summed_up_causes_say_other_after_names_and_the_when_alone() -> None:
    leave = (Leave("S1", TUE, TUE, LeaveKind.ANNUAL),)
    staff = (make_staff("S1"), make_staff("S2"), make_staff("S3"))
    one_free = only_note(make_horizon(staff[:2], leave=leave))
    assert one_free.causes == (
        "S1 Person S1 on leave",
        f"the other PN with cytology {FREE_ONE}",
    )
    two_kinds = only_note(make_horizon(staff, leave=leave), (at(TUE, "PM", "P01", "S3"),))
    assert two_kinds.causes == (
        "S1 Person S1 on leave",
        "1 other PN with cytology working at P01 at that time",
        f"1 other PN with cytology {FREE_ONE}",
    )
    nobody_named = only_note(make_horizon(staff[1:]))
    assert nobody_named.causes == (
        "2 PN with cytology could cover it but are needed elsewhere or were left for other goals",
    )


def test_headline_counts_people_here_for_another_need() -> None:
    """A GP in the slot fills the GP row, so the 'anyone' row of the same slot gets nobody."""
    gp_row = make_row(role="GP", skill=None, minimum=1, row=2)
    anyone = make_row(role=None, skill=None, minimum=2, row=5)
    staff = (make_staff("S1", role="GP", skills=frozenset()),)
    horizon = make_horizon(staff, (gp_row, anyone))
    need = next(n for n in horizon.needs if n.demand.row == 5)
    (note,) = explain_shortfalls(horizon, (at(TUE, "PM", "P03"),), [(need, 0, 2)])
    assert note.headline == (
        "P03 Tue 2026-12-01 PM needs 2 people, has 0: "
        "only 1 person in the network, 2 needed, 1 person is here but counted for another need"
    )


def test_headline_when_nobody_fits() -> None:
    note = only_note(make_horizon((make_staff("S1", role="GP"),)))
    assert note.headline == (
        "P03 Tue 2026-12-01 PM needs 2 PN with cytology, has 0: "
        "nobody in the network is a PN with cytology"
    )
