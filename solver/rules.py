"""Every rule of the rota, one small function each, registered once below.

Hard rules add constraints (switchable per bundle row in explain mode); soft
rules record named penalty terms through ``RotaModel.penalise``.  Each rule
has three names: the function (what it does), a stable id, and the label a
manager reads.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations

from scheduler.domain import (
    FIXED,
    LEAVE,
    NETWORK,
    PREFERENCES,
    SITES,
    STAFF,
    DemandRow,
    Preference,
    PreferenceKind,
    Staff,
)
from scheduler.horizon import Need
from solver.model import Guard, Key, RotaModel


@dataclass(frozen=True)
class Rule:
    rule_id: str
    label: str
    apply: Callable[[RotaModel], None]


def _day(key: Key) -> str:
    return f"{key[1]:%a %Y-%m-%d}"


# --------------------------------------------------------------------------- hard


def fill_a_demand_row(m: RotaModel) -> None:
    """Each assignment fills exactly one demand row it fits (options exist only where one fits)."""
    for key, pairs in m.fill_of.items():
        if len(pairs) > 1:
            m.model.add(sum(y for _, y in pairs) == m.x[key])


def forbid_two_places_at_once(m: RotaModel) -> None:
    """A person's sessions on one date never overlap and leave time to travel between sites."""
    for person in m.horizon.staff:
        literals: list | None = None
        for day_keys in _keys_by_day(m, person.staff_id).values():
            for group in _clashing_groups(m, day_keys):
                if literals is None:
                    literals = m.guard(
                        "overlap",
                        STAFF,
                        person.row,
                        "staff_id",
                        f"{person.staff_id} cannot be in two places at once",
                    )
                m.add_guarded(m.model.add(sum(m.x[k] for k in group) <= 1), literals)


def _keys_by_day(m: RotaModel, staff_id: str) -> dict[object, list[Key]]:
    by_day: dict[object, list[Key]] = defaultdict(list)
    for key in m.keys_of(staff_id):
        by_day[key[1]].append(key)
    return by_day


def _clashing_groups(m: RotaModel, keys: list[Key]) -> Iterable[list[Key]]:
    """Groups of one date's options of which at most one can be worked."""
    by_session: dict[str, list[Key]] = defaultdict(list)
    for key in keys:
        by_session[key[2]].append(key)
    for group in by_session.values():
        if len(group) > 1:
            yield group
    for first, second in combinations(by_session.values(), 2):
        a, b = m.shift(first[0]), m.shift(second[0])
        if a.start < b.end and b.start < a.end:
            yield first + second
            continue
        earlier, later = (first, second) if a.start < b.start else (second, first)
        gap = (m.shift(later[0]).start - m.shift(earlier[0]).end).total_seconds() / 60
        if gap >= m.horizon.max_travel_minutes:
            continue
        for k1 in earlier:
            for k2 in later:
                if gap < m.horizon.travel_minutes(k1[3], k2[3]):
                    yield [k1, k2]


def forbid_work_on_leave(m: RotaModel) -> None:
    """Nobody works a session they are on leave for."""
    for leave in m.bundle.leave:
        keys = [
            k
            for k in m.keys_of(leave.staff_id)
            if leave.covers(k[1]) and leave.session_id in (None, k[2])
        ]
        message = f"{leave.staff_id} is on leave {leave.start} to {leave.end}"
        _forbid(m, keys, Guard("leave", LEAVE, leave.row, "start", message))


def forbid_unavailable(m: RotaModel) -> None:
    """Nobody works where their preferences say ``unavailable``."""
    for pref in m.bundle.preferences:
        if pref.preference is not PreferenceKind.UNAVAILABLE:
            continue
        keys = [k for k in m.keys_of(pref.staff_id) if _pref_covers(pref, k)]
        message = f"{pref.staff_id} is unavailable"
        _forbid(m, keys, Guard("unavailable", PREFERENCES, pref.row, "preference", message))


def _pref_covers(pref: Preference, key: Key) -> bool:
    return (
        pref.day.matches(key[1])
        and pref.session_id in (None, key[2])
        and pref.site_id in (None, key[3])
    )


def _forbid(m: RotaModel, keys: list[Key], source: Guard) -> None:
    """Switch off these options, all behind one guard naming the bundle row."""
    if not keys:
        return
    literals = m.guard(source.rule_id, source.file, source.row, source.column, source.message)
    for k in keys:
        m.add_guarded(m.model.add(m.x[k] == 0), literals)


def limit_sessions_per_day(m: RotaModel) -> None:
    """At most ``max_sessions_per_day`` sessions start on any one date."""
    for person in m.horizon.staff:
        cap = _sessions_cap(m, person)
        busy = [keys for keys in _keys_by_day(m, person.staff_id).values() if len(keys) > cap]
        if busy:
            literals = _cap_guard(m, person, "max_sessions_per_day", f"at most {cap} a day")
            for keys in busy:
                m.add_guarded(m.model.add(sum(m.x[k] for k in keys) <= cap), literals)


