"""Read a scenario bundle and validate it completely (see SCENARIO_FORMAT.md).

The product's first promise is a useful answer to a broken bundle: every
problem at once, each addressed as ``FILE:ROW: column: message`` and saying
what to do about it.  So nothing here stops at the first error: each cell is
parsed by a small parser for its kind of column, each file by a table spec
and a row converter, and all problems are collected; only at the end does
the import fail (``BundleError``) or return the frozen domain ``Bundle``.

Reading the files themselves (CSV, zip, xlsx, TOML) lives in
``scheduler.tables``; this module sees only text cells with line numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.domain import (
    DAY_NAMES,
    DEMAND,
    FEDERATION,
    FIXED,
    FORBIDDEN_SEQUENCES,
    HORIZON_RULE_FIELDS,
    JOB_KINDS,
    LEAVE,
    NETWORK,
    PREFERENCES,
    SESSION_LIMITS,
    SESSION_TYPES,
    SITES,
    STAFF,
    TRAVEL,
    AccessWindow,
    Bundle,
    DayRule,
    DemandRow,
    EnhancedAccess,
    Fixed,
    ForbiddenSequence,
    JobSettings,
    Leave,
    LeaveKind,
    Preference,
    PreferenceKind,
    Problem,
    Rules,
    SessionKind,
    SessionLimit,
    SessionType,
    Site,
    SiteKind,
    Staff,
    Travel,
    Weights,
)
from scheduler.tables import (
    CSV_FILES,
    WHOLE_FILE,
    RawBundle,
    RawRow,
    RawTable,
    Setting,
    read_folder,
    read_workbook,
    read_zip,
)

T = TypeVar("T")
R = TypeVar("R")
E = TypeVar("E", bound=StrEnum)

DEFAULT_TIMEZONE = "Europe/London"
STANDARD_ROLES = frozenset({"GP", "ANP", "PN", "HCA", "PHARM", "PARA", "FCP", "PA"})
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
ROW = "(row)"


class BundleError(Exception):
    """The bundle cannot be used; ``problems`` holds every error and warning, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class CellError(ValueError):
    """A cell that cannot be read; the text says what is wrong and what to write instead."""


# -- parsers, one per kind of column --------------------------------------------------

ID_PATTERN = re.compile(r"^[^\s,;*]+$")
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_WORDS = {
    name.lower(): i for names in (DAY_NAMES, FULL_DAY_NAMES) for i, name in enumerate(names)
}
DAYS_HELP = "write days as Mon, Tue, ... Sun, a range such as Mon-Fri, or a list such as Mon;Wed"


def parse_text(text: str) -> str:
    """Free text such as a name: anything non-blank."""
    return text


def parse_id(text: str) -> str:
    """An id is referred to from other files and lists, so it cannot hold separators."""
    if not ID_PATTERN.match(text):
        raise CellError(f"'{text}' is not a usable id; ids may not contain spaces, ',', ';' or '*'")
    return text


def parse_site_id(text: str) -> str:
    """A site id, which must not clash with the employer code of the federation."""
    if parse_id(text) == FEDERATION:
        raise CellError(f"'{FEDERATION}' means the federation as employer; choose another site id")
    return text


def parse_time(text: str) -> dt.time:
    """A wall-clock time ``HH:MM`` (``HH:MM:00`` as spreadsheets write it is accepted)."""
    found = TIME_PATTERN.match(text)
    help_text = "write a time as HH:MM between 00:00 and 23:59, e.g. 08:30"
    if not found:
        raise CellError(f"'{text}' is not a time; {help_text}")
    hour, minute, second = int(found[1]), int(found[2]), int(found[3] or 0)
    if hour > 23 or minute > 59 or second != 0:
        raise CellError(f"'{text}' is not a time of day; {help_text} (midnight is 00:00)")
    return dt.time(hour, minute)


def parse_date(text: str) -> dt.date:
    """An ISO date; other layouts are ambiguous between countries, so they are refused."""
    if not DATE_PATTERN.match(text):
        raise CellError(f"'{text}' is not a date; write dates as YYYY-MM-DD, e.g. 2026-12-01")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CellError(f"'{text}' is not a real date; check the day and month") from None


def weekday(word: str, whole: str) -> int:
    """One day name (``Mon`` or ``Monday``, any case) as 0 = Monday."""
    try:
        return DAY_WORDS[word.strip().lower()]
    except KeyError:
        raise CellError(f"'{whole}' is not a day; {DAYS_HELP}") from None


def day_span(part: str, whole: str) -> set[int]:
    """``Mon`` or a range ``Mon-Fri`` (a range may wrap over the weekend: ``Sat-Mon``)."""
    if "-" not in part:
        return {weekday(part, whole)}
    first, last = (weekday(p, whole) for p in part.split("-", 1))
    return {(first + i) % 7 for i in range((last - first) % 7 + 1)}


def parse_weekdays(text: str) -> frozenset[int]:
    """Days of the week: names, ranges and ``;``-lists of them combined."""
    days: set[int] = set()
    for part in text.split(";"):
        if part.strip():
            days |= day_span(part.strip(), text)
    if not days:
        raise CellError(f"'{text}' names no day; {DAYS_HELP}")
    return frozenset(days)


