"""Enhanced access compliance: the weekly check, its exports, the settings, the solver rule.

The hand-built week (2026-W49, Mon 2026-11-30 to Sun 2026-12-06) has weekday
evenings 18:30-20:00 and Saturday 09:00-13:00 / 13:00-17:00 at a hub, and
known holes: Tuesday has a nurse but no GP, Thursday has only a nurse from
19:00 (and a pharmacist, who is not bookable), Saturday afternoon has a
nurse but no GP.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.bundle.settings import roles_setting, windows_setting
from scheduler.domain import (
    AccessWindow,
    Assignment,
    Bundle,
    EnhancedAccess,
    SiteKind,
    Weights,
)
from scheduler.horizon import Horizon
from scheduler.reports.ea import (
    GAPS_HEADER,
    SUMMARY_HEADER,
    NoEnhancedAccessError,
    check_week,
    check_weeks,
    counted_sessions,
    gaps_path,
    report_lines,
    write_csvs,
    write_xlsx,
)
from scheduler.storage.db import session_scope
from scheduler.storage.repository import load_bundle, save_bundle
from solver import SolveOptions, SolveResult, SolveStatus, solve
from tests.bundles import write_bundle
from tests.factories import (
    WEEK,
    make_bundle,
    make_demand,
    make_leave,
    make_session,
    make_site,
    make_staff,
)

W49 = "2026-W49"
MON, TUE, WED, THU, FRI, SAT = WEEK[:6]
EVE = make_session("EVE", "18:30", "20:00", "Mon-Fri", "extended")
LATE = make_session("LATE", "19:00", "20:00", "Thu", "extended")
SAT_AM = make_session("SAT_AM", "09:00", "13:00", "Sat", "extended")
SAT_PM = make_session("SAT_PM", "13:00", "17:00", "Sat", "extended")
AM = make_session("AM", "08:00", "12:30")
SITES = [
    make_site(site_id="P01", list_size=4000),
    make_site(site_id="P02", name="Hill Surgery", list_size=2000),
    make_site(site_id="HUB", name="Hub", kind=SiteKind.HUB, list_size=0),
]
STAFF = [
    make_staff("GP", staff_id="G1", sites="*"),
    make_staff("GP", staff_id="G2", sites="*"),
    make_staff("PN", staff_id="N1", sites="*"),
    make_staff("PHARM", staff_id="R1", sites="*"),
]
# 6,000 adjusted population x 60 / 1,000 = a floor of 360 minutes.
ACCESS = EnhancedAccess(adjusted_population=6000, bookable_roles=frozenset({"GP", "PN"}))


def ea_bundle(access: EnhancedAccess | None = ACCESS, **overrides: object) -> Bundle:
    bundle = make_bundle(
        sites=SITES,
        session_types=[AM, EVE, LATE, SAT_AM, SAT_PM],
        staff=STAFF,
        demand=[make_demand("HUB", "Mon-Fri", "EVE", min=0, target=2)],
        **overrides,
    )
    return dataclasses.replace(bundle, enhanced_access_settings=access)


def at_hub(day: dt.date, session_id: str, staff_id: str) -> Assignment:
    return Assignment(day, session_id, "HUB", staff_id)


ROTA = [
    at_hub(MON, "EVE", "G1"),
    at_hub(TUE, "EVE", "N1"),
    at_hub(WED, "EVE", "G1"),
    at_hub(WED, "EVE", "N1"),  # side by side with G1: both count
    at_hub(THU, "LATE", "N1"),
    at_hub(THU, "EVE", "R1"),  # a pharmacist: not bookable in this network
    Assignment(TUE, "AM", "P01", "G2"),  # a core session: never counted
    at_hub(FRI, "EVE", "G2"),
    at_hub(SAT, "SAT_AM", "G1"),
    at_hub(SAT, "SAT_PM", "N1"),
]


# --------------------------------------------------------------------------- the week


def test_hand_built_week_reports_every_gap_exactly() -> None:
    check = check_week(ea_bundle(), W49, ROTA)
    assert [g.text for g in check.gaps] == [
        "Tue 2026-12-01 18:30-20:00: no GP present",
        "Thu 2026-12-03 18:30-19:00: no bookable clinician",
        "Thu 2026-12-03 18:30-20:00: no GP present",
        "Sat 2026-12-05 13:00-17:00: no GP present",
    ]
    assert [g.minutes for g in check.gaps] == [90, 30, 90, 240]
    assert check.required_gaps == check.gaps
    assert not check.passed and check.result == "fail"


def test_hand_built_week_counts_minutes_per_clinician_inside_the_windows() -> None:
    check = check_week(ea_bundle(), W49, ROTA)
    # Mon 90, Tue 90, Wed 90 + 90, Thu 60, Fri 90, Sat 240 + 240.
    assert [w.delivered for w in check.windows] == [90, 90, 180, 60, 90, 480]
    assert check.delivered == 990
    assert check.floor == 360 and check.meets_floor and check.short == 0


def test_floor_not_met_fails_with_the_minutes_short() -> None:
    access = dataclasses.replace(ACCESS, adjusted_population=20000)  # floor 1,200
    rota = [*ROTA, at_hub(TUE, "EVE", "G2"), at_hub(THU, "EVE", "G2"), at_hub(SAT, "SAT_PM", "G2")]
    check = check_week(ea_bundle(access), W49, rota)
    assert check.gaps == ()
    assert check.delivered == 990 + 90 + 90 + 240
    assert check.short == Decimal("0.00") and check.passed
    fewer = check_week(ea_bundle(access), W49, rota[:-1])
    assert fewer.delivered == 1170 and fewer.short == Decimal("30.00") and not fewer.passed
    assert "1,170 minutes delivered of a floor of 1,200" in report_lines(fewer)[1]
    assert report_lines(fewer)[1].endswith(": 30 minutes short")


def test_covered_week_passes() -> None:
    rota = [*ROTA, at_hub(TUE, "EVE", "G2"), at_hub(THU, "EVE", "G2"), at_hub(SAT, "SAT_PM", "G2")]
    check = check_week(ea_bundle(), W49, rota)
    assert check.passed and check.gaps == ()
    assert report_lines(check)[0] == "Week 2026-W49 (Mon 2026-11-30 to Sun 2026-12-06): PASS"


def test_shuffled_rota_gives_the_same_verdict() -> None:
    assert check_week(ea_bundle(), W49, ROTA) == check_week(ea_bundle(), W49, ROTA[::-1])


def test_every_role_is_bookable_by_default() -> None:
    access = dataclasses.replace(ACCESS, bookable_roles=None)
    check = check_week(ea_bundle(access), W49, ROTA)
    assert "Thu 2026-12-03 18:30-19:00: no bookable clinician" not in [g.text for g in check.gaps]
    assert check.delivered == 990 + 90  # the pharmacist's 90 minutes count beside the nurse's 60


def test_gp_role_is_configurable() -> None:
    access = dataclasses.replace(ACCESS, gp_role="PN")
    texts = [g.text for g in check_week(ea_bundle(access), W49, ROTA).gaps]
    assert "Mon 2026-11-30 18:30-20:00: no PN present" in texts


def test_absent_people_are_not_counted_and_are_listed() -> None:
    bundle = ea_bundle(leave=[make_leave("G2", FRI, kind="sick")])
    check = check_week(bundle, W49, ROTA)
    assert "Fri 2026-12-04 18:30-20:00: no bookable clinician" in [g.text for g in check.gaps]
    assert check.not_counted == ("G2 Fri 2026-12-04 EVE at HUB: not counted, on leave or absent",)
    assert check.delivered == 990 - 90


def test_sessions_of_people_no_longer_in_the_bundle_are_listed() -> None:
    worked, notes = counted_sessions(ea_bundle(), [at_hub(MON, "EVE", "GONE")])
    assert worked == []
    assert notes == [
        "GONE Mon 2026-11-30 EVE at HUB: not counted, the person is no longer in the bundle"
    ]


def test_population_falls_back_to_list_sizes_and_says_so() -> None:
    check = check_week(ea_bundle(EnhancedAccess()), W49, [])
    assert check.population_estimated and check.population == 6000 and check.floor == 360
    assert any("list sizes (6,000 patients) stand in" in line for line in report_lines(check))


def test_no_enhanced_access_section_has_nothing_to_check() -> None:
    with pytest.raises(NoEnhancedAccessError, match=r"no \[enhanced_access\] section"):
        check_week(ea_bundle(None), W49, ROTA)


def test_unpublished_week_is_said() -> None:
    (check,) = check_weeks(ea_bundle(), W49, 1, [], published_weeks=[])
    assert not check.published and check.delivered == 0
    assert "Nothing is published for this week: no session counts." in "\n".join(
        report_lines(check)
    )


def test_weeks_split_the_assignments_by_iso_week() -> None:
    later = at_hub(MON + dt.timedelta(days=7), "EVE", "G1")
    checks = check_weeks(ea_bundle(), W49, 2, [*ROTA, later])
    assert [c.week for c in checks] == ["2026-W49", "2026-W50"]
    assert [c.delivered for c in checks] == [990, 90]


# --------------------------------------------------------------------------- clocks and holidays

SAT_DAY = make_session("SAT", "09:00", "17:00", "Sat", "extended")
SUN_NIGHT = make_session("NIGHT", "00:30", "03:30", "Sun", "extended")
SUN_DAY = make_session("SUN", "09:00", "17:00", "Sun", "extended")
CLOCK_WINDOWS = (
    AccessWindow(frozenset({5}), dt.time(9), dt.time(17)),
    AccessWindow(frozenset({6}), dt.time(0, 30), dt.time(3, 30)),
    AccessWindow(frozenset({6}), dt.time(9), dt.time(17)),
)


def clock_check(week: str, sunday: dt.date) -> list[tuple[str, int, int]]:
    """Each window's real length and minutes delivered, with a GP in every session."""
    bundle = dataclasses.replace(
        ea_bundle(dataclasses.replace(ACCESS, windows=CLOCK_WINDOWS)),
        session_types=(SAT_DAY, SUN_NIGHT, SUN_DAY),
    )
    saturday = sunday - dt.timedelta(days=1)
    rota = [
        at_hub(saturday, "SAT", "G1"),
        at_hub(sunday, "NIGHT", "G2"),
        at_hub(sunday, "SUN", "G1"),
    ]
    check = check_week(bundle, week, rota)
    assert check.gaps == ()
    return [(f"{w.local_start}-{w.local_end}", w.span.minutes, w.delivered) for w in check.windows]


