"""The recharge ledger: the hours and cost each party lent and borrowed over a period.

Parties and direction
    The parties are the network's organisations (format v2: a site naming an
    organisation in sites.csv belongs to it; a site naming none is its own
    party, as every practice and hub was before) and the federation (``FED``).
    A person is *lent* by their employer's organisation (staff.csv's
    ``employer``) whenever they work at a site another organisation runs, and
    *borrowed* by that organisation, the *host*, which owes the employer those
    hours at the person's ``hourly_rate``; work between sites of one
    organisation is no recharge at all.  This is the rule of ``recharges.csv``
    (``host_site,employer,staff_id,hours,cost``), applied to any period, with
    sites of one organisation counted together.

Hub sessions
    A hub is a party of its own and the host of its sessions, exactly as in
    ``recharges.csv``: a practice's GP at the hub's evening clinic is lent to
    the hub, which owes the practice.  Hub work is network work, so a hub's
    lines are what the network's hub budget (whoever holds it, usually the
    federation) settles.  Hubs are not folded into ``FED``: the federation's
    own staff at a hub would then vanish from the books.

What counts
    Only the current publication of each week (``published_assignments``):
    drafts and superseded versions never reach an invoice.  Hours are real
    hours worked, clock changes included (``scheduler.views.totals.worked_seconds``,
    the rule of every other figure of the product).  Employers and rates are
    the ones imported now, for the whole period.  Where a coordinator has
    confirmed a timesheet (``scheduler.reports.actuals``), what it says counts
    instead of the plan: a session not worked drops out, different times count
    as worked, an unplanned session worked is added; the ledger says how many
    sessions are confirmed actuals and how many still count as planned.

Money
    One *line* is one person's hours at one host over the period.  Its hours
    are rounded to 0.01 h and its cost is the exact hours times the rate,
    rounded to the penny (halves up), once; every other figure is a sum of
    line figures, so totals always add up to the lines shown, and for one
    ISO week the lines are ``recharges.csv``'s rows.  A person without a rate
    has an unknown cost (``None``): their hours are counted apart as "hours
    without a rate" and never priced at zero."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import FEDERATION, Assignment, Bundle, Staff, iso_week_label, parse_iso_week
from scheduler.money import SECONDS_PER_HOUR, cents
from scheduler.reports.actuals import Counted, counted, load_entries
from scheduler.storage.models.network import RotaRecord
from scheduler.views.totals import worked_seconds
from scheduler.views.week import stored_bundle

ZERO = Decimal("0.00")
MAX_DAYS = 366  # a financial year, leap or not: the longest period one report covers
FEDERATION_NAME = "Federation"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTH = re.compile(r"(\d{4})-(\d{2})")

HUB_RULE = (
    "Hub sessions are charged to the hub, a party of its own (as in recharges.csv); "
    "the network's hub budget settles the hub's lines."
)
MONEY_RULE = (
    "One line = one person's hours at one host in the period: hours to 0.01 h, cost = "
    "exact hours × hourly rate rounded once to the penny (halves up); totals add the lines."
)
RATE_RULE = (
    "People without an hourly rate have an unknown cost: their hours are shown as hours "
    "without a rate and are in no money figure."
)


# --------------------------------------------------------------------------- periods


class PeriodError(ValueError):
    """A period that cannot be read; ``field`` names the option or form field to fix."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.message = problem


@dataclass(frozen=True)
class Period:
    """First to last date, both included, and how a manager names it."""

    first: dt.date
    last: dt.date
    label: str
    kind: str = "custom"  # week, month or custom: how the period was asked for

    @property
    def args(self) -> dict[str, str]:
        """The query fields (and CLI options, with ``--``) that ask for this period again."""
        if self.kind in ("week", "month"):
            return {self.kind: self.label}
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    @property
    def weeks(self) -> tuple[str, ...]:
        """The ISO weeks the period touches (a week is published as a whole)."""
        step = dt.timedelta(days=1)
        days = (self.first + i * step for i in range((self.last - self.first).days + 1))
        return tuple(dict.fromkeys(iso_week_label(d) for d in days))

    @property
    def dates_text(self) -> str:
        """``Mon 2026-11-30 to Sun 2026-12-06``."""
        return f"{self.first:%a} {self.first} to {self.last:%a} {self.last}"


