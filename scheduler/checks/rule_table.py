"""The validator's rule checks under the catalogue's ids, in the order it reports them.

The ids and labels are ``scheduler.catalogue``'s; the checks are the
validator's own code, sharing no logic with the solver."""

from __future__ import annotations

from collections.abc import Callable

from scheduler import catalogue
from scheduler.checks.hard_rules import (
    cap_weekly_hours,
    forbid_overlap,
    forbid_work_on_leave,
    forbid_work_when_unavailable,
    keep_pinned_sessions,
    limit_evenings,
    limit_people_to_rooms,
    limit_sessions_per_day,
    limit_weekend_sessions,
    require_daily_rest,
    require_days_off,
    require_eligible,
    require_minimum_hours,
)
from scheduler.checks.horizon_rules import (
    forbid_forbidden_sequences,
    keep_horizon_hours,
    limit_consecutive_days,
    limit_sessions_of_a_type,
    limit_weekends_worked,
    require_minimum_runs,
)
from scheduler.checks.rota_facts import (
    Finding,
    Rota,
)

RuleCheck = Callable[[Rota], list[Finding]]

VALIDATOR_CHECKS: tuple[tuple[str, RuleCheck], ...] = (
    ("eligible", require_eligible),
    ("overlap", forbid_overlap),
    ("leave", forbid_work_on_leave),
    ("unavailable", forbid_work_when_unavailable),
    ("sessions_per_day", limit_sessions_per_day),
    ("rest", require_daily_rest),
    ("max_hours", cap_weekly_hours),
    ("min_hours", require_minimum_hours),
    ("evenings", limit_evenings),
    ("weekends", limit_weekend_sessions),
    ("rooms", limit_people_to_rooms),
    ("fixed", keep_pinned_sessions),
    ("days_off", require_days_off),
    ("sequence", forbid_forbidden_sequences),
    ("max_consecutive", limit_consecutive_days),
    ("min_runs", require_minimum_runs),
    ("max_weekends", limit_weekends_worked),
    ("horizon_hours", keep_horizon_hours),
    ("session_limit", limit_sessions_of_a_type),
)

# (rule id, the catalogue's label, check), in the order the validator reports them.
RULES: tuple[tuple[str, str, RuleCheck], ...] = tuple(
    (rule_id, catalogue.label(rule_id), check) for rule_id, check in VALIDATOR_CHECKS
)
