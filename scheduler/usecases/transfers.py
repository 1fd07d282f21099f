"""Lending proposals stored as transfers, accepted by both sides, applied to the draft.

Both sides accept (a practice account for its own site, a manager or
coordinator for either); the second acceptance checks the proposal again
against the week's current rota and makes it an edit of the draft through
``scheduler.usecases.editing``, so the validator and the revision check apply
as to any hand edit.  The person then works at a site other than their
employer, which is what recharges.csv bills.  Every step is audited in the
caller's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from scheduler.domain import parse_iso_week
from scheduler.money import cents
from scheduler.storage import audit
from scheduler.storage.clock import now, utc
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import TransferRecord
from scheduler.storage.rotas import normalise_week
from scheduler.usecases.editing import (
    EditError,
    EditOutcome,
    EditRefusedError,
    apply_edit,
    editable_rota,
)
from scheduler.usecases.lending import (
    OPEN,
    PROPOSALS_PER_SHORT,
    STAFF_ROLES,
    Lending,
    Proposal,
    Transfer,
    TransferError,
    TransferNotFoundError,
    TransferStaleError,
)
from scheduler.views.week import Week, load_week

SIDES = ("lender", "borrower")


def _money(value: float | None) -> Decimal | None:
    return None if value is None else cents(Decimal(str(value)))


def transfer_of(record: TransferRecord) -> Transfer:
    """The record as a plain value (datetimes in UTC whatever the database kept)."""

    def moment(value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else utc(value)

    return Transfer(
        id=record.id,
        week=record.week,
        staff_id=record.staff_id,
        date=record.date,
        session_id=record.session_id,
        lender_site=record.lender_site,
        borrower_site=record.borrower_site,
        hours=cents(Decimal(str(record.hours))),
        cost=_money(record.cost),
        travel_minutes=record.travel_minutes,
        leaves_lender_short=record.leaves_lender_short,
        state=record.state,
        proposed_by=record.proposed_by,
        proposed_at=utc(record.proposed_at),
        lender_accepted_by=record.lender_accepted_by,
        lender_accepted_at=moment(record.lender_accepted_at),
        borrower_accepted_by=record.borrower_accepted_by,
        borrower_accepted_at=moment(record.borrower_accepted_at),
        decided_at=moment(record.decided_at),
    )


def _snapshot(record: TransferRecord) -> dict[str, object]:
    """What the audit log keeps of a transfer (no leave, no reasons: nothing private)."""
    return {
        "staff_id": record.staff_id,
        "date": record.date.isoformat(),
        "session_id": record.session_id,
        "lender_site": record.lender_site,
        "borrower_site": record.borrower_site,
        "state": record.state,
        "lender_accepted_by": record.lender_accepted_by,
        "borrower_accepted_by": record.borrower_accepted_by,
    }


def _subject(record: TransferRecord) -> str:
    return f"transfer {record.id} ({record.week})"


def week_transfers(
    session: Session, network_id: int, week: str, site_id: str | None = None
) -> list[Transfer]:
    """The week's transfers (those lending or borrowing ``site_id`` when given): open ones
    first, each group by date, session and borrower."""
    statement = select(TransferRecord).where(
        TransferRecord.network_id == network_id, TransferRecord.week == normalise_week(week)
    )
    if site_id is not None:
        statement = statement.where(
            (TransferRecord.lender_site == site_id) | (TransferRecord.borrower_site == site_id)
        )
    found = [transfer_of(r) for r in session.scalars(statement)]
    return sorted(
        found,
        key=lambda t: (not t.open, t.date, t.session_id, t.borrower_site, t.staff_id, t.id),
    )


def find_transfer(session: Session, network_id: int, transfer_id: int) -> Transfer:
    """One transfer of the network; TransferNotFoundError otherwise."""
    record = session.get(TransferRecord, transfer_id)
    if record is None or record.network_id != network_id:
        raise TransferNotFoundError(f"no transfer {transfer_id} in this network")
    return transfer_of(record)


def current_lending(session: Session, network_id: int, week: str) -> tuple[Lending, int]:
    """The week's editable rota (the draft, else the published one) as ``Lending``, and its
    revision, under the bundle edits are checked with; TransferError when there is no rota."""
    week = normalise_week(week)
    rota = editable_rota(session, network_id, week)
    if rota is None:
        raise TransferError(f"{week} has no rota yet: solve the week first")
    bundle = current_bundle(session, network_id)
    lending = Lending(bundle, parse_iso_week(week), rota.cells.assignments, rota.cells.pinned)
    return lending, rota.revision


@dataclass(frozen=True)
class Generated:
    """What generating a week's proposals did."""

    added: tuple[Transfer, ...]
    kept: tuple[Transfer, ...]
    withdrawn: tuple[tuple[Transfer, str], ...]  # with why each no longer holds


