"""Tests of the Curtois-Qu reader and of the independent roster checker.

The brute-force tests enumerate every roster of the tiny instances in
tests/data/curtois and compare the evaluator's best feasible objective with
the optimum proved by hand in tests/data/curtois/README.md.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from scheduler.bench.curtois_check import (
    Roster,
    RosterCsvError,
    evaluate,
    read_roster_csv,
    write_roster_csv,
)
from scheduler.bench.curtois_format import (
    Cover,
    CurtoisFormatError,
    CurtoisInstance,
    Employee,
    Request,
    ShiftType,
    parse_instance,
    read_instance,
)

DATA = Path(__file__).parent / "data" / "curtois"
REAL = Path("/work/shared/benchmarks/curtois_qu/instances")


def pattern(employee_id: str, days: str) -> Roster:
    """A roster for one employee from a day string such as 'EE.L' ('.' = day off)."""
    return {(employee_id, d): s for d, s in enumerate(days) if s != "."}


def merged(*rosters: Roster) -> Roster:
    """Several one-employee rosters as one roster."""
    out: Roster = {}
    for roster in rosters:
        out.update(roster)
    return out


# --------------------------------------------------------------------------- parser

BASE_LINES = [
    "SECTION_HORIZON",  # 1
    "7",  # 2
    "",  # 3
    "SECTION_SHIFTS",  # 4
    "E,480,",  # 5
    "L,600,E",  # 6
    "",  # 7
    "SECTION_STAFF",  # 8
    "A,E=7|L=2,3360,0,5,1,1,1",  # 9
    "B,E=0|L=7,2400,0,5,1,1,1",  # 10
    "",  # 11
    "SECTION_DAYS_OFF",  # 12
    "A,0,6",  # 13
    "",  # 14
    "SECTION_SHIFT_ON_REQUESTS",  # 15
    "A,2,L,3",  # 16
    "",  # 17
    "SECTION_SHIFT_OFF_REQUESTS",  # 18
    "B,4,L,1",  # 19
    "",  # 20
    "SECTION_COVER",  # 21
    "0,E,1,100,1",  # 22
    "0,L,1,100,1",  # 23
]


def base_text(replace_line: dict[int, str] | None = None, drop: range | None = None) -> str:
    """The base instance text with some 1-based lines replaced or dropped."""
    lines = list(BASE_LINES)
    for number, text in (replace_line or {}).items():
        lines[number - 1] = text
    if drop is not None:
        lines = [line for n, line in enumerate(lines, start=1) if n not in drop]
    return "\n".join(lines) + "\n"


def test_reads_the_base_instance() -> None:
    instance = parse_instance(base_text(), "base")
    assert instance.name == "base"
    assert instance.horizon == 7
    assert instance.shift_types == (
        ShiftType("E", 480, frozenset()),
        ShiftType("L", 600, frozenset({"E"})),
    )
    assert instance.employees == (
        Employee("A", {"E": 7, "L": 2}, 3360, 0, 5, 1, 1, 1),
        Employee("B", {"E": 0, "L": 7}, 2400, 0, 5, 1, 1, 1),
    )
    assert instance.days_off == {"A": frozenset({0, 6}), "B": frozenset()}
    assert instance.on_requests == (Request("A", 2, "L", 3),)
    assert instance.off_requests == (Request("B", 4, "L", 1),)
    assert instance.cover == (Cover(0, "E", 1, 100, 1), Cover(0, "L", 1, 100, 1))


def test_layout_does_not_matter_crlf_comments_and_section_order() -> None:
    """CRLF, spaces, a comment above a header and shuffled sections give the same instance."""
    blocks = base_text().strip("\n").split("\n\n")
    shuffled = [blocks[5], "# comment above the header\n" + blocks[4], *blocks[:4], blocks[6]]
    text = "\n\n".join(shuffled).replace("A,2,L,3", " A , 2 , L , 3 ").replace("\n", "\r\n")
    assert parse_instance(text, "base") == parse_instance(base_text(), "base")


def test_what_real_files_write_is_read_signed_zeros_a_mark_and_a_trailing_comma() -> None:
    """A published instance writes one requirement as ``-0``; copies carry a byte-order mark
    or end a days-off list with a comma.  None of it is refused, and the values are these."""
    text = "\ufeff" + base_text({13: "A,0,6,", 22: "0,E,-0,100,1", 23: "0,L,+1,100,+1"})
    instance = parse_instance(text, "messy")
    assert instance.days_off["A"] == frozenset({0, 6})
    assert [(c.requirement, c.over_weight) for c in instance.cover[:2]] == [(0, 1), (1, 1)]


def test_reads_a_tiny_instance_file_named_after_its_stem() -> None:
    instance = read_instance(DATA / "tiny_two_shifts.txt")
    assert instance.name == "tiny_two_shifts"
    assert instance.shift_ids == ("E", "L")
    assert instance.employee_ids == ("A", "B", "C")
    assert instance.days_off == {"A": frozenset(), "B": frozenset(), "C": frozenset({0, 1})}
    assert len(instance.cover) == 14


BAD_INPUTS = [
    ({2: "x"}, "2: SECTION_HORIZON: H 'x' is not a whole number"),
    ({2: "10"}, "2: SECTION_HORIZON: H 10 is not a positive multiple of 7"),
    ({2: "0"}, "2: SECTION_HORIZON: H 0 is not a positive multiple of 7"),
    ({2: "7,1"}, "2: SECTION_HORIZON: expected 1 field (H), found 2"),
    ({3: "14"}, "3: SECTION_HORIZON: more than one horizon line"),
    ({5: "E,abc,"}, "5: SECTION_SHIFTS: LengthMinutes 'abc' is not a whole number"),
    ({5: ",480,"}, "5: SECTION_SHIFTS: ShiftID is empty"),
    (
        {6: "L,600"},
        "6: SECTION_SHIFTS: expected 3 fields (ShiftID, LengthMinutes, Forbidden), found 2",
    ),
    ({6: "L,600,X"}, "6: SECTION_SHIFTS: Forbidden 'X' is not a shift type in SECTION_SHIFTS"),
    ({6: "L,600,E|"}, "6: SECTION_SHIFTS: Forbidden 'E|' has an empty entry"),
    ({6: "E,600,"}, "6: SECTION_SHIFTS: ShiftID 'E' given twice (first at line 5)"),
    (
        {9: "A,E=7|L=2,abc,0,5,1,1,1"},
        "9: SECTION_STAFF: MaxTotalMinutes 'abc' is not a whole number",
    ),
    (
        {9: "A,E=7|L=2,3360,0,5,1,1,-1"},
        "9: SECTION_STAFF: MaxWeekends '-1' is negative; it must be 0 or more",
    ),
    ({9: "A,E=7|L=2,3360,0,5,1,1"}, "9: SECTION_STAFF: expected 8 fields"),
    ({9: "A,E=7|X=2,3360,0,5,1,1,1"}, "9: SECTION_STAFF: MaxShifts 'X' is not a shift type"),
    ({9: "A,E=7,3360,0,5,1,1,1"}, "9: SECTION_STAFF: MaxShifts has no entry for shift type 'L'"),
    ({9: "A,E7|L=2,3360,0,5,1,1,1"}, "9: SECTION_STAFF: MaxShifts entry 'E7' is not of the form"),
    ({9: "A,E=x|L=2,3360,0,5,1,1,1"}, "9: SECTION_STAFF: MaxShifts E 'x' is not a whole number"),
    ({9: "A,E=1|E=2,3360,0,5,1,1,1"}, "9: SECTION_STAFF: MaxShifts gives shift type 'E' twice"),
    ({10: "A,E=0|L=7,2400,0,5,1,1,1"}, "10: SECTION_STAFF: ID 'A' given twice (first at line 9)"),
    ({13: "Z,1"}, "13: SECTION_DAYS_OFF: EmployeeID 'Z' is not an employee in SECTION_STAFF"),
    ({13: "A,0,7"}, "13: SECTION_DAYS_OFF: day 7 is outside the horizon 0..6"),
    ({13: "A,,0"}, "13: SECTION_DAYS_OFF: day '' is not a whole number"),
    ({14: "A,3"}, "14: SECTION_DAYS_OFF: EmployeeID 'A' given twice (first at line 13)"),
    ({16: "A,2,Q,3"}, "16: SECTION_SHIFT_ON_REQUESTS: ShiftID 'Q' is not a shift type"),
    ({16: "A,9,L,3"}, "16: SECTION_SHIFT_ON_REQUESTS: Day 9 is outside the horizon 0..6"),
    ({16: "A,2,L"}, "16: SECTION_SHIFT_ON_REQUESTS: expected 4 fields"),
    ({19: "Z,4,L,1"}, "19: SECTION_SHIFT_OFF_REQUESTS: EmployeeID 'Z' is not an employee"),
    ({19: "B,4,L,x"}, "19: SECTION_SHIFT_OFF_REQUESTS: Weight 'x' is not a whole number"),
    ({22: "7,E,1,100,1"}, "22: SECTION_COVER: Day 7 is outside the horizon 0..6"),
    ({22: "0,Q,1,100,1"}, "22: SECTION_COVER: ShiftID 'Q' is not a shift type"),
    ({22: "0,E,1,1e2,1"}, "22: SECTION_COVER: UnderWeight '1e2' is not a whole number"),
    ({23: "0,E,2,100,1"}, "23: SECTION_COVER: cover for day 0 shift 'E' given twice"),
    ({18: "SECTION_SHIFT_OFF"}, "18: SECTION_SHIFT_OFF: unknown section header"),
    ({20: "SECTION_COVER"}, "21: SECTION_COVER: section given twice (first at line 20)"),
    ({1: "7", 2: "SECTION_HORIZON"}, "1: (before any section): data line '7' comes before"),
    ({2: "# no value"}, "1: SECTION_HORIZON: no horizon given"),
]


@pytest.mark.parametrize(("lines", "expected"), BAD_INPUTS)
def test_bad_input_names_file_line_section_and_problem(
    lines: dict[int, str], expected: str
) -> None:
    with pytest.raises(CurtoisFormatError) as caught:
        parse_instance(base_text(lines), "bad")
    assert str(caught.value).startswith(f"bad.txt:{expected}")


def test_missing_section_is_reported_at_the_last_line() -> None:
    with pytest.raises(CurtoisFormatError) as caught:
        parse_instance(base_text(drop=range(21, 24)), "bad")
    assert str(caught.value) == "bad.txt:20: SECTION_COVER: section is missing"


def test_error_from_a_file_names_that_file(tmp_path: Path) -> None:
    path = tmp_path / "Instance9.txt"
    path.write_text(base_text({9: "A,E=7|L=2,abc,0,5,1,1,1"}), encoding="utf-8")
    with pytest.raises(CurtoisFormatError) as caught:
        read_instance(path)
    assert str(caught.value) == (
        "Instance9.txt:9: SECTION_STAFF: MaxTotalMinutes 'abc' is not a whole number"
    )
    assert (caught.value.line, caught.value.section) == (9, "SECTION_STAFF")


def test_non_utf8_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "Latin.txt"
    path.write_bytes(base_text().replace("A,0,6", "\xc9,0,6").encode("latin-1"))
    with pytest.raises(CurtoisFormatError, match=r"^Latin\.txt:13: \(file\): not UTF-8 text$"):
        read_instance(path)


# --------------------------------------------------------------------------- hard rules

LOOSE = parse_instance(
    "\n".join(
        [
            "SECTION_HORIZON",
            "14",
            "SECTION_SHIFTS",
            "E,480,",
            "L,600,E",
            "SECTION_STAFF",
            "A,E=14|L=14,8400,0,14,1,1,2",
            "SECTION_DAYS_OFF",
            "SECTION_SHIFT_ON_REQUESTS",
            "SECTION_SHIFT_OFF_REQUESTS",
            "SECTION_COVER",
        ]
    ),
    "loose",
)


def limited(**limits: object) -> CurtoisInstance:
    """The loose one-employee instance with some of A's limits tightened."""
    return replace(LOOSE, employees=(replace(LOOSE.employees[0], **limits),))