def test_autumn_clock_change_weekend_counts_real_minutes() -> None:
    # Clocks go back at 02:00 BST on Sunday 2026-10-25: 00:30-03:30 lasts four hours.
    assert clock_check("2026-W43", dt.date(2026, 10, 25)) == [
        ("09:00-17:00", 480, 480),  # Saturday: the clocks change on Sunday, not today
        ("00:30-03:30", 240, 240),
        ("09:00-17:00", 480, 480),  # the change is over before 09:00
    ]


def test_spring_clock_change_weekend_counts_real_minutes() -> None:
    # Clocks go forward at 01:00 GMT on Sunday 2026-03-29: 00:30-03:30 lasts two hours.
    assert clock_check("2026-W13", dt.date(2026, 3, 29)) == [
        ("09:00-17:00", 480, 480),
        ("00:30-03:30", 120, 120),
        ("09:00-17:00", 480, 480),
    ]


def test_overlapping_windows_are_checked_once() -> None:
    windows = (
        AccessWindow(frozenset({0}), dt.time(18), dt.time(19)),
        AccessWindow(frozenset({0}), dt.time(18, 30), dt.time(20)),
    )
    check = check_week(ea_bundle(dataclasses.replace(ACCESS, windows=windows)), W49, ROTA)
    (window,) = check.windows
    assert (window.span.text, window.span.minutes, window.delivered) == (
        "Mon 18:00-19:00 + Mon 18:30-20:00",
        120,
        90,
    )
    assert [g.text for g in check.gaps] == [
        "Mon 2026-11-30 18:00-18:30: no bookable clinician",
        "Mon 2026-11-30 18:00-18:30: no GP present",
    ]


