"""Format v2: overlapping sessions, duties, a weekly day off, bank holidays per site,
buildings, and recharges between organisations.

Each rule is tried in the solver (on the smallest bundle where it bites, and one
where it does not) and in the independent validator, which must agree.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.checks.rota_facts import Rota
from scheduler.checks.validator import check_rota
from scheduler.domain import Building, Bundle, Rules, SiteKind
from scheduler.horizon import Horizon, bank_holidays, duties
from scheduler.outputs.exports import recharge_rows
from solver import SolveOptions, solve
from tests.bundles import read_rows, set_cell, write_bundle, write_rows
from tests.factories import (
    WEEK,
    assign,
    make_bundle,
    make_demand,
    make_session,
    make_site,
    make_staff,
)
from tests.solver_rules_support import COVER_ONLY, PM, plan, worked
from tests.validator_support import EVE, check, only

V2 = Path(__file__).parent / "data" / "v2"
MON, TUE = "2026-11-30", "2026-12-01"
NIGHT = make_session("NIGHT", "23:00", "08:00", "Mon-Sun")
DAY = make_session("DAY", "08:00", "20:00", "Mon-Sun")
LONG_NIGHT = make_session("LNIGHT", "18:30", "08:00", "Mon-Sun")


# -- import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["miu", "ucc", "ooh", "building"])
def test_each_model_bundle_imports_with_its_overlapping_sessions(model: str) -> None:
    bundle, warnings = read_bundle(V2 / model)
    assert [str(w) for w in warnings] == []  # read whole, not even a warning
    starts = sorted((s.start, s.end) for s in bundle.session_types)
    overlapping = any(
        (a[0] < b[1] and b[0] < a[1]) or a[1] <= a[0] or b[1] <= b[0]
        for i, a in enumerate(starts)
        for b in starts[i + 1 :]
    )
    assert overlapping, "each model bundle has session types that overlap or run overnight"


def _problems(folder: Path) -> list[str]:
    with pytest.raises(BundleError) as refused:
        read_bundle(folder)
    return [str(p) for p in refused.value.problems if not p.warning]


def _with_site_columns(tmp_path: Path, **cells: str) -> Path:
    folder = write_bundle(tmp_path)
    rows = read_rows(folder, "sites")
    for column, value in cells.items():
        rows[0].append(column)
        rows[1].append(value)
        for row in rows[2:]:
            row.append("")
    write_rows(folder, "sites", rows)
    return folder


def test_a_site_naming_a_building_nobody_listed_is_refused_at_its_cell(tmp_path: Path) -> None:
    folder = _with_site_columns(tmp_path, building="HHC")
    (problem,) = _problems(folder)
    assert problem.startswith(
        "sites.csv:2: building: unknown building 'HHC'; add it to buildings.csv"
    )


def test_a_building_and_its_rooms_are_read(tmp_path: Path) -> None:
    folder = _with_site_columns(tmp_path, building="HHC")
    (folder / "buildings.csv").write_text("building,rooms\nHHC,3\n", encoding="utf-8")
    bundle, _ = read_bundle(folder)
    assert bundle.buildings == (Building("HHC", 3, row=2),)
    assert bundle.building_of(bundle.sites[0].site_id) == Building("HHC", 3, row=2)


def test_a_bank_holiday_setting_other_than_open_or_closed_is_named(tmp_path: Path) -> None:
    folder = _with_site_columns(tmp_path, bank_holidays="sometimes")
    (problem,) = _problems(folder)
    assert problem.startswith("sites.csv:2: bank_holidays: 'sometimes' is not allowed; write open")


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("max_duty_hours", "0", "is not a possible duty"),
        ("max_duty_hours", "60", "is not a possible duty"),
        ("min_days_off_per_week", "8", "is too large; it must be at most 7"),
    ],
)
def test_staff_duty_and_day_off_overrides_are_checked(
    tmp_path: Path, column: str, value: str, words: str
) -> None:
    folder = write_bundle(tmp_path)
    rows = read_rows(folder, "staff")
    rows[0].append(column)
    for row in rows[1:]:
        row.append("")
    rows[1][-1] = value
    write_rows(folder, "staff", rows)
    (problem,) = _problems(folder)
    assert problem.startswith(f"staff.csv:2: {column}: ") and words in problem


def test_an_organisation_named_in_sites_csv_may_employ_staff(tmp_path: Path) -> None:
    folder = _with_site_columns(tmp_path, organisation="CHP")
    set_cell(folder, "staff", 2, "employer", "CHP")
    bundle, _ = read_bundle(folder)
    assert bundle.staff[0].employer == "CHP"
    set_cell(folder, "staff", 2, "employer", "XYZ")
    (problem,) = _problems(folder)
    assert "staff.csv:2: employer: unknown site 'XYZ'" in problem
    assert "an organisation of sites.csv (CHP)" in problem


def test_network_rules_for_duties_and_days_off_are_read_and_checked(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    toml = (folder / "network.toml").read_text(encoding="utf-8")
    rules = "[rules]\nmax_duty_hours = 14\nmin_days_off_per_week = 2\n"
    (folder / "network.toml").write_text(toml.replace("[rules]\n", rules), encoding="utf-8")
    bundle, _ = read_bundle(folder)
    assert (bundle.rules.max_duty_hours, bundle.rules.min_days_off_per_week) == (14, 2)
    bad = toml.replace("[rules]\n", "[rules]\nmin_days_off_per_week = 9\n")
    (folder / "network.toml").write_text(bad, encoding="utf-8")
    (problem,) = _problems(folder)
    assert "rules.min_days_off_per_week: 9 must be a whole number of days from 0 to 7" in problem


def test_the_duty_defaults_to_what_a_day_leaves_after_its_rest() -> None:
    assert Rules().duty_hours == 13
    assert Rules(min_rest_hours=12).duty_hours == 12
    assert Rules(max_duty_hours=14).duty_hours == 14


# -- bank holidays --------------------------------------------------------------------------


def test_bank_holidays_are_the_published_weekdays_never_the_weekend_dates() -> None:
    published_2026 = ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"]
    published_2027 = ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"]
    assert [f"{d:%m-%d}" for d in bank_holidays([2026])] == published_2026
    assert [f"{d:%m-%d}" for d in bank_holidays([2027])] == published_2027


CHRISTMAS = tuple(dt.date(2026, 12, 21) + dt.timedelta(days=i) for i in range(7))


def _christmas_needs(site_setting: str | None) -> set[tuple[str, str]]:
    sites = [
        make_site(),
        make_site(
            site_id="MIU", name="Minor injuries", kind=SiteKind.SERVICE, bank_holidays=site_setting
        ),
    ]
    demand = [make_demand("P01", "Mon-Fri", "DAY"), make_demand("MIU", "Mon-Sun", "DAY")]
    bundle = make_bundle(sites=sites, session_types=[DAY], demand=demand)
    horizon = Horizon(bundle, CHRISTMAS)
    return {(n.site_id, f"{n.date:%d}") for n in horizon.needs}


def test_a_site_open_on_bank_holidays_keeps_its_needs_on_christmas_day() -> None:
    needs = _christmas_needs("open")
    assert ("MIU", "25") in needs and ("MIU", "26") in needs  # a 365-day unit
    assert ("P01", "25") not in needs  # the practice follows the network: closed
    assert ("P01", "24") in needs


def test_a_site_that_does_not_say_follows_the_network() -> None:
    needs = _christmas_needs(None)
    assert ("MIU", "25") not in needs
    assert ("MIU", "26") in needs  # Saturday 26 December 2026 is an ordinary Saturday


def test_the_validator_refuses_work_on_a_closed_bank_holiday_and_allows_it_when_open() -> None:
    sites = [make_site(bank_holidays="closed"), make_site(site_id="P02", bank_holidays="open")]
    bundle = make_bundle(
        sites=sites,
        session_types=[DAY],
        staff=[make_staff(sites="*", max_weekend_sessions=2)],
        demand=[make_demand("P01", "Mon-Sun", "DAY"), make_demand("P02", "Mon-Sun", "DAY")],
    )
    at_p01 = assign(date="2026-12-25", session_id="DAY")
    assert "(a bank holiday)" in only(check(bundle, at_p01, dates=CHRISTMAS), "eligible")
    assert check(
        bundle, assign(date="2026-12-25", session_id="DAY", site_id="P02"), dates=CHRISTMAS
    ).ok
    assert check(bundle, assign(date="2026-12-26", session_id="DAY"), dates=CHRISTMAS).ok


# -- overlapping sessions and nights ---------------------------------------------------------


def test_overlapping_session_types_are_planned_one_at_a_time_per_person() -> None:
    bundle = make_bundle(
        session_types=[make_session(), DAY],
        staff=[make_staff(max_sessions_per_day=2)],
        demand=[make_demand("P01", "Mon", "AM"), make_demand("P01", "Mon", "DAY")],
        weights=COVER_ONLY,
    )
    result = plan(bundle)
    assert worked(result) == 1 and result.shortfall == 1


def test_a_night_running_into_the_next_morning_overlaps_that_morning() -> None:
    early = make_session("EARLY", "07:00", "12:00", "Mon-Sun")
    bundle = make_bundle(
        session_types=[early, NIGHT],
        staff=[make_staff(max_weekend_sessions=2)],
        demand=[make_demand("P01", "Mon", "NIGHT"), make_demand("P01", "Tue", "EARLY")],
        rules=Rules(min_rest_hours=1),  # only the overlap may bite
        weights=COVER_ONLY,
    )
    result = plan(bundle)
    assert worked(result) == 1 and result.shortfall == 1
    report = check(
        bundle, assign(date=MON, session_id="NIGHT"), assign(date=TUE, session_id="EARLY")
    )
    assert "which overlap in time" in only(report, "overlap")


# -- duties ----------------------------------------------------------------------------------


def _surgery_then_night(**staff: Any) -> Bundle:
    return make_bundle(
        session_types=[PM, NIGHT],
        staff=[make_staff(**staff)],
        demand=[make_demand("P01", "Mon", "PM"), make_demand("P01", "Mon", "NIGHT")],
        weights=COVER_ONLY,
    )


def test_a_surgery_and_a_night_on_one_date_are_one_duty_too_long() -> None:
    """PM 13:30-18:00 then 23:00-08:00: 5 hours' rest, an 18.5-hour duty."""
    bundle = _surgery_then_night()
    result = plan(bundle)
    assert worked(result) == 1 and result.shortfall == 1
    report = check(bundle, assign(date=MON, session_id="PM"), assign(date=MON, session_id="NIGHT"))
    message = only(report, "rest")
    assert "would work Mon 13:30 to Tue 08:00 with 5 h rest" in message
    assert "one duty of 18.5 h" in message
    assert "the longest duty is 13 h (rules.max_duty_hours in network.toml)" in message


