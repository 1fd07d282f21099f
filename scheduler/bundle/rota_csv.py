"""Read a rota.csv back (hand-edited ones included) for the independent check."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from scheduler.domain import Assignment, Problem

REQUIRED = ("date", "session_id", "site_id", "staff_id")


class RotaFileError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def read_rota_csv(path: Path) -> list[Assignment]:
    """Assignments of a rota.csv; every unreadable row is reported with its line number."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise RotaFileError(
            [Problem(name, line, "(file)", "not UTF-8 text; save it as CSV UTF-8")]
        ) from err
    except OSError as err:
        raise RotaFileError([Problem(name, 1, "(file)", f"cannot read: {err.strerror}")]) from err
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise RotaFileError([Problem(name, 1, c, "missing required column") for c in missing])
    problems: list[Problem] = []
    out: list[Assignment] = []
    for row in reader:
        line = reader.line_num
        values = {c: (row.get(c) or "").strip() for c in REQUIRED}
        blank = [c for c in REQUIRED if not values[c]]
        problems += [Problem(name, line, c, "blank; fill it in") for c in blank]
        try:
            day = dt.date.fromisoformat(values["date"])
        except ValueError:
            if values["date"]:
                problems.append(Problem(name, line, "date", "not a date; write YYYY-MM-DD"))
            continue
        if not blank:
            out.append(Assignment(day, values["session_id"], values["site_id"], values["staff_id"]))
    if problems:
        raise RotaFileError(problems)
    return out
