"""Importing a bundle a manager uploaded through the web app.

The same all-or-nothing rule as ``rotapool import`` (``usecases.import_bundle``):
every file is read and validated before the database is touched, and the
network is saved in the caller's transaction.  Two things differ, and are
why this is not that function: a manager of one network may only replace
that network (checked before anything is saved), and the audit entry is
written in the same transaction as the import, so neither exists without
the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy.orm import Session

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle_bytes
from scheduler.bundle.tables import MAX_ROWS
from scheduler.domain import NETWORK, Bundle, Problem
from scheduler.storage import audit
from scheduler.storage.models.network import NetworkRecord
from scheduler.storage.repository import save_bundle

UPLOAD_SUFFIXES = (".zip", ".xlsx")
WHOLE_FILE = "(file)"
UNKNOWN_ROW = 0  # the settings do not keep the line a key was on


class ImportRefusedError(PermissionError):
    """The account may not import this bundle; ``problem`` says which field and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class ImportResult:
    """What an import stored: the network, how many rows of each file, and the warnings."""

    network_id: int
    name: str
    counts: dict[str, int]
    warnings: tuple[Problem, ...]


def upload_type_problem(filename: str) -> Problem | None:
    """A problem when the upload is neither a .zip nor an .xlsx (checked before reading it)."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    if not name:
        return Problem("file", 1, WHOLE_FILE, "choose a .zip of the CSV files or an .xlsx workbook")
    if PurePosixPath(name).suffix.lower() not in UPLOAD_SUFFIXES:
        message = (
            "is neither a .zip nor an .xlsx; upload a .zip of the bundle's CSV files "
            "and network.toml, or an .xlsx workbook with one sheet per file"
        )
        return Problem(name, 1, WHOLE_FILE, message)
    return None


def bundle_counts(bundle: Bundle) -> dict[str, int]:
    """Rows of each table of the bundle, for the confirmation and the audit entry."""
    return {
        "sites": len(bundle.sites),
        "session types": len(bundle.session_types),
        "staff": len(bundle.staff),
        "demand rows": len(bundle.demand),
        "leave rows": len(bundle.leave),
        "preferences": len(bundle.preferences),
        "fixed sessions": len(bundle.fixed),
        "travel times": len(bundle.travel),
        "forbidden sequences": len(bundle.forbidden_sequences),
        "session limits": len(bundle.session_limits),
    }


def check_network_scope(session: Session, bundle: Bundle, network_id: int | None) -> None:
    """A manager of one network may only import that network's bundle (same ``name``)."""
    if network_id is None:
        return
    network = session.get(NetworkRecord, network_id)
    own = network.name if network is not None else f"network {network_id}"
    if bundle.name != own:
        message = (
            f"this bundle is for the network {bundle.name!r}, but your account manages "
            f"{own!r}; set name = {own!r} in network.toml, or ask a manager of every "
            "network to import it"
        )
        raise ImportRefusedError(Problem(bundle.label(NETWORK), UNKNOWN_ROW, "name", message))


def import_upload(
    session: Session,
    data: bytes,
    filename: str,
    actor: str,
    network_id: int | None,
    *,
    caps: Mapping[str, int] = MAX_ROWS,
) -> ImportResult:
    """Validate an uploaded bundle, then save it and audit it in ``session``'s transaction.

    Raises ``BundleError`` (every problem, nothing saved) or
    ``ImportRefusedError`` (another network's bundle, nothing saved).
    ``network_id`` is the account's network (None: any network).
    """
    wrong_type = upload_type_problem(filename)
    if wrong_type is not None:
        raise BundleError([wrong_type])
    bundle, warnings = read_bundle_bytes(data, filename, caps)
    check_network_scope(session, bundle, network_id)
    saved = save_bundle(session, bundle)
    counts = bundle_counts(bundle)
    audit.record(
        session,
        actor,
        "bundle imported",
        bundle.name,
        network_id=saved,
        after={"network": bundle.name, "file": filename, "counts": counts},
    )
    return ImportResult(saved, bundle.name, counts, tuple(warnings))
