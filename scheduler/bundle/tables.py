"""Raw tables of a bundle: the files as text cells with their line numbers.

This is the only module that knows about file formats (CSV folders, zips,
Excel workbooks, TOML).  It turns any of them into the same shape -- a
``RawTable`` of stripped text cells per line, and a list of network
``Setting`` values -- so that validation in ``scheduler.bundle`` is written
once.  Line numbers are kept exactly as an editor or spreadsheet shows them
(header = 1), blank lines included, because every message points at one.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import tomllib
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from scheduler.domain import (
    BUILDINGS,
    DEMAND,
    FIXED,
    FORBIDDEN_SEQUENCES,
    LEAVE,
    NETWORK,
    PREFERENCES,
    SESSION_LIMITS,
    SESSION_TYPES,
    SITES,
    STAFF,
    TRAVEL,
    Problem,
)

CSV_FILES: tuple[str, ...] = (
    SITES,
    BUILDINGS,
    SESSION_TYPES,
    STAFF,
    DEMAND,
    LEAVE,
    PREFERENCES,
    FIXED,
    TRAVEL,
    FORBIDDEN_SEQUENCES,
    SESSION_LIMITS,
)
# The most rows each file may have.  A 60-practice federation has 2,500 demand rows
# and 600 people; a year of dated demand for a 70-site network about 250,000.  A file
# beyond its cap is refused before it is parsed: the page of a week with hundreds of
# thousands of needs would take minutes, and memory to match.  IMPORT_MAX_ROWS (the
# deployment's settings) changes any of them; docs/configuration.md lists them.
MAX_ROWS: Mapping[str, int] = {
    SITES: 2_000,
    BUILDINGS: 2_000,
    SESSION_TYPES: 500,
    STAFF: 20_000,
    DEMAND: 300_000,
    LEAVE: 200_000,
    PREFERENCES: 200_000,
    FIXED: 200_000,
    TRAVEL: 500_000,
    FORBIDDEN_SEQUENCES: 10_000,
    SESSION_LIMITS: 200_000,
}
NETWORK_SHEET = "network"
WHOLE_FILE = "(file)"
SAVE_AS_UTF8 = "save the file as 'CSV UTF-8' and try again"
IGNORED_ZIP_PARTS = ("__MACOSX", ".DS_Store")
MEGABYTE = 1024 * 1024
# What a zip (an .xlsx is one too) may hold once unpacked.  A real bundle is a few MB;
# a small upload that unpacks to gigabytes ("zip bomb") is refused before it is read.
MAX_UNPACKED_BYTES = 50 * MEGABYTE
# A damaged or encrypted member, or one packed with a method Python cannot unpack.
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)
EXCEL_TIME_DATES = frozenset({dt.date(1899, 12, 30)})  # Excel day 0


@dataclass(frozen=True)
class RawRow:
    """One non-blank line of a table: cells by (normalised) column name."""

    line: int
    cells: Mapping[str, str]
    extra: tuple[str, ...] = ()  # non-blank cells to the right of the header


@dataclass(frozen=True)
class RawTable:
    """One file (or sheet) of the bundle as text, before any validation."""

    logical: str
    label: str
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]
    header_line: int = 1


@dataclass(frozen=True)
class Setting:
    """One network setting, addressed by its dotted key (``rules.min_rest_hours``)."""

    key: str
    value: object
    line: int


@dataclass
class RawBundle:
    """Everything read from a source, plus the problems met while reading it."""

    name: str
    labels: dict[str, str]
    tables: dict[str, RawTable] = field(default_factory=dict)
    settings: list[Setting] | None = None  # None = no network settings found
    problems: list[Problem] = field(default_factory=list)


# -- cell normalisation ------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as the text a CSV would hold, so typed workbook cells parse like CSV text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return temporal_text(value)
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def temporal_text(value: dt.datetime | dt.date | dt.time) -> str:
    """Dates as ISO dates and times as HH:MM, the way the CSV format writes them."""
    if isinstance(value, dt.datetime) and value.date() in EXCEL_TIME_DATES:
        return temporal_text(value.time())  # a time of day stored with Excel's zero date
    if isinstance(value, dt.datetime):
        midnight = value.time() == dt.time(0, 0)
        return value.date().isoformat() if midnight else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def frame_rows(frame: pd.DataFrame) -> list[list[str]]:
    """A header-less DataFrame as lists of text cells; list index + 1 = line number."""
    return [[cell_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def build_table(logical: str, label: str, lines: list[list[str]]) -> RawTable:
    """Take the first non-blank line as the header and keep every later non-blank line."""
    start = next((i for i, cells in enumerate(lines) if any(cells)), len(lines))
    header_cells = lines[start] if start < len(lines) else []
    width = max((i + 1 for i, c in enumerate(header_cells) if c), default=0)
    header = tuple(c.strip().lower() for c in header_cells[:width])
    rows = []
    for index in range(start + 1, len(lines)):
        cells = lines[index]
        if not any(c.strip() for c in cells):
            continue
        values = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
        extra = tuple(c for c in cells[width:] if c.strip())
        rows.append(RawRow(index + 1, values, extra))
    return RawTable(logical, label, header, tuple(rows), start + 1)


# -- CSV ---------------------------------------------------------------------------


def decode(data: bytes, label: str) -> tuple[str | None, Problem | None]:
    """UTF-8 text (a byte-order mark is dropped); any other encoding names the bad line."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        byte = data[err.start]
        message = f"byte 0x{byte:02X} is not UTF-8 text (the file is in another encoding); "
        return None, Problem(label, line, WHOLE_FILE, message + SAVE_AS_UTF8)