def week_period(text: str) -> Period:
    """``2026-W49``: its Monday to its Sunday."""
    try:
        dates = parse_iso_week(text)
    except ValueError:
        raise PeriodError("week", f"{text!r} is not an ISO week such as 2026-W49") from None
    return Period(dates[0], dates[-1], iso_week_label(dates[0]), "week")


def month_period(text: str) -> Period:
    """``2026-12``: its first to its last day."""
    match = MONTH.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        year, month = int(match.group(1)), int(match.group(2))
        first = dt.date(year, month, 1)
    except ValueError:
        raise PeriodError("month", f"{text!r} is not a month such as 2026-12") from None
    last = dt.date(year, 12, 31) if month == 12 else dt.date(year, month + 1, 1) - dt.timedelta(1)
    return Period(first, last, f"{first:%Y-%m}", "month")


def read_day(text: str, field_name: str) -> dt.date:
    """A date written YYYY-MM-DD, or a PeriodError naming ``field_name``."""
    try:
        if DAY.fullmatch(text.strip()):
            return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise PeriodError(field_name, f"{text!r} is not a date such as 2026-12-01")


def custom_period(first: dt.date, last: dt.date) -> Period:
    """First to last inclusive; refused when reversed or longer than MAX_DAYS."""
    if last < first:
        raise PeriodError("to", f"{last} is before from {first}; the period runs from..to")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("to", f"the period is longer than {MAX_DAYS} days; split it")
    return Period(first, last, f"{first} to {last}")


def choose_period(
    *,
    week: str | None = None,
    month: str | None = None,
    first: str | None = None,
    last: str | None = None,
) -> Period:
    """Exactly one of a week, a month, or from and to (the CLI's options, the page's fields)."""
    forms = [name for name, given in (("week", week), ("month", month)) if given]
    if first or last:
        forms.append("from/to")
    if len(forms) != 1:
        several = f"choose one period, not several ({', '.join(forms)} given)"
        none = "choose a period: a week, a month, or from and to dates"
        raise PeriodError("period", several if forms else none)
    if week:
        return week_period(week)
    if month:
        return month_period(month)
    if not first or not last:
        missing = "to" if first else "from"
        raise PeriodError(missing, "from and to go together; give both dates")
    return custom_period(read_day(first, "from"), read_day(last, "to"))


def quick_periods(today: dt.date) -> tuple[tuple[str, Period], ...]:
    """This week, last week, this month and last month, for the page's quick links."""
    last_month_day = today.replace(day=1) - dt.timedelta(days=1)
    return (
        ("This week", week_period(iso_week_label(today))),
        ("Last week", week_period(iso_week_label(today - dt.timedelta(days=7)))),
        ("This month", month_period(f"{today:%Y-%m}")),
        ("Last month", month_period(f"{last_month_day:%Y-%m}")),
    )


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Amount:
    """Hours and the cost of those of them that have a rate; rounded line figures added up."""

    hours: Decimal = ZERO
    cost: Decimal = ZERO  # of the priced hours only
    unpriced_hours: Decimal = ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(
            self.hours + other.hours,
            self.cost + other.cost,
            self.unpriced_hours + other.unpriced_hours,
        )

    @property
    def known_cost(self) -> Decimal | None:
        """The cost, or None when no hour of it has a rate (unknown, not zero)."""
        if self.hours and self.unpriced_hours == self.hours:
            return None
        return self.cost

    @property
    def complete(self) -> bool:
        """Every hour has a rate, so the cost is the whole cost."""
        return not self.unpriced_hours


def total(amounts: Iterable[Amount]) -> Amount:
    return sum(amounts, Amount())


