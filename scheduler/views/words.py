"""Plain words for what the solver reports: no "bound", "gap" or "feasible" where people look."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PROVEN = 1e-6  # a gap this small is the solver's proof that no better rota exists

STATUS_WORDS = {
    "optimal": "planned: the best possible rota, proven",
    "feasible": "planned: a valid rota (time ran out before it was proven the best)",
    "edited": "edited by hand",
    "repaired": "repaired after an absence",
    "conflict": "not planned: the rules contradict each other",
    "no_solution": "not planned: no valid rota was found in the time allowed",
}


def status_words(status: str | None) -> str:
    """How a stored rota came to be, in words."""
    if not status:
        return "unknown"
    return STATUS_WORDS.get(status, status.replace("_", " "))


def quality_words(gap: float | None, found: bool) -> str:
    """How close a rota is to the best possible one: ``proven``, or ``at most N%`` from it."""
    if not found:
        return "no rota found yet"
    if gap is None:
        return "not known yet"
    if gap <= PROVEN:
        return "the best possible rota is proven"
    return f"at most {gap * 100:.1f}% from the best possible"


LONDON = ZoneInfo("Europe/London")


def local_moment(moment: dt.datetime) -> str:
    """``Mon 7 Dec 14:05``: a stored (UTC) moment as people in England read it."""
    local = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    local = local.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %H:%M}"
