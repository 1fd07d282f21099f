"""Continuity of care: the same clinicians at a site's regular sessions, scored from a rota.

Patients do better seeing the same clinicians.  A *regular session* is a
site's session on a weekday, such as Hill Surgery's Tuesday morning; its
*regulars* are the people who worked it in the published weeks before the
plan (``HISTORY_WEEKS`` of them).  The solver prefers giving a regular
session to one of its regulars (``continuity``), and may limit how many
different clinicians of one role a site sees in an ISO week
(``distinct_clinicians``, only with ``[rules] max_clinicians_per_role``).

Everything here reads only a rota, the bundle and the published history,
never the solver: the penalties it computes are the independent check of
the solver's, and the summary's "87% of regular sessions kept their
clinician" is counted from the rota itself.

Choices where the issue is silent:

- The history is the last four ISO weeks before the plan, published
  versions only (drafts never count).  A session someone worked in any one
  of them makes them a regular; how often does not matter, so a clinician
  back from three weeks' leave is still a regular of their Tuesday clinic.
- Planning from files (``rotapool plan``) has no history: the goal is off and
  the summary says nothing about it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from scheduler.domain import Assignment, Bundle, parse_iso_week
from scheduler.storage.rotas import published_assignments

HISTORY_WEEKS = 4  # the published weeks before the plan whose people are the regulars

# What a solve stores in its draft's summary (usecases.planning); an edit drops them, as the
# rota they counted is gone.
SUMMARY_KEYS = ("continuity_pct", "regular_sessions", "regular_sessions_kept")

Regulars = dict[tuple[str, int, str], frozenset[str]]  # (site, weekday, session) -> staff ids


def regulars_of(history: Iterable[Assignment]) -> Regulars:
    """Who worked each (site, weekday, session) in the history."""
    found: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for a in history:
        found[(a.site_id, a.date.weekday(), a.session_id)].add(a.staff_id)
    return {slot: frozenset(people) for slot, people in found.items()}


@dataclass(frozen=True)
class Continuity:
    """How many of a rota's regular sessions went to one of their regulars."""

    regular: int  # sessions of the rota at a (site, weekday, session) someone worked before
    kept: int  # of those, the sessions worked by one of its regulars

    @property
    def new_faces(self) -> int:
        return self.regular - self.kept

    @property
    def pct(self) -> float | None:
        """The share kept, in per cent to one decimal; None without a regular session."""
        return round(100.0 * self.kept / self.regular, 1) if self.regular else None

    def figures(self) -> dict[str, object]:
        """The figures a solve stores with its draft, under ``SUMMARY_KEYS``."""
        return dict(zip(SUMMARY_KEYS, (self.pct, self.regular, self.kept), strict=True))

    def sentence(self) -> str:
        """The solve summary's line, e.g. "87% of regular sessions kept their clinician ..."."""
        if not self.regular:
            return "No session of this plan was worked in the last published weeks."
        return (
            f"{self.pct:g}% of regular sessions kept their clinician from the last published "
            f"weeks ({self.kept} of {self.regular})."
        )


def continuity_of(regulars: Regulars, rota: Iterable[Assignment]) -> Continuity:
    """Count the rota's regular sessions and those its regulars kept."""
    regular = kept = 0
    for a in rota:
        people = regulars.get((a.site_id, a.date.weekday(), a.session_id))
        if people:
            regular += 1
            kept += a.staff_id in people
    return Continuity(regular, kept)


def clinicians_beyond_limit(bundle: Bundle, rota: Iterable[Assignment]) -> dict[tuple, int]:
    """Per (site, role, ISO week), the different clinicians beyond the network's limit."""
    limit = bundle.rules.max_clinicians_per_role
    if not limit:
        return {}
    roles = {p.staff_id: p.role for p in bundle.staff}
    seen: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for a in rota:
        if a.staff_id in roles:
            seen[(a.site_id, roles[a.staff_id], f"{a.date:%G-W%V}")].add(a.staff_id)
    return {key: len(people) - limit for key, people in seen.items() if len(people) > limit}


def penalties(bundle: Bundle, rota: Iterable[Assignment]) -> dict[str, float]:
    """The two goals' penalty points of a rota, as the solver's objective should count them."""
    rota = tuple(rota)
    weights = bundle.weights
    new_faces = continuity_of(bundle.previous_sessions, rota).new_faces
    extra = sum(clinicians_beyond_limit(bundle, rota).values())
    return {
        "continuity": weights.continuity * new_faces,
        "distinct_clinicians": weights.distinct_clinicians * extra,
    }


# --------------------------------------------------------------------------- from the database


def history_before(
    session: Session, network_id: int, week: str, weeks: int = HISTORY_WEEKS
) -> list[Assignment]:
    """The published sessions of the ``weeks`` ISO weeks just before ``week``."""
    monday = parse_iso_week(week)[0]
    first, last = monday - dt.timedelta(weeks=weeks), monday - dt.timedelta(days=1)
    return published_assignments(session, network_id, first, last)


def with_previous_sessions(session: Session, network_id: int, bundle: Bundle, week: str) -> Bundle:
    """The bundle carrying the regulars of the weeks before ``week`` into the solver."""
    regulars = regulars_of(history_before(session, network_id, week))
    return dataclasses.replace(bundle, previous_sessions=regulars)
