"""Shortfall notes: every unmet min is explained, in words safe for the reader.

Each reason check has a pair of tests: ``test_<rule>_bites`` (the smallest
input where it is the reason) and ``test_<rule>_does_not_bite`` (nearly the
same input where it is not); ``test_every_check_has_its_pair`` keeps it so."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from scheduler.checks.reasons import CHECKS
from scheduler.domain import (
    DayRule,
    Fixed,
    Leave,
    LeaveKind,
    Preference,
    PreferenceKind,
    Rules,
    SessionKind,
    SessionType,
    Travel,
)
from scheduler.horizon import Horizon
from tests.explain_support import (
    AM,
    EVE,
    FREE_ONE,
    FRI,
    MON,
    PM,
    SAT,
    SUN,
    TUE,
    WED,
    WEEK,
    at,
    make_horizon,
    make_row,
    make_staff,
    only_note,
    reasons_of,
)

# --------------------------------------------------------------------------- leave


def test_leave_bites() -> None:
    staff = (make_staff("S1"), make_staff("S2"))
    leave = tuple(Leave(s.staff_id, MON, FRI, LeaveKind.ANNUAL) for s in staff)
    note = only_note(make_horizon(staff, leave=leave))
    assert note.private_reasons == ("2 of 2 PN with cytology on annual leave",)
    assert note.reasons == ("2 of 2 PN with cytology on leave",)
    assert note.summary == "P03 Tue 2026-12-01 PM: 2 PN with cytology short (needs 2, has 0)"


def test_leave_does_not_bite() -> None:
    """Leave for the morning only leaves the afternoon free."""
    leave = (Leave("S1", TUE, TUE, LeaveKind.ANNUAL, session_id="AM"),)
    horizon = make_horizon((make_staff("S1"),), demand=(make_row(minimum=1),), leave=leave)
    assert reasons_of(horizon) == (f"1 of 1 PN with cytology {FREE_ONE}",)


def test_sick_leave_kind_only_in_private_reasons() -> None:
    staff = (make_staff("S1"), make_staff("S2"), make_staff("S3"))
    leave = (
        Leave("S1", TUE, TUE, LeaveKind.SICK),
        Leave("S2", MON, WED, LeaveKind.ANNUAL),
    )
    note = only_note(make_horizon(staff, leave=leave))
    assert note.reasons == (
        "2 of 3 PN with cytology on leave",
        f"1 of 3 PN with cytology {FREE_ONE}",
    )
    assert note.private_reasons == (
        "1 of 3 PN with cytology on annual leave",
        "1 of 3 PN with cytology on sick leave",
        f"1 of 3 PN with cytology {FREE_ONE}",
    )
    assert not any("sick" in r or "annual" in r for r in note.reasons)


def test_other_leave_kind_reads_plainly() -> None:
    leave = (Leave("S1", TUE, TUE, LeaveKind.OTHER),)
    horizon = make_horizon((make_staff("S1"),), demand=(make_row(minimum=1),), leave=leave)
    assert only_note(horizon).private_reasons == ("1 of 1 PN with cytology on leave (other)",)


# --------------------------------------------------------------------------- assigned here


def test_assigned_bites() -> None:
    """Two of three already on leave while the third works here: the brief's own example."""
    staff = (make_staff("S1"), make_staff("S2"), make_staff("S3"))
    leave = (Leave("S2", TUE, TUE, LeaveKind.ANNUAL), Leave("S3", TUE, TUE, LeaveKind.ANNUAL))
    note = only_note(make_horizon(staff, leave=leave), (at(TUE, "PM", "P03", "S1"),))
    assert (note.min, note.assigned, note.short) == (2, 1, 1)
    assert note.private_reasons == ("2 of 3 PN with cytology on annual leave",)
    assert note.summary == "P03 Tue 2026-12-01 PM: 1 PN with cytology short (needs 2, has 1)"


def test_assigned_does_not_bite() -> None:
    """Someone in the same session at another site is not counted as here."""
    horizon = make_horizon((make_staff("S1"),), demand=(make_row(minimum=1),))
    assert reasons_of(horizon, (at(TUE, "PM", "P01"),)) == (
        "1 of 1 PN with cytology working at P01 at that time",
    )


