"""Checks across rows of a file: sessions that overlap, rows that repeat."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from scheduler.bundle.cells import MINUTES_PER_DAY, MINUTES_PER_WEEK
from scheduler.domain import (
    DAY_NAMES,
    DemandRow,
    Problem,
    SessionLimit,
    SessionType,
    Travel,
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


def repeated_demand(demand: tuple[DemandRow, ...], label: str) -> list[Problem]:
    """One row per site, session, role and skill on any date.

    Two weekday rows sharing a weekday, or two rows of the same date, are two
    answers to "how many are needed then?": the second is refused, pointing at
    the first, rather than quietly adding or replacing one with the other.
    """
    first: dict[tuple[object, ...], int] = {}
    problems = []
    for row in demand:
        days = [(row.day.date,)] if row.day.date else [(day,) for day in sorted(row.day.weekdays)]
        earlier = [first[(*row.key, *day)] for day in days if (*row.key, *day) in first]
        if earlier:
            problems.append(Problem(label, row.row, "day", _repeated_need(row, earlier[0])))
            continue
        for day in days:
            first[(*row.key, *day)] = row.row
    return problems


def _repeated_need(row: DemandRow, first: int) -> str:
    what = f"{row.role or 'anyone'}{f' with {row.skill}' if row.skill else ''}"
    return (
        f"{row.site_id} {row.session_id} already needs {what} on this day (row {first}); "
        "keep one row per site, day, session, role and skill: put the people in that "
        "row's min and target"
    )
