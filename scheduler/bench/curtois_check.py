"""Independent check of a Curtois-Qu roster: hard rules 1-10 and the objective of FORMAT.md.

It is written from the format description alone and imports nothing from the
solver, so a misreading there shows up as a disagreement here instead of being
repeated.  Every broken rule becomes one plain sentence naming the employee,
the days and the limit; the objective is returned with its four parts.

Rule 1 (one shift per day) holds by construction: a roster maps each
(employee, day) to at most one shift id, and ``read_roster_csv`` rejects a
file that gives an employee two shifts on one day.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from scheduler.bench.curtois_format import CurtoisInstance, Employee

Roster = dict[tuple[str, int], str]

CSV_HEADER = ("employee_id", "day", "shift_id")

_WHOLE = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Evaluation:
    """The verdict on one roster: broken hard rules and the priced objective, part by part."""

    objective: int
    violations: tuple[str, ...]
    on_requests: int
    off_requests: int
    under_cover: int
    over_cover: int

    @property
    def ok(self) -> bool:
        """True when no hard rule is broken, i.e. the roster is feasible."""
        return not self.violations


class RosterCsvError(ValueError):
    """A roster CSV that cannot be read; the message lists every bad row as file:line: column."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Run(NamedTuple):
    """A maximal run of working days or of days off, inclusive at both ends."""

    first: int
    last: int

    @property
    def length(self) -> int:
        """Number of days in the run."""
        return self.last - self.first + 1


class _Shifts(NamedTuple):
    """Per-shift lookups built once per evaluation rather than once per employee."""

    minutes: dict[str, int]
    forbidden_next: dict[str, frozenset[str]]


def evaluate(instance: CurtoisInstance, roster: Roster) -> Evaluation:
    """Check every hard rule and price the roster; invalid entries are reported, not priced."""
    schedules, violations = _sort_entries(instance, roster)
    shifts = _Shifts(
        {s.shift_id: s.minutes for s in instance.shift_types},
        {s.shift_id: s.forbidden_next for s in instance.shift_types},
    )
    for employee in instance.employees:
        schedule = schedules[employee.employee_id]
        violations += _employee_violations(instance, shifts, employee, schedule)
    on = sum(
        r.weight for r in instance.on_requests if schedules[r.employee_id].get(r.day) != r.shift_id
    )
    off = sum(
        r.weight for r in instance.off_requests if schedules[r.employee_id].get(r.day) == r.shift_id
    )
    under, over = _cover_penalties(instance, schedules)
    return Evaluation(on + off + under + over, tuple(violations), on, off, under, over)


def _sort_entries(
    instance: CurtoisInstance, roster: Roster
) -> tuple[dict[str, dict[int, str]], list[str]]:
    """Split the roster per employee, setting aside entries no rule can judge."""
    schedules: dict[str, dict[int, str]] = {e: {} for e in instance.employee_ids}
    shift_ids = set(instance.shift_ids)
    invalid: Roster = {}
    for (employee_id, day), shift_id in roster.items():
        schedule = schedules.get(employee_id)
        if schedule is None or not 0 <= day < instance.horizon or shift_id not in shift_ids:
            invalid[(employee_id, day)] = shift_id
        else:
            schedule[day] = shift_id
    problems = [
        _invalid_entry(instance, employee_id, day, shift_id)
        for (employee_id, day), shift_id in _in_roster_order(invalid, instance.employee_ids)
    ]
    return schedules, problems


def _invalid_entry(instance: CurtoisInstance, employee_id: str, day: int, shift_id: str) -> str:
    """Say why an entry names no real (employee, day, shift) of the instance."""
    if employee_id not in instance.employee_ids:
        return (
            f"{employee_id}: is not an employee of {instance.name} (given {shift_id} on day {day})"
        )
    if not 0 <= day < instance.horizon:
        last = instance.horizon - 1
        return f"{employee_id}: day {day} is outside the horizon 0..{last} (given {shift_id})"
    return f"{employee_id}: shift '{shift_id}' on day {day} is not a shift type of {instance.name}"


def _in_roster_order(
    roster: Roster, employee_ids: tuple[str, ...]
) -> list[tuple[tuple[str, int], str]]:
    """Roster items by employee (given order, unknown ids last) then day, for stable output."""
    rank = {e: i for i, e in enumerate(employee_ids)}
    return sorted(roster.items(), key=lambda item: (rank.get(item[0][0], len(rank)), *item[0]))