def violations(instance: CurtoisInstance, days: str) -> list[str]:
    """What the checker says about employee A working the given day string."""
    assert len(days) == instance.horizon
    return list(evaluate(instance, pattern("A", days)).violations)


def test_loose_instance_accepts_anything_legal() -> None:
    assert violations(LOOSE, "EEEEEEEEEEEEEE") == []
    assert violations(LOOSE, "..............") == []


def test_fixed_days_off() -> None:
    instance = replace(LOOSE, days_off={"A": frozenset({3, 9})})
    assert violations(instance, "...E.....L....") == [
        "A: works E on day 3, a fixed day off",
        "A: works L on day 9, a fixed day off",
    ]
    assert violations(instance, "EEE.EEEEE.EEEE") == []


def test_forbidden_succession_only_on_consecutive_days_inside_the_horizon() -> None:
    assert violations(LOOSE, "..LE.......LLE") == [
        "A: works L on day 2 then E on day 3 (E may not follow L)",
        "A: works L on day 12 then E on day 13 (E may not follow L)",
    ]
    assert violations(LOOSE, "EL.L.ELLL....L") == []  # E->L, L->off->E and L on day 13 are fine


def test_max_shifts_per_type() -> None:
    instance = limited(max_shifts={"E": 14, "L": 2})
    assert violations(instance, "L.L.L.........") == ["A: works 3 L shifts (max 2)"]
    assert violations(instance, "L.L.EEEEE.....") == []