def _record(network_id: int, week: str, proposal: Proposal, actor: str) -> TransferRecord:
    cost = proposal.cost
    return TransferRecord(
        network_id=network_id,
        week=week,
        staff_id=proposal.person.staff_id,
        date=proposal.date,
        session_id=proposal.session_id,
        lender_site=proposal.lender_site,
        borrower_site=proposal.borrower_site,
        hours=float(proposal.hours),
        cost=None if cost is None else float(cost),
        travel_minutes=proposal.travel_minutes,
        leaves_lender_short=proposal.leaves_lender_short,
        state=OPEN,
        proposed_by=actor,
        proposed_at=now(),
    )


def _refresh(record: TransferRecord, proposal: Proposal) -> None:
    """Terms that changed for the better (a lender no longer left short, a new rate)."""
    cost = proposal.cost
    record.hours = float(proposal.hours)
    record.cost = None if cost is None else float(cost)
    record.travel_minutes = proposal.travel_minutes
    record.leaves_lender_short = proposal.leaves_lender_short


def _records(session: Session, network_id: int, week: str) -> list[TransferRecord]:
    statement = select(TransferRecord).where(
        TransferRecord.network_id == network_id, TransferRecord.week == week
    )
    return list(session.scalars(statement.order_by(TransferRecord.id)))


def generate(
    session: Session,
    network_id: int,
    week: str,
    actor: str,
    per_short: int = PROPOSALS_PER_SHORT,
) -> Generated:
    """Propose transfers for the week's short practices; idempotent.

    Open proposals that still hold are kept (never duplicated), those that no
    longer do are withdrawn, and new ones are added up to ``per_short`` per
    person short.  A declined proposal is not made again.
    """
    week = normalise_week(week)
    lending, _ = current_lending(session, network_id, week)
    records = _records(session, network_id, week)
    kept: list[TransferRecord] = []
    withdrawn: list[tuple[Transfer, str]] = []
    for record in (r for r in records if r.state == OPEN):
        found = lending.holds(transfer_of(record))
        if isinstance(found, str):
            _close(record, "withdrawn")
            withdrawn.append((transfer_of(record), found))
        else:
            _refresh(record, found)
            kept.append(record)
    declined = {transfer_of(r).key for r in records if r.state == "declined"}
    held = [transfer_of(r).key for r in kept]
    added = [_record(network_id, week, p, actor) for p in lending.choose(held, declined, per_short)]
    session.add_all(added)
    session.flush()
    audit.record(
        session,
        actor,
        "lending proposals generated",
        f"{week} lending",
        network_id=network_id,
        after={
            "added": [r.id for r in added],
            "kept": [r.id for r in kept],
            "withdrawn": [{"id": t.id, "why": why} for t, why in withdrawn],
        },
    )
    return Generated(
        tuple(transfer_of(r) for r in added), tuple(transfer_of(r) for r in kept), tuple(withdrawn)
    )


def sides_for(role: str, site_id: str | None, transfer: Transfer) -> tuple[str, ...]:
    """The sides an account may accept or decline for: a practice its own, staff roles both."""
    if role in STAFF_ROLES:
        return SIDES
    if role == "practice" and site_id is not None:
        return tuple(side for side in SIDES if transfer.site_of(side) == site_id)
    return ()


def _open_record(session: Session, network_id: int, transfer_id: int) -> TransferRecord:
    """The transfer as stored now; raises when it is missing or no longer open."""
    record = session.get(TransferRecord, transfer_id, populate_existing=True)
    if record is None or record.network_id != network_id:
        raise TransferNotFoundError(f"no transfer {transfer_id} in this network")
    if record.state != OPEN:
        raise TransferError(f"transfer {transfer_id} is already {record.state}")
    return record


def _claim(
    session: Session, network_id: int, transfer_id: int, values: dict[str, object], *unset: str
) -> TransferRecord:
    """Change an open transfer whose ``unset`` columns are still empty, and return it fresh.

    The UPDATE is both the check and the claim, so two people acting on one
    transfer at once cannot both pass it: on SQLite it takes the write lock
    at once, on PostgreSQL the row lock makes the second re-read the row
    (the pattern of ``editing.claim_draft``).  Raises naming why otherwise.
    """
    result = session.execute(
        update(TransferRecord)
        .where(
            TransferRecord.id == transfer_id,
            TransferRecord.network_id == network_id,
            TransferRecord.state == OPEN,
            *(getattr(TransferRecord, column).is_(None) for column in unset),
        )
        .values(values)
        .execution_options(synchronize_session=False)
    )
    claimed = isinstance(result, CursorResult) and result.rowcount == 1
    record = session.get(TransferRecord, transfer_id, populate_existing=True)
    if claimed and record is not None:
        return record
    record = _open_record(session, network_id, transfer_id)  # raises when missing or closed
    side = unset[0].removesuffix("_accepted_by")  # open, so a side was already accepted
    raise TransferError(
        f"transfer {transfer_id}: {transfer_of(record).site_of(side)} already accepted it "
        f"({getattr(record, unset[0])})"
    )


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise TransferError(f"side: {side!r} is not one of {', '.join(SIDES)}")