def test_too_few_people_in_the_network_leads() -> None:
    note = only_note(make_horizon((make_staff("S1"),)), (at(TUE, "PM", "P03"),))
    assert note.reasons == ("only 1 PN with cytology in the network, 2 needed",)


# --------------------------------------------------------------------------- nobody fits


def test_nobody_has_the_skill() -> None:
    staff = (make_staff("S1", skills=frozenset({"diabetes"})), make_staff("S2", role="GP"))
    note = only_note(make_horizon(staff))
    assert note.reasons == ("nobody in the network is a PN with cytology",)
    assert note.private_reasons == note.reasons


def test_nobody_with_the_skill_for_a_blank_role() -> None:
    demand = (make_row(role=None, skill="coils", minimum=1),)
    note = only_note(make_horizon((make_staff("S1"),), demand=demand))
    assert note.reasons == ("nobody in the network has the skill coils",)
    assert note.summary == "P03 Tue 2026-12-01 PM: 1 short of anyone with coils (needs 1, has 0)"


def test_nobody_in_a_role_spoken_with_an() -> None:
    demand = (make_row(role="HCA", skill=None, minimum=1),)
    assert reasons_of(make_horizon((make_staff("S1"),), demand=demand)) == (
        "nobody in the network is an HCA",
    )


def test_blank_role_counts_people() -> None:
    staff = (
        make_staff("S1", skills=frozenset({"coils"})),
        make_staff("S2", role="GP", skills=frozenset({"coils"})),
    )
    leave = tuple(Leave(s.staff_id, TUE, TUE, LeaveKind.STUDY) for s in staff)
    demand = (make_row(role=None, skill="coils"),)
    note = only_note(make_horizon(staff, demand=demand, leave=leave))
    assert note.private_reasons == ("2 of 2 people with coils on study leave",)


# --------------------------------------------------------------------------- unavailable


def _preference(kind: PreferenceKind) -> Preference:
    return Preference("S1", DayRule(weekdays=frozenset({1})), "PM", None, kind)


def test_unavailable_bites() -> None:
    horizon = make_horizon(
        (make_staff("S1"),),
        demand=(make_row(minimum=1),),
        preferences=(_preference(PreferenceKind.UNAVAILABLE),),
    )
    assert reasons_of(horizon) == ("1 of 1 PN with cytology marked unavailable",)


def test_unavailable_does_not_bite() -> None:
    """'avoid' is a soft wish, not a reason the person could not come."""
    horizon = make_horizon(
        (make_staff("S1"),),
        demand=(make_row(minimum=1),),
        preferences=(_preference(PreferenceKind.AVOID),),
    )
    assert reasons_of(horizon) == (f"1 of 1 PN with cytology {FREE_ONE}",)


# --------------------------------------------------------------------------- site rights


def test_eligible_bites() -> None:
    horizon = make_horizon((make_staff("S1", sites=frozenset({"P01"})),), (make_row(minimum=1),))
    assert reasons_of(horizon) == ("1 of 1 PN with cytology may not work at P03",)


def test_eligible_does_not_bite() -> None:
    staff = (make_staff("S1", sites=frozenset({"P01", "P03"})),)
    horizon = make_horizon(staff, (make_row(minimum=1),))
    assert reasons_of(horizon) == (f"1 of 1 PN with cytology {FREE_ONE}",)


def test_site_rights_come_before_leave() -> None:
    """Someone who may never work here is not missed for being on leave."""
    staff = (make_staff("S1", sites=frozenset({"P01"})),)
    leave = (Leave("S1", TUE, TUE, LeaveKind.SICK),)
    note = only_note(make_horizon(staff, (make_row(minimum=1),), leave=leave))
    assert note.private_reasons == ("1 of 1 PN with cytology may not work at P03",)


# --------------------------------------------------------------------------- fixed elsewhere


def test_pinned_elsewhere_bites() -> None:
    pin = (Fixed("S1", TUE, "PM", "HUB", row=4),)
    horizon = make_horizon((make_staff("S1"),), (make_row(minimum=1),), fixed=pin)
    note = only_note(horizon, (at(TUE, "PM", "HUB"),))
    assert note.reasons == ("1 of 1 PN with cytology fixed at HUB",)
    assert note.headline == (
        "P03 Tue 2026-12-01 PM needs 1 PN with cytology, has 0: "
        "S1 Person S1 fixed at HUB (fixed.csv:4)"
    )