def csv_lines(text: str) -> list[list[str]]:
    """Parse CSV text with pandas, keeping blank lines so row numbers match the file.

    Windows line ends are made plain first: with blank lines kept, pandas would
    otherwise count each CR LF as two lines.
    """
    text = text.replace("\r\n", "\n")
    if not text.strip():
        return []
    width = max(line.count(",") for line in text.splitlines()) + 1
    frame = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=list(range(width)),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
    )
    return frame_rows(frame)


def read_csv_table(
    logical: str, label: str, data: bytes, caps: Mapping[str, int] = MAX_ROWS
) -> tuple[RawTable | None, list[Problem]]:
    """One CSV file as a raw table, or the reason it cannot be read."""
    text, problem = decode(data, label)
    if text is None:
        return None, [problem] if problem else []
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    too_many = over_cap(logical, label, count - 1, caps)  # the header is not a row
    if too_many is not None:  # counted before parsing: a huge file is not parsed at all
        return None, [too_many]
    try:
        lines = csv_lines(text)
    except (pd.errors.ParserError, ValueError) as err:
        message = f"cannot read the file as CSV ({err}); {SAVE_AS_UTF8}"
        return None, [Problem(label, 1, WHOLE_FILE, message)]
    return build_table(logical, label, lines), []


def row_caps(setting: object) -> dict[str, int]:
    """``IMPORT_MAX_ROWS`` (a mapping of file name to rows) over the defaults; ValueError
    naming the setting when it cannot be used."""
    if setting is None or setting == "":
        return dict(MAX_ROWS)
    if not isinstance(setting, Mapping):
        raise ValueError('IMPORT_MAX_ROWS: give file names and rows, e.g. {"demand.csv": 400000}')
    caps = dict(MAX_ROWS)
    for name, rows in setting.items():
        if name not in MAX_ROWS:
            raise ValueError(
                f"IMPORT_MAX_ROWS: {name!r} is not a bundle file ({', '.join(MAX_ROWS)})"
            )
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise ValueError(f"IMPORT_MAX_ROWS: give {name} a whole number of rows above 0")
        caps[name] = rows
    return caps


