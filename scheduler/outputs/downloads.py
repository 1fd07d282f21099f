"""A week's exports as in-memory downloads, named for the network and week."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scheduler.checks.validator import CoverageLine
from scheduler.domain import (
    Assignment,
    Bundle,
)
from scheduler.outputs.exports import write_exports

# --------------------------------------------------------------------------- exports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES: dict[str, str] = {
    "rota.csv": "text/csv; charset=utf-8",
    "coverage.csv": "text/csv; charset=utf-8",
    "recharges.csv": "text/csv; charset=utf-8",
    "rota.xlsx": XLSX,
}


def export_bytes(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Sequence[Assignment],
    coverage: Sequence[CoverageLine],
    name: str,
) -> bytes:
    """One export file, byte for byte what ``rotapool export`` writes for the same rota.

    The files are written by the export code itself into a scratch folder,
    so a download can never drift from the command line's file.
    """
    if name not in EXPORT_TYPES:
        raise KeyError(f"{name!r} is not one of {', '.join(EXPORT_TYPES)}")
    with tempfile.TemporaryDirectory(prefix="rotapool-export-") as tmp:
        write_exports(Path(tmp), bundle, dates, assignments, coverage)
        return (Path(tmp) / name).read_bytes()


def download_name(network_name: str, week: str, name: str) -> str:
    """``Tiny-Test-Network-2026-W49-rota.csv``: safe in any file system and header."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", network_name).strip("-") or "network"
    return f"{slug}-{week}-{name}"
