"""Read Curtois-Qu nurse-rostering instances (the ``.txt`` form) into frozen dataclasses.

The file is split by section header first and the sections are then read in
dependency order (horizon, shifts, staff, then everything that refers to
them), so a file whose sections or comments sit in an unusual order still
reads.  Every problem is reported as ``file:line: SECTION: what is wrong``
so a broken benchmark file can be fixed without guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HORIZON = "SECTION_HORIZON"
SHIFTS = "SECTION_SHIFTS"
STAFF = "SECTION_STAFF"
DAYS_OFF = "SECTION_DAYS_OFF"
ON_REQUESTS = "SECTION_SHIFT_ON_REQUESTS"
OFF_REQUESTS = "SECTION_SHIFT_OFF_REQUESTS"
COVER = "SECTION_COVER"
SECTIONS = (HORIZON, SHIFTS, STAFF, DAYS_OFF, ON_REQUESTS, OFF_REQUESTS, COVER)

SHIFT_FIELDS = ("ShiftID", "LengthMinutes", "Forbidden")
STAFF_FIELDS = (
    "ID",
    "MaxShifts",
    "MaxTotalMinutes",
    "MinTotalMinutes",
    "MaxConsecutiveShifts",
    "MinConsecutiveShifts",
    "MinConsecutiveDaysOff",
    "MaxWeekends",
)
REQUEST_FIELDS = ("EmployeeID", "Day", "ShiftID", "Weight")
COVER_FIELDS = ("Day", "ShiftID", "Requirement", "UnderWeight", "OverWeight")
NO_SECTION = "(before any section)"

# A whole number as files write it: an optional sign ("+3", and "-0", which a published
# instance has for one cover requirement), digits, and nothing else.
_WHOLE = re.compile(r"[+-]?[0-9]+")


class CurtoisFormatError(ValueError):
    """A problem in an instance file, located by file, line and section."""

    def __init__(self, source: str, line: int, section: str, message: str) -> None:
        super().__init__(f"{source}:{line}: {section}: {message}")
        self.source = source
        self.line = line
        self.section = section
        self.message = message


@dataclass(frozen=True)
class ShiftType:
    """A shift type: its length and the types that may not be worked the next day."""

    shift_id: str
    minutes: int
    forbidden_next: frozenset[str]


@dataclass(frozen=True)
class Employee:
    """One employee's contract limits, exactly as the STAFF line gives them."""

    employee_id: str
    max_shifts: dict[str, int]
    max_total_minutes: int
    min_total_minutes: int
    max_consecutive_shifts: int
    min_consecutive_shifts: int
    min_consecutive_days_off: int
    max_weekends: int


@dataclass(frozen=True)
class Request:
    """A weighted wish to work (on-request) or not work (off-request) a shift on a day."""

    employee_id: str
    day: int
    shift_id: str
    weight: int


@dataclass(frozen=True)
class Cover:
    """The wanted head count of one shift type on one day and the price of missing it."""

    day: int
    shift_id: str
    requirement: int
    under_weight: int
    over_weight: int


@dataclass(frozen=True)
class CurtoisInstance:
    """A whole instance; ``days_off`` has an entry (possibly empty) for every employee."""

    name: str
    horizon: int
    shift_types: tuple[ShiftType, ...]
    employees: tuple[Employee, ...]
    days_off: dict[str, frozenset[int]]
    on_requests: tuple[Request, ...]
    off_requests: tuple[Request, ...]
    cover: tuple[Cover, ...]

    @property
    def shift_ids(self) -> tuple[str, ...]:
        """Shift ids in file order, for callers that enumerate assignments."""
        return tuple(s.shift_id for s in self.shift_types)

    @property
    def employee_ids(self) -> tuple[str, ...]:
        """Employee ids in file order, the order rosters are written in."""
        return tuple(e.employee_id for e in self.employees)


