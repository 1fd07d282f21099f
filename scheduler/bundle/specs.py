"""Each bundle file's columns (required, optional, example), and the row reader.

``RowReader`` reads one raw row through the cell parsers and records a
``Problem`` per bad cell instead of stopping, so a broken bundle is reported
whole.  ``check_tables`` checks that the files and headers are there before
any row is read."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from scheduler.bundle.cells import ROW, STANDARD_ROLES, CellError, control_character
from scheduler.bundle.tables import (
    WHOLE_FILE,
    RawBundle,
    RawRow,
    RawTable,
)
from scheduler.domain import (
    BUILDINGS,
    DEMAND,
    FIXED,
    FORBIDDEN_SEQUENCES,
    HORIZON_RULE_FIELDS,
    LEAVE,
    PREFERENCES,
    SESSION_LIMITS,
    SESSION_TYPES,
    SITES,
    STAFF,
    TRAVEL,
    Problem,
    Rules,
    SessionType,
)

# -- table specs ------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class TableSpec:
    """The columns of one bundle file; defaults of optional columns are in its converter."""

    logical: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    needed: bool = True  # the file itself must be present

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SPECS: dict[str, TableSpec] = {
    SITES: TableSpec(
        SITES,
        ("site_id", "name", "kind", "list_size", "rooms"),
        ("lat", "lon", "building", "organisation", "bank_holidays"),
    ),
    BUILDINGS: TableSpec(BUILDINGS, ("building", "rooms"), needed=False),
    SESSION_TYPES: TableSpec(
        SESSION_TYPES, ("session_id", "label", "start", "end", "days", "kind")
    ),
    STAFF: TableSpec(
        STAFF,
        ("staff_id", "name", "role", "home_site", "employer", "contract_hours"),
        (
            "min_hours",
            "max_hours",
            "skills",
            "sites",
            "max_sessions_per_day",
            "max_duty_hours",
            "min_days_off_per_week",
            "max_evenings",
            "max_weekend_sessions",
            "hourly_rate",
            "email",
            "bank",
            *HORIZON_RULE_FIELDS,
        ),
    ),
    DEMAND: TableSpec(
        DEMAND, ("site_id", "day", "session_id", "min", "target"), ("role", "skill", "weight")
    ),
    LEAVE: TableSpec(LEAVE, ("staff_id", "start", "end", "kind"), ("session_id",), needed=False),
    PREFERENCES: TableSpec(
        PREFERENCES,
        ("staff_id", "day", "preference"),
        ("session_id", "site_id", "weight"),
        needed=False,
    ),
    FIXED: TableSpec(FIXED, ("staff_id", "date", "session_id", "site_id"), needed=False),
    TRAVEL: TableSpec(TRAVEL, ("from_site", "to_site", "minutes"), needed=False),
    FORBIDDEN_SEQUENCES: TableSpec(
        FORBIDDEN_SEQUENCES, ("session_id", "next_day_session_id"), needed=False
    ),
    SESSION_LIMITS: TableSpec(
        SESSION_LIMITS, ("staff_id", "session_id", "max_sessions"), needed=False
    ),
}

EXAMPLES = {
    "site_id": "P01",
    "session_id": "AM",
    "staff_id": "S0001",
    "home_site": "P01",
    "employer": "P01 or FED",
    "from_site": "P01",
    "to_site": "P02",
    "kind": "practice",
    "start": "08:00",
    "end": "12:30",
    "days": "Mon-Fri",
    "day": "Mon",
    "date": "2026-12-01",
    "preference": "avoid",
    "role": "GP",
    "list_size": "8000",
    "rooms": "4",
    "contract_hours": "37.5",
    "min": "1",
    "target": "2",
    "minutes": "15",
}


def example_for(logical: str, column: str) -> str:
    """A sample value for a blank-cell message (the kind column differs per file)."""
    samples = {
        (SESSION_TYPES, "kind"): "core",
        (LEAVE, "kind"): "annual",
        (LEAVE, "start"): "2026-12-01",
        (LEAVE, "end"): "2026-12-04",
    }
    return samples.get((logical, column), EXAMPLES.get(column, ""))


# -- reading rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """Ids each file defines (None when that file is unusable, so references are not checked)."""

    sites: frozenset[str] | None
    buildings: frozenset[str] | None  # None: buildings.csv is absent or unusable
    organisations: frozenset[str]  # named in sites.csv's organisation column
    sessions: frozenset[str] | None
    staff: frozenset[str] | None
    roles: frozenset[str]
    labels: Mapping[str, str]


@dataclass
class Context:
    """What converting a row may look up: known ids, parsed session types and the rules."""

    known: Known
    rules: Rules
    sessions: dict[str, SessionType] = field(default_factory=dict)

    def ref(self, ids: frozenset[str] | None, what: str, home: str) -> Callable[[str], str]:
        """A parser for a reference to an id defined in another file."""
        label = self.known.labels.get(home, home)

        def parse(text: str) -> str:
            if ids is not None and text not in ids:
                raise CellError(f"unknown {what} '{text}'; add it to {label} or fix the id")
            return text

        return parse

    @property
    def site(self) -> Callable[[str], str]:
        return self.ref(self.known.sites, "site", SITES)

    @property
    def building(self) -> Callable[[str], str]:
        return self.ref(self.known.buildings, "building", BUILDINGS)

    @property
    def session(self) -> Callable[[str], str]:
        return self.ref(self.known.sessions, "session", SESSION_TYPES)

    @property
    def person(self) -> Callable[[str], str]:
        return self.ref(self.known.staff, "staff member", STAFF)


@dataclass
class RowReader:
    """One row being converted: reads cells with parsers and records what went wrong."""

    spec: TableSpec
    table: RawTable
    row: RawRow
    ctx: Context
    problems: list[Problem]
    failed: set[str] = field(default_factory=set)

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def ok(self) -> bool:
        return not self.failed

    def get(self, column: str, parse: Callable[[str], T], default: T) -> T:
        """The parsed cell; a blank optional cell gives ``default``, any problem is recorded."""
        text = self.row.cells.get(column, "")
        if not text:
            if column in self.spec.required:
                self.blank(column)
            return default
        try:
            return parse(text)
        except CellError as err:
            self.error(column, str(err))
            return default

    def blank(self, column: str) -> None:
        """A blank required cell (a missing required column was already reported once)."""
        if column not in self.table.header:
            self.failed.add(column)
            return
        sample = example_for(self.spec.logical, column)
        hint = f", e.g. {sample}" if sample else ""
        self.error(column, f"is blank; every row needs a value here{hint}")

    def valid(self, *columns: str) -> bool:
        """Whether these cells parsed, so a check across them will not repeat an error."""
        return not self.failed.intersection(columns)

    def error(self, column: str, message: str) -> None:
        self.failed.add(column)
        self.problems.append(Problem(self.table.label, self.line, column, message))

    def warn(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.table.label, self.line, column, message, warning=True))


def convert_rows(
    table: RawTable | None,
    ctx: Context,
    make: Callable[[RowReader], R],
    problems: list[Problem],
) -> list[R]:
    """Every row of a table through its converter; rows with an error are left out."""
    if table is None:
        return []
    records = []
    for row in table.rows:
        reader = RowReader(SPECS[table.logical], table, row, ctx, problems)
        record = make(reader)
        if row.extra:
            reader.error(
                ROW,
                "this row has more cells than the header has columns; "
                "remove the extra values or give the column a header",
            )
        if reader.ok:
            records.append(record)
    return records


# -- file and header checks -------------------------------------------------------------


def check_tables(raw: RawBundle, problems: list[Problem]) -> dict[str, RawTable | None]:
    """Each file present with its required columns, or None when it cannot be used."""
    return {
        logical: check_table(
            spec, raw.tables.get(logical), raw.labels.get(logical, logical), problems
        )
        for logical, spec in SPECS.items()
    }


def check_table(
    spec: TableSpec, table: RawTable | None, label: str, problems: list[Problem]
) -> RawTable | None:
    """One file: present (if required), with a header, rows (if required) and sound columns.

    A file with nothing in it at all counts as absent, so an empty optional file is fine.
    """
    if table is None or not table.header:
        if spec.needed and not any(p.file == label for p in problems):
            problems.append(missing_file(spec, label, table is not None))
        return None
    header_ok = check_header(spec, table, problems)
    table = without_control_characters(table, label, problems)
    if spec.needed and not table.rows:
        columns = ",".join(spec.columns)
        message = f"has no rows; add at least one row under the header ({columns})"
        problems.append(Problem(label, 1, WHOLE_FILE, message))
    return table if header_ok else None


def without_control_characters(table: RawTable, label: str, problems: list[Problem]) -> RawTable:
    """The table with each control character a space, every one of them reported.

    The rest of the row is still read, so its other problems are found too,
    without a second message about the same cell.
    """
    rows = []
    for row in table.rows:
        cells = dict(row.cells)
        for column, value in row.cells.items():
            message = control_character(value)
            if message is not None:
                problems.append(Problem(label, row.line, column, message))
                cells[column] = " ".join(plain_words(value))
        rows.append(dataclasses.replace(row, cells=cells) if cells != row.cells else row)
    return dataclasses.replace(table, rows=tuple(rows))


def plain_words(value: str) -> list[str]:
    """The words of a text, every control character taken for a space."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in value).split()


