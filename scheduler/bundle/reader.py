"""Read a scenario bundle and validate it completely (see docs/scenario-format.md).

The product's first promise is a useful answer to a broken bundle: every
problem at once, each addressed as ``FILE:ROW: column: message`` and saying
what to do about it.  So nothing here stops at the first error: each cell is
parsed by a small parser for its kind of column, each file by a table spec
and a row converter, and all problems are collected; only at the end does
the import fail (``BundleError``) or return the frozen domain ``Bundle``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TypeVar

from scheduler.bundle.cells import BundleError
from scheduler.bundle.consistency import (
    repeated_demand,
    repeated_limits,
    repeated_trips,
)
from scheduler.bundle.rows import (
    building_from,
    demand_from,
    fixed_from,
    forbidden_sequence_from,
    leave_from,
    preference_from,
    session_limit_from,
    session_type_from,
    site_from,
    staff_from,
    travel_from,
)
from scheduler.bundle.settings import (
    access_settings,
    access_warnings,
    availability_problems,
    read_network,
)
from scheduler.bundle.specs import (
    Context,
    Known,
    RowReader,
    check_tables,
    collect_ids,
    convert_rows,
    demand_roles,
    named_values,
)
from scheduler.bundle.tables import (
    CSV_FILES,
    MAX_ROWS,
    WHOLE_FILE,
    RawBundle,
    RawTable,
    read_folder,
    read_workbook,
    read_zip,
)
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
    Bundle,
    Problem,
    Rules,
    Weights,
)
from scheduler.network_settings import (
    AvailabilitySettings,
    JobSettings,
    OpenSessionSettings,
    SwapSettings,
)

R = TypeVar("R")

# -- assembling the bundle ------------------------------------------------------------------


def known_ids(
    tables: Mapping[str, RawTable | None], raw: RawBundle, problems: list[Problem]
) -> Known:
    """The ids each file defines, reporting repeated ones."""
    buildings = collect_ids(tables[BUILDINGS], "building", problems)
    if buildings is None and BUILDINGS not in raw.tables:
        buildings = frozenset()  # no buildings.csv: a site naming a building is an error
    return Known(
        sites=collect_ids(tables[SITES], "site_id", problems),
        buildings=buildings,
        organisations=named_values(tables[SITES], "organisation"),
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
        buildings=rows(BUILDINGS, building_from),
        enhanced_access=network.enhanced_access,
        enhanced_access_settings=access_settings(network),
        bank_holidays_closed=network.bank_holidays_closed,
        jobs=JobSettings(**network.jobs),
        open_sessions=OpenSessionSettings(**network.open_sessions),
        swaps=SwapSettings(**network.swaps),
        availability=AvailabilitySettings(**network.availability),
        file_labels=dict(raw.labels),
    )
    problems.extend(access_warnings(bundle, raw.settings, raw.labels[NETWORK]))
    problems.extend(availability_problems(network, raw.settings, raw.labels[NETWORK]))
    problems.extend(repeated_demand(bundle.demand, raw.labels.get(DEMAND, DEMAND)))
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


def read_bundle(
    source: str | Path, caps: Mapping[str, int] = MAX_ROWS
) -> tuple[Bundle, list[Problem]]:
    """Read a bundle from a folder, an ``.xlsx`` workbook or a ``.zip``.

    A workbook takes its network settings from its ``network`` sheet (columns
    ``key,value``); without that sheet, from a ``network.toml`` beside it.
    Returns the bundle and its warnings; raises BundleError listing every
    problem when any of them is an error.  ``caps`` are the most rows each
    file may have (``tables.MAX_ROWS`` for the files it does not name).
    """
    path = Path(source)
    if path.is_dir():
        return build_bundle(read_folder(path, caps))
    if not path.is_file():
        message = "not found; give a bundle folder, a .zip or an .xlsx file"
        raise BundleError([Problem(str(path), 1, WHOLE_FILE, message)])
    if path.suffix.lower() == ".xlsx":
        toml = path.with_name(NETWORK)
        toml_bytes = toml.read_bytes() if toml.is_file() else None
        return build_bundle(read_workbook(path.read_bytes(), path.name, toml_bytes, caps))
    return read_bundle_bytes(path.read_bytes(), path.name, caps)


def read_bundle_bytes(
    data: bytes, filename: str, caps: Mapping[str, int] = MAX_ROWS
) -> tuple[Bundle, list[Problem]]:
    """Read an uploaded bundle: a ``.zip`` of the files or an ``.xlsx`` workbook.

    An uploaded workbook has nothing beside it, so its settings come from its
    ``network`` sheet (or the defaults, with a warning).
    """
    name = PurePosixPath(filename.replace("\\", "/")).name
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".zip":
        return build_bundle(read_zip(data, name, caps))
    if suffix == ".xlsx":
        return build_bundle(read_workbook(data, name, caps=caps))
    message = "unsupported file type; upload a .zip of the CSV files or an .xlsx workbook"
    raise BundleError([Problem(name, 1, WHOLE_FILE, message)])