def parse_day_rule(text: str) -> DayRule:
    """A day column that takes weekdays (every week) or one ISO date (that date only)."""
    if text[:1].isdigit():
        return DayRule(date=parse_date(text))
    try:
        return DayRule(weekdays=parse_weekdays(text))
    except CellError:
        raise CellError(f"'{text}' is not a day; {DAYS_HELP}, or a date YYYY-MM-DD") from None


def parse_number(text: str) -> float:
    """Any finite number; the callers add the range their column needs."""
    try:
        value = float(text)
    except ValueError:
        raise CellError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise CellError(f"'{text}' is not a finite number")
    return value


def non_negative(example: str) -> Callable[[str], float]:
    """A parser for amounts that can be zero but not below (hours, money)."""

    def parse(text: str) -> float:
        try:
            value = parse_number(text)
        except CellError as err:
            raise CellError(f"{err}; write a number, e.g. {example}") from None
        if value < 0:
            raise CellError(f"{text} is negative; write 0 or more, e.g. {example}")
        return value

    return parse


def parse_weight(text: str) -> float:
    """A priority multiplier: zero would silently switch the row off, so it must be above 0."""
    value = non_negative("1.5")(text)
    if value == 0:
        raise CellError("must be above 0, e.g. 1 (delete the row to drop it)")
    return value


def count(unit: str, example: str, least: int = 0, most: int | None = None) -> Callable[[str], int]:
    """A parser for whole numbers of something (people, rooms, sessions), at least ``least``
    (and at most ``most``, when given)."""

    def parse(text: str) -> int:
        help_text = f"must be a whole number of {unit}, e.g. {example}"
        try:
            value = parse_number(text)
        except CellError:
            raise CellError(f"'{text}' {help_text}") from None
        if not value.is_integer():
            raise CellError(f"'{text}' {help_text}")
        if value < least:
            raise CellError(f"{text} is too small; it must be at least {least}, e.g. {example}")
        if most is not None and value > most:
            raise CellError(f"{text} is too large; it must be at most {most}, e.g. {example}")
        return int(value)

    return parse


def bounded(limit: float, what: str, example: str) -> Callable[[str], float]:
    """A parser for a coordinate between -limit and limit."""

    def parse(text: str) -> float:
        value = parse_number(text) if _is_number(text) else None
        if value is None or not -limit <= value <= limit:
            raise CellError(f"'{text}' is not a {what}; write decimal degrees, e.g. {example}")
        return value

    return parse


def _is_number(text: str) -> bool:
    """Whether ``parse_number`` would accept the text."""
    try:
        parse_number(text)
    except CellError:
        return False
    return True


def choice(kind: type[E], what: str) -> Callable[[str], E]:
    """A parser for one of an enum's values, any case."""
    allowed = [member.value for member in kind]

    def parse(text: str) -> E:
        try:
            return kind(text.lower())
        except ValueError:
            raise CellError(f"'{text}' is not a {what}; use {one_of(allowed)}") from None

    return parse


def one_of(words: list[str]) -> str:
    """``a, b or c`` for messages listing the allowed values."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def parse_skills(text: str) -> frozenset[str]:
    """A ``;``-separated set of skills (blank entries ignored)."""
    return frozenset(part.strip() for part in text.split(";") if part.strip())


def parse_email(text: str) -> str:
    """An e-mail address; checked loosely, only to catch a value in the wrong column."""
    if not EMAIL_PATTERN.match(text):
        raise CellError(f"'{text}' is not an e-mail address; write e.g. name@example.nhs.uk")
    return text


def describe_days(days: Iterable[int]) -> str:
    """Weekdays written compactly, runs as ranges: ``Mon-Fri;Sun``."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ";".join(
        DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs
    )


# -- table specs ------------------------------------------------------------------------


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
    SITES: TableSpec(SITES, ("site_id", "name", "kind", "list_size", "rooms"), ("lat", "lon")),
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
            "max_evenings",
            "max_weekend_sessions",
            "hourly_rate",
            "email",
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
    if spec.needed and not table.rows:
        columns = ",".join(spec.columns)
        message = f"has no rows; add at least one row under the header ({columns})"
        problems.append(Problem(label, 1, WHOLE_FILE, message))
    return table if header_ok else None


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


def demand_roles(table: RawTable | None) -> frozenset[str]:
    """Roles named in demand.csv, which are valid staff roles besides the standard ones."""
    if table is None or "role" not in table.header:
        return STANDARD_ROLES
    return STANDARD_ROLES | {row.cells["role"] for row in table.rows if row.cells["role"]}


# -- row converters, one per file ---------------------------------------------------------


def site_from(r: RowReader) -> Site:
    """A sites.csv row; lat and lon come as a pair or not at all."""
    lat = r.get("lat", bounded(90, "latitude", "52.04"), None)
    lon = r.get("lon", bounded(180, "longitude", "1.01"), None)
    has_lat, has_lon = bool(r.row.cells.get("lat")), bool(r.row.cells.get("lon"))
    if has_lat != has_lon:
        missing = "lon" if has_lat else "lat"
        r.error(missing, "is blank but the other coordinate is given; give both or neither")
    return Site(
        site_id=r.get("site_id", parse_site_id, ""),
        name=r.get("name", parse_text, ""),
        kind=r.get("kind", choice(SiteKind, "site kind"), SiteKind.PRACTICE),
        list_size=r.get("list_size", count("patients", "8000"), 0),
        rooms=r.get("rooms", count("rooms", "4 (0 = no limit)"), 0),
        lat=lat,
        lon=lon,
        row=r.line,
    )


