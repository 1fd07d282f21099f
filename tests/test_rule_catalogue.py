"""One rule catalogue: every rule has its solver encoding, validator check, capacity check
(where an added session can break it) and explanation, all under the catalogue's ids.

``parity_problems`` compares the catalogue with the four registries and names
what is missing; the first test asks it of the real registries, the others
show that it does notice a rule left out of any of them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

import pytest

from scheduler import catalogue
from scheduler.catalogue import Kind, Reach, Rule
from scheduler.checks.capacity import PERSON_RULES, SITE_RULES
from scheduler.checks.reasons import CHECKS, NOT_RULES, OTHER_RULES
from scheduler.checks.rule_table import RULES as VALIDATOR_RULES
from solver.rules import HARD_RULES, SOFT_RULES


@dataclasses.dataclass(frozen=True)
class Registries:
    """The rule ids each part of rotapool knows, in its order."""

    solver_hard: tuple[str, ...]
    solver_soft: tuple[str, ...]
    validator: tuple[str, ...]
    capacity_person: tuple[str, ...]
    capacity_site: tuple[str, ...]
    explained: tuple[str, ...]  # reasons named after a rule, and the rules OTHER_RULES covers


def real() -> Registries:
    return Registries(
        solver_hard=tuple(r.rule_id for r in HARD_RULES),
        solver_soft=tuple(r.rule_id for r in SOFT_RULES),
        validator=tuple(rule_id for rule_id, _, _ in VALIDATOR_RULES),
        capacity_person=tuple(rule_id for rule_id, _ in PERSON_RULES),
        capacity_site=tuple(rule_id for rule_id, _ in SITE_RULES),
        explained=(*(c.rule_id for c in CHECKS if c.rule_id not in NOT_RULES), *OTHER_RULES),
    )


def parity_problems(rules: Iterable[Rule], found: Registries) -> list[str]:
    """Every way the registries and the catalogue disagree, in words."""
    rules = tuple(rules)
    hard = tuple(r.rule_id for r in rules if r.kind is Kind.HARD)
    soft = tuple(r.rule_id for r in rules if r.kind is Kind.SOFT)
    person = {r.rule_id for r in rules if r.reach in (Reach.PERSON, Reach.BOTH)}
    site = {r.rule_id for r in rules if r.reach in (Reach.SITE, Reach.BOTH)}
    breakable = {r.rule_id for r in rules if r.kind is Kind.HARD and r.reach is not Reach.NONE}
    problems = []
    if found.solver_hard != hard:
        problems.append(f"solver hard rules {found.solver_hard} != catalogue {hard}")
    if found.solver_soft != soft:
        problems.append(f"solver soft rules {found.solver_soft} != catalogue {soft}")
    if found.validator != hard:
        problems.append(f"validator checks {found.validator} != catalogue {hard}")
    if set(found.capacity_person) != person:
        problems.append(
            f"capacity person checks {sorted(found.capacity_person)} != {sorted(person)}"
        )
    if set(found.capacity_site) != site:
        problems.append(f"capacity site checks {sorted(found.capacity_site)} != {sorted(site)}")
    unexplained = breakable - set(found.explained)
    if unexplained:
        problems.append(f"no explanation for {sorted(unexplained)}")
    strangers = set(found.explained) - {r.rule_id for r in rules}
    if strangers:
        problems.append(f"explanations of rules not in the catalogue: {sorted(strangers)}")
    return problems


def test_every_rule_has_every_part_it_needs() -> None:
    assert parity_problems(catalogue.RULES, real()) == []


EXTRA = Rule("max_nights", Kind.HARD, "Too many nights", "work too many nights", Reach.PERSON)


@pytest.mark.parametrize(
    ("registry", "words"),
    [
        ("solver_hard", "solver hard rules"),
        ("validator", "validator checks"),
        ("capacity_person", "capacity person checks"),
        ("explained", "no explanation for ['max_nights']"),
    ],
)
def test_a_rule_missing_from_one_registry_is_named(registry: str, words: str) -> None:
    """A new hard rule added everywhere but one registry: the parity check says which."""
    everywhere = real()
    added = {
        name: (*getattr(everywhere, name), "max_nights")
        for name in ("solver_hard", "validator", "capacity_person", "explained")
    }
    del added[registry]
    found = dataclasses.replace(everywhere, **added)
    problems = parity_problems((*catalogue.RULES, EXTRA), found)
    assert len(problems) == 1 and words in problems[0]


def test_a_soft_rule_needs_only_the_solver() -> None:
    goal = Rule("short_shifts", Kind.SOFT, "Short shifts", "a shift is short")
    everywhere = real()
    found = dataclasses.replace(everywhere, solver_soft=(*everywhere.solver_soft, "short_shifts"))
    assert parity_problems((*catalogue.RULES, goal), found) == []
    assert parity_problems((*catalogue.RULES, goal), everywhere) != []


def test_the_other_rule_reason_explains_person_rules_only() -> None:
    """``breaks_another_rule`` asks spare capacity's person checks, and nothing else."""
    person = {rule_id for rule_id, _ in PERSON_RULES}
    assert set(OTHER_RULES) <= person
    assert all(catalogue.rule(r).reach is Reach.PERSON for r in OTHER_RULES)


def test_every_rule_has_an_id_a_label_and_words_for_when_it_bites() -> None:
    for rule in catalogue.RULES:
        assert re.fullmatch(r"[a-z][a-z_]*", rule.rule_id), rule
        assert rule.label and rule.label[0].isupper() and not rule.label.endswith("."), rule
        assert rule.bites and rule.bites[0].islower() and not rule.bites.endswith("."), rule
    assert len({r.rule_id for r in catalogue.RULES}) == len(catalogue.RULES)
    assert len({r.label for r in catalogue.RULES}) == len(catalogue.RULES)


def test_soft_rules_reach_nothing_an_added_session_is_checked_against() -> None:
    assert all(r.reach is Reach.NONE for r in catalogue.SOFT)


def test_labels_shown_by_the_solver_and_the_validator_are_the_catalogues() -> None:
    assert {r.rule_id: r.label for r in (*HARD_RULES, *SOFT_RULES)} == {
        r.rule_id: r.label for r in catalogue.RULES
    }
    assert {rule_id: label for rule_id, label, _ in VALIDATOR_RULES} == {
        r.rule_id: r.label for r in catalogue.HARD
    }


def test_explanation_reasons_are_rules_or_say_they_are_not() -> None:
    for check in CHECKS:
        assert (check.rule_id in NOT_RULES) != (check.rule_id in catalogue.BY_ID), check.rule_id


def test_an_unknown_rule_id_is_named() -> None:
    with pytest.raises(KeyError, match="max_nights"):
        catalogue.rule("max_nights")