def test_pinned_elsewhere_does_not_bite() -> None:
    """The same session without a fixed.csv row is ordinary work elsewhere."""
    horizon = make_horizon((make_staff("S1"),), (make_row(minimum=1),))
    assert reasons_of(horizon, (at(TUE, "PM", "HUB"),)) == (
        "1 of 1 PN with cytology working at HUB at that time",
    )


def test_fixed_names_the_workbook_sheet() -> None:
    """A bundle read from a workbook names the sheet, as every other message does."""
    pin = (Fixed("S1", TUE, "PM", "HUB", row=7),)
    horizon = make_horizon((make_staff("S1"),), (make_row(minimum=1),), fixed=pin)
    bundle = replace(horizon.bundle, file_labels={"fixed.csv": "net.xlsx[fixed]"})
    note = only_note(Horizon(bundle, WEEK), (at(TUE, "PM", "HUB"),))
    assert note.causes == ("S1 Person S1 fixed at HUB (net.xlsx[fixed]:7)",)


# --------------------------------------------------------------------------- needed at home


HOME_ROW = make_row("P01", TUE, "PM", minimum=1, row=3)


def test_needed_bites() -> None:
    """Their own practice would fall short of its minimum without them."""
    horizon = make_horizon((make_staff("S1"),), (make_row(minimum=1), HOME_ROW))
    note = only_note(horizon, (at(TUE, "PM", "P01"),))
    assert note.reasons == ("1 of 1 PN with cytology is needed at their own practice",)
    assert note.causes == ("1 PN with cytology is needed at their own practice",)


def test_needed_does_not_bite() -> None:
    """Two at home where one is needed: either could go, so neither is 'needed'."""
    staff = (make_staff("S1"), make_staff("S2"))
    horizon = make_horizon(staff, (make_row(minimum=1), HOME_ROW))
    home = (at(TUE, "PM", "P01", "S1"), at(TUE, "PM", "P01", "S2"))
    assert reasons_of(horizon, home) == ("2 of 2 PN with cytology working at P01 at that time",)


def test_needed_elsewhere_than_home_is_work_elsewhere() -> None:
    """Needed at a site that is not their home: the plain 'working elsewhere' reason."""
    away_row = make_row("HUB", TUE, "PM", minimum=1, row=3)
    horizon = make_horizon((make_staff("S1"),), (make_row(minimum=1), away_row))
    assert reasons_of(horizon, (at(TUE, "PM", "HUB"),)) == (
        "1 of 1 PN with cytology working at HUB at that time",
    )


def test_needed_at_a_home_hub() -> None:
    staff = (make_staff("S1", home_site="HUB"),)
    hub_row = make_row("HUB", TUE, "PM", minimum=1, row=3)
    horizon = make_horizon(staff, (make_row(minimum=1), hub_row))
    assert reasons_of(horizon, (at(TUE, "PM", "HUB"),)) == (
        "1 of 1 PN with cytology is needed at their home hub",
    )


# --------------------------------------------------------------------------- elsewhere


def test_overlap_bites() -> None:
    staff = (make_staff("S1"), make_staff("S2"), make_staff("S3", sites=frozenset({"P01"})))
    leave = (Leave("S2", TUE, TUE, LeaveKind.PARENTAL),)
    note = only_note(make_horizon(staff, leave=leave), (at(TUE, "PM", "P01"),))
    assert note.reasons == (
        "1 of 3 PN with cytology may not work at P03",
        "1 of 3 PN with cytology on leave",
        "1 of 3 PN with cytology working at P01 at that time",
    )


def test_overlap_bites_when_travel_is_too_long() -> None:
    travel = (Travel("P01", "P03", 75),)
    horizon = make_horizon((make_staff("S1"),), (make_row(minimum=1),), travel=travel)
    assert reasons_of(horizon, (at(TUE, "AM", "P01"),)) == (
        "1 of 1 PN with cytology working at P01 with too little time to travel",
    )