def session_type_from(r: RowReader) -> SessionType:
    """A session_types.csv row; equal start and end would be a session of no length."""
    session = SessionType(
        session_id=r.get("session_id", parse_id, ""),
        label=r.get("label", parse_text, ""),
        start=r.get("start", parse_time, dt.time(0)),
        end=r.get("end", parse_time, dt.time(0)),
        days=r.get("days", parse_weekdays, frozenset()),
        kind=r.get("kind", choice(SessionKind, "session kind"), SessionKind.CORE),
        row=r.line,
    )
    if r.valid("start", "end") and session.start == session.end:
        r.error(
            "end",
            f"equals start ({session.start:%H:%M}), so the session has no length; "
            "fix the times (an end before start means overnight)",
        )
    return session


def staff_from(r: RowReader) -> Staff:
    """A staff.csv row: defaults (min 0, max = contract, sites = home) and hour bounds."""
    ctx = r.ctx
    home = r.get("home_site", ctx.site, "")
    contract = r.get("contract_hours", non_negative("37.5"), 0.0)
    min_hours = r.get("min_hours", non_negative("20"), 0.0)
    max_hours = r.get("max_hours", non_negative("37.5"), contract)
    check_staff_hours(r, min_hours, max_hours)
    home_only: frozenset[str] | None = frozenset({home})
    role = r.get("role", parse_text, "")
    if role and role not in ctx.known.roles:
        r.warn(
            "role",
            f"'{role}' is not a standard role ({', '.join(sorted(STANDARD_ROLES))}) "
            "nor named in demand.csv, so this person only fills rows with a blank role",
        )
    return Staff(
        staff_id=r.get("staff_id", parse_id, ""),
        name=r.get("name", parse_text, ""),
        role=role,
        home_site=home,
        employer=r.get("employer", employer_parser(ctx), ""),
        contract_hours=contract,
        min_hours=min_hours,
        max_hours=max_hours,
        skills=r.get("skills", parse_skills, frozenset()),
        sites=r.get("sites", sites_parser(ctx), home_only),
        max_sessions_per_day=r.get("max_sessions_per_day", count("sessions", "2", 1), None),
        max_evenings=r.get("max_evenings", count("evening sessions", "1"), 0),
        max_weekend_sessions=r.get("max_weekend_sessions", count("weekend sessions", "1"), 0),
        hourly_rate=r.get("hourly_rate", non_negative("85"), None),
        email=r.get("email", parse_email, None),
        **horizon_rules(r),
        row=r.line,
    )


def horizon_rules(r: RowReader) -> dict[str, Any]:
    """The optional horizon-rule columns of a staff row; blank means no limit."""
    rules: dict[str, Any] = {
        "max_consecutive_days": r.get("max_consecutive_days", count("days", "5", 1), None),
        "min_consecutive_days": r.get("min_consecutive_days", count("days", "2", 1), None),
        "min_days_off_in_row": r.get("min_days_off_in_row", count("days", "2", 1), None),
        "max_weekends": r.get("max_weekends", count("weekends", "2"), None),
        "min_horizon_hours": r.get("min_horizon_hours", non_negative("120"), None),
        "max_horizon_hours": r.get("max_horizon_hours", non_negative("150"), None),
    }
    low, high = rules["min_horizon_hours"], rules["max_horizon_hours"]
    if low is not None and high is not None and low > high:
        r.error(
            "min_horizon_hours",
            f"{low:g} is above max_horizon_hours {high:g}; lower one or raise the other",
        )
    low, high = rules["min_consecutive_days"], rules["max_consecutive_days"]
    if low is not None and high is not None and low > high:
        r.error(
            "min_consecutive_days",
            f"{low} is above max_consecutive_days {high}; lower one or raise the other",
        )
    return rules


def check_staff_hours(r: RowReader, min_hours: float, max_hours: float) -> None:
    """Hour bounds that can never be met are errors; a cap above the network's is a warning."""
    cap = r.ctx.rules.max_week_hours
    if not r.valid("contract_hours", "min_hours", "max_hours"):
        return
    if min_hours > max_hours:
        r.error(
            "min_hours",
            f"{min_hours:g} is above max_hours {max_hours:g}; lower min_hours or raise max_hours",
        )
    elif min_hours > cap:
        r.error(
            "min_hours",
            f"{min_hours:g} is above the network's max_week_hours {cap:g}, "
            "so it can never be met; lower it",
        )
    elif max_hours > cap:
        r.warn(
            "max_hours",
            f"{max_hours:g} is above the network's max_week_hours {cap:g}; the network cap applies",
        )


def employer_parser(ctx: Context) -> Callable[[str], str]:
    """The employer is a practice (site id) or the federation (``FED``)."""
    site = ctx.site

    def parse(text: str) -> str:
        if text == FEDERATION:
            return text
        try:
            return site(text)
        except CellError as err:
            raise CellError(f"{err} (or write {FEDERATION} for the federation)") from None

    return parse


