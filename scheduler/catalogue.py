"""The rule catalogue: every rule of a rota, once, with its id, kind and words.

Four parts of rotapool know the rules, and each keeps its own logic:

- the solver encodes every rule (``solver.rules``);
- the independent validator checks every hard rule (``scheduler.checks.rule_table``);
- spare capacity checks an added session against every hard rule an added
  session can break (``scheduler.checks.capacity``);
- the shortfall explanations say which rule kept a person out of a need
  (``scheduler.checks.reasons``).

They share this catalogue: the ids and the words, never the logic, so a
mistake in one is caught by another instead of being repeated.
``tests/test_rule_catalogue.py`` fails when a rule lacks a part it needs;
``docs/architecture.md`` says, step by step, how to add one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    HARD = "hard"  # never broken: enforced by the model, re-checked by the validator
    SOFT = "soft"  # a goal: each shortfall costs penalty points in the objective


class Reach(StrEnum):
    """What an added session must be checked against for this rule."""

    PERSON = "person"  # the person's own sessions (their day, week or plan)
    SITE = "site"  # the site and the session (site rights, rooms, unavailability there)
    BOTH = "both"  # both: the overlap rule also needs travel time between sites
    NONE = "none"  # an added session cannot break it (a minimum, a pinned session)


@dataclass(frozen=True)
class Rule:
    """One rule: its stable id, kind, the name a manager reads, and what they see when it bites.

    ``bites`` completes "S0012 Ann Lee would ..." (hard rules) or "... because
    ..." (soft rules), so one sentence serves an explanation of one person and
    of several ("3 of 5 PN would work too many days in a row").
    """

    rule_id: str
    kind: Kind
    label: str
    bites: str
    reach: Reach = Reach.NONE

    @property
    def hard(self) -> bool:
        return self.kind is Kind.HARD


H, S = Kind.HARD, Kind.SOFT
PERSON, SITE, BOTH = Reach.PERSON, Reach.SITE, Reach.BOTH

RULES: tuple[Rule, ...] = (
    # hard: never broken, in the order the solver adds them and the validator reports them
    Rule("eligible", H, "Not eligible for this session", "not fit a need there", SITE),
    Rule("overlap", H, "In two places at once", "be in two places at once", BOTH),
    Rule("leave", H, "On leave", "be working while on leave", PERSON),
    Rule("unavailable", H, "Marked unavailable", "be working when marked unavailable", SITE),
    Rule(
        "sessions_per_day",
        H,
        "Too many sessions in a day",
        "work more sessions in a day than allowed",
        PERSON,
    ),
    Rule(
        "rest",
        H,
        "Duty too long for the daily rest",
        "work too long a duty without their daily rest",
        PERSON,
    ),
    Rule("max_hours", H, "Over weekly hours", "go over their weekly hours", PERSON),
    Rule("min_hours", H, "Under minimum hours", "fall under their minimum hours"),
    Rule("evenings", H, "Too many evenings", "work more evenings than allowed", PERSON),
    Rule(
        "weekends",
        H,
        "Too many weekend sessions",
        "work more weekend sessions than allowed",
        PERSON,
    ),
    Rule("rooms", H, "More people than rooms", "need a room the site does not have", SITE),
    Rule("fixed", H, "Pinned session missing", "miss a pinned session"),
    Rule("days_off", H, "No weekly day off", "not get their days off in the week", PERSON),
    Rule(
        "sequence",
        H,
        "Forbidden sequence of sessions",
        "work a forbidden sequence of sessions",
        PERSON,
    ),
    Rule("max_consecutive", H, "Too many days in a row", "work too many days in a row", PERSON),
    Rule(
        "min_runs",
        H,
        "Too short a run of days on or off",
        "work too short a run of days on or off",
        PERSON,
    ),
    Rule("max_weekends", H, "Too many weekends worked", "work too many weekends", PERSON),
    Rule(
        "horizon_hours",
        H,
        "Outside hours over the horizon",
        "go outside their hours over the plan",
        PERSON,
    ),
    Rule(
        "session_limit",
        H,
        "Too many sessions of one type",
        "work more sessions of one type than allowed",
        PERSON,
    ),
    # soft: goals, in the order the objective weighs them
    Rule("min_cover", S, "Below minimum", "a site has fewer people than its minimum"),
    Rule(
        "enhanced_access",
        S,
        "Enhanced access not met",
        "enhanced-access time falls below the network's floor",
    ),
    Rule("target_cover", S, "Below target", "a site has fewer people than its target"),
    Rule("over_target", S, "Above target", "a site has more people than its target"),
    Rule("away_from_home", S, "Away from home site", "someone works away from their home site"),
    Rule("fair_evenings", S, "Evenings shared unevenly", "evenings fall unevenly on people"),
    Rule("fair_weekends", S, "Weekends shared unevenly", "weekends fall unevenly on people"),
    Rule(
        "practice_fairness",
        S,
        "Hub duty away from list share",
        "a practice's hub duty is away from its share of patients",
    ),
    Rule("preference", S, "Preferences not honoured", "a preference is not met"),
    Rule(
        "continuity",
        S,
        "New face at a regular session",
        "a regular session goes to someone who did not work it in recent weeks",
    ),
    Rule(
        "distinct_clinicians",
        S,
        "Too many different clinicians",
        "a site sees more different clinicians of one role in a week than its limit",
    ),
    Rule(
        "contract_hours",
        S,
        "Away from contract hours",
        "someone works more or fewer hours than their contract",
    ),
    Rule("cost", S, "Staff cost", "every hour worked costs its hourly rate"),
)

BY_ID: dict[str, Rule] = {rule.rule_id: rule for rule in RULES}
HARD: tuple[Rule, ...] = tuple(r for r in RULES if r.hard)
SOFT: tuple[Rule, ...] = tuple(r for r in RULES if not r.hard)


def rule(rule_id: str) -> Rule:
    """The catalogue's rule of this id; ``KeyError`` names an id that is not in it."""
    try:
        return BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r} in the catalogue (scheduler/catalogue.py)") from None


def label(rule_id: str) -> str:
    """The name a manager reads for the rule."""
    return rule(rule_id).label