def test_a_person_allowed_a_longer_duty_works_both() -> None:
    bundle = _surgery_then_night(max_duty_hours=19)
    assert worked(plan(bundle)) == 2
    assert check(bundle, assign(date=MON, session_id="PM"), assign(date=MON, session_id="NIGHT")).ok


def _one_long_night(**staff: Any) -> Bundle:
    return make_bundle(
        session_types=[LONG_NIGHT],
        staff=[make_staff(max_weekend_sessions=2, **staff)],
        demand=[make_demand("P01", "Mon", "LNIGHT")],
        weights=COVER_ONLY,
    )


def test_a_night_longer_than_a_duty_may_be_is_never_planned() -> None:
    """18:30-08:00 is 13.5 hours: over the 13 a day leaves after 11 hours' rest."""
    bundle = _one_long_night()
    assert plan(bundle).shortfall == 1
    message = only(check(bundle, assign(date=MON, session_id="LNIGHT")), "rest")
    assert "one duty of 13.5 h" in message and "the longest duty is 13 h" in message


def test_an_out_of_hours_doctor_allowed_14_hours_works_it() -> None:
    bundle = _one_long_night(max_duty_hours=14)
    assert worked(plan(bundle)) == 1
    assert check(bundle, assign(date=MON, session_id="LNIGHT")).ok