def _sessions_cap(m: RotaModel, person: Staff) -> int:
    if person.max_sessions_per_day is not None:
        return person.max_sessions_per_day
    return m.bundle.rules.max_sessions_per_day


def _cap_guard(m: RotaModel, person: Staff, column: str, text: str) -> list:
    """Guard naming the staff row when the person overrides the rule, else network.toml."""
    if column == "max_sessions_per_day" and person.max_sessions_per_day is None:
        return m.guard(column, NETWORK, 1, f"rules.{column}", f"{person.staff_id}: {text}")
    return m.guard(column, STAFF, person.row, column, f"{person.staff_id}: {text}")


def require_daily_rest(m: RotaModel) -> None:
    """Sessions on different dates leave at least ``min_rest_hours`` between them."""
    rest = m.bundle.rules.min_rest_hours * 60
    literals: list | None = None
    for person in m.horizon.staff:
        by_shift: dict[tuple, list[Key]] = defaultdict(list)
        for key in m.keys_of(person.staff_id):
            by_shift[(key[1], key[2])].append(key)
        for a, b in combinations(sorted(by_shift, key=lambda s: m.horizon.shifts[s].start), 2):
            first, second = m.horizon.shifts[a], m.horizon.shifts[b]
            if a[0] == b[0] or (second.start - first.end).total_seconds() / 60 >= rest:
                continue
            if literals is None:
                literals = m.guard(
                    "rest",
                    NETWORK,
                    1,
                    "rules.min_rest_hours",
                    f"at least {m.bundle.rules.min_rest_hours:g} h rest between days",
                )
            both = [m.x[k] for k in by_shift[a] + by_shift[b]]
            m.add_guarded(m.model.add(sum(both) <= 1), literals)


def cap_weekly_hours(m: RotaModel) -> None:
    """Planned hours stay within ``max_hours`` and the network's ``max_week_hours``."""
    week_cap = m.bundle.rules.max_week_hours
    for person in m.horizon.staff:
        keys = m.keys_of(person.staff_id)
        worked = sum(m.minutes(k) * m.x[k] for k in keys)
        possible = sum(m.minutes(k) for k in keys)
        if possible > person.max_hours * 60:
            literals = m.guard(
                "max_hours",
                STAFF,
                person.row,
                "max_hours",
                f"{person.staff_id} works at most {person.max_hours:g} h",
            )
            m.add_guarded(m.model.add(worked <= math.floor(person.max_hours * 60)), literals)
        if week_cap < person.max_hours and possible > week_cap * 60:
            literals = m.guard(
                "max_hours",
                NETWORK,
                1,
                "rules.max_week_hours",
                f"nobody works more than {week_cap:g} h a week",
            )
            m.add_guarded(m.model.add(worked <= math.floor(week_cap * 60)), literals)


def meet_minimum_hours(m: RotaModel) -> None:
    """Planned plus leave hours reach ``min_hours``."""
    for person in m.horizon.staff:
        needed = math.ceil(person.min_hours * 60 - m.horizon.leave_minutes(person) - 1e-6)
        if needed <= 0:
            continue
        worked = sum(m.minutes(k) * m.x[k] for k in m.keys_of(person.staff_id))
        literals = m.guard(
            "min_hours",
            STAFF,
            person.row,
            "min_hours",
            f"{person.staff_id} works at least {person.min_hours:g} h",
        )
        m.add_guarded(m.model.add(worked >= needed), literals)


def limit_evenings(m: RotaModel) -> None:
    """Weekday ``extended`` sessions stay within ``max_evenings``."""
    _limit_count(m, "max_evenings", lambda k: m.shift(k).is_evening, lambda p: p.max_evenings)


def limit_weekend_sessions(m: RotaModel) -> None:
    """Saturday and Sunday sessions stay within ``max_weekend_sessions``."""
    _limit_count(
        m, "max_weekend_sessions", lambda k: m.shift(k).is_weekend, lambda p: p.max_weekend_sessions
    )


def _limit_count(
    m: RotaModel, column: str, counts: Callable[[Key], bool], cap_of: Callable[[Staff], int]
) -> None:
    for person in m.horizon.staff:
        keys = [k for k in m.keys_of(person.staff_id) if counts(k)]
        cap = cap_of(person)
        if len(keys) > cap:
            literals = m.guard(
                column, STAFF, person.row, column, f"{person.staff_id}: at most {cap}"
            )
            m.add_guarded(m.model.add(sum(m.x[k] for k in keys) <= cap), literals)


