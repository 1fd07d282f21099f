"""The solver's soft rules: each records named penalty terms, never the objective itself.

``RotaModel.penalise`` keeps (rule id, who, where, weight) for every term, so
"why is this rota like this?" is a query over the terms and one place builds
the objective."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable

from ortools.sat.python import cp_model

from scheduler.domain import (
    DAY_NAMES,
    AccessSpan,
    DemandRow,
    EnhancedAccess,
    Preference,
    PreferenceKind,
    SessionKind,
    SiteKind,
)
from scheduler.horizon import Need
from solver.hard_rules import key_day, keys_in, pref_keys
from solver.model import Key, RotaModel

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
        lambda r: r.min,
        lambda w: m.bundle.weights.min_cover * w / lightest,
    )


def cover_target(m: RotaModel) -> None:
    """Needs get up to their ``target`` people (row weights scaled so none exceeds the goal's)."""
    heaviest = max((n.demand.weight for n in m.horizon.needs), default=1.0)
    _cover(
        m,
        "target_cover",
        lambda r: r.target,
        lambda w: m.bundle.weights.target_cover * w / heaviest,
    )


def _cover(
    m: RotaModel,
    rule_id: str,
    wanted: Callable[[DemandRow], int],
    weight_of: Callable[[float], float],
) -> None:
    for need in m.horizon.needs:
        count = wanted(need.demand)
        if count == 0 or not m.matters(weight_of(need.demand.weight)):
            continue
        short = m.model.new_int_var(0, count, f"{rule_id}_{need.index}")
        m.at_least_zero(short, count - cp_model.LinearExpr.sum(m.fills.get(need.index, [])))
        m.penalise(rule_id, _need_subject(need), weight_of(need.demand.weight), short)


def _need_subject(need: Need) -> str:
    return f"{need.site_id} {need.date:%a %Y-%m-%d} {need.session_id} row {need.demand.row}"


def deliver_enhanced_access(m: RotaModel) -> None:
    """Extended sessions cover the Network Standard Hours, with a GP, up to the weekly floor.

    Mirrors ``scheduler.reports.ea``: each stretch of a window (between session
    boundaries) with no bookable clinician, and each without a GP, costs
    ``enhanced_access`` per hour; so does each hour below the floor of a whole
    ISO week in the horizon.  Windows on bank holidays are not required (their
    minutes still count).  What no rota could deliver (no option at all,
    minutes beyond every option) adds nothing: it would move no decision.
    """
    access = m.bundle.enhanced_access_settings
    weight = m.bundle.weights.enhanced_access
    if access is None or not m.matters(weight):
        return
    delivered: dict[dt.date, list[tuple[Key, int]]] = defaultdict(list)  # by Monday
    for span, options in _access_options(m, access).items():
        bookable = [o for o in options if access.bookable(m.bundle.person(o[0][0]).role)]
        gps = [o for o in options if m.bundle.person(o[0][0]).role == access.gp_role]
        if span.date not in m.horizon.bank_holidays:
            _cover_span(m, span, bookable, "Window without a bookable clinician", weight)
            _cover_span(m, span, gps, f"Window without a {access.gp_role}", weight)
        monday = span.date - dt.timedelta(days=span.date.weekday())
        delivered[monday] += [(k, span.overlap(start, end)) for k, start, end in bookable]
    population, _ = access.population(m.bundle.sites)
    floor = math.ceil(access.minutes_per_1000_per_week * population / 1000 - 1e-9)
    for week in m.horizon.weeks:
        if len(week) == len(DAY_NAMES):  # a part week cannot be held to a weekly floor
            _reach_floor(m, week[0], delivered.get(week[0], []), floor, weight)


AccessOption = tuple[Key, dt.datetime, dt.datetime]  # an extended option and its real times


def _access_options(m: RotaModel, access: EnhancedAccess) -> dict[AccessSpan, list[AccessOption]]:
    """Each window of the horizon with the extended options overlapping it."""
    spans = {day: access.spans(day, m.horizon.zone) for day in m.horizon.dates}
    found: dict[AccessSpan, list[AccessOption]] = {s: [] for day in spans.values() for s in day}
    for key in m.x:
        shift = m.shift(key)
        if shift.session.kind is not SessionKind.EXTENDED:
            continue
        for day in (key[1], key[1] + dt.timedelta(days=1)):  # an overnight session reaches on
            for span in spans.get(day, []):
                if shift.start < span.end and shift.end > span.start:
                    found[span].append((key, shift.start, shift.end))
    return found


def _cover_span(
    m: RotaModel, span: AccessSpan, options: list[AccessOption], label: str, weight: float
) -> None:
    """A missed-stretch boolean per stretch of the span that some option could cover."""
    cuts = {span.start, span.end}
    cuts |= {t for _, start, end in options for t in (start, end) if span.start < t < span.end}
    bounds = sorted(cuts)
    zone = m.horizon.zone
    for start, end in itertools.pairwise(bounds):
        covering = [m.x[k] for k, s, e in options if s <= start and e >= end]
        if not covering:
            continue
        missed = m.model.new_bool_var(f"ea_missed_{span.date:%Y%m%d}_{start:%H%M}")
        m.model.add_bool_or([*covering, missed])
        for x in covering:  # never counted as missed when covered
            m.model.add_implication(x, missed.Not())
        local = f"{start.astimezone(zone):%H:%M}-{end.astimezone(zone):%H:%M}"
        when = f"{span.date:%a %Y-%m-%d} {local}"
        minutes = (end - start).total_seconds() / 60
        m.penalise("enhanced_access", when, weight * minutes / 60, missed, label)


def _reach_floor(
    m: RotaModel, monday: dt.date, delivered: list[tuple[Key, int]], floor: int, weight: float
) -> None:
    """Minutes below the week's floor, up to what every option together could deliver."""
    goal = min(floor, sum(minutes for _, minutes in delivered))
    if goal <= 0:
        return
    keys, minutes = [k for k, _ in delivered], [n for _, n in delivered]
    done = cp_model.LinearExpr.weighted_sum([m.x[k] for k in keys], minutes)
    short = m.model.new_int_var(0, goal, f"ea_short_{monday:%G-W%V}")
    m.at_least_zero(short, goal - done)
    label = "Below the enhanced-access floor"
    m.penalise("enhanced_access", f"{monday:%G-W%V}", weight / 60, short, label)


def avoid_overstaffing(m: RotaModel) -> None:
    """Nobody is put on a row beyond its ``target`` unless a pin or ``min_hours`` forces it.

    Spare contracted time then shows as spare capacity instead of as extra
    people in a clinic that did not ask for them.
    """
    weight = m.bundle.weights.over_target
    if not m.matters(weight):
        return
    for need in m.horizon.needs:
        fills = m.fills.get(need.index, [])
        if len(fills) <= need.demand.target:
            continue
        over = m.model.new_int_var(0, len(fills), f"over_{need.index}")
        m.at_least_zero(over, cp_model.LinearExpr.sum(fills) - need.demand.target)
        m.penalise("over_target", _need_subject(need), weight, over)


def keep_home_site(m: RotaModel) -> None:
    """People stay at their home practice unless moving them buys real cover."""
    weight = m.bundle.weights.away_from_home
    if not m.matters(weight):
        return
    for key, x in m.x.items():
        if key[3] != m.bundle.person(key[0]).home_site:
            m.penalise("away_from_home", f"{key[0]} at {key[3]} {key_day(key)} {key[2]}", weight, x)


def share_evenings_fairly(m: RotaModel) -> None:
    """Each further evening a person works costs more than the last, so evenings spread out."""
    _share(m, "fair_evenings", lambda k: m.shift(k).is_evening)


def share_weekends_fairly(m: RotaModel) -> None:
    """Each further weekend session a person works costs more than the last."""
    _share(m, "fair_weekends", lambda k: m.shift(k).is_weekend)


def _share(m: RotaModel, rule_id: str, counts: Callable[[Key], bool]) -> None:
    weight = m.bundle.weights.fair_share
    if not m.matters(weight):
        return
    for person in m.horizon.staff:
        keys = [k for k in m.keys_of(person.staff_id) if counts(k)]
        total = m.count(keys)
        for k in range(2, len(keys) + 1):
            extra = m.model.new_int_var(0, len(keys), f"{rule_id}_{person.staff_id}_{k}")
            m.at_least_zero(extra, total - (k - 1))
            m.penalise(rule_id, f"{person.staff_id} session {k}", weight, extra)


def even_out_hub_duty(m: RotaModel) -> None:
    """Practices take hub duty in line with their list share, counting what they did before.

    ``Bundle.fairness_balance`` is each practice's hub hours beyond its list
    share of the practices' total over the weeks before the horizon (from
    published rotas).  Per practice, ``|balance + its hub hours - share x all
    practices' hub hours|`` costs ``practice_fairness`` per hour (counted in
    whole minutes, the share to the nearest minute), so a practice that did
    more than its share does less now.  Hours count for a person's home
    practice.  Without a balance (no history) the rule adds nothing.
    """
    weight, balance = m.bundle.weights.practice_fairness, m.bundle.fairness_balance
    listed = [s for s in m.bundle.sites if s.kind is SiteKind.PRACTICE and s.list_size > 0]
    if not balance or not m.matters(weight) or not listed:
        return
    duty = _hub_options_by_practice(m)
    everyone = [k for keys in duty.values() for k in keys]
    if not everyone:
        return  # nobody can work at a hub: no rota changes any balance
    # The share's large numbers meet only one whole variable per practice, never the
    # assignment booleans: CP-SAT's presolve chokes on sums of booleans with such coefficients.
    unit = math.gcd(*(s.list_size for s in listed))
    lists, most = sum(s.list_size for s in listed) // unit, m.most_minutes(everyone)
    total = m.model.new_int_var(0, most, "hub_duty_total")
    m.model.add(total == m.minutes_worked(everyone))
    for site in [s for s in m.bundle.sites if s.kind is SiteKind.PRACTICE]:
        own, size = duty.get(site.site_id, []), site.list_size // unit
        fair = m.model.new_int_var(0, most, f"hub_duty_fair_{site.site_id}")
        half = lists // 2  # fair = size / lists x total to the nearest minute: one value fits
        m.model.add_linear_constraint(lists * fair - size * total, -half, lists - 1 - half)
        carried = round(balance.get(site.site_id, 0.0) * 60)
        span = abs(carried) + m.most_minutes(own) + most
        off = m.model.new_int_var(0, span, f"hub_duty_off_{site.site_id}")
        m.model.add_abs_equality(off, carried + m.minutes_worked(own) - fair)
        m.penalise("practice_fairness", site.site_id, weight / 60, off)


def _hub_options_by_practice(m: RotaModel) -> dict[str, list[Key]]:
    """Options at a hub of people whose home site is a practice, by that practice."""
    kinds = {s.site_id: s.kind for s in m.bundle.sites}
    duty: dict[str, list[Key]] = defaultdict(list)
    for key in m.x:
        if kinds.get(key[3]) is SiteKind.HUB:
            home = m.bundle.person(key[0]).home_site
            if kinds.get(home) is SiteKind.PRACTICE:
                duty[home].append(key)
    return duty


def honour_preferences(m: RotaModel) -> None:
    """``avoid`` costs when worked; ``prefer`` costs when a preferred session is not worked."""
    weight = m.bundle.weights.preference
    if not m.matters(weight):
        return
    for pref in m.bundle.preferences:
        if pref.preference is PreferenceKind.UNAVAILABLE:
            continue
        keys = pref_keys(m, pref)
        subject = f"{pref.staff_id} ({m.bundle.label(pref.source)}:{pref.row})"
        if pref.preference is PreferenceKind.AVOID:
            for k in keys:
                m.penalise(
                    "preference", subject, weight * pref.weight, m.x[k], "Avoided session worked"
                )
        else:
            _penalise_unmet_prefer(m, pref, keys, subject, weight * pref.weight)


def _penalise_unmet_prefer(
    m: RotaModel, pref: Preference, keys: Iterable[Key], subject: str, coef: float
) -> None:
    """Each preferred session not worked costs; one the person cannot work at all costs too."""
    by_shift: dict[tuple, list[Key]] = defaultdict(list)
    for k in keys:
        by_shift[(k[1], k[2])].append(k)
    if pref.session_id is not None:  # a named session that cannot be given is still unmet
        days = [pref.day.date] if pref.day.date is not None else m.horizon.dates
        for day in days:
            if pref.day.matches(day) and (day, pref.session_id) in m.horizon.shifts:
                by_shift.setdefault((day, pref.session_id), [])
    for shift_keys in by_shift.values():
        if not shift_keys:
            m.penalise("preference", subject, coef, m.always, "Preferred session impossible")
            continue
        missed = m.model.new_bool_var(f"missed_{subject}")
        m.model.add(missed + m.count(shift_keys) >= 1)
        for k in shift_keys:  # and never counted as missed when worked
            m.model.add_implication(m.x[k], missed.Not())
        m.penalise("preference", subject, coef, missed, "Preferred session not worked")


def keep_regular_clinicians(m: RotaModel) -> None:
    """A recurring session goes to someone who worked it in the last published weeks.

    ``Bundle.previous_sessions`` names who worked each (site, weekday,
    session) in the weeks before the plan; each session there given to anyone
    else costs ``continuity``.  One term per option, no new variables.  A
    session nobody worked before, or a plan without history, adds nothing.
    """
    weight, previous = m.bundle.weights.continuity, m.bundle.previous_sessions
    if not previous or not m.matters(weight):
        return
    for key, x in m.x.items():
        regulars = previous.get((key[3], key[1].weekday(), key[2]))
        if regulars and key[0] not in regulars:
            m.penalise("continuity", f"{key[0]} at {key[3]} {key_day(key)} {key[2]}", weight, x)


def limit_clinicians_per_site(m: RotaModel) -> None:
    """A site sees few different clinicians of a role in an ISO week; each beyond the limit costs.

    Only for a network that sets ``[rules] max_clinicians_per_role``; a site
    with no more candidates of a role than the limit gets no variables at all.
    """
    limit, weight = m.bundle.rules.max_clinicians_per_role, m.bundle.weights.distinct_clinicians
    if not limit or not m.matters(weight):
        return
    groups: dict[tuple[str, str, str], dict[str, list[Key]]] = defaultdict(dict)
    for key in m.x:
        role = m.bundle.person(key[0]).role
        groups[(key[3], role, f"{key[1]:%G-W%V}")].setdefault(key[0], []).append(key)
    for (site_id, role, week), people in groups.items():
        if len(people) <= limit:
            continue
        seen = []
        for staff_id, keys in people.items():
            there = m.model.new_bool_var(f"sees_{site_id}_{staff_id}_{week}")
            m.model.add_max_equality(there, [m.x[k] for k in keys])
            seen.append(there)
        extra = m.model.new_int_var(0, len(people) - limit, f"clinicians_{site_id}_{role}_{week}")
        m.at_least_zero(extra, cp_model.LinearExpr.sum(seen) - limit)
        m.penalise("distinct_clinicians", f"{site_id} {role} {week}", weight, extra)


def stay_close_to_contract_hours(m: RotaModel) -> None:
    """Planned plus leave hours stay near contract hours each ISO week (per minute)."""
    per_minute = m.bundle.weights.contract_hours / 60
    if not m.matters(per_minute):
        return
    for person in m.horizon.staff:
        for week in m.horizon.weeks:
            keys = keys_in(m, person.staff_id, week)
            worked = m.minutes_worked(keys)
            share = person.contract_hours * 60 * len(week) / len(DAY_NAMES)
            target = round(share - m.horizon.leave_minutes(person, week))
            span = sum(m.minutes(k) for k in keys) + abs(target) + 1
            subject = person.staff_id
            if len(m.horizon.weeks) > 1:
                subject += f" {week[0]:%G-W%V}"
            under = m.model.new_int_var(0, span, f"under_{subject}")
            over = m.model.new_int_var(0, span, f"over_{subject}")
            m.at_least_zero(under, target - worked)
            m.at_least_zero(over, worked - target)
            m.penalise("contract_hours", subject, per_minute, under, "Under contract hours")
            m.penalise("contract_hours", subject, per_minute, over, "Over contract hours")


def keep_cost_down(m: RotaModel) -> None:
    """Among otherwise equal rotas, the cheaper staff time wins."""
    weight = m.bundle.weights.cost
    if not m.matters(weight):
        return
    for key, x in m.x.items():
        rate = m.bundle.person(key[0]).hourly_rate or 0.0
        if rate:
            m.penalise("cost", key[0], weight * rate * m.minutes(key) / 60, x)