def test_a_duty_bridged_by_a_middle_session_is_one_duty() -> None:
    """AM 08:00-12:30 and a night 23:30-08:00 are 11 hours apart, but a PM in between
    leaves no rest anywhere: 08:00 to 08:00 is one 24-hour duty."""
    late = make_session("LATE", "23:30", "08:00", "Mon-Sun")
    bundle = make_bundle(
        session_types=[make_session(), PM, late],
        staff=[make_staff(max_sessions_per_day=3)],
        demand=[make_demand("P01", "Mon", s, min=1, target=1) for s in ("AM", "PM", "LATE")],
        weights=COVER_ONLY,
    )
    result = plan(bundle)
    assert worked(result) == 2 and result.shortfall == 1
    all_three = [assign(date=MON, session_id=s) for s in ("AM", "PM", "LATE")]
    assert only(check(bundle, *all_three), "rest")
    assert check(bundle, all_three[0], all_three[2]).ok  # 11 hours apart: two duties


def test_a_night_across_the_october_clock_change_counts_its_real_hours() -> None:
    """18:30-08:00 is 13.5 hours on the wall clock; on 24-25 October 2026 it lasts 14.5."""
    october = tuple(dt.date(2026, 10, 19) + dt.timedelta(days=i) for i in range(7))
    bundle = make_bundle(
        session_types=[LONG_NIGHT, make_session("TEA", "08:00", "08:30", "Mon-Sun")],
        staff=[make_staff(max_duty_hours=14.5, max_weekend_sessions=4, max_sessions_per_day=2)],
        demand=[make_demand("P01", "Mon-Sun", "LNIGHT"), make_demand("P01", "Mon-Sun", "TEA")],
    )
    night_and_tea = [
        assign(date="2026-10-24", session_id="LNIGHT"),
        assign(date="2026-10-25", session_id="TEA"),
    ]
    assert "one duty of 15 h" in only(check(bundle, *night_and_tea, dates=october), "rest")
    friday = [
        assign(date="2026-10-23", session_id="LNIGHT"),
        assign(date="2026-10-24", session_id="TEA"),
    ]
    assert check(bundle, *friday, dates=october).ok  # 14.5 real hours, as the wall clock says