@dataclass(frozen=True)
class StaffLine:
    """One person's hours at one host over the period: the only place rounding happens."""

    host: str
    employer: str
    staff_id: str
    name: str
    role: str
    seconds: int  # real seconds worked
    rate: Decimal | None

    @property
    def hours(self) -> Decimal:
        return cents(Decimal(self.seconds) / SECONDS_PER_HOUR)

    @property
    def cost(self) -> Decimal | None:
        if self.rate is None:
            return None
        return cents(Decimal(self.seconds) / SECONDS_PER_HOUR * self.rate)

    @property
    def amount(self) -> Amount:
        if self.cost is None:
            return Amount(self.hours, ZERO, self.hours)
        return Amount(self.hours, self.cost, ZERO)


@dataclass(frozen=True)
class Party:
    party_id: str
    name: str
    kind: str  # practice, hub, federation, or unknown (no longer in the bundle)


@dataclass(frozen=True)
class InvoiceLine:
    """What ``host`` owes ``employer`` for one role's people over the period."""

    host: str
    employer: str
    role: str
    people: int
    amount: Amount


@dataclass(frozen=True)
class PartySummary:
    """A party's lending and borrowing, with breakdowns by role and by counterparty."""

    party: Party
    lent: Amount
    borrowed: Amount
    lent_by_role: tuple[tuple[str, Amount], ...]
    borrowed_by_role: tuple[tuple[str, Amount], ...]
    lent_to: tuple[tuple[str, Amount], ...]  # hosts that used its staff
    borrowed_from: tuple[tuple[str, Amount], ...]  # employers whose staff it used

    @property
    def net_hours(self) -> Decimal:
        """Hours lent less hours borrowed."""
        return self.lent.hours - self.borrowed.hours

    @property
    def net_cost(self) -> Decimal:
        """Owed to it less owed by it (priced hours): above zero, the others owe it."""
        return self.lent.cost - self.borrowed.cost


@dataclass(frozen=True)
class Balance:
    """Both directions between two parties, ``a`` before ``b`` in the network's order."""

    a: str
    b: str
    a_owes_b: Amount  # a hosted b's staff
    b_owes_a: Amount  # b hosted a's staff

    @property
    def net(self) -> Decimal:
        """Signed: above zero ``a`` pays ``b``, below zero ``b`` pays ``a``."""
        return self.a_owes_b.cost - self.b_owes_a.cost

    @property
    def payer(self) -> str:
        return self.a if self.net > 0 else self.b if self.net < 0 else ""

    @property
    def payee(self) -> str:
        return self.b if self.net > 0 else self.a if self.net < 0 else ""

    @property
    def amount(self) -> Decimal:
        return abs(self.net)

    @property
    def unpriced_hours(self) -> Decimal:
        return self.a_owes_b.unpriced_hours + self.b_owes_a.unpriced_hours


def _by(
    lines: Iterable[StaffLine], key: Callable[[StaffLine], str]
) -> tuple[tuple[str, Amount], ...]:
    grouped: dict[str, list[Amount]] = defaultdict(list)
    for line in lines:
        grouped[key(line)].append(line.amount)
    return tuple((k, total(found)) for k, found in sorted(grouped.items()))