def _close(record: TransferRecord, state: str) -> None:
    record.state = state
    record.decided_at = now()


@dataclass(frozen=True)
class Accepted:
    """An acceptance: the transfer, and the edit of the draft once both sides accepted."""

    transfer: Transfer
    applied: EditOutcome | None


def accept(session: Session, network_id: int, transfer_id: int, side: str, actor: str) -> Accepted:
    """One side accepts; the second acceptance puts the transfer in the week's draft.

    Raises ``TransferStaleError`` (naming why) when, at the second acceptance,
    the proposal no longer holds or the edit is refused; the caller's
    transaction must then be rolled back, and nothing is changed.
    """
    _check_side(side)
    accepted = {f"{side}_accepted_by": actor, f"{side}_accepted_at": now()}
    record = _claim(session, network_id, transfer_id, accepted, f"{side}_accepted_by")
    before = {**_snapshot(record), f"{side}_accepted_by": None}
    audit.record(
        session,
        actor,
        f"transfer accepted by {side}",
        _subject(record),
        network_id=network_id,
        before=before,
        after=_snapshot(record),
    )
    if record.lender_accepted_by is None or record.borrower_accepted_by is None:
        return Accepted(transfer_of(record), None)
    applied = _apply(session, network_id, record, actor)
    return Accepted(transfer_of(record), applied)


def _apply(session: Session, network_id: int, record: TransferRecord, actor: str) -> EditOutcome:
    """Check the proposal against the current rota and make it an edit of the draft."""
    lending, revision = current_lending(session, network_id, record.week)
    found = lending.holds(transfer_of(record))
    if isinstance(found, str):
        raise TransferStaleError(f"transfer {record.id} no longer holds: {found}")
    try:
        outcome = apply_edit(
            session, network_id, record.week, found.edit(), expected_revision=revision, actor=actor
        )
    except (EditError, EditRefusedError) as err:
        raise TransferStaleError(
            f"transfer {record.id} could not be put in the rota: {err}"
        ) from err
    before = _snapshot(record)
    _close(record, "accepted")
    session.flush()
    audit.record(
        session,
        actor,
        "transfer put in the rota",
        _subject(record),
        network_id=network_id,
        before=before,
        after={**_snapshot(record), "rota_id": outcome.rota_id, "revision": outcome.revision},
    )
    return outcome


def decline(session: Session, network_id: int, transfer_id: int, side: str, actor: str) -> Transfer:
    """One side declines: the proposal is closed and not made again for that week."""
    _check_side(side)
    action = f"transfer declined by {side}"
    return _decide(session, network_id, transfer_id, ("declined", action), actor)


def withdraw(session: Session, network_id: int, transfer_id: int, actor: str) -> Transfer:
    """A manager or coordinator takes the proposal back."""
    return _decide(session, network_id, transfer_id, ("withdrawn", "transfer withdrawn"), actor)


def _decide(
    session: Session, network_id: int, transfer_id: int, outcome: tuple[str, str], actor: str
) -> Transfer:
    """Close an open transfer in ``outcome`` (state, audit action)."""
    state, action = outcome
    record = _claim(session, network_id, transfer_id, {"state": state, "decided_at": now()})
    before = {**_snapshot(record), "state": OPEN}
    audit.record(
        session,
        actor,
        action,
        _subject(record),
        network_id=network_id,
        before=before,
        after=_snapshot(record),
    )
    return transfer_of(record)


# --------------------------------------------------------------------------- reading


def spare_week(session: Session, network_id: int, week: str) -> Week:
    """The week the spare-capacity view reads: its published rota if any, else its draft."""
    loaded = load_week(session, network_id, week, "published")
    return loaded if loaded.shown is not None else load_week(session, network_id, week, None)


def describe(transfer: Transfer, name: str) -> str:
    """One line of a transfer: ``#3 Mon 2026-11-30 AM: S02 Imran Shah from P01 to P02, ...``."""
    cost = "no rate" if transfer.cost is None else f"£{transfer.cost:,.2f}"
    short = f"; leaves {transfer.lender_site} below target" if transfer.leaves_lender_short else ""
    accepted = [
        f"accepted by {transfer.site_of(side)} ({side})"
        for side in SIDES
        if transfer.accepted_by(side)
    ]
    return (
        f"#{transfer.id} {transfer.day} {transfer.session_id}: {transfer.staff_id} {name} "
        f"from {transfer.lender_site} to {transfer.borrower_site}, {transfer.hours} h, {cost}, "
        f"{transfer.travel_minutes} min travel{short}"
        + "".join(f"; {text}" for text in accepted)
        + ("" if transfer.open else f" [{transfer.state}]")
    )
