"""The week's totals: hours, cost and recharges, rounded as the exports round them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from scheduler.checks.rota_facts import session_bounds
from scheduler.checks.validator import CoverageLine
from scheduler.domain import (
    Assignment,
    Bundle,
)
from scheduler.money import SECONDS_PER_HOUR, cents
from scheduler.outputs.exports import recharge_rows

# --------------------------------------------------------------------------- totals


@dataclass(frozen=True)
class RechargeTotal:
    """What one site owes one employer for the week (recharges.csv, added up per pair)."""

    host_site: str
    employer: str
    people: int
    hours: Decimal
    cost: Decimal


@dataclass(frozen=True)
class Totals:
    """The week's hours, staff cost and recharges."""

    sessions: int
    hours: Decimal
    cost: Decimal
    unpriced: tuple[str, ...]  # staff ids worked but without an hourly rate (cost counted as 0)
    recharges: tuple[RechargeTotal, ...]

    @property
    def recharge_hours(self) -> Decimal:
        return sum((r.hours for r in self.recharges), Decimal(0))

    @property
    def recharge_cost(self) -> Decimal:
        return sum((r.cost for r in self.recharges), Decimal(0))


def worked_seconds(bundle: Bundle, assignments: Iterable[Assignment]) -> dict[str, int]:
    """Seconds each person really works (clock changes included), by staff id."""
    zone = ZoneInfo(bundle.timezone)
    sessions = {s.session_id: s for s in bundle.session_types}
    seconds: dict[str, int] = defaultdict(int)
    for a in set(assignments):
        session = sessions.get(a.session_id)
        if session is not None:
            start, end = session_bounds(session, a.date, zone)
            seconds[a.staff_id] += int((end - start).total_seconds())
    return seconds


def recharge_totals(bundle: Bundle, assignments: Sequence[Assignment]) -> list[RechargeTotal]:
    """recharges.csv's rows added up per host site and employer, from the export itself."""
    _, rows = recharge_rows(bundle, assignments)
    grouped: dict[tuple[str, str], list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for host, employer, _staff, hours, cost in rows:
        grouped[(str(host), str(employer))].append((Decimal(str(hours)), Decimal(str(cost))))
    return [
        RechargeTotal(
            host,
            employer,
            len(found),
            sum((h for h, _ in found), Decimal(0)),
            sum((c for _, c in found), Decimal(0)),
        )
        for (host, employer), found in sorted(grouped.items())
    ]


def week_totals(bundle: Bundle, assignments: Sequence[Assignment]) -> Totals:
    """Hours and cost of the whole rota, and recharges as recharges.csv computes them.

    Cost is each person's exact hours times their rate, rounded once at the
    end, so rounding never compounds (the rule recharges.csv follows).
    """
    seconds = worked_seconds(bundle, assignments)
    hours = {staff_id: Decimal(s) / SECONDS_PER_HOUR for staff_id, s in seconds.items()}
    staff = {p.staff_id: p for p in bundle.staff}
    rates = {p.staff_id: Decimal(str(p.hourly_rate or 0)) for p in bundle.staff}
    unpriced = sorted(s for s in hours if s not in staff or staff[s].hourly_rate is None)
    return Totals(
        sessions=len(set(assignments)),
        hours=cents(sum(hours.values(), Decimal(0))),
        cost=cents(sum((h * rates.get(s, Decimal(0)) for s, h in hours.items()), Decimal(0))),
        unpriced=tuple(unpriced),
        recharges=tuple(recharge_totals(bundle, assignments)),
    )


def shortfall_count(coverage: Iterable[CoverageLine]) -> int:
    """People missing against every ``min``: the validator's own sum."""
    return sum(line.shortfall for line in coverage)