def test_bank_holiday_windows_are_shown_but_not_required() -> None:
    # 2026-W36: Monday 2026-08-31 is the Late Summer Bank Holiday; nobody works that evening.
    week = [dt.date(2026, 8, 31) + dt.timedelta(days=i) for i in range(7)]
    rota = [at_hub(d, "EVE", "G1") for d in week[1:5]]
    rota += [at_hub(week[5], "SAT_AM", "G1"), at_hub(week[5], "SAT_PM", "G2")]
    check = check_week(ea_bundle(), "2026-W36", rota)
    assert check.bank_holidays == ((week[0], "Late Summer Bank Holiday"),)
    assert [g.text for g in check.gaps] == [
        "Mon 2026-08-31 18:30-20:00: no bookable clinician "
        "(bank holiday, Late Summer Bank Holiday: not required)",
        "Mon 2026-08-31 18:30-20:00: no GP present "
        "(bank holiday, Late Summer Bank Holiday: not required)",
    ]
    assert check.required_gaps == () and check.passed
    assert not check.windows[0].required and check.windows[1].required


# --------------------------------------------------------------------------- exports


def test_xlsx_round_trip_keeps_every_figure(tmp_path: Path) -> None:
    checks = check_weeks(
        ea_bundle(dataclasses.replace(ACCESS, adjusted_population=6543.21)), W49, 1, ROTA
    )
    path = write_xlsx(tmp_path / "ea.xlsx", checks)
    book = load_workbook(path)
    assert book.sheetnames == ["summary", "windows", "gaps"]
    summary = pd.read_excel(path, sheet_name="summary")
    assert tuple(summary.columns) == SUMMARY_HEADER
    row = summary.iloc[0]
    assert (row["week"], row["result"], row["minutes_delivered"]) == (W49, "fail", 990)
    assert Decimal(str(row["floor_minutes"])) == Decimal("392.59")  # 60 x 6,543.21 / 1,000
    assert Decimal(str(row["adjusted_population"])) == Decimal("6543.21")
    assert row["required_gaps"] == 4
    gaps = pd.read_excel(path, sheet_name="gaps", dtype=str)
    assert tuple(gaps.columns) == GAPS_HEADER
    assert list(gaps["text"]) == [g.text for g in checks[0].gaps]
    assert [int(m) for m in gaps["minutes"]] == [90, 30, 90, 240]
    windows = pd.read_excel(path, sheet_name="windows")
    assert list(windows["minutes_delivered"]) == [90, 90, 180, 60, 90, 480]