def over_cap(logical: str, label: str, rows: int, caps: Mapping[str, int]) -> Problem | None:
    """The whole-file error of a file with more rows than its cap (header not counted)."""
    cap = caps.get(logical, MAX_ROWS[logical])
    if rows <= cap:
        return None
    message = (
        f"has {rows:,} rows, more than the {cap:,} a bundle may have in {logical}; "
        "remove repeated rows, or ask the administrator to raise IMPORT_MAX_ROWS"
    )
    return Problem(label, 1, WHOLE_FILE, message)


def tables_from_csv_files(
    files: Mapping[str, bytes], name: str, caps: Mapping[str, int] = MAX_ROWS
) -> RawBundle:
    """A bundle from file name -> bytes (a folder or a zip): CSVs plus network.toml."""
    raw = RawBundle(name, {f: f for f in (*CSV_FILES, NETWORK)})
    by_name = {PurePosixPath(k).name.lower(): v for k, v in files.items()}
    for logical in CSV_FILES:
        if logical in by_name:
            table, problems = read_csv_table(logical, logical, by_name[logical], caps)
            raw.problems.extend(problems)
            if table is not None:
                raw.tables[logical] = table
    for extra in sorted(set(by_name) - {*CSV_FILES, NETWORK}):
        if extra.endswith(".csv"):
            raw.problems.append(unknown_file(extra, extra))
    if NETWORK in by_name:
        raw.settings = settings_from_toml(by_name[NETWORK], NETWORK, raw.problems)
    return raw


def unknown_file(label: str, name: str) -> Problem:
    """A warning for a file or sheet that is not part of the bundle format."""
    known = ", ".join(CSV_FILES)
    message = f"'{name}' is not a bundle file and is ignored; the files are {known}"
    return Problem(label, 1, WHOLE_FILE, message, warning=True)


def read_folder(folder: Path, caps: Mapping[str, int] = MAX_ROWS) -> RawBundle:
    """A folder of CSV files plus network.toml; the folder name is the default network name."""
    paths = [p for p in sorted(folder.iterdir()) if p.is_file()]
    clash = ambiguous(p.name for p in paths)
    if clash:
        return unreadable(folder.name, f"holds {clash}; keep one of each and import again")
    return tables_from_csv_files({p.name: p.read_bytes() for p in paths}, folder.name, caps)


def ambiguous(names: Iterable[str]) -> str:
    """Entries that would be read as the same bundle file (names that differ only in case,
    or the same name twice in a zip), in words; '' when there are none."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(PurePosixPath(name).name.lower(), []).append(name)
    clashes = [found for found in groups.values() if len(found) > 1]
    return "; ".join(
        f"{len(found)} entries for {PurePosixPath(found[0]).name.lower()} "
        f"({', '.join(sorted(found))})"
        for found in sorted(clashes)
    )


def read_zip(data: bytes, filename: str, caps: Mapping[str, int] = MAX_ROWS) -> RawBundle:
    """A zip of the bundle files, either at the top level or inside one folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return unreadable(filename, "is not a readable zip file; zip the bundle folder again")
    with archive:
        members = [m for m in archive.infolist() if usable_member(m)]
        too_big = unpacked_size_problem(members, filename)
        if too_big is not None:
            return too_big
        clash = ambiguous(m.filename for m in members)
        if clash:
            return unreadable(filename, f"holds {clash}; keep one of each and zip again")
        try:
            files = {m.filename: archive.read(m) for m in members}
        except ZIP_READ_ERRORS:
            return unreadable(filename, "is damaged or encrypted; zip the bundle folder again")
    folders = {PurePosixPath(name).parts[0] for name in files if len(PurePosixPath(name).parts) > 1}
    nested = len(folders) == 1 and all(len(PurePosixPath(n).parts) == 2 for n in files)
    name = folders.pop() if nested else PurePosixPath(filename).stem
    if not nested and any(len(PurePosixPath(n).parts) > 1 for n in files):
        message = "put the bundle files at the top of the zip or inside one folder"
        return unreadable(filename, message)
    return tables_from_csv_files(files, name, caps)