def test_max_shifts_zero_means_never() -> None:
    instance = limited(max_shifts={"E": 0, "L": 14})
    assert violations(instance, ".E..E.........") == [
        "A: works E on day(s) 1, 4 but may never work E"
    ]
    assert violations(instance, ".L..L.........") == []


def test_max_total_minutes_over_the_whole_horizon() -> None:
    days = "E......L.....L"  # 480 + 600 + 600 = 1680 minutes
    assert violations(limited(max_total_minutes=1679), days) == [
        "A: works 1680 minutes in total (max 1679)"
    ]
    assert violations(limited(max_total_minutes=1680), days) == []


def test_min_total_minutes() -> None:
    days = "E......L.....L"
    assert violations(limited(min_total_minutes=1681), days) == [
        "A: works only 1680 minutes in total (min 1681)"
    ]
    assert violations(limited(min_total_minutes=1680), days) == []


def test_max_consecutive_counts_days_inside_the_horizon_only() -> None:
    instance = limited(max_consecutive_shifts=5)
    assert violations(instance, "...EEEEEE.....") == ["A: works 6 days in a row from day 3 (max 5)"]
    assert violations(instance, "EEEEEE...EELLL") == ["A: works 6 days in a row from day 0 (max 5)"]
    assert violations(instance, "........EEEEEE") == ["A: works 6 days in a row from day 8 (max 5)"]
    assert violations(instance, "EEEEE.EEEEE.EE") == []
    assert violations(instance, ".........EEEEE") == []  # 5 at the end: no day after H-1 counts