def missing_file(spec: TableSpec, label: str, empty: bool) -> Problem:
    """A required file is absent or empty; say what it must contain."""
    sheet = spec.logical.removesuffix(".csv")
    state = "is empty" if empty else "is missing"
    message = (
        f"required file {state}; add {spec.logical} (a sheet named '{sheet}' in a workbook) "
        f"with the columns {','.join(spec.required)}"
    )
    return Problem(label, 1, WHOLE_FILE, message)


def check_header(spec: TableSpec, table: RawTable, problems: list[Problem]) -> bool:
    """Missing and repeated columns are errors; unknown columns are ignored with a warning."""
    line, ok = table.header_line, True
    for column in spec.required:
        if column not in table.header:
            message = f"missing required column; add a '{column}' column to the header row"
            problems.append(Problem(table.label, line, column, message))
    for index, column in enumerate(table.header):
        if column and column in table.header[:index]:
            message = "this column appears twice in the header; delete or rename one of them"
            problems.append(Problem(table.label, line, column, message))
            ok = False
        elif column not in spec.columns:
            problems.append(unknown_column(spec, table, index, column))
    return ok


def unknown_column(spec: TableSpec, table: RawTable, index: int, column: str) -> Problem:
    """A warning for a column the format does not define; its cells are ignored."""
    name = column or f"(column {index + 1})"
    message = (
        f"unknown column, ignored; check the spelling if it was meant to be one of "
        f"{','.join(spec.columns)}"
    )
    return Problem(table.label, table.header_line, name, message, warning=True)


def collect_ids(
    table: RawTable | None, column: str, problems: list[Problem]
) -> frozenset[str] | None:
    """The ids a file defines; a repeated id is an error naming the row of its first use."""
    if table is None or column not in table.header:
        return None
    first: dict[str, int] = {}
    for row in table.rows:
        value = row.cells[column]
        if value in first:
            message = (
                f"'{value}' is already used on row {first[value]}; "
                f"each {column} must be unique, so rename one of them"
            )
            problems.append(Problem(table.label, row.line, column, message))
        elif value:
            first[value] = row.line
    return frozenset(first)


def named_values(table: RawTable | None, column: str) -> frozenset[str]:
    """The non-blank values of a column (organisations named in sites.csv)."""
    if table is None or column not in table.header:
        return frozenset()
    return frozenset(row.cells[column] for row in table.rows if row.cells[column])


def demand_roles(table: RawTable | None) -> frozenset[str]:
    """Roles named in demand.csv, which are valid staff roles besides the standard ones."""
    if table is None or "role" not in table.header:
        return STANDARD_ROLES
    return STANDARD_ROLES | {row.cells["role"] for row in table.rows if row.cells["role"]}