def limit_rooms(m: RotaModel) -> None:
    """At a site with rooms, no more people in one session than rooms."""
    by_slot: dict[tuple, list[Key]] = defaultdict(list)
    for key in m.x:
        by_slot[(key[1], key[2], key[3])].append(key)
    for site in m.bundle.sites:
        crowded = [
            keys
            for slot, keys in by_slot.items()
            if slot[2] == site.site_id and 0 < site.rooms < len(keys)
        ]
        if crowded:
            literals = m.guard(
                "rooms", SITES, site.row, "rooms", f"{site.site_id} has {site.rooms} rooms"
            )
            for keys in crowded:
                m.add_guarded(m.model.add(sum(m.x[k] for k in keys) <= site.rooms), literals)


def keep_fixed_assignments(m: RotaModel) -> None:
    """Every pinned assignment inside the horizon is in the rota."""
    for fixed in m.bundle.fixed:
        key = (fixed.staff_id, fixed.date, fixed.session_id, fixed.site_id)
        if key in m.x:
            literals = m.guard(
                "fixed",
                FIXED,
                fixed.row,
                "staff_id",
                f"{fixed.staff_id} is pinned to {fixed.site_id} {fixed.session_id} on {fixed.date}",
            )
            m.add_guarded(m.model.add(m.x[key] == 1), literals)


# --------------------------------------------------------------------------- soft


def cover_minimum(m: RotaModel) -> None:
    """Every need gets its ``min`` people; each one short is the costliest penalty there is.

    Row weights are divided by the lightest row's weight, so a person short of
    any ``min`` costs at least ``min_cover``: a row weight orders rows within
    this goal and can never let a lower goal outweigh it.
    """
    lightest = min((n.demand.weight for n in m.horizon.needs), default=1.0)
    _cover(
        m,
        "min_cover",
        "Below minimum",
        lambda r: r.min,
        lambda w: m.bundle.weights.min_cover * w / lightest,
    )


def cover_target(m: RotaModel) -> None:
    """Needs get up to their ``target`` people (row weights scaled so none exceeds the goal's)."""
    heaviest = max((n.demand.weight for n in m.horizon.needs), default=1.0)
    _cover(
        m,
        "target_cover",
        "Below target",
        lambda r: r.target,
        lambda w: m.bundle.weights.target_cover * w / heaviest,
    )


def _cover(
    m: RotaModel,
    rule_id: str,
    label: str,
    wanted: Callable[[DemandRow], int],
    weight_of: Callable[[float], float],
) -> None:
    for need in m.horizon.needs:
        count = wanted(need.demand)
        if count == 0:
            continue
        short = m.model.new_int_var(0, count, f"{rule_id}_{need.index}")
        m.model.add(short >= count - sum(m.fills.get(need.index, [])))
        m.penalise(rule_id, label, _need_subject(need), weight_of(need.demand.weight), short)


def _need_subject(need: Need) -> str:
    return f"{need.site_id} {need.date:%a %Y-%m-%d} {need.session_id} row {need.demand.row}"


def avoid_overstaffing(m: RotaModel) -> None:
    """Nobody is put on a row beyond its ``target`` unless a pin or ``min_hours`` forces it.

    Spare contracted time then shows as spare capacity instead of as extra
    people in a clinic that did not ask for them.
    """
    weight = m.bundle.weights.over_target
    for need in m.horizon.needs:
        fills = m.fills.get(need.index, [])
        if len(fills) <= need.demand.target:
            continue
        over = m.model.new_int_var(0, len(fills), f"over_{need.index}")
        m.model.add(over >= sum(fills) - need.demand.target)
        m.penalise("over_target", "Above target", _need_subject(need), weight, over)


def keep_home_site(m: RotaModel) -> None:
    """People stay at their home practice unless moving them buys real cover."""
    weight = m.bundle.weights.away_from_home
    for key, x in m.x.items():
        if key[3] != m.bundle.person(key[0]).home_site:
            m.penalise(
                "away_from_home",
                "Away from home site",
                f"{key[0]} at {key[3]} {_day(key)} {key[2]}",
                weight,
                x,
            )


def share_evenings_fairly(m: RotaModel) -> None:
    """Each further evening a person works costs more than the last, so evenings spread out."""
    _share(m, "fair_evenings", "Evenings shared unevenly", lambda k: m.shift(k).is_evening)


def share_weekends_fairly(m: RotaModel) -> None:
    """Each further weekend session a person works costs more than the last."""
    _share(m, "fair_weekends", "Weekends shared unevenly", lambda k: m.shift(k).is_weekend)


def _share(m: RotaModel, rule_id: str, label: str, counts: Callable[[Key], bool]) -> None:
    weight = m.bundle.weights.fair_share
    for person in m.horizon.staff:
        keys = [k for k in m.keys_of(person.staff_id) if counts(k)]
        total = sum(m.x[k] for k in keys)
        for k in range(2, len(keys) + 1):
            extra = m.model.new_int_var(0, len(keys), f"{rule_id}_{person.staff_id}_{k}")
            m.model.add(extra >= total - (k - 1))
            m.penalise(rule_id, label, f"{person.staff_id} session {k}", weight, extra)