def test_min_consecutive_shifts_applies_to_inner_runs() -> None:
    instance = limited(min_consecutive_shifts=3)
    assert violations(instance, "..EE....E.....") == [
        "A: works only 2 days in a row, day 2 to day 3 (min 3)",
        "A: works only 1 day in a row, day 8 to day 8 (min 3)",
    ]
    assert violations(instance, "..EEE...ELL...") == []


def test_min_consecutive_shifts_exempts_runs_touching_either_edge() -> None:
    instance = limited(min_consecutive_shifts=3)
    assert violations(instance, "E............E") == []
    assert violations(instance, "EE..........LL") == []
    assert violations(instance, ".E............") == [
        "A: works only 1 day in a row, day 1 to day 1 (min 3)"
    ]
    assert violations(instance, "............E.") == [
        "A: works only 1 day in a row, day 12 to day 12 (min 3)"
    ]


def test_min_consecutive_days_off_applies_to_inner_runs() -> None:
    instance = limited(min_consecutive_days_off=3)
    assert violations(instance, "EEE..EEEE.EEEE") == [
        "A: has only 2 days off in a row, day 3 to day 4 (min 3)",
        "A: has only 1 day off in a row, day 9 to day 9 (min 3)",
    ]
    assert violations(instance, "EEE...EEEE...E") == []