def test_csv_writes_the_summary_and_the_gaps_beside_it(tmp_path: Path) -> None:
    summary, gaps = write_csvs(tmp_path / "ea.csv", check_weeks(ea_bundle(), W49, 1, ROTA))
    assert gaps == gaps_path(summary) == tmp_path / "ea-gaps.csv"
    lines = summary.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(SUMMARY_HEADER)
    assert lines[1].startswith("2026-W49,2026-11-30,2026-12-06,fail,990,360.00,0.00,60.00,6000.00,")
    gap_lines = gaps.read_text(encoding="utf-8").splitlines()
    assert gap_lines[1] == (
        "2026-W49,2026-12-01,Tue,Mon-Fri 18:30-20:00,18:30,20:00,90,no GP present,,yes,"
        "Tue 2026-12-01 18:30-20:00: no GP present"
    )
    assert len(gap_lines) == 5


# --------------------------------------------------------------------------- configuration

NETWORK = 'name = "EA network"\n\n[enhanced_access]\n'


def network_with(lines: str) -> str:
    return NETWORK + lines


def test_settings_are_read_with_their_defaults(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, network=network_with("adjusted_population = 41250.5\n"))
    bundle, warnings = read_bundle(folder)
    assert warnings == []
    assert bundle.enhanced_access_settings == EnhancedAccess(adjusted_population=41250.5)
    assert bundle.enhanced_access == {"adjusted_population": 41250.5}


def test_windows_roles_and_gp_role_are_read(tmp_path: Path) -> None:
    lines = (
        "minutes_per_1000_per_week = 30\nadjusted_population = 9000\n"
        'windows = ["Mon;Wed 18:00-20:00", "Sun 10:00-12:00"]\n'
        'bookable_roles = ["GP", "PN"]\ngp_role = "GP"\n'
    )
    bundle, _ = read_bundle(write_bundle(tmp_path, network=network_with(lines)))
    access = bundle.enhanced_access_settings
    assert access is not None
    assert [w.text for w in access.windows] == ["Mon;Wed 18:00-20:00", "Sun 10:00-12:00"]
    assert (access.minutes_per_1000_per_week, access.bookable_roles) == (30, {"GP", "PN"})