def sites_parser(ctx: Context) -> Callable[[str], frozenset[str] | None]:
    """Where a person may work: ``*`` for anywhere (None), else a ``;``-list of site ids."""
    site = ctx.site

    def parse(text: str) -> frozenset[str] | None:
        if text == "*":
            return None
        ids = parse_skills(text)
        for site_id in sorted(ids):
            site(site_id)
        if not ids:
            raise CellError(f"'{text}' names no site; write site ids such as P01;HUB1, or *")
        return ids

    return parse


def demand_from(r: RowReader) -> DemandRow:
    """A demand.csv row: target at least min, and the session must run on the day."""
    ctx = r.ctx
    people = count("people", "2")
    demand = DemandRow(
        site_id=r.get("site_id", ctx.site, ""),
        day=r.get("day", parse_day_rule, DayRule()),
        session_id=r.get("session_id", ctx.session, ""),
        role=r.get("role", parse_text, None),
        skill=r.get("skill", parse_text, None),
        min=r.get("min", people, 0),
        target=r.get("target", people, 0),
        weight=r.get("weight", parse_weight, 1.0),
        row=r.line,
    )
    if r.valid("min", "target") and demand.target < demand.min:
        r.error(
            "target",
            f"{demand.target} is below min {demand.min}; "
            "target must be at least min (raise target or lower min)",
        )
    if r.valid("day", "session_id"):
        check_runs_on(r, "day", demand.session_id, day_rule_weekdays(demand.day))
    return demand


def day_rule_weekdays(rule: DayRule) -> frozenset[int]:
    """The weekdays a day rule touches."""
    return frozenset({rule.date.weekday()}) if rule.date else rule.weekdays


def check_runs_on(r: RowReader, column: str, session_id: str, days: frozenset[int]) -> None:
    """A row for a session on a day it does not run would never apply."""
    session = r.ctx.sessions.get(session_id)
    if session is None or days <= session.days:
        return
    missing = describe_days(days - session.days)
    label = r.ctx.known.labels.get(SESSION_TYPES, SESSION_TYPES)
    r.error(
        column,
        f"session '{session_id}' does not run on {missing} "
        f"(it runs {describe_days(session.days)}); fix the day, or the session's days "
        f"in {label}",
    )


def leave_from(r: RowReader) -> Leave:
    """A leave.csv row; the end date is inclusive and may not come before the start."""
    ctx = r.ctx
    leave = Leave(
        staff_id=r.get("staff_id", ctx.person, ""),
        start=r.get("start", parse_date, dt.date.min),
        end=r.get("end", parse_date, dt.date.min),
        kind=r.get("kind", choice(LeaveKind, "leave kind"), LeaveKind.OTHER),
        session_id=r.get("session_id", ctx.session, None),
        row=r.line,
    )
    if r.valid("start", "end") and leave.end < leave.start:
        r.error(
            "end",
            f"{leave.end} is before start {leave.start}; "
            "leave runs from start to end inclusive, so swap them",
        )
    return leave


def preference_from(r: RowReader) -> Preference:
    """A preferences.csv row."""
    ctx = r.ctx
    return Preference(
        staff_id=r.get("staff_id", ctx.person, ""),
        day=r.get("day", parse_day_rule, DayRule()),
        session_id=r.get("session_id", ctx.session, None),
        site_id=r.get("site_id", ctx.site, None),
        preference=r.get("preference", choice(PreferenceKind, "preference"), PreferenceKind.AVOID),
        weight=r.get("weight", parse_weight, 1.0),
        row=r.line,
    )


def fixed_from(r: RowReader) -> Fixed:
    """A fixed.csv row: a real date on which the session runs."""
    ctx = r.ctx
    fixed = Fixed(
        staff_id=r.get("staff_id", ctx.person, ""),
        date=r.get("date", parse_date, dt.date.min),
        session_id=r.get("session_id", ctx.session, ""),
        site_id=r.get("site_id", ctx.site, ""),
        row=r.line,
    )
    if r.valid("date", "session_id"):
        check_runs_on(r, "date", fixed.session_id, frozenset({fixed.date.weekday()}))
    return fixed


def travel_from(r: RowReader) -> Travel:
    """A travel.csv row."""
    ctx = r.ctx
    return Travel(
        from_site=r.get("from_site", ctx.site, ""),
        to_site=r.get("to_site", ctx.site, ""),
        minutes=r.get("minutes", count("minutes", "15"), 0),
        row=r.line,
    )


def forbidden_sequence_from(r: RowReader) -> ForbiddenSequence:
    """A forbidden_sequences.csv row: ``session_id`` may not be followed next day by the other."""
    ctx = r.ctx
    return ForbiddenSequence(
        session_id=r.get("session_id", ctx.session, ""),
        next_day_session_id=r.get("next_day_session_id", ctx.session, ""),
        row=r.line,
    )


def session_limit_from(r: RowReader) -> SessionLimit:
    """A session_limits.csv row: at most so many sessions of a type over the horizon."""
    ctx = r.ctx
    return SessionLimit(
        staff_id=r.get("staff_id", ctx.person, ""),
        session_id=r.get("session_id", ctx.session, ""),
        max_sessions=r.get("max_sessions", count("sessions", "4"), 0),
        row=r.line,
    )