def test_overlap_bites_when_sessions_touch_but_sites_differ() -> None:
    """The afternoon ends at 18:30 as the evening starts: no time to cross town."""
    travel = (Travel("P01", "HUB", 15),)
    staff = (make_staff("S1", role="GP", max_evenings=1),)
    horizon = make_horizon(
        staff, (make_row("HUB", TUE, "EVE", "GP", None, minimum=1),), travel=travel
    )
    assert reasons_of(horizon, (at(TUE, "PM", "P01"),)) == (
        "1 of 1 GP working at P01 with too little time to travel",
    )


def test_overlap_does_not_bite() -> None:
    """An hour between sessions covers a 30-minute journey."""
    travel = (Travel("P01", "P03", 30),)
    horizon = make_horizon((make_staff("S1"),), (make_row(minimum=1),), travel=travel)
    assert reasons_of(horizon, (at(TUE, "AM", "P01"),)) == (f"1 of 1 PN with cytology {FREE_ONE}",)


# --------------------------------------------------------------------------- daily limit


DAY_FULL = (at(TUE, "AM", "P01"), at(TUE, "EVE", "P01"))


def test_sessions_per_day_bites() -> None:
    horizon = make_horizon((make_staff("S1", max_evenings=1),), (make_row(minimum=1),))
    assert reasons_of(horizon, DAY_FULL) == (
        "1 of 1 PN with cytology already at their daily limit of 2 sessions",
    )


def test_sessions_per_day_does_not_bite() -> None:
    staff = (make_staff("S1", max_evenings=1, max_sessions_per_day=3),)
    horizon = make_horizon(staff, (make_row(minimum=1),))
    assert reasons_of(horizon, DAY_FULL) == (f"1 of 1 PN with cytology {FREE_ONE}",)


# --------------------------------------------------------------------------- weekly hours


@pytest.mark.parametrize("max_hours", [9.0, 10.0])
def test_max_hours_bites(max_hours: float) -> None:
    """4.5 h planned + a 5 h session = 9.5 h: over a 9 h cap, or over the network's cap."""
    staff = (make_staff("S1", max_hours=max_hours),)
    rules = Rules(max_week_hours=9.25)
    horizon = make_horizon(staff, (make_row(minimum=1),), rules=rules)
    assert reasons_of(horizon, (at(MON, "AM", "P01"),)) == (
        "1 of 1 PN with cytology would go over their weekly hours",
    )


def test_max_hours_does_not_bite() -> None:
    """Exactly at the cap is allowed."""
    horizon = make_horizon((make_staff("S1", max_hours=9.5),), (make_row(minimum=1),))
    assert reasons_of(horizon, (at(MON, "AM", "P01"),)) == (f"1 of 1 PN with cytology {FREE_ONE}",)


# --------------------------------------------------------------------------- other rules


def test_other_rule_bites() -> None:
    """Monday worked, at most one day in a row: Tuesday would break the run limit."""
    staff = (make_staff("S1", max_consecutive_days=1),)
    horizon = make_horizon(staff, (make_row(minimum=1),))
    assert reasons_of(horizon, (at(MON, "AM", "P01"),)) == (
        "1 of 1 PN with cytology would work too many days in a row",
    )


def test_other_rule_does_not_bite() -> None:
    staff = (make_staff("S1", max_consecutive_days=2),)
    horizon = make_horizon(staff, (make_row(minimum=1),))
    assert reasons_of(horizon, (at(MON, "AM", "P01"),)) == (f"1 of 1 PN with cytology {FREE_ONE}",)


# --------------------------------------------------------------------------- evenings


EVENING_ROW = make_row("HUB", TUE, "EVE", "GP", None, minimum=1)


def test_evenings_bites() -> None:
    staff = (make_staff("S1", role="GP"), make_staff("S2", role="GP"))
    assert reasons_of(make_horizon(staff, (replace(EVENING_ROW, min=2),))) == (
        "2 of 2 GP have max_evenings 0 (the default for a blank cell)",
    )


def test_evenings_bites_when_allowance_used() -> None:
    horizon = make_horizon((make_staff("S1", role="GP", max_evenings=1),), (EVENING_ROW,))
    assert reasons_of(horizon, (at(MON, "EVE", "HUB"),)) == (
        "1 of 1 GP has used all their evenings this week",
    )