def _employee_violations(
    instance: CurtoisInstance, shifts: _Shifts, employee: Employee, schedule: dict[int, str]
) -> list[str]:
    """All per-employee hard rules (2-10) in rule order; every rule here is per employee."""
    e = employee.employee_id
    work_runs, off_runs = _runs(schedule, instance.horizon)
    return [
        *_fixed_days_off(e, schedule, instance.days_off.get(e, frozenset())),
        *_successions(shifts, e, schedule),
        *_max_shifts(employee, schedule),
        *_total_minutes(shifts, employee, schedule),
        *_max_consecutive(employee, work_runs),
        *_min_consecutive(employee, work_runs, instance.horizon),
        *_min_days_off(employee, off_runs, instance.horizon),
        *_weekends(employee, schedule, instance.horizon),
    ]


def _fixed_days_off(e: str, schedule: dict[int, str], days_off: frozenset[int]) -> list[str]:
    """Rule 2: nothing may be worked on a day listed in SECTION_DAYS_OFF."""
    return [
        f"{e}: works {schedule[d]} on day {d}, a fixed day off"
        for d in sorted(days_off)
        if d in schedule
    ]


def _successions(shifts: _Shifts, e: str, schedule: dict[int, str]) -> list[str]:
    """Rule 3: a type may not be followed next day by a type on its forbidden list."""
    forbidden = shifts.forbidden_next
    return [
        f"{e}: works {schedule[d]} on day {d} then {schedule[d + 1]} on day {d + 1} "
        f"({schedule[d + 1]} may not follow {schedule[d]})"
        for d in sorted(schedule)
        if d + 1 in schedule and schedule[d + 1] in forbidden[schedule[d]]
    ]


def _max_shifts(employee: Employee, schedule: dict[int, str]) -> list[str]:
    """Rule 4: at most MaxShifts[t] shifts of type t; a limit of 0 means never."""
    e = employee.employee_id
    counts = Counter(schedule.values())
    problems: list[str] = []
    for shift_id, limit in employee.max_shifts.items():
        worked = counts.get(shift_id, 0)
        if limit == 0 and worked:
            days = ", ".join(str(d) for d in sorted(schedule) if schedule[d] == shift_id)
            problems.append(f"{e}: works {shift_id} on day(s) {days} but may never work {shift_id}")
        elif worked > limit:
            problems.append(f"{e}: works {worked} {shift_id} shifts (max {limit})")
    return problems


def _total_minutes(shifts: _Shifts, employee: Employee, schedule: dict[int, str]) -> list[str]:
    """Rules 5 and 6: total worked minutes over the whole horizon within [min, max]."""
    e = employee.employee_id
    total = sum(shifts.minutes[t] for t in schedule.values())
    if total > employee.max_total_minutes:
        return [f"{e}: works {total} minutes in total (max {employee.max_total_minutes})"]
    if total < employee.min_total_minutes:
        return [f"{e}: works only {total} minutes in total (min {employee.min_total_minutes})"]
    return []


def _runs(schedule: dict[int, str], horizon: int) -> tuple[list[_Run], list[_Run]]:
    """Maximal runs of working days and of days off inside the horizon."""
    work: list[_Run] = []
    off: list[_Run] = []
    start = 0
    for day in range(1, horizon + 1):
        if day == horizon or (day in schedule) != (start in schedule):
            (work if start in schedule else off).append(_Run(start, day - 1))
            start = day
    return work, off


def _touches_edge(run: _Run, horizon: int) -> bool:
    """Runs touching day 0 or day H-1 continue outside the horizon, so minimums exempt them."""
    return run.first == 0 or run.last == horizon - 1


def _max_consecutive(employee: Employee, work_runs: list[_Run]) -> list[str]:
    """Rule 7: no working run longer than the maximum, counting only days inside the horizon."""
    limit = employee.max_consecutive_shifts
    return [
        f"{employee.employee_id}: works {_count(run.length, 'day')} in a row from day {run.first} "
        f"(max {limit})"
        for run in work_runs
        if run.length > limit
    ]


def _min_consecutive(employee: Employee, work_runs: list[_Run], horizon: int) -> list[str]:
    """Rule 8: inner working runs must reach the minimum; edge runs are exempt."""
    limit = employee.min_consecutive_shifts
    return [
        f"{employee.employee_id}: works only {_count(run.length, 'day')} in a row, "
        f"day {run.first} to day {run.last} (min {limit})"
        for run in work_runs
        if run.length < limit and not _touches_edge(run, horizon)
    ]