# -- session overlaps ------------------------------------------------------------------------


def week_intervals(session: SessionType) -> list[tuple[int, int]]:
    """(start, end) minute of each run in a week, counted from Monday 00:00."""
    start = session.start.hour * 60 + session.start.minute
    end = session.end.hour * 60 + session.end.minute
    length = end - start if end > start else end - start + MINUTES_PER_DAY
    return [
        (d * MINUTES_PER_DAY + start, d * MINUTES_PER_DAY + start + length)
        for d in sorted(session.days)
    ]


def first_overlap(earlier: SessionType, later: SessionType) -> int | None:
    """The weekday on which the two sessions first collide (the week wraps Sunday to Monday)."""
    for b_start, b_end in week_intervals(later):
        for a_start, a_end in week_intervals(earlier):
            for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
                if a_start + shift < b_end and b_start < a_end + shift:
                    return (max(a_start + shift, b_start) // MINUTES_PER_DAY) % 7
    return None


def session_overlaps(sessions: list[SessionType], label: str) -> list[Problem]:
    """Session types must not overlap on a common day; an overnight run into the next counts."""
    problems = []
    for index, later in enumerate(sessions):
        for earlier in sessions[:index]:
            day = first_overlap(earlier, later)
            if day is not None:
                message = (
                    f"overlaps session '{earlier.session_id}' (row {earlier.row}) on "
                    f"{DAY_NAMES[day]}; sessions must not overlap in time, so change the "
                    f"start/end times or the days of one of them"
                )
                problems.append(Problem(label, later.row, "start", message))
    return problems


class Numbered(Protocol):
    """A record that remembers its row."""

    @property
    def row(self) -> int: ...


N = TypeVar("N", bound=Numbered)


def repeated_rows(
    records: Iterable[N],
    key: Callable[[N], tuple[str, str]],
    label: str,
    column: str,
    message: Callable[[N, int], str],
) -> list[Problem]:
    """Rows repeating an earlier row's key: two answers to one question are ambiguous."""
    first: dict[tuple[str, str], int] = {}
    problems = []
    for record in records:
        row = record.row
        if key(record) in first:
            problems.append(Problem(label, row, column, message(record, first[key(record)])))
        else:
            first[key(record)] = row
    return problems


def repeated_trips(trips: tuple[Travel, ...], label: str) -> list[Problem]:
    """One row per direction of a trip."""
    return repeated_rows(
        trips,
        lambda t: (t.from_site, t.to_site),
        label,
        "to_site",
        lambda t, first: (
            f"the trip {t.from_site} to {t.to_site} is already given on row {first}; "
            "keep one row per direction"
        ),
    )


def repeated_limits(limits: tuple[SessionLimit, ...], label: str) -> list[Problem]:
    """One limit per person and session type."""
    return repeated_rows(
        limits,
        lambda lim: (lim.staff_id, lim.session_id),
        label,
        "session_id",
        lambda lim, first: (
            f"{lim.staff_id} already has a limit for {lim.session_id} on row {first}; "
            "keep one row per person and session type"
        ),
    )


# -- network settings ------------------------------------------------------------------------


@dataclass
class Network:
    """The network-wide settings of a bundle."""

    name: str
    timezone: str = DEFAULT_TIMEZONE
    rules: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, Any] = field(default_factory=dict)
    enhanced_access: dict[str, float] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)  # [enhanced_access] beyond numbers
    access_seen: bool = False  # the bundle has an [enhanced_access] section
    bank_holidays_closed: bool = True
    jobs: dict[str, Any] = field(default_factory=dict)  # [jobs]: JobSettings fields


def setting_number(value: object) -> float:
    """A numeric setting, from TOML (a number) or a workbook cell (text)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CellError(f"{value!r} is not a number")
    return parse_number(str(value))


def positive_setting(value: object) -> float:
    """A rule limit: zero or less would forbid all work."""
    number = setting_number(value)
    if number <= 0:
        raise CellError(f"{value} must be above 0")
    return number


def whole_setting(value: object) -> int:
    """A rule that counts sessions."""
    number = positive_setting(value)
    if not number.is_integer():
        raise CellError(f"{value} must be a whole number of sessions, e.g. 2")
    return int(number)


def weight_setting(value: object) -> float:
    """A soft-goal weight: zero switches the goal off, below zero would reward breaking it."""
    number = setting_number(value)
    if number < 0:
        raise CellError(f"{value} is negative; write 0 or more")
    return number


def text_setting(value: object) -> str:
    """A text setting such as the network's name."""
    if not isinstance(value, str) or not value.strip():
        raise CellError(f'{value!r} must be non-blank text in quotes, e.g. "Riverside PCN"')
    return value.strip()


