"""An edit is checked only where it can break a rule: the people and rooms it touches.

``validator.added_by_change`` checks the changed people's weeks and every
session at the changed sites (and the sites sharing their building), before
and after, instead of the whole rota twice.  The property test holds it to
the whole-rota comparison on random small networks, rotas already broken in
places, and random edits, shared buildings included.

``validator.check_after_change`` gives the whole report of a rota changed in
several places (a repair) from the report before the change, judging again
only what the change reaches; it is held to ``check_rota`` the same way.
"""

from __future__ import annotations

import dataclasses
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.checks.validator import (
    Violation,
    added_by_change,
    check_after_change,
    check_rota,
    newly_broken,
)
from scheduler.domain import Assignment, Building, Bundle, Fixed
from tests.factories import WEEK
from tests.test_capacity import every_cell, random_bundle, random_rota


def with_building(bundle: Bundle, rooms: int) -> Bundle:
    """P01 and P02 in one building of ``rooms`` rooms."""
    sites = tuple(
        dataclasses.replace(s, building="B1") if s.site_id in ("P01", "P02") else s
        for s in bundle.sites
    )
    return dataclasses.replace(bundle, sites=sites, buildings=(Building("B1", rooms, row=2),))


def random_edit(
    rota: set[Assignment], cells: list[Assignment], rng: random.Random
) -> set[Assignment]:
    """The rota after adding, removing or moving one person (any cell, sense or not)."""
    kind = rng.choice(["add", "remove", "move"]) if rota else "add"
    after = set(rota)
    if kind in ("remove", "move"):
        gone = rng.choice(sorted(rota))
        after.discard(gone)
        if kind == "move":
            after.add(rng.choice([c for c in cells if c.staff_id == gone.staff_id]))
    else:
        after.add(rng.choice(cells))
    return after


def scenario(seed: int) -> tuple[Bundle, set[Assignment], set[Assignment]]:
    """A random network (half of them with a shared building), a rota with a few cells that
    may break rules already, and the rota after one random edit."""
    rng = random.Random(seed)
    bundle = random_bundle(rng)
    if rng.random() < 0.5:
        bundle = with_building(bundle, rng.choice([1, 2, 3]))
    cells = every_cell(bundle)
    rota = set(random_rota(bundle, rng)) | set(rng.sample(cells, rng.choice([0, 0, 1, 3])))
    return bundle, rota, random_edit(rota, cells, rng)


def described(violations: list[Violation]) -> list[tuple[str, tuple[str, ...], str]]:
    return sorted(
        (v.rule_id, tuple(sorted({a.staff_id for a in v.assignments})), v.message)
        for v in violations
    )


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.integers(0, 100_000).map(scenario))
def test_checking_what_an_edit_touches_agrees_with_checking_the_whole_rota(
    case: tuple[Bundle, set[Assignment], set[Assignment]],
) -> None:
    bundle, before, after = case
    whole = newly_broken(
        check_rota(bundle, WEEK, before).violations, check_rota(bundle, WEEK, after).violations
    )
    assert described(added_by_change(bundle, WEEK, before, after)) == described(whole)


def test_the_random_edits_break_rules_and_keep_them() -> None:
    """The property test cannot pass by never finding a new break, nor by always finding one."""
    verdicts = []
    for seed in range(60):
        bundle, before, after = scenario(seed)
        verdicts.append(bool(added_by_change(bundle, WEEK, before, after)))
    assert 5 <= sum(verdicts) <= 55


def test_a_full_shared_building_refuses_a_person_at_the_other_site() -> None:
    """Rooms are shared: adding someone at P02 is refused for a crowd at P01."""
    bundle = with_building(random_bundle(random.Random(7)), rooms=1)
    day = WEEK[0]
    people = [p.staff_id for p in bundle.staff][:2]
    before = {Assignment(day, "AM", "P01", people[0])}
    after = before | {Assignment(day, "AM", "P02", people[1])}
    rules = {v.rule_id for v in added_by_change(bundle, WEEK, before, after)}
    assert "rooms" in rules


def repaired(seed: int) -> tuple[Bundle, set[Assignment], set[Assignment]]:
    """A scenario's rota before and after one to four random edits, as a repair makes; most
    with pinned sessions, kept or not, and crowded rooms at P01."""
    bundle, before, after = scenario(seed)
    rng = random.Random(-seed - 1)
    cells = every_cell(bundle)
    pins = rng.sample(sorted(before), min(len(before), rng.choice([0, 1, 2])))
    pins += rng.sample(cells, rng.choice([0, 1]))
    fixed = tuple(
        Fixed(a.staff_id, a.date, a.session_id, a.site_id, row=2 + i) for i, a in enumerate(pins)
    )
    sites = tuple(
        dataclasses.replace(s, rooms=1) if s.site_id == "P01" and rng.random() < 0.5 else s
        for s in bundle.sites
    )
    bundle = dataclasses.replace(bundle, fixed=fixed, sites=sites)
    for _ in range(rng.choice([0, 1, 2, 3])):
        after = random_edit(after, cells, rng)
    return bundle, before, after


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.integers(0, 100_000).map(repaired))
def test_the_report_after_a_change_is_the_whole_rotas_report(
    case: tuple[Bundle, set[Assignment], set[Assignment]],
) -> None:
    bundle, before, after = case
    report = check_after_change(bundle, WEEK, check_rota(bundle, WEEK, before), before, after)
    whole = check_rota(bundle, WEEK, after)
    assert described(list(report.violations)) == described(list(whole.violations))
    assert [v.rule_id for v in report.violations] == [v.rule_id for v in whole.violations]
    assert report.coverage == whole.coverage


def test_the_changed_rotas_break_rules_and_mend_them() -> None:
    """The property test sees rotas broken after the change, and ones mended by it."""
    broken_after = mended = 0
    for seed in range(60):
        bundle, before, after = repaired(seed)
        was = check_rota(bundle, WEEK, before).ok
        now = check_after_change(bundle, WEEK, check_rota(bundle, WEEK, before), before, after).ok
        broken_after += not now
        mended += now and not was
    assert broken_after >= 5
    assert mended >= 1


def test_a_crowd_at_an_unchanged_site_is_reported_once_with_everyone_in_it() -> None:
    """Two touched people in a crowd of three at an untouched site: the crowd stands as the
    whole check reports it, not as the two touched people would make it alone."""
    bundle = random_bundle(random.Random(7))
    sites = tuple(
        dataclasses.replace(s, rooms=1 if s.site_id == "P01" else 0) for s in bundle.sites
    )
    bundle = dataclasses.replace(bundle, sites=sites, buildings=())
    a, b, c = (p.staff_id for p in bundle.staff[:3])
    mon, tue, wed, thu = WEEK[:4]
    crowd = {Assignment(mon, "AM", "P01", who) for who in (a, b, c)}
    before = crowd | {Assignment(tue, "AM", "P02", a), Assignment(thu, "AM", "P02", b)}
    after = (before - {Assignment(tue, "AM", "P02", a)}) | {Assignment(wed, "AM", "P02", a)}
    report = check_after_change(bundle, WEEK, check_rota(bundle, WEEK, before), before, after)
    rooms = [v for v in report.violations if v.rule_id == "rooms"]
    assert [len(v.assignments) for v in rooms] == [3]
    assert described(list(report.violations)) == described(
        list(check_rota(bundle, WEEK, after).violations)
    )
