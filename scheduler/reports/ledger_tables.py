"""The recharge ledger as tables and files: invoice lines, balances, CSV and XLSX.

Every table is headers plus rows built from the ``Ledger``, so the page, the
command's printout and the files always carry the same figures."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from scheduler.money import cents
from scheduler.outputs.exports import Header, Row, Table, write_csv, write_workbook
from scheduler.reports.ledger import (
    HUB_RULE,
    MONEY_RULE,
    RATE_RULE,
    Amount,
    Balance,
    Ledger,
    PartySummary,
)

# --------------------------------------------------------------------------- tables

INVOICE_HEADER: Header = (
    "period_start",
    "period_end",
    "host_site",
    "employer",
    "role",
    "people",
    "hours",
    "cost",
    "hours_without_rate",
)
PARTY_HEADER: Header = (
    "party",
    "name",
    "kind",
    "lent_hours",
    "lent_cost",
    "lent_hours_without_rate",
    "borrowed_hours",
    "borrowed_cost",
    "borrowed_hours_without_rate",
    "net_hours",
    "net_cost",
)
BALANCE_HEADER: Header = (
    "party_a",
    "party_b",
    "a_used_hours_of_b",
    "a_owes_b",
    "b_used_hours_of_a",
    "b_owes_a",
    "net_a_owes_b",
    "payer",
    "payee",
    "amount",
    "hours_without_rate",
)
BREAKDOWN_HEADER: Header = (
    "party",
    "direction",
    "role",
    "other_party",
    "hours",
    "cost",
    "hours_without_rate",
)
STAFF_HEADER: Header = (
    "host_site",
    "employer",
    "staff_id",
    "name",
    "role",
    "hours",
    "hourly_rate",
    "cost",
)
NOTES_HEADER: Header = ("item", "value")


def _money(amount: Amount) -> tuple[Decimal, Decimal | None, Decimal]:
    return amount.hours, amount.known_cost, amount.unpriced_hours


def invoice_rows(ledger: Ledger) -> list[Row]:
    """One row per (host, employer, role): what the host pays the employer."""
    first, last = ledger.period.first.isoformat(), ledger.period.last.isoformat()
    return [
        (first, last, i.host, i.employer, i.role, i.people, *_money(i.amount))
        for i in ledger.invoice_lines()
    ]


def party_rows(ledger: Ledger) -> list[Row]:
    """Per party: lent, borrowed and the net (net_cost above zero: the others owe it)."""
    return [
        (
            s.party.party_id,
            s.party.name,
            s.party.kind,
            *_money(s.lent),
            *_money(s.borrowed),
            s.net_hours,
            s.net_cost,
        )
        for s in ledger.summaries()
    ]


def balance_rows(ledger: Ledger) -> list[Row]:
    """Each pair once: both directions, the signed net, and who pays whom how much."""
    return [
        (
            b.a,
            b.b,
            b.a_owes_b.hours,
            b.a_owes_b.known_cost,
            b.b_owes_a.hours,
            b.b_owes_a.known_cost,
            b.net,
            b.payer,
            b.payee,
            b.amount,
            b.unpriced_hours,
        )
        for b in ledger.balances()
    ]


def breakdown_rows(ledger: Ledger) -> list[Row]:
    """Per party, its lent then borrowed hours by role and counterparty: invoice lines seen
    from both sides."""
    invoices = ledger.invoice_lines()
    rows: list[Row] = []
    for s in ledger.summaries():
        me = s.party.party_id
        lent = [(i.role, i.host, i.amount) for i in invoices if i.employer == me]
        borrowed = [(i.role, i.employer, i.amount) for i in invoices if i.host == me]
        for direction, found in (("lent", lent), ("borrowed", borrowed)):
            found.sort(key=lambda item: item[:2])
            rows += [(me, direction, role, other, *_money(a)) for role, other, a in found]
    return rows


def staff_rows(ledger: Ledger) -> list[Row]:
    """The lines themselves; for one ISO week, recharges.csv's rows with name, role and rate."""
    return [
        (x.host, x.employer, x.staff_id, x.name, x.role, x.hours, _rate_cell(x.rate), x.cost)
        for x in ledger.lines
    ]