def timezone_setting(value: object) -> str:
    """A time zone the standard library knows, as every time is wall-clock in it."""
    name = text_setting(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone '{name}'; use an IANA name, e.g. Europe/London"
        raise CellError(message) from None
    return name


def bank_holiday_setting(value: object) -> bool:
    """Whether weekday demand rows are dropped on bank holidays."""
    if value not in ("closed", "open"):
        raise CellError(f'{value!r} is not allowed; write "closed" or "open"')
    return value == "closed"


RULE_PARSERS: dict[str, Callable[[object], Any]] = {
    "min_rest_hours": positive_setting,
    "max_week_hours": positive_setting,
    "max_sessions_per_day": whole_setting,
}
WEIGHT_NAMES = tuple(f.name for f in dataclasses.fields(Weights))
SECTIONS = "name, timezone, [rules], [weights], [calendar], [enhanced_access], [jobs]"


def apply_setting(network: Network, key: str, value: object) -> None:
    """Store one setting in its place, or raise CellError saying why it is not valid."""
    section, _, name = key.partition(".")
    if key == "name":
        network.name = text_setting(value)
    elif key == "timezone":
        network.timezone = timezone_setting(value)
    elif section == "rules" and name in RULE_PARSERS:
        network.rules[name] = rule_value(name, value)
    elif section == "weights" and name in WEIGHT_NAMES:
        network.weights[name] = weight_setting(value)
    elif key == "calendar.bank_holidays":
        network.bank_holidays_closed = bank_holiday_setting(value)
    elif section == "enhanced_access":
        network.access_seen = True
        apply_access_setting(network, name, value)
    elif section == "jobs":
        apply_jobs_setting(network, name, value)
    else:
        raise CellError(unknown_setting(section, name))


# -- [enhanced_access] -----------------------------------------------------------------

ACCESS_KEYS = (
    "minutes_per_1000_per_week",
    "adjusted_population",
    "windows",
    "bookable_roles",
    "gp_role",
)
WINDOW_PATTERN = re.compile(r"^(\S+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")
WINDOWS_HELP = 'write e.g. windows = ["Mon-Fri 18:30-20:00", "Sat 09:00-17:00"]'
ROLES_HELP = 'write e.g. bookable_roles = ["GP", "ANP", "PHARM"]'


def apply_access_setting(network: Network, name: str, value: object) -> None:
    """One ``[enhanced_access]`` setting, or CellError saying what to write."""
    if name == "minutes_per_1000_per_week":
        number = weight_setting(value)  # 0 is allowed: no floor, the windows still count
        network.enhanced_access[name] = number
    elif name == "adjusted_population":
        try:
            network.enhanced_access[name] = positive_setting(value)
        except CellError as err:
            message = f"{err}; write the NHS-published figure, e.g. adjusted_population = 41250"
            raise CellError(message) from None
    elif name == "windows":
        network.access[name] = windows_setting(value)
    elif name == "bookable_roles":
        network.access[name] = roles_setting(value)
    elif name == "gp_role":
        network.access[name] = role_setting(value, 'e.g. gp_role = "GP"')
    else:
        known = ", ".join(ACCESS_KEYS)
        raise CellError(f"unknown enhanced-access setting '{name}'; the settings are {known}")


def setting_list(value: object, separator: str, help_text: str) -> list[str]:
    """A TOML list of texts, or one text with ``separator`` between items (a workbook cell)."""
    items = value.split(separator) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise CellError(f"{value!r} is not a list of texts; {help_text}")
    found = [i.strip() for i in items if i.strip()]
    if not found:
        raise CellError(f"{value!r} is empty; {help_text}")
    return found


def windows_setting(value: object) -> tuple[AccessWindow, ...]:
    """The Network Standard Hours: ``days HH:MM-HH:MM`` each, within one day."""
    windows = []
    for text in setting_list(value, ",", WINDOWS_HELP):
        found = WINDOW_PATTERN.match(text)
        if not found:
            raise CellError(f"'{text}' is not a window; {WINDOWS_HELP}")
        try:
            days = parse_weekdays(found[1])
            start, end = parse_time(found[2]), parse_time(found[3])
        except CellError as err:
            raise CellError(f"{err} (in '{text}'); {WINDOWS_HELP}") from None
        if end <= start:
            message = f"'{text}' ends before it starts; a window lies within one day"
            raise CellError(f"{message}; {WINDOWS_HELP}")
        windows.append(AccessWindow(days, start, end))
    return tuple(windows)


def role_setting(value: object, help_text: str) -> str:
    """A role as staff.csv writes it."""
    if not isinstance(value, str) or not ID_PATTERN.match(value.strip()):
        raise CellError(f"{value!r} is not a role; {help_text}")
    return value.strip()


def roles_setting(value: object) -> frozenset[str]:
    """The roles patients can book in enhanced access."""
    return frozenset(role_setting(r, ROLES_HELP) for r in setting_list(value, ";", ROLES_HELP))


def access_settings(network: Network) -> EnhancedAccess | None:
    """The typed settings of an ``[enhanced_access]`` section; None without one."""
    if not network.access_seen:
        return None
    numbers = network.enhanced_access
    return EnhancedAccess(
        minutes_per_1000_per_week=numbers.get("minutes_per_1000_per_week", 60.0),
        adjusted_population=numbers.get("adjusted_population"),
        **network.access,
    )


def access_warnings(bundle: Bundle, settings: list[Setting] | None, label: str) -> list[Problem]:
    """Roles named for enhanced access that nobody on the staff list has."""
    access = bundle.enhanced_access_settings
    if access is None:
        return []
    line = next((s.line for s in settings or [] if s.key.startswith("enhanced_access.")), 1)
    # A missing adjusted population is not warned of here (the public example has none):
    # the report and its page say plainly that list sizes stand in for it.
    problems: list[Problem] = []
    roles = {p.role for p in bundle.staff}  # empty when staff.csv itself is unreadable
    named = sorted((access.bookable_roles or frozenset()) | {access.gp_role})
    for role in (r for r in named if roles and r not in roles):
        message = f"no one in {bundle.label(STAFF)} has the role '{role}'; check the spelling"
        problems.append(Problem(label, line, "enhanced_access", message, warning=True))
    return problems


# -- [jobs] ---------------------------------------------------------------------------

JOBS_HELP = 'write e.g. enabled = ["drafts", "recheck", "reminder", "retention"] (or [] for none)'
JOB_TIME_KEYS = ("draft_time", "recheck_time", "reminder_time", "retention_time")
# key: (unit, its usual value, the least and the most that make sense); past the most,
# the jobs' date arithmetic would leave the calendar and fail every run.
JOB_COUNTS = {
    "draft_weeks_ahead": ("weeks", JobSettings.draft_weeks_ahead, 1, 52),
    "reminder_days": ("days", JobSettings.reminder_days, 1, 366),
    "audit_retention_days": ("days", JobSettings.audit_retention_days, 1, 36500),
    "version_retention_days": ("days", JobSettings.version_retention_days, 1, 36500),
}
JOB_KEYS = ("enabled", "draft_day", *JOB_TIME_KEYS, *JOB_COUNTS)


def apply_jobs_setting(network: Network, name: str, value: object) -> None:
    """One ``[jobs]`` setting (times are Europe/London), or CellError saying what to write."""
    if name == "enabled":
        network.jobs[name] = enabled_jobs_setting(value)
    elif name == "draft_day":
        network.jobs[name] = day_setting(value)
    elif name in JOB_TIME_KEYS:
        network.jobs[name] = time_setting(value)
    elif name in JOB_COUNTS:
        unit, usual, least, most = JOB_COUNTS[name]
        network.jobs[name] = count(unit, str(usual), least, most)(str(value))
    else:
        raise CellError(f"unknown jobs setting '{name}'; the settings are {', '.join(JOB_KEYS)}")


def enabled_jobs_setting(value: object) -> frozenset[str]:
    """The jobs that run: a TOML list (may be empty), or a ``;``-list in a workbook cell."""
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise CellError(f"{value!r} is not a list of job names; {JOBS_HELP}")
    kinds = [i.strip() for i in items if i.strip()]
    unknown = [k for k in kinds if k not in JOB_KINDS]
    if unknown:
        message = f"unknown job '{unknown[0]}'; the jobs are {one_of(list(JOB_KINDS))}"
        raise CellError(f"{message}; {JOBS_HELP}")
    return frozenset(kinds)


def day_setting(value: object) -> int:
    """One day of the week, ``"Mon"`` or ``"Monday"``; 0 = Monday."""
    help_text = 'write one day, e.g. draft_day = "Mon"'
    if not isinstance(value, str):
        raise CellError(f"{value!r} is not a day; {help_text}")
    try:
        return weekday(value, value)
    except CellError:
        raise CellError(f"'{value}' is not a day; {help_text}") from None


def time_setting(value: object) -> dt.time:
    """A Europe/London wall-clock time in quotes, ``"06:00"`` (a TOML time such as 06:00:00 too)."""
    if isinstance(value, dt.time) and not value.second and not value.microsecond:
        return value.replace(tzinfo=None)
    if not isinstance(value, str):
        raise CellError(f'{value!r} is not a time; write it in quotes, e.g. "06:00"')
    return parse_time(value.strip())


def rule_value(name: str, value: object) -> Any:
    """One rule, its error naming the default as a sensible value to write."""
    try:
        return RULE_PARSERS[name](value)
    except CellError as err:
        raise CellError(f"{err}; the usual value is {getattr(Rules(), name):g}") from None


def unknown_setting(section: str, name: str) -> str:
    """Name the valid keys of the section the unknown key was found in."""
    if section == "rules":
        return f"unknown rule '{name}'; the rules are {', '.join(RULE_PARSERS)}"
    if section == "weights":
        return f"unknown weight '{name}'; the weights are {', '.join(WEIGHT_NAMES)}"
    if section == "calendar":
        return f"unknown calendar setting '{name}'; the only one is bank_holidays"
    return f"unknown setting; the settings are {SECTIONS}"


def read_network(
    settings: list[Setting] | None, label: str, default_name: str, problems: list[Problem]
) -> Network:
    """Validate every setting; defaults stand in for the absent or broken ones."""
    network = Network(default_name)
    if settings is None:
        message = f"not found; using defaults (name '{default_name}', timezone {DEFAULT_TIMEZONE})"
        problems.append(Problem(label, 1, WHOLE_FILE, message, warning=True))
        return network
    seen: dict[str, int] = {}
    for setting in settings:
        if setting.key in seen:
            message = f"is set twice (first on row {seen[setting.key]}); keep one of them"
            problems.append(Problem(label, setting.line, setting.key, message))
            continue
        seen[setting.key] = setting.line
        try:
            apply_setting(network, setting.key, setting.value)
        except CellError as err:
            problems.append(Problem(label, setting.line, setting.key, str(err)))
    return network


# -- assembling the bundle ------------------------------------------------------------------


def known_ids(
    tables: Mapping[str, RawTable | None], raw: RawBundle, problems: list[Problem]
) -> Known:
    """The ids each file defines, reporting repeated ones."""
    return Known(
        sites=collect_ids(tables[SITES], "site_id", problems),
        sessions=collect_ids(tables[SESSION_TYPES], "session_id", problems),
        staff=collect_ids(tables[STAFF], "staff_id", problems),
        roles=demand_roles(tables[DEMAND]),
        labels=raw.labels,
    )


def build_bundle(raw: RawBundle) -> tuple[Bundle, list[Problem]]:
    """Validate a raw bundle completely; raise BundleError if anything is wrong."""
    if not raw.labels:
        raise BundleError(raw.problems)
    problems = list(raw.problems)
    network = read_network(raw.settings, raw.labels[NETWORK], raw.name, problems)
    rules = Rules(**network.rules)
    tables = check_tables(raw, problems)
    ctx = Context(known_ids(tables, raw, problems), rules)

    def rows(logical: str, make: Callable[[RowReader], R]) -> tuple[R, ...]:
        return tuple(convert_rows(tables[logical], ctx, make, problems))

    sites = rows(SITES, site_from)
    sessions = rows(SESSION_TYPES, session_type_from)
    ctx.sessions = {s.session_id: s for s in reversed(sessions)}  # the first of a repeated id
    problems.extend(session_overlaps(list(sessions), raw.labels[SESSION_TYPES]))
    bundle = Bundle(
        name=network.name,
        timezone=network.timezone,
        rules=rules,
        weights=Weights(**network.weights),
        sites=sites,
        session_types=sessions,
        staff=rows(STAFF, staff_from),
        demand=rows(DEMAND, demand_from),
        leave=rows(LEAVE, leave_from),
        preferences=rows(PREFERENCES, preference_from),
        fixed=rows(FIXED, fixed_from),
        travel=rows(TRAVEL, travel_from),
        forbidden_sequences=rows(FORBIDDEN_SEQUENCES, forbidden_sequence_from),
        session_limits=rows(SESSION_LIMITS, session_limit_from),
        enhanced_access=network.enhanced_access,
        enhanced_access_settings=access_settings(network),
        bank_holidays_closed=network.bank_holidays_closed,
        jobs=JobSettings(**network.jobs),
        file_labels=dict(raw.labels),
    )
    problems.extend(access_warnings(bundle, raw.settings, raw.labels[NETWORK]))
    problems.extend(repeated_trips(bundle.travel, raw.labels.get(TRAVEL, TRAVEL)))
    problems.extend(
        repeated_limits(bundle.session_limits, raw.labels.get(SESSION_LIMITS, SESSION_LIMITS))
    )
    return finish(bundle, in_file_order(problems, raw.labels))


def in_file_order(problems: list[Problem], labels: Mapping[str, str]) -> list[Problem]:
    """Problems sorted by file (network first, then the CSVs in format order) and row."""
    order = {labels.get(f, f): i for i, f in enumerate((NETWORK, *CSV_FILES))}
    return sorted(problems, key=lambda p: (order.get(p.file, len(order)), p.row))


def finish(bundle: Bundle, problems: list[Problem]) -> tuple[Bundle, list[Problem]]:
    """The bundle with its warnings, or BundleError when any problem is an error."""
    if any(not p.warning for p in problems):
        raise BundleError(problems)
    return bundle, problems


# -- public entry points ------------------------------------------------------------------


def read_bundle(source: str | Path) -> tuple[Bundle, list[Problem]]:
    """Read a bundle from a folder, an ``.xlsx`` workbook or a ``.zip``.

    A workbook takes its network settings from its ``network`` sheet (columns
    ``key,value``); without that sheet, from a ``network.toml`` beside it.
    Returns the bundle and its warnings; raises BundleError listing every
    problem when any of them is an error.
    """
    path = Path(source)
    if path.is_dir():
        return build_bundle(read_folder(path))
    if not path.is_file():
        message = "not found; give a bundle folder, a .zip or an .xlsx file"
        raise BundleError([Problem(str(path), 1, WHOLE_FILE, message)])
    if path.suffix.lower() == ".xlsx":
        toml = path.with_name(NETWORK)
        toml_bytes = toml.read_bytes() if toml.is_file() else None
        return build_bundle(read_workbook(path.read_bytes(), path.name, toml_bytes))
    return read_bundle_bytes(path.read_bytes(), path.name)


def read_bundle_bytes(data: bytes, filename: str) -> tuple[Bundle, list[Problem]]:
    """Read an uploaded bundle: a ``.zip`` of the files or an ``.xlsx`` workbook.

    An uploaded workbook has nothing beside it, so its settings come from its
    ``network`` sheet (or the defaults, with a warning).
    """
    name = PurePosixPath(filename.replace("\\", "/")).name
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".zip":
        return build_bundle(read_zip(data, name))
    if suffix == ".xlsx":
        return build_bundle(read_workbook(data, name))
    message = "unsupported file type; upload a .zip of the CSV files or an .xlsx workbook"
    raise BundleError([Problem(name, 1, WHOLE_FILE, message)])