def test_a_night_across_the_march_clock_change_is_an_hour_shorter() -> None:
    march = tuple(dt.date(2026, 3, 23) + dt.timedelta(days=i) for i in range(7))
    bundle = make_bundle(
        session_types=[LONG_NIGHT],
        staff=[make_staff(max_weekend_sessions=4, contract_hours=40)],
        demand=[make_demand("P01", "Mon-Sun", "LNIGHT")],
    )
    night = assign(date="2026-03-28", session_id="LNIGHT")  # Saturday 18:30 to Sunday 08:00
    assert check_rota(bundle, march, [night]).ok
    assert Rota(bundle, march, [night]).seconds(night) == 12.5 * 3600  # clocks go forward


# -- weekly days off --------------------------------------------------------------------------


def _every_day(days_off: int | None = None, network: int = 1) -> Bundle:
    return make_bundle(
        session_types=[DAY],
        staff=[make_staff(max_weekend_sessions=2, min_days_off_per_week=days_off, max_hours=90)],
        demand=[make_demand("P01", "Mon-Sun", "DAY")],
        rules=Rules(min_days_off_per_week=network, max_week_hours=90),
        weights=COVER_ONLY,
    )


def test_a_weekly_day_off_leaves_one_day_of_seven_uncovered() -> None:
    result = plan(_every_day())
    assert worked(result) == 6 and result.shortfall == 1