def _min_days_off(employee: Employee, off_runs: list[_Run], horizon: int) -> list[str]:
    """Rule 9: inner runs of days off must reach the minimum; edge runs are exempt."""
    limit = employee.min_consecutive_days_off
    return [
        f"{employee.employee_id}: has only {_count(run.length, 'day')} off in a row, "
        f"day {run.first} to day {run.last} (min {limit})"
        for run in off_runs
        if run.length < limit and not _touches_edge(run, horizon)
    ]


def _count(count: int, noun: str) -> str:
    """'1 day' or 'n days', so messages read naturally."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _weekends(employee: Employee, schedule: dict[int, str], horizon: int) -> list[str]:
    """Rule 10: a weekend counts when Saturday or Sunday is worked; at most MaxWeekends."""
    worked = [sat for sat in range(5, horizon, 7) if sat in schedule or sat + 1 in schedule]
    if len(worked) <= employee.max_weekends:
        return []
    days = ", ".join(f"{sat}-{sat + 1}" for sat in worked)
    count = _count(len(worked), "weekend")
    return [f"{employee.employee_id}: works {count} (max {employee.max_weekends}), on days {days}"]


def _cover_penalties(
    instance: CurtoisInstance, schedules: dict[str, dict[int, str]]
) -> tuple[int, int]:
    """Weighted under- and over-cover summed over the SECTION_COVER rows only."""
    staffed = Counter(
        (day, shift_id) for schedule in schedules.values() for day, shift_id in schedule.items()
    )
    under = sum(
        c.under_weight * max(0, c.requirement - staffed[(c.day, c.shift_id)])
        for c in instance.cover
    )
    over = sum(
        c.over_weight * max(0, staffed[(c.day, c.shift_id)] - c.requirement) for c in instance.cover
    )
    return under, over


def read_roster_csv(path: Path | str) -> Roster:
    """Read ``employee_id,day,shift_id`` rows (one per worked shift), reporting every bad row."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RosterCsvError([f"{path.name}:1: (file): not UTF-8 text"]) from err
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != CSV_HEADER:
        found = "nothing" if header is None else f"'{','.join(header)}'"
        raise RosterCsvError(
            [f"{path.name}:1: (header): expected '{','.join(CSV_HEADER)}', found {found}"]
        )
    roster: Roster = {}
    first_line: dict[tuple[str, int], int] = {}
    problems: list[str] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path.name}:{reader.line_num}"
        entry = _csv_entry(where, [cell.strip() for cell in row], problems)
        if entry is None:
            continue
        key, shift_id = entry
        if key in first_line:
            problems.append(
                f"{where}: day: employee {key[0]} already has a shift on day {key[1]} "
                f"(line {first_line[key]}); one shift per day"
            )
            continue
        first_line[key] = reader.line_num
        roster[key] = shift_id
    if problems:
        raise RosterCsvError(problems)
    return roster


def _csv_entry(
    where: str, cells: list[str], problems: list[str]
) -> tuple[tuple[str, int], str] | None:
    """One CSV row as ((employee, day), shift), or None after noting what is wrong with it."""
    if len(cells) != len(CSV_HEADER):
        problems.append(
            f"{where}: (row): expected {len(CSV_HEADER)} fields "
            f"({','.join(CSV_HEADER)}), found {len(cells)}"
        )
        return None
    employee_id, day, shift_id = cells
    before = len(problems)
    if not employee_id:
        problems.append(f"{where}: employee_id: is empty")
    if not _WHOLE.fullmatch(day):
        problems.append(f"{where}: day: '{day}' is not a whole number (days count from 0)")
    if not shift_id:
        problems.append(f"{where}: shift_id: is empty")
    if len(problems) > before:
        return None
    return (employee_id, int(day)), shift_id


def write_roster_csv(
    path: Path | str, roster: Roster, instance: CurtoisInstance | None = None
) -> None:
    """Write one row per worked shift, by employee (instance order if given, else id) then day."""
    order = () if instance is None else instance.employee_ids
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for (employee_id, day), shift_id in _in_roster_order(roster, order):
        writer.writerow((employee_id, day, shift_id))
    Path(path).write_text(buffer.getvalue(), encoding="utf-8")
