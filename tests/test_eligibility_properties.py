"""Who may take a place (an open session) or an offer (a swap or give-away) is exactly whom
the independent validator accepts, checking the whole week, on random small networks.

The networks and their valid rotas are the capacity check's (``tests.test_capacity``):
most of the rules a person can break, rooms, travel, leave and session limits.
"""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import HealthCheck, given, settings

from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment, Bundle
from scheduler.horizon import Horizon
from scheduler.usecases.open_sessions import OpenSession, who_may_book
from scheduler.usecases.swaps import Swap, breaks
from tests.factories import WEEK
from tests.test_capacity import ROLES, networks, random_network

WEEK_LABEL = "2026-W49"
OFFERED = dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)
PROPERTY = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def accepted(bundle: Bundle, rota: frozenset[Assignment], after: frozenset[Assignment]) -> bool:
    """The validator's verdict on the whole week: the change breaks no hard rule that the
    rota (valid to start with) did not already break."""
    assert check_rota(bundle, WEEK, rota).ok
    return check_rota(bundle, WEEK, after).ok


def places(bundle: Bundle, seed: int) -> list[OpenSession]:
    """A place at each of a few needed cells, for a random role (or anyone) and skill."""
    rng = random.Random(seed)
    needs = sorted({(n.date, n.session_id, n.site_id) for n in Horizon(bundle, WEEK).needs})
    return [
        OpenSession(
            id=i,
            network_id=1,
            week=WEEK_LABEL,
            date=day,
            session_id=session_id,
            site_id=site_id,
            role=rng.choice([*ROLES, None]),
            skill=rng.choice([None, None, "cytology"]),
            rate=None,
            note=None,
            state="open",
            offered_by="m",
            closes_at=OFFERED,
        )
        for i, (day, session_id, site_id) in enumerate(rng.sample(needs, min(6, len(needs))))
    ]


@PROPERTY
@given(networks)
def test_who_may_book_an_open_session_is_whom_the_validator_accepts(
    network: tuple[Bundle, list[Assignment]],
) -> None:
    bundle, cells = network
    rota = frozenset(cells)
    wrong = []
    for place in places(bundle, len(rota)):
        allowed = {p.staff_id for p in who_may_book(bundle, rota, place)}
        for person in bundle.staff:
            cell = Assignment(place.date, place.session_id, place.site_id, person.staff_id)
            if cell in rota:
                continue  # already theirs: not a place they could book
            verdict = place.admits(person) and accepted(bundle, rota, rota | {cell})
            if verdict != (person.staff_id in allowed):
                wrong.append((place.where, person.staff_id, verdict))
    assert wrong == []


def give_away(cell: Assignment, back: Assignment | None = None) -> Swap:
    return Swap(
        id=1,
        network_id=1,
        week=WEEK_LABEL,
        kind="give" if back is None else "swap",
        state="offered",
        from_staff_id=cell.staff_id,
        cell=cell,
        to_staff_id=None,
        taker_staff_id=None,
        back=back,
        note=None,
        created_at=OFFERED,
    )


@PROPERTY
@given(networks)
def test_a_give_away_or_swap_is_allowed_exactly_when_the_validator_accepts_it(
    network: tuple[Bundle, list[Assignment]],
) -> None:
    bundle, cells = network
    rota = frozenset(cells)
    rng = random.Random(len(rota))
    wrong = []
    for cell in rng.sample(sorted(rota), min(4, len(rota))):
        for taker in bundle.staff:
            if taker.staff_id == cell.staff_id:
                continue
            theirs = sorted(c for c in rota if c.staff_id == taker.staff_id)
            for back in [None, *rng.sample(theirs, min(2, len(theirs)))]:
                offer = give_away(cell, back)
                out, put = offer.moves(taker.staff_id)
                verdict = not (put & (rota - out)) and accepted(bundle, rota, (rota - out) | put)
                if verdict != (breaks(bundle, rota, offer, taker.staff_id) is None):
                    wrong.append((offer.where, offer.back_where, taker.staff_id, verdict))
    assert wrong == []


def test_the_random_offers_exercise_both_verdicts() -> None:
    """The properties above cannot pass by allowing nobody, nor everybody."""
    allowed = refused = 0
    for seed in range(8):
        bundle, cells = random_network(seed)
        rota = frozenset(cells)
        for cell in sorted(rota)[:3]:
            for taker in bundle.staff:
                if taker.staff_id != cell.staff_id:
                    if breaks(bundle, rota, give_away(cell), taker.staff_id) is None:
                        allowed += 1
                    else:
                        refused += 1
    assert allowed > 5 and refused > 5