def test_min_consecutive_days_off_exempts_runs_touching_either_edge() -> None:
    instance = limited(min_consecutive_days_off=3)
    assert violations(instance, ".EEEEEEEEEEEE.") == []
    assert violations(instance, "..EEEEEEEEEE..") == []
    assert violations(instance, "..............") == []  # one off run touching both edges
    assert violations(instance, "EEEEEEEEEEEEEE") == []
    assert violations(instance, "E.EEEEEEEEEE.E") == [
        "A: has only 1 day off in a row, day 1 to day 1 (min 3)",
        "A: has only 1 day off in a row, day 12 to day 12 (min 3)",
    ]


def test_max_weekends_counts_saturday_or_sunday() -> None:
    instance = limited(max_weekends=1)
    assert violations(instance, "......E.....E.") == [
        "A: works 2 weekends (max 1), on days 5-6, 12-13"
    ]
    assert violations(instance, ".....EE.......") == []  # both days of one weekend: one weekend
    assert violations(instance, "EEEEE..EEEEE..") == []  # Fridays and Mondays are not weekends
    assert violations(limited(max_weekends=0), ".............L") == [
        "A: works 1 weekend (max 0), on days 12-13"
    ]


def test_entries_outside_the_instance_are_flagged_and_not_priced() -> None:
    instance = replace(LOOSE, cover=(Cover(0, "E", 0, 100, 1),))
    roster = {("Z", 0): "E", ("A", 14): "E", ("A", -1): "E", ("A", 0): "Q", ("A", 2): "E"}
    result = evaluate(instance, roster)
    assert result.violations == (
        "A: day -1 is outside the horizon 0..13 (given E)",
        "A: shift 'Q' on day 0 is not a shift type of loose",
        "A: day 14 is outside the horizon 0..13 (given E)",
        "Z: is not an employee of loose (given E on day 0)",
    )
    assert result.objective == 0


def test_violations_come_per_employee_in_rule_order() -> None:
    instance = replace(
        limited(max_consecutive_shifts=2, max_weekends=0), days_off={"A": frozenset({0})}
    )
    assert violations(instance, "LEE...........") == [
        "A: works L on day 0, a fixed day off",
        "A: works L on day 0 then E on day 1 (E may not follow L)",
        "A: works 3 days in a row from day 0 (max 2)",
    ]


# --------------------------------------------------------------------------- objective


def test_objective_breakdown_on_a_hand_computed_roster() -> None:
    """tiny_one_shift, A works 0,1,2,5 and B works 1,4,6 (see the sums in the comments)."""
    instance = read_instance(DATA / "tiny_one_shift.txt")
    result = evaluate(instance, merged(pattern("A", "DDD..D."), pattern("B", ".D..D.D")))
    assert result.on_requests == 1  # A's day-3 request (weight 1) is not met
    assert result.off_requests == 4  # A works day 5 (weight 3), B works day 6 (weight 1)
    assert result.under_cover == 100  # nobody on day 3
    assert result.over_cover == 1  # A and B both on day 1
    assert result.objective == 106
    assert result.violations == ("A: works only 1920 minutes in total (min 2400)",)
    assert not result.ok


def test_requirement_zero_rows_price_every_worker() -> None:
    instance = read_instance(DATA / "tiny_edges.txt")
    optimum = merged(pattern("A", "D.DDD........D"), pattern("B", ".DDDD...DDDDD."))
    assert evaluate(instance, optimum).over_cover == 0
    extra = evaluate(instance, {**optimum, ("B", 6): "D"})
    assert extra.over_cover == 1  # day 6 has requirement 0
    assert extra.on_requests == evaluate(instance, optimum).on_requests


# --------------------------------------------------------------------------- brute force