def unpacked_size_problem(members: Iterable[zipfile.ZipInfo], label: str) -> RawBundle | None:
    """A whole-file error when the members would unpack to more than a bundle can be.

    The sizes come from the zip's directory; Python never unpacks a member
    beyond its stated size, so checking them first bounds the memory used.
    """
    total = sum(m.file_size for m in members)
    if total <= MAX_UNPACKED_BYTES:
        return None
    message = (
        f"unpacks to {total // MEGABYTE} MB, more than the {MAX_UNPACKED_BYTES // MEGABYTE} MB "
        "a bundle may be; put only the bundle's CSV files and network.toml in it"
    )
    return unreadable(label, message)


def workbook_size_problem(data: bytes, label: str) -> RawBundle | None:
    """``unpacked_size_problem`` for a workbook (an .xlsx is a zip of XML files)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return unpacked_size_problem(archive.infolist(), label)
    except zipfile.BadZipFile:
        return None  # not a zip at all: the Excel reader says what is wrong with it


def usable_member(member: zipfile.ZipInfo) -> bool:
    """Skip folders and the clutter some zip tools add."""
    parts = PurePosixPath(member.filename).parts
    return not member.is_dir() and not any(p in IGNORED_ZIP_PARTS for p in parts)


def unreadable(label: str, message: str) -> RawBundle:
    """A bundle with nothing but one whole-file error."""
    raw = RawBundle(PurePosixPath(label).stem, {})
    raw.problems.append(Problem(label, 1, WHOLE_FILE, message))
    return raw


# -- Excel -------------------------------------------------------------------------


def read_workbook(
    data: bytes,
    filename: str,
    network_toml: bytes | None = None,
    caps: Mapping[str, int] = MAX_ROWS,
) -> RawBundle:
    """An .xlsx workbook: one sheet per CSV file (sheet ``staff`` = staff.csv).

    Network settings come from a ``network`` sheet with columns ``key,value``
    (keys such as ``name``, ``rules.min_rest_hours``, ``weights.cost``); when
    the workbook has no such sheet, from ``network_toml`` (the network.toml
    beside the workbook) if given.
    """
    book = PurePosixPath(filename).name
    too_big = workbook_size_problem(data, book)
    if too_big is not None:
        return too_big
    try:
        early = workbook_outline_problem(data, book, caps)
        if early is not None:
            return early
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object)
    except Exception as err:  # openpyxl raises many types for a damaged file
        return unreadable(book, f"cannot open the workbook ({err}); save it again as .xlsx")
    by_name = {str(k).strip().lower(): v for k, v in sheets.items()}
    raw = RawBundle(PurePosixPath(book).stem, sheet_labels(book))
    for logical in CSV_FILES:
        sheet = logical.removesuffix(".csv")
        if sheet in by_name:
            too_many = over_cap(logical, raw.labels[logical], len(by_name[sheet]) - 1, caps)
            if too_many is not None:
                raw.problems.append(too_many)
                continue
            lines = frame_rows(by_name[sheet])
            raw.tables[logical] = build_table(logical, raw.labels[logical], lines)
    add_workbook_settings(raw, by_name.get(NETWORK_SHEET), network_toml)
    known = {f.removesuffix(".csv") for f in CSV_FILES} | {NETWORK_SHEET}
    for extra in sorted(set(by_name) - known):
        raw.problems.append(unknown_file(f"{book}[{extra}]", extra))
    return raw


def workbook_outline_problem(data: bytes, book: str, caps: Mapping[str, int]) -> RawBundle | None:
    """Refuse, before any cell is parsed, a workbook whose sheet names clash once case and
    spaces are ignored ("Staff" and "staff "), or whose sheet says it holds more rows than
    its table may have. The row count is the one the file declares; the parsed count is
    checked again afterwards."""
    import openpyxl  # noqa: PLC0415 - loaded only when a workbook is imported

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        names = [str(sheet.title) for sheet in workbook.worksheets]
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(name.strip().lower(), []).append(name)
        clashes = sorted(found for found in groups.values() if len(found) > 1)
        if clashes:
            listed = "; ".join(", ".join(repr(name) for name in found) for found in clashes)
            return unreadable(book, f"has sheets read as the same table ({listed}); keep one")
        labels = sheet_labels(book)
        for sheet in workbook.worksheets:
            logical = f"{str(sheet.title).strip().lower()}.csv"
            declared = sheet.max_row
            if logical in labels and declared is not None:
                too_many = over_cap(logical, labels[logical], declared - 1, caps)
                if too_many is not None:
                    raw = RawBundle(PurePosixPath(book).stem, {})  # nothing else is read
                    raw.problems.append(too_many)
                    return raw
    finally:
        workbook.close()
    return None


def sheet_labels(book: str) -> dict[str, str]:
    """How each logical file of a workbook is named in messages: ``net.xlsx[staff]``."""
    labels = {f: f"{book}[{f.removesuffix('.csv')}]" for f in CSV_FILES}
    labels[NETWORK] = f"{book}[{NETWORK_SHEET}]"
    return labels


def add_workbook_settings(
    raw: RawBundle, sheet: pd.DataFrame | None, network_toml: bytes | None
) -> None:
    """Settings from the network sheet, else from a network.toml beside the workbook."""
    if sheet is not None:
        raw.settings = settings_from_sheet(frame_rows(sheet), raw.labels[NETWORK], raw.problems)
    elif network_toml is not None:
        raw.labels[NETWORK] = NETWORK
        raw.settings = settings_from_toml(network_toml, NETWORK, raw.problems)


def settings_from_sheet(
    lines: list[list[str]], label: str, problems: list[Problem]
) -> list[Setting]:
    """The ``key,value`` rows of a network sheet; a key may appear once."""
    table = build_table(NETWORK, label, lines)
    missing = [c for c in ("key", "value") if c not in table.header]
    for column in missing:
        message = f"missing column '{column}'; the network sheet needs columns key,value"
        problems.append(Problem(label, table.header_line, column, message))
    if missing:
        return []
    rows = [r for r in table.rows if r.cells["key"]]
    return [Setting(r.cells["key"].lower(), r.cells["value"], r.line) for r in rows]


# -- TOML --------------------------------------------------------------------------


def settings_from_toml(data: bytes, label: str, problems: list[Problem]) -> list[Setting]:
    """network.toml flattened to dotted keys, each with the line it is written on."""
    text, problem = decode(data, label)
    if text is None:
        problems.extend([problem] if problem else [])
        return []
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        problems.append(toml_error(err, label))
        return []
    lines = toml_key_lines(text)
    return [Setting(key, value, lines.get(key, 1)) for key, value in flatten(document)]


def toml_error(err: tomllib.TOMLDecodeError, label: str) -> Problem:
    """A TOML syntax error at the line the parser names."""
    found = re.search(r"line (\d+)", str(err))
    line = int(found.group(1)) if found else 1
    message = f'not valid TOML ({err}); fix the syntax there (text needs quotes: name = "X")'
    return Problem(label, line, WHOLE_FILE, message)


def flatten(document: Mapping[str, object], prefix: str = "") -> Iterable[tuple[str, object]]:
    """Nested TOML tables as (dotted key, value) pairs, in document order."""
    for key, value in document.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


TABLE_LINE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\- ]+?)\s*\]")
KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_.\-\"' ]+?)\s*=")


def toml_key_lines(text: str) -> dict[str, int]:
    """Where each dotted key is written, by a light scan of ``[table]`` and ``key =`` lines."""
    found: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if heading := TABLE_LINE.match(line):
            table = heading.group(1).replace(" ", "") + "."
        elif key := KEY_LINE.match(line):
            name = key.group(1).replace('"', "").replace("'", "").replace(" ", "")
            found.setdefault(table + name, number)
    return found