@dataclass(frozen=True)
class Ledger:
    """The period's lines and what a manager reads from them; ``viewer`` limits it to one party."""

    network: str
    period: Period
    parties: tuple[Party, ...]
    lines: tuple[StaffLine, ...]
    published_weeks: tuple[str, ...]
    unpublished_weeks: tuple[str, ...]
    uncounted: tuple[str, ...] = ()  # published sessions that cannot be attributed, explained
    viewer: str | None = None
    confirmed_sessions: int = 0  # sessions counted from a confirmed timesheet
    planned_sessions: int = 0  # sessions counted as planned (no confirmed timesheet yet)

    @cached_property
    def _order(self) -> dict[str, int]:
        return {p.party_id: i for i, p in enumerate(self.parties)}

    def party(self, party_id: str) -> Party:
        known = next((p for p in self.parties if p.party_id == party_id), None)
        return known or Party(party_id, party_id, "unknown")

    def order(self, party_id: str) -> tuple[int, str]:
        return (self._order.get(party_id, len(self._order)), party_id)

    def only(self, party_id: str) -> Ledger:
        """What one practice may see: lines where it is host or employer, and itself."""
        mine = tuple(x for x in self.lines if party_id in (x.host, x.employer))
        return replace(self, lines=mine, viewer=party_id)

    @property
    def total(self) -> Amount:
        return total(x.amount for x in self.lines)

    @property
    def unpriced_lines(self) -> tuple[StaffLine, ...]:
        return tuple(x for x in self.lines if x.rate is None)

    def invoice_lines(self) -> list[InvoiceLine]:
        """One line per (host, employer, role), in the order of recharges.csv."""
        grouped: dict[tuple[str, str, str], list[StaffLine]] = defaultdict(list)
        for x in self.lines:
            grouped[(x.host, x.employer, x.role)].append(x)
        return [
            InvoiceLine(*key, len({x.staff_id for x in found}), total(x.amount for x in found))
            for key, found in sorted(grouped.items())
        ]

    def summary(self, party: Party) -> PartySummary:
        lent = [x for x in self.lines if x.employer == party.party_id]
        borrowed = [x for x in self.lines if x.host == party.party_id]
        return PartySummary(
            party,
            total(x.amount for x in lent),
            total(x.amount for x in borrowed),
            _by(lent, lambda x: x.role),
            _by(borrowed, lambda x: x.role),
            _by(lent, lambda x: x.host),
            _by(borrowed, lambda x: x.employer),
        )

    def summaries(self) -> list[PartySummary]:
        """Every practice (even with nothing), then hubs, the federation and the rest with figures.

        Limited to one party, only that party's own summary.
        """
        if self.viewer is not None:
            return [self.summary(self.party(self.viewer))]
        active = {x.host for x in self.lines} | {x.employer for x in self.lines}
        shown = [
            p.party_id
            for p in self.parties
            if p.kind == "practice" or p.kind.startswith("organisation")
        ]
        shown += sorted(active - set(shown), key=self.order)
        return [self.summary(self.party(p)) for p in sorted(shown, key=self.order)]

    def balances(self) -> list[Balance]:
        """Each pair of parties with hours between them, once, in the network's order."""
        flows: dict[tuple[str, str], list[Amount]] = defaultdict(list)
        for x in self.lines:
            flows[(x.host, x.employer)].append(x.amount)
        pairs = {tuple(sorted(key, key=self.order)) for key in flows}
        return [
            Balance(a, b, total(flows.get((a, b), [])), total(flows.get((b, a), [])))
            for a, b in sorted(pairs, key=lambda p: (self.order(p[0]), self.order(p[1])))
        ]


# --------------------------------------------------------------------------- building


def parties_of(bundle: Bundle) -> tuple[Party, ...]:
    """The organisations in the bundle's order, then the federation.

    A site that names no organisation is its own (a practice, a hub); sites of one
    organisation (a super-partnership) are one party, named by its id, and its
    sites are listed as its kind ("organisation: P01, P02").
    """
    parties: dict[str, Party] = {}
    for site in bundle.sites:
        if site.organisation is None:
            parties[site.site_id] = Party(site.site_id, site.name, site.kind.value)
            continue
        members = [s.site_id for s in bundle.sites if s.organisation == site.organisation]
        if site.organisation not in parties:
            what = f"organisation: {', '.join(members)}"
            parties[site.organisation] = Party(site.organisation, site.organisation, what)
    if FEDERATION not in parties:
        parties[FEDERATION] = Party(FEDERATION, FEDERATION_NAME, "federation")
    return tuple(parties.values())


def _rate(person: Staff) -> Decimal | None:
    return None if person.hourly_rate is None else Decimal(str(person.hourly_rate))