def test_no_day_off_needed_lets_a_person_work_all_week() -> None:
    assert worked(plan(_every_day(days_off=0))) == 7


def test_a_night_makes_its_morning_a_working_day() -> None:
    """Nights Mon-Sat end on Tue-Sun: six nights touch seven dates, leaving no day off."""
    bundle = make_bundle(
        session_types=[NIGHT],
        staff=[make_staff(max_weekend_sessions=2, max_hours=90)],
        demand=[make_demand("P01", "Mon-Sun", "NIGHT")],
        rules=Rules(max_week_hours=90),
    )
    six = [assign(date=d, session_id="NIGHT") for d in WEEK[:6]]
    message = only(check(bundle, *six), "days_off")
    assert "works on 7 days of 2026-W49" in message and "leaving 0 days off" in message
    assert check(bundle, *six[:5]).ok


# -- rooms at any moment and buildings ---------------------------------------------------------


def test_rooms_count_people_at_once_across_overlapping_sessions() -> None:
    bundle = make_bundle(
        sites=[make_site(rooms=1)],
        session_types=[make_session(), DAY],
        staff=[make_staff("GP", staff_id=f"S{i}") for i in (1, 2)],
        demand=[make_demand("P01", "Mon", "AM"), make_demand("P01", "Mon", "DAY")],
        weights=COVER_ONLY,
    )
    result = plan(bundle)
    assert len(result.assignments) == 1 and result.shortfall == 1
    both = [assign("S1", MON, "AM"), assign("S2", MON, "DAY")]
    assert "at once at 08:00 on Mon 2026-11-30 (AM, DAY)" in only(check(bundle, *both), "rooms")


def _two_practices_in_one_building(rooms: int) -> Bundle:
    sites = [make_site(building="HHC"), make_site(site_id="P02", name="Hill", building="HHC")]
    return make_bundle(
        sites=sites,
        buildings=(Building("HHC", rooms, row=2),),
        staff=[make_staff(staff_id="S1"), make_staff(staff_id="S2", home_site="P02")],
        demand=[make_demand("P01", "Mon", "AM"), make_demand("P02", "Mon", "AM")],
        weights=COVER_ONLY,
    )


def test_a_building_shares_its_rooms_between_its_sites() -> None:
    bundle = _two_practices_in_one_building(1)
    result = plan(bundle)
    assert len(result.assignments) == 1 and result.shortfall == 1
    both = [assign("S1", MON), assign("S2", MON, site_id="P02")]
    message = only(check(bundle, *both), "rooms")
    assert message.startswith("building HHC (P01, P02) has 2 people in AM on Mon 2026-11-30")
    assert "but only 1 room (buildings.csv:2)" in message


def test_a_building_with_rooms_enough_holds_both() -> None:
    bundle = _two_practices_in_one_building(2)
    assert len(plan(bundle).assignments) == 2


# -- recharges between organisations -------------------------------------------------------------


def _lent_across(organisations: tuple[str | None, str | None]) -> list[Any]:
    sites = [
        make_site(organisation=organisations[0]),
        make_site(site_id="P02", name="Hill", organisation=organisations[1]),
    ]
    bundle = make_bundle(sites=sites, staff=[make_staff(sites="*", hourly_rate=80)])
    _, rows = recharge_rows(bundle, [assign(date=TUE, site_id="P02")])
    return rows


def test_staff_of_one_organisation_at_its_own_sites_are_no_recharge() -> None:
    assert _lent_across(("CHP", "CHP")) == []


def test_staff_lent_to_another_organisation_are_recharged() -> None:
    (row,) = _lent_across(("CHP", None))
    assert row[:3] == ("P02", "P01", "S0001")
    assert _lent_across((None, None)) == [row]  # v1: every practice is its own organisation


