"""Words the explanations share: days, needs, people, and a reason for one or many."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.domain import DAY_NAMES, Staff

# --------------------------------------------------------------------------- wording


def day_label(day: dt.date) -> str:
    """``Tue 2026-12-01``: weekday names fixed in English, whatever the locale."""
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


def short_day(day: dt.date) -> str:
    """``Tue 1 Dec``: how people write a date in a rota."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} {day:%b}"


def label(role: str | None, skill: str | None) -> str:
    """A demand row's people in the manager's own terms: "PN with cytology", "anyone"."""
    who = role if role is not None else "anyone"
    return who if skill is None else f"{who} with {skill}"


def people(role: str | None, skill: str | None, count: int) -> str:
    """The row's people as a counted noun: roles stay as written, a blank role is people."""
    who = role if role is not None else ("person" if count == 1 else "people")
    return who if skill is None else f"{who} with {skill}"


def _article(word: str) -> str:
    """'a' or 'an' as the word is spoken: initialisms (HCA, FCP) by their first letter."""
    initialism = word.isupper() and len(word) <= 3
    vowel_sounds = "AEFHILMNORSX" if initialism else "AEIOU"
    return "an" if word[:1].upper() in vowel_sounds else "a"


def nobody_sentence(role: str | None, skill: str | None) -> str:
    """Leading sentence when no one in the network fits the row at all."""
    if role is not None:
        return f"nobody in the network is {_article(role)} {label(role, skill)}"
    if skill is not None:
        return f"nobody in the network has the skill {skill}"
    return "nobody is on the staff list"


def hours_words(value: float) -> str:
    """Hours without a needless ``.0``: 11 rather than 11.0."""
    return f"{value:g}"


def person_ref(person: Staff) -> str:
    """A person as the network's files name them: ``S0031 Jo Bloggs``."""
    return f"{person.staff_id} {person.name}"


def join_and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass(frozen=True)
class Wording:
    """A reason phrased for one person and for several, so the verb agrees."""

    one: str
    many: str

    def for_count(self, count: int) -> str:
        return self.one if count == 1 else self.many


@dataclass(frozen=True)
class Reason:
    """Why one person did not fill the need; only leave words differ in private."""

    public: Wording
    private: Wording
    detail: str = ""  # this person's own source, named in headlines: "fixed.csv:4"


def same_reason(one: str, many: str | None = None, detail: str = "") -> Reason:
    """A reason worded the same for everyone."""
    words = Wording(one, one if many is None else many)
    return Reason(words, words, detail)