def _uncounted(bundle: Bundle, assignments: Iterable[Assignment]) -> tuple[str, ...]:
    """Why some published sessions cannot be in the ledger (their person or session is gone)."""
    staff = {p.staff_id for p in bundle.staff}
    sessions = {s.session_id for s in bundle.session_types}
    missing: dict[str, int] = defaultdict(int)
    for a in assignments:
        if a.staff_id not in staff:
            missing[f"staff {a.staff_id} is no longer in staff.csv"] += 1
        elif a.session_id not in sessions:
            missing[f"session {a.session_id} is no longer in session_types.csv"] += 1
    return tuple(f"{n} session(s) not counted: {why}" for why, n in sorted(missing.items()))


def staff_lines(
    bundle: Bundle,
    assignments: Iterable[Assignment],
    actual: Mapping[Assignment, int] | None = None,
) -> tuple[StaffLine, ...]:
    """Seconds per (host, person) where the employer is elsewhere, as recharges.csv counts;
    ``actual`` gives the seconds of sessions whose timesheet says how long they really were."""
    staff = {p.staff_id: p for p in bundle.staff}
    by_host: dict[str, list[Assignment]] = defaultdict(list)
    for a in set(assignments):
        person = staff.get(a.staff_id)
        if person is not None and bundle.recharged(person, a.site_id):
            by_host[a.site_id].append(a)
    lines = []
    for host, found in by_host.items():
        for staff_id, seconds in _seconds(bundle, found, actual).items():
            person = staff[staff_id]
            line = StaffLine(
                bundle.organisation_of(host),
                bundle.organisation_of(person.employer),
                staff_id,
                person.name,
                person.role,
                seconds,
                _rate(person),
            )
            lines.append(line)
    return tuple(sorted(lines, key=lambda x: (x.host, x.employer, x.staff_id)))


def _seconds(
    bundle: Bundle, found: list[Assignment], actual: Mapping[Assignment, int] | None
) -> dict[str, int]:
    """Planned seconds per person, or the timesheets' where ``actual`` has them."""
    if actual is None:
        return worked_seconds(bundle, found)
    seconds: dict[str, int] = defaultdict(int)
    for a in found:
        seconds[a.staff_id] += actual[a]
    return seconds


def build_ledger(
    bundle: Bundle,
    period: Period,
    assignments: Iterable[Assignment],
    published: Collection[str] | None = None,
    actual: Counted | None = None,
) -> Ledger:
    """The ledger of the period's assignments; ``published`` = weeks with a publication (all);
    ``actual``: what the timesheets say was worked, counted instead of ``assignments``."""
    if actual is not None:
        assignments = actual.assignments
    inside = sorted({a for a in assignments if period.first <= a.date <= period.last})
    weeks = period.weeks
    done = set(weeks if published is None else published)
    return Ledger(
        network=bundle.name,
        period=period,
        parties=parties_of(bundle),
        lines=staff_lines(bundle, inside, None if actual is None else actual.seconds),
        published_weeks=tuple(w for w in weeks if w in done),
        unpublished_weeks=tuple(w for w in weeks if w not in done),
        uncounted=_uncounted(bundle, inside),
        confirmed_sessions=0 if actual is None else actual.confirmed,
        planned_sessions=len(inside) if actual is None else actual.planned,
    )


class NothingPublishedError(LookupError):
    """No week of the period has a published rota: there is nothing to recharge."""


def published_weeks(session: Session, network_id: int, weeks: Sequence[str]) -> set[str]:
    """Which of ``weeks`` have a current publication."""
    statement = select(RotaRecord.week).where(
        RotaRecord.network_id == network_id,
        RotaRecord.state == "published",
        RotaRecord.week.in_(weeks),
    )
    return set(session.scalars(statement))


def load_ledger(session: Session, network_id: int, period: Period) -> Ledger:
    """The ledger of the network's published rotas over the period; NothingPublishedError."""
    _, bundle = stored_bundle(session, network_id)
    published = published_weeks(session, network_id, period.weeks)
    if not published:
        raise NothingPublishedError(
            f"no rota is published between {period.first} and {period.last} "
            f"(weeks {', '.join(period.weeks)}): publish a week first; drafts never count"
        )
    entries = load_entries(session, network_id, bundle, period.first, period.last)
    return build_ledger(bundle, period, (), published, counted(entries))