def test_workbook_cells_write_lists_as_text() -> None:
    windows = windows_setting("Mon-Fri 18:30-20:00, Sat 09:00-17:00")
    assert windows == EnhancedAccess().windows
    assert roles_setting("GP; ANP") == {"GP", "ANP"}


def test_no_section_means_no_enhanced_access(tmp_path: Path) -> None:
    bundle, _ = read_bundle(write_bundle(tmp_path, network='name = "Old"\n'))
    assert bundle.enhanced_access_settings is None and bundle.enhanced_access == {}


def test_missing_adjusted_population_stands_in_list_sizes_without_a_warning(
    tmp_path: Path,
) -> None:
    folder = write_bundle(tmp_path, network=network_with("minutes_per_1000_per_week = 60\n"))
    bundle, warnings = read_bundle(folder)
    assert warnings == []  # the report says it instead (see the population tests)
    assert bundle.enhanced_access_settings == EnhancedAccess()
    assert bundle.enhanced_access_settings.population(bundle.sites) == (29144.0, True)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'windows = ["Mon-Fri 20:00-18:30"]',
            "network.toml:5: enhanced_access.windows: 'Mon-Fri 20:00-18:30' ends before it "
            "starts; a window lies within one day; write e.g. "
            'windows = ["Mon-Fri 18:30-20:00", "Sat 09:00-17:00"]',
        ),
        (
            'windows = ["Weekdays 18:30-20:00"]',
            "network.toml:5: enhanced_access.windows: 'Weekdays' is not a day; write days as "
            "Mon, Tue, ... Sun, a range such as Mon-Fri, or a list such as Mon;Wed "
            "(in 'Weekdays 18:30-20:00'); write e.g. "
            'windows = ["Mon-Fri 18:30-20:00", "Sat 09:00-17:00"]',
        ),
        (
            "adjusted_population = 0",
            "network.toml:5: enhanced_access.adjusted_population: 0 must be above 0; write the "
            "NHS-published figure, e.g. adjusted_population = 41250",
        ),
        (
            "bookable_roles = 3",
            "network.toml:5: enhanced_access.bookable_roles: 3 is not a list of texts; write e.g. "
            'bookable_roles = ["GP", "ANP", "PHARM"]',
        ),
        (
            "minutes_per_1000 = 60",
            "network.toml:5: enhanced_access.minutes_per_1000: unknown enhanced-access setting "
            "'minutes_per_1000'; the settings are minutes_per_1000_per_week, "
            "adjusted_population, windows, bookable_roles, gp_role",
        ),
    ],
)
def test_bad_settings_name_the_key_and_what_to_write(
    tmp_path: Path, line: str, message: str
) -> None:
    folder = write_bundle(tmp_path, network=network_with(f'gp_role = "GP"\n{line}\n'))
    with pytest.raises(BundleError) as caught:
        read_bundle(folder)
    assert [str(p) for p in caught.value.problems if not p.warning] == [message]


def test_unknown_role_is_a_warning(tmp_path: Path) -> None:
    lines = 'adjusted_population = 9000\nbookable_roles = ["GP", "NURSE"]\n'
    _, warnings = read_bundle(write_bundle(tmp_path, network=network_with(lines)))
    assert [str(w) for w in warnings] == [
        "network.toml:4: enhanced_access: warning: no one in staff.csv has the role 'NURSE'; "
        "check the spelling"
    ]


def test_settings_survive_the_database(engine: Engine) -> None:
    access = EnhancedAccess(
        minutes_per_1000_per_week=30,
        adjusted_population=6543.21,
        windows=CLOCK_WINDOWS,
        bookable_roles=frozenset({"GP", "PN"}),
        gp_role="GP",
    )
    bundle = dataclasses.replace(
        ea_bundle(access), enhanced_access={"minutes_per_1000_per_week": 30}
    )
    with session_scope(engine) as session:
        save_bundle(session, bundle)
    with session_scope(engine) as session:
        assert load_bundle(session).enhanced_access_settings == access


# --------------------------------------------------------------------------- the solver rule

ONLY_EA = Weights(
    target_cover=0,
    away_from_home=0,
    fair_share=0,
    practice_fairness=0,
    preference=0,
    contract_hours=0,
    cost=0,
)
EVENINGS = EnhancedAccess(
    adjusted_population=6000,  # floor 360 minutes: four evenings of one clinician
    windows=(AccessWindow(frozenset(range(5)), dt.time(18, 30), dt.time(20)),),
)


