"""Every rule of the rota, one small function each, registered once below.

Hard rules add constraints (switchable per bundle row in explain mode); soft
rules record named penalty terms through ``RotaModel.penalise``.  Each rule
has three names: the function (what it does), a stable id, and the label a
manager reads; the id and the label come from the rule catalogue
(``scheduler.catalogue``), which the validator, spare capacity and the
explanations share.  Hard rules are added in the catalogue's order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scheduler import catalogue
from solver.hard_rules import (
    cap_weekly_hours,
    fill_a_demand_row,
    forbid_two_places_at_once,
    forbid_unavailable,
    forbid_work_on_leave,
    keep_fixed_assignments,
    limit_evenings,
    limit_rooms,
    limit_sessions_per_day,
    limit_weekend_sessions,
    meet_minimum_hours,
    require_daily_rest,
    require_days_off,
)
from solver.horizon_rules import (
    forbid_sequences,
    keep_horizon_hours,
    limit_consecutive_days,
    limit_sessions_of_a_type,
    limit_weekends_worked,
    require_minimum_runs,
)
from solver.model import RotaModel
from solver.soft_rules import (
    avoid_overstaffing,
    cover_minimum,
    cover_target,
    deliver_enhanced_access,
    even_out_hub_duty,
    honour_preferences,
    keep_cost_down,
    keep_home_site,
    keep_regular_clinicians,
    limit_clinicians_per_site,
    share_evenings_fairly,
    share_weekends_fairly,
    stay_close_to_contract_hours,
)


@dataclass(frozen=True)
class Rule:
    """A catalogue rule and the function that encodes it in the model."""

    rule_id: str
    apply: Callable[[RotaModel], None]

    @property
    def label(self) -> str:
        return catalogue.label(self.rule_id)


HARD_RULES: tuple[Rule, ...] = (
    Rule("eligible", fill_a_demand_row),
    Rule("overlap", forbid_two_places_at_once),
    Rule("leave", forbid_work_on_leave),
    Rule("unavailable", forbid_unavailable),
    Rule("sessions_per_day", limit_sessions_per_day),
    Rule("rest", require_daily_rest),
    Rule("max_hours", cap_weekly_hours),
    Rule("min_hours", meet_minimum_hours),
    Rule("evenings", limit_evenings),
    Rule("weekends", limit_weekend_sessions),
    Rule("rooms", limit_rooms),
    Rule("fixed", keep_fixed_assignments),
    Rule("days_off", require_days_off),
    Rule("sequence", forbid_sequences),
    Rule("max_consecutive", limit_consecutive_days),
    Rule("min_runs", require_minimum_runs),
    Rule("max_weekends", limit_weekends_worked),
    Rule("horizon_hours", keep_horizon_hours),
    Rule("session_limit", limit_sessions_of_a_type),
)

SOFT_RULES: tuple[Rule, ...] = (
    Rule("min_cover", cover_minimum),
    Rule("enhanced_access", deliver_enhanced_access),
    Rule("target_cover", cover_target),
    Rule("over_target", avoid_overstaffing),
    Rule("away_from_home", keep_home_site),
    Rule("fair_evenings", share_evenings_fairly),
    Rule("fair_weekends", share_weekends_fairly),
    Rule("practice_fairness", even_out_hub_duty),
    Rule("preference", honour_preferences),
    Rule("continuity", keep_regular_clinicians),
    Rule("distinct_clinicians", limit_clinicians_per_site),
    Rule("contract_hours", stay_close_to_contract_hours),
    Rule("cost", keep_cost_down),
)


def build(m: RotaModel, *, soft: bool = True) -> RotaModel:
    """Add every registered rule to the model, hard first; soft ones only when optimising."""
    for rule in HARD_RULES:
        rule.apply(m)
    if soft:
        add_goals(m)
    return m


def add_goals(m: RotaModel) -> RotaModel:
    """Add the soft rules and the objective to a model built with the hard rules alone.

    A search for any valid rota needs no goals; building them for nothing costs
    as much as the hard rules do.
    """
    for rule in SOFT_RULES:
        rule.apply(m)
    m.objective()
    return m