# Optima proved by hand in tests/data/curtois/README.md:
# * tiny_one_shift = 6: A must work 5 of days 0-5 (MinTotal, day 6 off) with no run over 3, so
#   it skips day 2 or 3 and works day 5 (3 + 1 at best); B must work day 6 (off-request, 1);
#   B's day-4 wish costs 1 as over-cover.
# * tiny_two_shifts = 9: A works every day and its at most two L shifts can only close the
#   week (L may not precede E): A loses L on 2 and 4 (3 + 2); B must cover L on days 0-4 and
#   is at its 5-shift limit, so loses day 6 (2); C may never work L (2).
# * tiny_edges = 3: A cannot have both weekend requests (5 and 13) and loses the cheaper (2);
#   B cannot be off for just days 6-7 between two requested runs, so loses day 5 (1); single
#   edge runs of work (A on 0 and 13) and of days off (B on 0 and 13) are exempt.
OPTIMA = {
    "tiny_one_shift": (6, {"A": "DDD.DD.", "B": "...DD.D"}),
    "tiny_two_shifts": (9, {"A": "EEEEELL", "B": "LLLLL..", "C": ".....EE"}),
    "tiny_edges": (3, {"A": "D.DDD........D", "B": ".DDDD...DDDDD."}),
}


def feasible_schedules(instance: CurtoisInstance, employee: Employee) -> list[Roster]:
    """Every schedule of one employee that the checker accepts on its own."""
    alone = replace(instance, employees=(employee,), on_requests=(), off_requests=(), cover=())
    choices = (None, *instance.shift_ids)
    schedules = []
    for days in itertools.product(choices, repeat=instance.horizon):
        roster = {(employee.employee_id, d): s for d, s in enumerate(days) if s is not None}
        if evaluate(alone, roster).ok:
            schedules.append(roster)
    return schedules


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_brute_force_optimum_matches_the_readme(name: str) -> None:
    """All hard rules are per employee, so all rosters = product of per-employee schedules."""
    instance = read_instance(DATA / f"{name}.txt")
    per_employee = [feasible_schedules(instance, e) for e in instance.employees]
    best: list[tuple[int, Roster]] = []
    for parts in itertools.product(*per_employee):
        result = evaluate(instance, merged(*parts))
        assert result.ok, result.violations
        best.append((result.objective, merged(*parts)))
    lowest = min(objective for objective, _ in best)
    winners = [roster for objective, roster in best if objective == lowest]
    optimum, roster = OPTIMA[name]
    assert lowest == optimum
    assert winners == [merged(*(pattern(e, days) for e, days in roster.items()))]


def test_full_enumeration_of_tiny_one_shift_agrees() -> None:
    """Every one of the 2^14 rosters, judged whole, gives the same optimum and optimum roster."""
    instance = read_instance(DATA / "tiny_one_shift.txt")
    cells = [(e, d) for e in instance.employee_ids for d in range(instance.horizon)]
    best: tuple[int, Roster] = (10**9, {})
    feasible = 0
    for worked in itertools.product((False, True), repeat=len(cells)):
        roster = {cell: "D" for cell, on in zip(cells, worked, strict=True) if on}
        result = evaluate(instance, roster)
        if result.ok:
            feasible += 1
            best = min(best, (result.objective, roster), key=lambda pair: pair[0])
    assert feasible == 2 * 57  # A has 2 feasible schedules, B 57 (all rules are per employee)
    assert best == (6, merged(pattern("A", "DDD.DD."), pattern("B", "...DD.D")))


# --------------------------------------------------------------------------- roster CSV


def test_csv_round_trip_in_instance_employee_order(tmp_path: Path) -> None:
    instance = parse_instance(
        base_text({9: "Z,E=7|L=2,3360,0,5,1,1,1", 13: "Z,0,6"}).replace("A,2,L,3", "Z,2,L,3"),
        "order",
    )
    assert instance.employee_ids == ("Z", "B")
    roster = {("B", 3): "L", ("Z", 4): "E", ("Z", 1): "L", ("B", 0): "L"}
    path = tmp_path / "roster.csv"
    write_roster_csv(path, roster, instance)
    assert path.read_text(encoding="utf-8") == (
        "employee_id,day,shift_id\nZ,1,L\nZ,4,E\nB,0,L\nB,3,L\n"
    )
    assert read_roster_csv(path) == roster
    write_roster_csv(path, roster)
    assert path.read_text(encoding="utf-8").splitlines()[1:] == ["B,0,L", "B,3,L", "Z,1,L", "Z,4,E"]