def evening_bundle(
    access: EnhancedAccess = EVENINGS, gp_evenings: int = 5, **weights: float
) -> Bundle:
    """One practice, evenings wanted by nobody (target 0), a GP and a nurse who may work them."""
    staff = [
        make_staff("GP", staff_id="G1", max_evenings=gp_evenings),
        make_staff("PN", staff_id="N1", max_evenings=5),
    ]
    bundle = make_bundle(
        session_types=[EVE],
        staff=staff,
        demand=[make_demand("P01", "Mon-Fri", "EVE", min=0, target=0)],
        weights=dataclasses.replace(ONLY_EA, **weights),
    )
    return dataclasses.replace(bundle, enhanced_access_settings=access)


def plan(bundle: Bundle) -> SolveResult:
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=20, workers=2, seed=0))
    assert result.status is SolveStatus.OPTIMAL
    return result


def test_enhanced_access_covers_every_window_with_a_gp() -> None:
    # Each assignment beyond a target of 0 costs over_target 100: the GP's five evenings
    # (the only way to have a GP throughout) cost 500; the nurse adds nothing the report needs.
    bundle = evening_bundle()
    result = plan(bundle)
    assert result.objective == pytest.approx(500)
    assert sorted(a.staff_id for a in result.assignments) == ["G1"] * 5
    assert check_week(bundle, W49, result.assignments).passed


def test_enhanced_access_off_leaves_the_evenings_empty() -> None:
    bundle = evening_bundle(enhanced_access=0)
    result = plan(bundle)
    assert result.assignments == () and result.objective == 0
    check = check_week(bundle, W49, result.assignments)
    assert not check.passed and len(check.required_gaps) == 10 and check.delivered == 0


def test_enhanced_access_without_a_gp_every_evening_costs_the_gp_hours() -> None:
    # The GP may work 3 evenings: the nurse covers the other 2 (5 x 100 over target), and the
    # 2 x 1.5 h without a GP cost 5,000 an hour: 500 + 15,000.
    bundle = evening_bundle(gp_evenings=3)
    result = plan(bundle)
    assert result.objective == pytest.approx(15_500)
    assert result.penalties["enhanced_access"] == pytest.approx(15_000)
    check = check_week(bundle, W49, result.assignments)
    assert [g.problem for g in check.gaps] == ["no GP present", "no GP present"]


def test_enhanced_access_floor_adds_clinicians_up_to_the_floor() -> None:
    # Floor 60 x 12,000 / 1,000 = 720 minutes: the GP's 450 and three nurse evenings (270).
    bundle = evening_bundle(dataclasses.replace(EVENINGS, adjusted_population=12000))
    result = plan(bundle)
    assert result.objective == pytest.approx(800)
    check = check_week(bundle, W49, result.assignments)
    assert check.delivered == 720 and check.passed


def test_enhanced_access_ignores_windows_no_one_could_cover() -> None:
    # The default windows add Saturday, when there is no session at all: no penalty for it.
    bundle = evening_bundle(dataclasses.replace(EVENINGS, windows=EnhancedAccess().windows))
    result = plan(bundle)
    assert result.objective == pytest.approx(500)
    assert not check_week(bundle, W49, result.assignments).passed  # the report still says so


def test_enhanced_access_does_not_require_bank_holiday_windows() -> None:
    # 2026-W36: Monday 2026-08-31 is a bank holiday; a dated row still offers its evening.
    # Tue-Fri deliver 4 x 90 = 360 minutes, the floor: Monday's evening would only cost 100.
    week = tuple(dt.date(2026, 8, 31) + dt.timedelta(days=i) for i in range(7))
    bundle = evening_bundle()
    monday = make_demand("P01", week[0], "EVE", min=0, target=0, row=3)
    bundle = dataclasses.replace(bundle, demand=(*bundle.demand, monday))
    result = solve(Horizon(bundle, week), SolveOptions(time_limit=20, workers=2, seed=0))
    assert result.status is SolveStatus.OPTIMAL and result.objective == pytest.approx(400)
    assert sorted(a.date.weekday() for a in result.assignments) == [1, 2, 3, 4]
    assert check_week(bundle, "2026-W36", result.assignments).passed