def test_the_explanation_names_the_building_whose_rooms_are_full() -> None:
    from scheduler.checks.explain import explain_shortfalls

    sites = [make_site(building="HHC"), make_site(site_id="P02", name="Hill", building="HHC")]
    bundle = make_bundle(
        sites=sites,
        buildings=(Building("HHC", 1, row=2),),
        staff=[
            make_staff(staff_id="S1"),
            make_staff(staff_id="S2", home_site="P02"),
            make_staff(staff_id="S3", home_site="P02"),
        ],
        demand=[make_demand("P01", "Mon", "AM"), make_demand("P02", "Mon", "AM")],
    )
    rota = [assign("S1", MON)]
    horizon = Horizon(bundle, WEEK)
    short = [(n, 0, 1) for n in horizon.needs if n.site_id == "P02" and n.date == WEEK[0]]
    notes = explain_shortfalls(horizon, rota, short)
    words = " ".join(" ".join(n.causes) for n in notes)
    assert "building HHC (P01, P02) has no room left (its one room in use)" in words


# -- the validator's words ------------------------------------------------------------------


def test_rest_bites_for_a_person_with_a_shorter_duty_of_their_own() -> None:
    bundle = make_bundle(
        session_types=[make_session(), EVE],
        staff=[make_staff(max_evenings=1, max_duty_hours=10)],
        demand=[make_demand(), make_demand(session_id="EVE")],
    )
    report = check(bundle, assign(date=TUE), assign(date=TUE, session_id="EVE"))
    assert "the longest duty is 10 h (max_duty_hours, staff.csv:2)" in only(report, "rest")


def test_rooms_of_a_building_bite_across_its_sites() -> None:
    bundle = make_bundle(
        sites=[make_site(building="HHC"), make_site(site_id="P02", name="Hill", building="HHC")],
        buildings=(Building("HHC", 1, row=2),),
        staff=[make_staff(sites="*"), make_staff(staff_id="S0002", name="Bo Other", sites="*")],
        demand=[make_demand(), make_demand(site_id="P02")],
    )
    report = check(bundle, assign(date=TUE), assign("S0002", TUE, site_id="P02"))
    message = only(report, "rooms")
    assert "building HHC (P01, P02) has 2 people in AM on Tue 2026-12-01" in message


# -- the model bundles, end to end -------------------------------------------------------------