@dataclass(frozen=True)
class _Row:
    """One data line: where it is and its comma-separated, space-trimmed fields."""

    line: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class _Section:
    """The header line of a section and its data rows, comments and blanks dropped."""

    header_line: int
    rows: tuple[_Row, ...]


def read_instance(path: Path | str) -> CurtoisInstance:
    """Read an instance file; the instance is named after the file stem."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CurtoisFormatError(path.name, line, "(file)", "not UTF-8 text") from err
    return parse_instance(text, path.stem, source=path.name)


def parse_instance(text: str, name: str, source: str | None = None) -> CurtoisInstance:
    """Parse instance text; ``source`` (default ``name + '.txt'``) is used in error messages."""
    source = source or f"{name}.txt"
    return _Parser(source, _split_sections(text, source)).instance(name)


def _split_sections(text: str, source: str) -> dict[str, _Section]:
    """Group data lines under their section header so later parsing can ignore file layout."""
    lines = text.removeprefix("\ufeff").split("\n")  # a byte-order mark is not data
    found: dict[str, tuple[int, list[_Row]]] = {}
    current: str | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.replace("\r", "").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            current = _open_section(found, line, number, source)
            continue
        if current is None:
            message = f"data line '{line}' comes before any section header"
            raise CurtoisFormatError(source, number, NO_SECTION, message)
        found[current][1].append(_Row(number, tuple(f.strip() for f in line.split(","))))
    last_line = max(len(lines) - (1 if lines[-1] == "" else 0), 1)
    for section in SECTIONS:
        if section not in found:
            raise CurtoisFormatError(source, last_line, section, "section is missing")
    return {key: _Section(start, tuple(rows)) for key, (start, rows) in found.items()}


def _fields(count: int) -> str:
    """'1 field' or 'n fields', so messages read naturally."""
    return "1 field" if count == 1 else f"{count} fields"


def _open_section(
    found: dict[str, tuple[int, list[_Row]]], header: str, number: int, source: str
) -> str:
    """Register a section header, rejecting unknown and repeated ones."""
    if header not in SECTIONS:
        raise CurtoisFormatError(source, number, header, "unknown section header")
    if header in found:
        message = f"section given twice (first at line {found[header][0]})"
        raise CurtoisFormatError(source, number, header, message)
    found[header] = (number, [])
    return header


class _Parser:
    """Reads the sections in dependency order, keeping what later sections refer to."""

    def __init__(self, source: str, sections: dict[str, _Section]) -> None:
        self.source = source
        self.sections = sections
        self.horizon = 0
        self.shift_ids: set[str] = set()
        self.employee_ids: tuple[str, ...] = ()

    def fail(self, row: _Row, section: str, message: str) -> CurtoisFormatError:
        """Build the error for one row, so every message has the same shape."""
        return CurtoisFormatError(self.source, row.line, section, message)

    def instance(self, name: str) -> CurtoisInstance:
        """Parse every section into one instance."""
        self.horizon = self.read_horizon()
        shift_types = self.read_shifts()
        employees = self.read_staff()
        return CurtoisInstance(
            name=name,
            horizon=self.horizon,
            shift_types=shift_types,
            employees=employees,
            days_off=self.read_days_off(),
            on_requests=self.read_requests(ON_REQUESTS),
            off_requests=self.read_requests(OFF_REQUESTS),
            cover=self.read_cover(),
        )

    def once(self, row: _Row, section: str, seen: dict[str, int], key: str, label: str) -> None:
        """Record where ``key`` was first given, rejecting a second occurrence."""
        if key in seen:
            raise self.fail(row, section, f"{label} given twice (first at line {seen[key]})")
        seen[key] = row.line

    def whole(self, row: _Row, section: str, field: str, text: str) -> int:
        """A non-negative integer field; anything else is reported by field name."""
        if not _WHOLE.fullmatch(text):
            raise self.fail(row, section, f"{field} '{text}' is not a whole number")
        value = int(text)
        if value < 0:
            raise self.fail(row, section, f"{field} '{text}' is negative; it must be 0 or more")
        return value

    def day(self, row: _Row, section: str, field: str, text: str) -> int:
        """A day index, which must lie inside the horizon 0..H-1."""
        value = self.whole(row, section, field, text)
        if value >= self.horizon:
            raise self.fail(
                row, section, f"{field} {value} is outside the horizon 0..{self.horizon - 1}"
            )
        return value

    def fields(self, row: _Row, section: str, names: tuple[str, ...]) -> tuple[str, ...]:
        """The row's fields, after checking there are exactly as many as the section has."""
        if len(row.fields) != len(names):
            raise self.fail(
                row,
                section,
                f"expected {_fields(len(names))} ({', '.join(names)}), found {len(row.fields)}",
            )
        return row.fields

    def identifier(self, row: _Row, section: str, field: str, text: str) -> str:
        """A non-empty id field."""
        if not text:
            raise self.fail(row, section, f"{field} is empty")
        return text

    def shift_ref(self, row: _Row, section: str, field: str, text: str) -> str:
        """A shift id that must have been defined in SECTION_SHIFTS."""
        if text not in self.shift_ids:
            raise self.fail(row, section, f"{field} '{text}' is not a shift type in SECTION_SHIFTS")
        return text

    def employee_ref(self, row: _Row, section: str, field: str, text: str) -> str:
        """An employee id that must have been defined in SECTION_STAFF."""
        if text not in self.employee_ids:
            raise self.fail(row, section, f"{field} '{text}' is not an employee in SECTION_STAFF")
        return text

    def read_horizon(self) -> int:
        """The single positive multiple of 7 in SECTION_HORIZON."""
        section = self.sections[HORIZON]
        if not section.rows:
            raise CurtoisFormatError(self.source, section.header_line, HORIZON, "no horizon given")
        row = section.rows[0]
        if len(section.rows) > 1:
            raise self.fail(section.rows[1], HORIZON, "more than one horizon line")
        (text,) = self.fields(row, HORIZON, ("H",))
        value = self.whole(row, HORIZON, "H", text)
        if value == 0 or value % 7:
            raise self.fail(row, HORIZON, f"H {value} is not a positive multiple of 7")
        return value

    def read_shifts(self) -> tuple[ShiftType, ...]:
        """Shift types; forbidden-next lists may name types defined further down."""
        section = self.sections[SHIFTS]
        first_seen: dict[str, int] = {}
        parsed: list[tuple[_Row, str, int, list[str]]] = []
        for row in section.rows:
            shift_id, minutes, forbidden = self.fields(row, SHIFTS, SHIFT_FIELDS)
            self.identifier(row, SHIFTS, "ShiftID", shift_id)
            self.once(row, SHIFTS, first_seen, shift_id, f"ShiftID '{shift_id}'")
            length = self.whole(row, SHIFTS, "LengthMinutes", minutes)
            parsed.append((row, shift_id, length, self.forbidden_list(row, forbidden)))
        if not parsed:
            raise CurtoisFormatError(self.source, section.header_line, SHIFTS, "no shift types")
        self.shift_ids = set(first_seen)
        shift_types: list[ShiftType] = []
        for row, shift_id, length, next_ids in parsed:
            known = {self.shift_ref(row, SHIFTS, "Forbidden", f) for f in next_ids}
            shift_types.append(ShiftType(shift_id, length, frozenset(known)))
        return tuple(shift_types)

    def forbidden_list(self, row: _Row, text: str) -> list[str]:
        """The ``|``-separated forbidden-next list; an empty field means none."""
        if not text:
            return []
        items = [item.strip() for item in text.split("|")]
        if "" in items:
            raise self.fail(row, SHIFTS, f"Forbidden '{text}' has an empty entry")
        return items

    def read_staff(self) -> tuple[Employee, ...]:
        """Employees with their contract limits; ids must be unique."""
        section = self.sections[STAFF]
        first_seen: dict[str, int] = {}
        employees: list[Employee] = []
        for row in section.rows:
            values = self.fields(row, STAFF, STAFF_FIELDS)
            employee_id = self.identifier(row, STAFF, "ID", values[0])
            self.once(row, STAFF, first_seen, employee_id, f"ID '{employee_id}'")
            limits = [
                self.whole(row, STAFF, name, text)
                for name, text in zip(STAFF_FIELDS[2:], values[2:], strict=True)
            ]
            employees.append(Employee(employee_id, self.max_shifts(row, values[1]), *limits))
        if not employees:
            raise CurtoisFormatError(self.source, section.header_line, STAFF, "no employees")
        self.employee_ids = tuple(first_seen)
        return tuple(employees)

    def max_shifts(self, row: _Row, text: str) -> dict[str, int]:
        """The ``T1=n1|T2=n2`` field, which must give every shift type exactly once."""
        limits: dict[str, int] = {}
        for entry in text.split("|"):
            shift_id, equals, count = (part.strip() for part in entry.partition("="))
            if not equals:
                raise self.fail(row, STAFF, f"MaxShifts entry '{entry}' is not of the form Type=n")
            self.shift_ref(row, STAFF, "MaxShifts", shift_id)
            if shift_id in limits:
                raise self.fail(row, STAFF, f"MaxShifts gives shift type '{shift_id}' twice")
            limits[shift_id] = self.whole(row, STAFF, f"MaxShifts {shift_id}", count)
        missing = sorted(self.shift_ids - set(limits))
        if missing:
            raise self.fail(row, STAFF, f"MaxShifts has no entry for shift type '{missing[0]}'")
        return limits

    def read_days_off(self) -> dict[str, frozenset[int]]:
        """Fixed days off per employee; employees not listed get an empty set."""
        days: dict[str, set[int]] = {e: set() for e in self.employee_ids}
        first_seen: dict[str, int] = {}
        for row in self.sections[DAYS_OFF].rows:
            employee_id = self.employee_ref(row, DAYS_OFF, "EmployeeID", row.fields[0])
            self.once(row, DAYS_OFF, first_seen, employee_id, f"EmployeeID '{employee_id}'")
            listed = row.fields[1:]
            while listed and not listed[-1]:  # a trailing comma ends some lists
                listed = listed[:-1]
            days[employee_id] = {self.day(row, DAYS_OFF, "day", f) for f in listed}
        return {e: frozenset(d) for e, d in days.items()}

    def read_requests(self, section: str) -> tuple[Request, ...]:
        """Shift-on or shift-off requests; they may repeat, and then both count."""
        requests: list[Request] = []
        for row in self.sections[section].rows:
            employee, day, shift, weight = self.fields(row, section, REQUEST_FIELDS)
            requests.append(
                Request(
                    self.employee_ref(row, section, "EmployeeID", employee),
                    self.day(row, section, "Day", day),
                    self.shift_ref(row, section, "ShiftID", shift),
                    self.whole(row, section, "Weight", weight),
                )
            )
        return tuple(requests)

    def read_cover(self) -> tuple[Cover, ...]:
        """Cover rows; at most one per (day, shift type)."""
        rows: list[Cover] = []
        first_seen: dict[str, int] = {}
        for row in self.sections[COVER].rows:
            day, shift, requirement, under, over = self.fields(row, COVER, COVER_FIELDS)
            key = (self.day(row, COVER, "Day", day), self.shift_ref(row, COVER, "ShiftID", shift))
            self.once(row, COVER, first_seen, f"{key}", f"cover for day {key[0]} shift '{key[1]}'")
            rows.append(
                Cover(
                    key[0],
                    key[1],
                    self.whole(row, COVER, "Requirement", requirement),
                    self.whole(row, COVER, "UnderWeight", under),
                    self.whole(row, COVER, "OverWeight", over),
                )
            )
        return tuple(rows)