def _rate_cell(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else cents(rate)


def note_rows(ledger: Ledger) -> list[Row]:
    """How the figures were made, for the workbook's last sheet."""
    period = ledger.period
    rows: list[Row] = [
        ("network", ledger.network),
        ("period", f"{period.label}: {period.dates_text}"),
        ("published weeks counted", ", ".join(ledger.published_weeks) or "none"),
        (
            "weeks without a publication (not counted)",
            ", ".join(ledger.unpublished_weeks) or "none",
        ),
        ("hours without a rate", ledger.total.unpriced_hours),
        ("timesheets", actuals_text(ledger)),
        ("hub sessions", HUB_RULE),
        ("rounding", MONEY_RULE),
        ("no rate", RATE_RULE),
        ("rates and employers", "as imported now (staff.csv), for the whole period"),
    ]
    if ledger.viewer is not None:
        rows.append(("limited to", f"lines where {ledger.viewer} is host or employer"))
    rows += [("not counted", text) for text in ledger.uncounted]
    return rows


def ledger_tables(ledger: Ledger) -> dict[str, Table]:
    """Every table of the ledger by file stem; the first is the invoice lines."""
    return {
        "invoices": (INVOICE_HEADER, invoice_rows(ledger)),
        "practices": (PARTY_HEADER, party_rows(ledger)),
        "balances": (BALANCE_HEADER, balance_rows(ledger)),
        "breakdown": (BREAKDOWN_HEADER, breakdown_rows(ledger)),
        "staff": (STAFF_HEADER, staff_rows(ledger)),
    }


DOWNLOADS = (
    "recharge-invoices.csv",
    "recharge-practices.csv",
    "recharge-balances.csv",
    "recharge-breakdown.csv",
    "recharge-staff.csv",
    "recharges.xlsx",
)


def write_ledger_csv(ledger: Ledger, target: Path) -> list[Path]:
    """A ``.csv`` path: the invoice lines only; any other path: a folder of every table."""
    target = Path(target)
    tables = ledger_tables(ledger)
    if target.suffix.lower() == ".csv":
        return [write_csv(target, *tables["invoices"])]
    target.mkdir(parents=True, exist_ok=True)
    return [write_csv(target / f"recharge-{name}.csv", *t) for name, t in tables.items()]


def write_ledger_xlsx(ledger: Ledger, path: Path) -> Path:
    """One workbook: a sheet per table, then the notes on how the figures were made."""
    sheets = {name: table for name, table in ledger_tables(ledger).items()}
    sheets["notes"] = (NOTES_HEADER, note_rows(ledger))
    return write_workbook(Path(path), sheets)


def write_ledger(ledger: Ledger, kind: str, path: Path) -> list[Path]:
    """Write the ledger as ``csv`` (see write_ledger_csv) or ``xlsx``; the paths written."""
    if kind == "xlsx":
        return [write_ledger_xlsx(ledger, path)]
    return write_ledger_csv(ledger, path)


def ledger_bytes(ledger: Ledger, name: str) -> bytes:
    """One download of ``DOWNLOADS``, byte for byte what the command line writes."""
    if name not in DOWNLOADS:
        raise KeyError(f"{name!r} is not one of {', '.join(DOWNLOADS)}")
    with tempfile.TemporaryDirectory(prefix="rotapool-ledger-") as tmp:
        folder = Path(tmp)
        if name.endswith(".xlsx"):
            return write_ledger_xlsx(ledger, folder / name).read_bytes()
        write_ledger_csv(ledger, folder)
        return (folder / name).read_bytes()


# --------------------------------------------------------------------------- words


def money_text(amount: Amount) -> str:
    """``£405.00``, ``£279.00 + 4.50 h without a rate``, or ``unknown (4.50 h without a rate)``."""
    known = amount.known_cost
    if known is None:
        return f"unknown ({amount.unpriced_hours} h without a rate)"
    text = f"£{known:,.2f}"
    return text if amount.complete else f"{text} + {amount.unpriced_hours} h without a rate"


def balance_text(b: Balance) -> str:
    """``P02 owes P01 £270.00 (P01 used 9.00 h of P02's staff, £135.00; ...)``."""
    even = f"{b.a} and {b.b} are even"
    head = f"{b.payer} owes {b.payee} £{b.amount:,.2f}" if b.payer else even
    used = [
        f"{host} used {amount.hours} h of {employer}'s staff, {money_text(amount)}"
        for host, employer, amount in ((b.a, b.b, b.a_owes_b), (b.b, b.a, b.b_owes_a))
        if amount.hours
    ]
    return f"{head} ({'; '.join(used)})"


def actuals_text(ledger: Ledger) -> str:
    """How many sessions count from confirmed timesheets and how many as planned."""
    return (
        f"Timesheets: {ledger.confirmed_sessions} session(s) counted from confirmed actuals, "
        f"{ledger.planned_sessions} as planned (not yet confirmed)."
    )


def _party_line(s: PartySummary) -> str:
    mark = "" if s.lent.complete and s.borrowed.complete else " *"
    return (
        f"  {s.party.party_id:<8} {s.party.name[:26]:<26} {s.lent.hours:>9} {s.lent.cost:>11,.2f}"
        f" {s.borrowed.hours:>10} {s.borrowed.cost:>11,.2f} {s.net_cost:>11,.2f}{mark}"
    )


def summary_lines(ledger: Ledger) -> list[str]:
    """The readable summary ``rotapool report recharges`` prints."""
    period = ledger.period
    lines = [
        f"Recharge ledger of {ledger.network}: {period.label} ({period.dates_text})",
        f"Counted: the published rotas of {', '.join(ledger.published_weeks) or 'no week'}.",
    ]
    if ledger.unpublished_weeks:
        lines.append(f"Not published, so not counted: {', '.join(ledger.unpublished_weeks)}.")
    lines.append(actuals_text(ledger))
    lines += [f"Warning: {text}." for text in ledger.uncounted]
    if not ledger.lines:
        lines.append("Nobody worked for a site other than their employer: nothing to recharge.")
        return lines
    head = f"  {'party':<8} {'name':<26} {'lent h':>9} {'lent £':>11} {'borrowed h':>10}"
    lines += ["", "Lent and borrowed (net £ above zero: the others owe this party):"]
    lines += [f"{head} {'borrowed £':>11} {'net £':>11}"]
    lines += [_party_line(s) for s in ledger.summaries()]
    lines += ["", "Who owes whom (net of both directions):"]
    lines += [f"  {balance_text(b)}" for b in ledger.balances()]
    lines += ["", *_unpriced_lines(ledger)]
    count = len(ledger.invoice_lines())
    lines.append(
        f"{count} invoice line(s) by host, employer and role: --csv or --xlsx writes them."
    )
    lines += [HUB_RULE, MONEY_RULE]
    return lines


def _unpriced_lines(ledger: Ledger) -> list[str]:
    found = ledger.unpriced_lines
    if not found:
        return ["Every person has an hourly rate: every cost is known."]
    who = "; ".join(
        f"{x.staff_id} {x.name} of {x.employer} at {x.host}, {x.hours} h" for x in found
    )
    return [
        f"* Hours without a rate: {ledger.total.unpriced_hours} h ({who}).",
        "  Their cost is unknown and is in no £ figure above.",
    ]