@pytest.mark.parametrize("model", ["miu", "ucc", "ooh", "building"])
def test_each_model_plans_a_week_that_rotapool_check_accepts(
    model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scheduler.cli.common import EXIT_OK
    from scheduler.cli.main import main

    out = tmp_path / "out"
    words = ["plan", str(V2 / model), "--week", "2026-W49", "--out", str(out)]
    assert main([*words, "--time-limit", "10", "--workers", "2"]) == EXIT_OK
    assert main(["check", str(V2 / model), str(out / "rota.csv")]) == EXIT_OK


def test_the_out_of_hours_plan_keeps_every_duty_and_every_rest() -> None:
    """No duty over the person's limit (13 h, or 14 h for those allowed the 18:30-08:00
    night), and at least 11 hours between duties, measured here from the rota alone."""
    bundle, _ = read_bundle(V2 / "ooh")
    result = plan(bundle)
    rota = Rota(bundle, WEEK, result.assignments)
    rest = dt.timedelta(hours=11)
    for person in bundle.staff:
        spans = sorted(
            b for a in rota.assignments if a.staff_id == person.staff_id if (b := rota.bounds(a))
        )
        spells = duties(spans, rest)
        limit = dt.timedelta(hours=person.max_duty_hours or 13)
        assert all(end - start <= limit for start, end in spells), person.staff_id
        assert all(later[0] - earlier[1] >= rest for earlier, later in itertools.pairwise(spells))
    assert any(a.session_id == "OOH_NIGHT" for a in result.assignments)


def test_the_minor_injuries_unit_is_staffed_on_christmas_day() -> None:
    bundle, _ = read_bundle(V2 / "miu")
    christmas = tuple(dt.date(2026, 12, 21) + dt.timedelta(days=i) for i in range(7))
    result = solve(Horizon(bundle, christmas), SolveOptions(time_limit=10, workers=2, seed=0))
    units = {s.site_id for s in bundle.sites if s.bank_holidays == "open"}
    practices = {s.site_id for s in bundle.sites} - units
    on_the_day = {a.site_id for a in result.assignments if a.date == dt.date(2026, 12, 25)}
    assert units and on_the_day & units and not on_the_day & practices


def test_the_person_page_shows_a_night_as_next_day_and_a_joined_duty() -> None:
    from scheduler.views.person_rota import duties_of, person_session

    bundle = _surgery_then_night(max_duty_hours=19)
    person = bundle.staff[0]
    pm, night = assign(date=MON, session_id="PM"), assign(date=MON, session_id="NIGHT")
    sessions = [person_session(bundle, person, a) for a in (pm, night)]
    assert [s.overnight for s in sessions] == [False, True]
    (duty,) = duties_of(bundle, sessions)
    assert (f"{duty.start:%a %H:%M}", f"{duty.end:%a %H:%M}") == ("Mon 13:30", "Tue 08:00")
    assert (duty.hours, duty.sessions) == (18.5, 2)


def test_an_edit_that_makes_too_long_a_duty_is_refused_naming_the_duty() -> None:
    from scheduler.usecases.editing import Cells, HardRuleError, check_edit

    bundle = _surgery_then_night()
    pm, night = assign(date=MON, session_id="PM"), assign(date=MON, session_id="NIGHT")
    before = Cells(frozenset({pm}), frozenset())
    after = Cells(frozenset({pm, night}), frozenset())
    with pytest.raises(HardRuleError) as refused:
        check_edit(bundle, "2026-W49", before, after)
    assert str(refused.value).startswith(
        "Duty too long for the daily rest: S0001 Ann Example would work Mon 13:30 to Tue 08:00 "
        "with 5 h rest"
    )
    assert "the longest duty is 13 h" in str(refused.value)


def test_the_heatmap_leaves_a_sites_row_empty_under_another_sites_sessions() -> None:
    from scheduler.checks.validator import coverage_of
    from scheduler.views.heatmap import heatmap, needed_columns, week_columns

    sites = [make_site(), make_site(site_id="MIU", name="MIU", kind=SiteKind.SERVICE)]
    bundle = make_bundle(
        sites=sites,
        session_types=[make_session(), DAY, NIGHT],
        demand=[make_demand("P01", "Mon-Fri", "AM"), make_demand("MIU", "Mon-Sun", "DAY")],
    )
    coverage = coverage_of(bundle, WEEK, [])
    columns = needed_columns(week_columns(bundle, WEEK), coverage)
    assert {c.session_id for c in columns} == {"AM", "DAY"}  # nobody runs NIGHT
    practice, unit = heatmap(bundle, columns, coverage)
    monday = {c.column.session_id: c.status for c in practice.cells if c.column.date == WEEK[0]}
    assert monday == {"AM": "short", "DAY": "idle"}
    saturday = {c.column.session_id: c.status for c in unit.cells if c.column.date == WEEK[5]}
    assert saturday == {"DAY": "short"}  # AM does not run on Saturdays
    assert next(c for c in practice.cells if c.status == "idle").text == ""


def test_the_plan_says_which_sites_close_on_each_bank_holiday() -> None:
    sites = [make_site(), make_site(site_id="MIU", name="MIU", bank_holidays="open")]
    bundle = make_bundle(
        sites=sites, session_types=[DAY], demand=[make_demand("MIU", "Mon-Sun", "DAY")]
    )
    (christmas,) = Horizon(bundle, CHRISTMAS).bank_holiday_sites()
    assert christmas.text() == "Fri 2026-12-25 Christmas Day: closed P01; open MIU"
    assert christmas.as_json() == {
        "date": "2026-12-25",
        "name": "Christmas Day",
        "closed": ["P01"],
        "open": ["MIU"],
    }