def test_evenings_does_not_bite() -> None:
    horizon = make_horizon((make_staff("S1", role="GP", max_evenings=1),), (EVENING_ROW,))
    assert reasons_of(horizon) == (f"1 of 1 GP {FREE_ONE}",)
    assert only_note(horizon).summary == "HUB Tue 2026-12-01 EVE: 1 GP short (needs 1, has 0)"


# --------------------------------------------------------------------------- weekends


SATURDAY_ROW = make_row("HUB", SAT, "SAT", "GP", None, minimum=1)


def test_weekends_bites() -> None:
    horizon = make_horizon((make_staff("S1", role="GP"),), (SATURDAY_ROW,))
    assert reasons_of(horizon) == (
        "1 of 1 GP has max_weekend_sessions 0 (the default for a blank cell)",
    )


def test_weekends_bites_when_allowance_used() -> None:
    sunday = make_row("HUB", SUN, "SAT", "GP", None, minimum=1)
    weekend_days = SessionType(
        "SAT", "Weekend", dt.time(9), dt.time(17), frozenset({5, 6}), SessionKind.EXTENDED
    )
    horizon = make_horizon((make_staff("S1", role="GP", max_weekend_sessions=1),), (sunday,))
    bundle = replace(horizon.bundle, session_types=(AM, PM, EVE, weekend_days))
    assert reasons_of(Horizon(bundle, WEEK), (at(SAT, "SAT", "HUB"),)) == (
        "1 of 1 GP has used all their weekend sessions this week",
    )


def test_weekends_does_not_bite() -> None:
    horizon = make_horizon((make_staff("S1", role="GP", max_weekend_sessions=1),), (SATURDAY_ROW,))
    assert reasons_of(horizon) == (f"1 of 1 GP {FREE_ONE}",)


# --------------------------------------------------------------------------- rest


def _rest_reasons(rest_hours: float) -> tuple[str, ...]:
    """Monday evening ends 20:00; Tuesday morning starts 08:00: 12 hours apart."""
    staff = (make_staff("S1", max_evenings=1),)
    horizon = make_horizon(
        staff,
        (make_row(day=TUE, session_id="AM", minimum=1),),
        rules=Rules(min_rest_hours=rest_hours),
    )
    return reasons_of(horizon, (at(MON, "EVE", "HUB"),))


def test_rest_bites() -> None:
    assert _rest_reasons(12.5) == (
        "1 of 1 PN with cytology would work a duty of over 11.5 hours without 12.5 hours' rest",
    )


def test_rest_does_not_bite() -> None:
    assert _rest_reasons(11) == (f"1 of 1 PN with cytology {FREE_ONE}",)


# --------------------------------------------------------------------------- rooms


def test_rooms_bites() -> None:
    staff = (make_staff("S1"), make_staff("S9", role="HCA"))
    horizon = make_horizon(staff, (make_row(minimum=1),), rooms=1)
    assert reasons_of(horizon, (at(TUE, "PM", "P03", "S9"),)) == (
        "1 of 1 PN with cytology is free but P03 has no room left",
    )


def test_rooms_does_not_bite() -> None:
    staff = (make_staff("S1"), make_staff("S9", role="HCA"))
    horizon = make_horizon(staff, (make_row(minimum=1),), rooms=2)
    assert reasons_of(horizon, (at(TUE, "PM", "P03", "S9"),)) == (
        f"1 of 1 PN with cytology {FREE_ONE}",
    )


# --------------------------------------------------------------------------- free


def test_free_bites() -> None:
    staff = (make_staff("S1"), make_staff("S2"))
    assert reasons_of(make_horizon(staff)) == (
        "2 of 2 PN with cytology could cover it but are needed elsewhere or were left for "
        "other goals",
    )


def test_free_does_not_bite() -> None:
    """A person the data keeps out is never reported as merely left unused."""
    leave = (Leave("S1", TUE, TUE, LeaveKind.ANNUAL),)
    reasons = reasons_of(make_horizon((make_staff("S1"),), (make_row(minimum=1),), leave=leave))
    assert not any("could cover it" in r for r in reasons)


def test_every_check_has_its_pair() -> None:
    names = set(globals())
    missing = [
        c.rule_id
        for c in CHECKS
        if not {f"test_{c.rule_id}_bites", f"test_{c.rule_id}_does_not_bite"} <= names
    ]
    assert missing == []