def honour_preferences(m: RotaModel) -> None:
    """``avoid`` costs when worked; ``prefer`` costs when a preferred session is not worked."""
    weight = m.bundle.weights.preference
    for pref in m.bundle.preferences:
        if pref.preference is PreferenceKind.UNAVAILABLE:
            continue
        keys = [k for k in m.keys_of(pref.staff_id) if _pref_covers(pref, k)]
        subject = f"{pref.staff_id} ({m.bundle.label(PREFERENCES)}:{pref.row})"
        if pref.preference is PreferenceKind.AVOID:
            for k in keys:
                m.penalise(
                    "preference", "Avoided session worked", subject, weight * pref.weight, m.x[k]
                )
        else:
            _penalise_unmet_prefer(m, keys, subject, weight * pref.weight)


def _penalise_unmet_prefer(m: RotaModel, keys: Iterable[Key], subject: str, coef: float) -> None:
    by_shift: dict[tuple, list[Key]] = defaultdict(list)
    for k in keys:
        by_shift[(k[1], k[2])].append(k)
    for shift_keys in by_shift.values():
        missed = m.model.new_bool_var(f"missed_{subject}")
        m.model.add(missed + sum(m.x[k] for k in shift_keys) >= 1)
        m.penalise("preference", "Preferred session not worked", subject, coef, missed)


def stay_close_to_contract_hours(m: RotaModel) -> None:
    """Planned plus leave hours stay near contract hours (in minutes, weight per hour)."""
    per_minute = m.bundle.weights.contract_hours / 60
    for person in m.horizon.staff:
        keys = m.keys_of(person.staff_id)
        worked = sum(m.minutes(k) * m.x[k] for k in keys)
        target = round(person.contract_hours * 60 - m.horizon.leave_minutes(person))
        horizon_minutes = sum(m.minutes(k) for k in keys) + abs(target) + 1
        under = m.model.new_int_var(0, horizon_minutes, f"under_{person.staff_id}")
        over = m.model.new_int_var(0, horizon_minutes, f"over_{person.staff_id}")
        m.model.add(worked - target == over - under)
        m.penalise("contract_hours", "Under contract hours", person.staff_id, per_minute, under)
        m.penalise("contract_hours", "Over contract hours", person.staff_id, per_minute, over)


def keep_cost_down(m: RotaModel) -> None:
    """Among otherwise equal rotas, the cheaper staff time wins."""
    weight = m.bundle.weights.cost
    for key, x in m.x.items():
        rate = m.bundle.person(key[0]).hourly_rate or 0.0
        if rate:
            m.penalise("cost", "Staff cost", key[0], weight * rate * m.minutes(key) / 60, x)


HARD_RULES: tuple[Rule, ...] = (
    Rule("eligible", "Not eligible for this session", fill_a_demand_row),
    Rule("overlap", "In two places at once", forbid_two_places_at_once),
    Rule("leave", "On leave", forbid_work_on_leave),
    Rule("unavailable", "Marked unavailable", forbid_unavailable),
    Rule("sessions_per_day", "Too many sessions in a day", limit_sessions_per_day),
    Rule("rest", "Too little rest between days", require_daily_rest),
    Rule("max_hours", "Over weekly hours", cap_weekly_hours),
    Rule("min_hours", "Under minimum hours", meet_minimum_hours),
    Rule("evenings", "Too many evenings", limit_evenings),
    Rule("weekends", "Too many weekend sessions", limit_weekend_sessions),
    Rule("rooms", "More people than rooms", limit_rooms),
    Rule("fixed", "Pinned session missing", keep_fixed_assignments),
)

SOFT_RULES: tuple[Rule, ...] = (
    Rule("min_cover", "Below minimum", cover_minimum),
    Rule("target_cover", "Below target", cover_target),
    Rule("over_target", "Above target", avoid_overstaffing),
    Rule("away_from_home", "Away from home site", keep_home_site),
    Rule("fair_evenings", "Evenings shared unevenly", share_evenings_fairly),
    Rule("fair_weekends", "Weekends shared unevenly", share_weekends_fairly),
    Rule("preference", "Preferences not honoured", honour_preferences),
    Rule("contract_hours", "Away from contract hours", stay_close_to_contract_hours),
    Rule("cost", "Staff cost", keep_cost_down),
)


def build(m: RotaModel, *, soft: bool = True) -> RotaModel:
    """Add every registered rule to the model, hard first; soft ones only when optimising."""
    for rule in HARD_RULES:
        rule.apply(m)
    if soft:
        for rule in SOFT_RULES:
            rule.apply(m)
        m.objective()
    return m