def test_csv_reader_tolerates_bom_spaces_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\ufeffemployee_id, day ,shift_id\r\n\r\n A , 3 , D \r\n", encoding="utf-8")
    assert read_roster_csv(path) == {("A", 3): "D"}


def test_csv_reader_reports_every_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "employee_id,day,shift_id\nA,1,D\nA,x,D\n,2,\nA,-1,D\nA,1,E\nA,2\n", encoding="utf-8"
    )
    with pytest.raises(RosterCsvError) as caught:
        read_roster_csv(path)
    assert caught.value.problems == [
        "r.csv:3: day: 'x' is not a whole number (days count from 0)",
        "r.csv:4: employee_id: is empty",
        "r.csv:4: shift_id: is empty",
        "r.csv:5: day: '-1' is not a whole number (days count from 0)",
        "r.csv:6: day: employee A already has a shift on day 1 (line 2); one shift per day",
        "r.csv:7: (row): expected 3 fields (employee_id,day,shift_id), found 2",
    ]


def test_csv_reader_checks_the_header(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("nurse,day,shift\nA,1,D\n", encoding="utf-8")
    with pytest.raises(RosterCsvError, match=r"^r\.csv:1: \(header\): expected 'employee_id,day,"):
        read_roster_csv(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(RosterCsvError, match="found nothing"):
        read_roster_csv(path)


# --------------------------------------------------------------------------- real instances

# FORMAT.md section 5: days, staff, shift types, on-requests, off-requests, fixed days off,
# cover rows.
SIZES = {
    1: (14, 8, 1, 21, 5, 8, 14),
    2: (14, 14, 2, 50, 12, 14, 28),
    3: (14, 20, 3, 39, 25, 20, 42),
    4: (28, 10, 2, 52, 19, 20, 56),
    5: (28, 16, 2, 79, 27, 32, 56),
    6: (28, 18, 3, 87, 48, 36, 84),
    7: (28, 20, 3, 104, 64, 40, 84),
    8: (28, 30, 4, 139, 86, 60, 112),
    9: (28, 36, 4, 144, 88, 72, 112),
    10: (28, 40, 5, 210, 74, 80, 140),
    11: (28, 50, 6, 197, 139, 100, 168),
    12: (28, 60, 10, 294, 128, 120, 280),
    13: (28, 120, 18, 589, 252, 240, 504),
    14: (42, 32, 4, 266, 93, 128, 168),
    15: (42, 45, 6, 350, 140, 180, 252),
    16: (56, 20, 3, 177, 103, 120, 168),
    17: (56, 32, 4, 351, 129, 160, 224),
    18: (84, 22, 3, 322, 92, 176, 252),
    19: (84, 40, 5, 587, 247, 320, 420),
    20: (182, 50, 6, 1665, 653, 900, 1092),
    21: (182, 100, 8, 3210, 1492, 1800, 1456),
    22: (364, 50, 10, 3253, 1385, 1800, 3640),
    23: (364, 100, 16, 6549, 2861, 3600, 5824),
    24: (364, 150, 32, 9540, 4269, 5400, 11648),
}


def test_real_instances_match_the_published_sizes_and_weights() -> None:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is not available")
    present = [n for n in SIZES if (REAL / f"Instance{n}.txt").is_file()]
    if not present:
        pytest.skip(f"no InstanceN.txt in {REAL}")
    for number in present:
        instance = read_instance(REAL / f"Instance{number}.txt")
        counted = (
            instance.horizon,
            len(instance.employees),
            len(instance.shift_types),
            len(instance.on_requests),
            len(instance.off_requests),
            sum(len(days) for days in instance.days_off.values()),
            len(instance.cover),
        )
        assert counted == SIZES[number], instance.name
        assert {(c.under_weight, c.over_weight) for c in instance.cover} == {(100, 1)}
        weights = {r.weight for r in instance.on_requests + instance.off_requests}
        assert weights <= {1, 2, 3}, instance.name
