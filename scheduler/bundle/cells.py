"""One small parser per kind of column: ids, times, dates, days, numbers, choices.

Each takes the stripped text of one cell and returns a value or raises
``CellError`` with a message that says what is wrong and what to write
instead; the row reader adds the file, row and column.  ``BundleError`` is
what an import raises with every problem found."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TypeVar

from scheduler.domain import (
    DAY_NAMES,
    FEDERATION,
    DayRule,
    Problem,
)

T = TypeVar("T")
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


CONTROL = (
    "holds a control character ({name}); write the value on one line, without line breaks or tabs"
)
CONTROL_NAMES = {"\n": "a line break", "\r": "a line break", "\t": "a tab"}


def control_character(value: object) -> str | None:
    """What is wrong with a text (or list of texts) holding a control character, or None.

    Names, ids and notes end up in pages, exports and calendar files, where a line
    break would break the line it stands in (a calendar's, an e-mail's).
    """
    texts = value if isinstance(value, list | tuple) else [value]
    for text in texts:
        if not isinstance(text, str):
            continue
        for char in text:
            if unicodedata.category(char) == "Cc":
                name = CONTROL_NAMES.get(char, f"character {ord(char):#04x}")
                return CONTROL.format(name=name)
    return None


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


YES = ("yes", "y", "true", "1")
NO = ("no", "n", "false", "0")


def parse_yes_no(text: str) -> bool:
    """``yes`` or ``no`` (any case; ``true``/``false`` and ``1``/``0`` too)."""
    word = text.strip().lower()
    if word in YES or word in NO:
        return word in YES
    raise CellError(f"'{text}' is not yes or no; write yes or no")


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
