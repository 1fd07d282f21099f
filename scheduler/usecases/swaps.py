"""Swaps and give-aways: a clinician offers one of their published sessions to a named
colleague or to anyone eligible, for a swap (the taker gives back one of their own sessions
of the same week) or for nothing; withdrawing an offer; offers closing when the session starts.

Taking an offer, approving and declining is ``scheduler.usecases.swap_taking``.  Whether
someone may take an offer is the validator's verdict on the published week with both
moves made (every hard rule, for both people), never a guess.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from scheduler.checks.rota_facts import session_bounds
from scheduler.checks.validator import added_by_change
from scheduler.domain import Assignment, Bundle, Staff, iso_week_label
from scheduler.storage import audit
from scheduler.storage.clock import utc
from scheduler.storage.events import current_bundle
from scheduler.storage.models.pool import SwapRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import load_cells, pinned_cells, week_dates
from scheduler.usecases.inbox import person_link, tell
from scheduler.usecases.open_sessions import published_cells
from scheduler.usecases.publishing import lock_week

OFFERED, ACCEPTED, DONE = "offered", "accepted", "done"
ACTIVE = (OFFERED, ACCEPTED)  # an offer still in play: its session is not free to offer again
NOTE_LENGTH = 200


class SwapRefusedError(RuntimeError):
    """An offer, acceptance or decision that cannot be made; the message says why in plain
    words (which rule, for whom), and nothing has changed."""


@dataclass(frozen=True)
class Swap:
    """An offer of one published session and what became of it."""

    id: int
    network_id: int
    week: str
    kind: str  # "swap" or "give"
    state: str
    from_staff_id: str
    cell: Assignment  # the offered session, held by ``from_staff_id``
    to_staff_id: str | None  # the named colleague; None: anyone eligible
    taker_staff_id: str | None
    back: Assignment | None  # the taker's session given back in a swap
    note: str | None
    created_at: dt.datetime
    reason: str | None = None
    version: int | None = None

    @property
    def where(self) -> str:
        """``P01 Tue 01 Dec AM``."""
        return where(self.cell)

    @property
    def back_where(self) -> str:
        return where(self.back) if self.back is not None else ""

    def moves(self, taker: str) -> tuple[frozenset[Assignment], frozenset[Assignment]]:
        """The cells the swap takes out of the rota and the ones it puts in, ``taker`` taking."""
        out = {self.cell}
        put = {Assignment(self.cell.date, self.cell.session_id, self.cell.site_id, taker)}
        if self.back is not None:
            out.add(self.back)
            back = self.back
            put.add(Assignment(back.date, back.session_id, back.site_id, self.from_staff_id))
        return frozenset(out), frozenset(put)


def where(cell: Assignment) -> str:
    return f"{cell.site_id} {cell.date:%a %d %b} {cell.session_id}"


def swap_of(record: SwapRecord) -> Swap:
    back = None
    if record.back_date and record.back_session_id and record.back_site_id:
        back = Assignment(
            record.back_date,
            record.back_session_id,
            record.back_site_id,
            record.taker_staff_id or record.to_staff_id or "",
        )
    return Swap(
        id=record.id,
        network_id=record.network_id,
        week=record.week,
        kind=record.kind,
        state=record.state,
        from_staff_id=record.from_staff_id,
        cell=Assignment(record.date, record.session_id, record.site_id, record.from_staff_id),
        to_staff_id=record.to_staff_id,
        taker_staff_id=record.taker_staff_id,
        back=back,
        note=record.note,
        created_at=utc(record.created_at),
        reason=record.reason,
        version=record.version,
    )


def starts_at(bundle: Bundle, cell: Assignment) -> dt.datetime:
    """When the cell's session starts (UTC)."""
    kind = next(s for s in bundle.session_types if s.session_id == cell.session_id)
    return session_bounds(kind, cell.date, ZoneInfo(bundle.timezone))[0]


def closes_at(bundle: Bundle, swap: Swap) -> dt.datetime:
    """An offer closes when the first of its sessions starts."""
    cells = [swap.cell] + ([swap.back] if swap.back is not None else [])
    return min(starts_at(bundle, c) for c in cells)


def name_of(bundle: Bundle, staff_id: str | None) -> str:
    found = next((p for p in bundle.staff if p.staff_id == staff_id), None)
    return found.name if found is not None else (staff_id or "")


def swaps_link(network_id: int, staff_id: str) -> str:
    return person_link(network_id, staff_id, "swaps")


# -- offering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwapOffer:
    """What the holder offers: the session, swap or give, to whom, and what they want back."""

    cell: Assignment
    kind: str
    to_staff_id: str | None = None
    back: Assignment | None = None  # the colleague's session asked for in return (a swap)
    note: str | None = None


def _check_offer(session: Session, network_id: int, bundle: Bundle, offer: SwapOffer) -> str:
    """The offer's week; raises ``SwapRefusedError`` when it cannot be offered."""
    cell = offer.cell
    if offer.kind not in ("swap", "give"):
        raise SwapRefusedError("kind: choose swap or give away")
    week = iso_week_label(cell.date)
    rota = find_rota(session, network_id, week, "published")
    if rota is None or cell not in load_cells(session, rota.id).assignments:
        raise SwapRefusedError(f"{where(cell)} is not one of your published sessions")
    if cell in pinned_cells(session, rota.id):
        raise SwapRefusedError(
            f"{where(cell)} was fixed by a coordinator; ask them to move it instead"
        )
    if offer.to_staff_id is not None:
        colleague = next((p for p in bundle.staff if p.staff_id == offer.to_staff_id), None)
        if colleague is None or colleague.staff_id == cell.staff_id:
            raise SwapRefusedError("colleague: choose a colleague of the network, not yourself")
    if offer.back is not None:
        if offer.kind != "swap" or offer.back.staff_id != offer.to_staff_id:
            raise SwapRefusedError("back: only a swap with a named colleague asks for a session")
        if (
            iso_week_label(offer.back.date) != week
            or offer.back not in load_cells(session, rota.id).assignments
        ):
            raise SwapRefusedError("back: choose one of the colleague's sessions of that week")
    if offer.note is not None and len(offer.note) > NOTE_LENGTH:
        raise SwapRefusedError(f"note: write at most {NOTE_LENGTH} characters")
    return week


def _on_offer(session: Session, network_id: int, cell: Assignment) -> bool:
    found = session.scalar(
        select(SwapRecord.id).where(
            SwapRecord.network_id == network_id,
            SwapRecord.from_staff_id == cell.staff_id,
            SwapRecord.date == cell.date,
            SwapRecord.session_id == cell.session_id,
            SwapRecord.site_id == cell.site_id,
            SwapRecord.state.in_(ACTIVE),
        )
    )
    return found is not None


def offer_session(
    session: Session, network_id: int, offer: SwapOffer, *, actor: str, moment: dt.datetime
) -> Swap:
    """Offer a published session of its holder (``offer.cell.staff_id``), in the caller's
    transaction; the named colleague is told.  Raises ``SwapRefusedError`` saying why not."""
    lock_week(session, network_id)  # one offer of a session at a time
    bundle = current_bundle(session, network_id)
    week = _check_offer(session, network_id, bundle, offer)
    if starts_at(bundle, offer.cell) <= moment:
        raise SwapRefusedError(f"{where(offer.cell)} has started; it can no longer be offered")
    if _on_offer(session, network_id, offer.cell):
        raise SwapRefusedError(f"{where(offer.cell)} is already on offer; withdraw that first")
    cell, back = offer.cell, offer.back
    record = SwapRecord(
        network_id=network_id,
        week=week,
        kind=offer.kind,
        state=OFFERED,
        from_staff_id=cell.staff_id,
        date=cell.date,
        session_id=cell.session_id,
        site_id=cell.site_id,
        to_staff_id=offer.to_staff_id,
        back_date=back.date if back else None,
        back_session_id=back.session_id if back else None,
        back_site_id=back.site_id if back else None,
        note=offer.note,
        created_at=moment,
    )
    session.add(record)
    session.flush()
    made = swap_of(record)
    if made.to_staff_id is not None:
        what = "a swap" if made.kind == "swap" else "to take"
        wanted = f", for your {made.back_where}" if made.back is not None else ""
        tell(
            session,
            network_id,
            staff_id=made.to_staff_id,
            kind="swap",
            text=f"{name_of(bundle, cell.staff_id)} offers you {made.where} {what}{wanted}.",
            link=swaps_link(network_id, made.to_staff_id),
        )
    record_change(session, made, "swap offered", actor)
    return made


def record_change(session: Session, swap: Swap, action: str, actor: str) -> None:
    """One audit entry for a change of a swap's state (no reasons: they may be personal)."""
    audit.record(
        session,
        actor,
        action,
        f"{swap.kind} {swap.where} of {swap.from_staff_id}",
        network_id=swap.network_id,
        after={
            "swap": swap.id,
            "state": swap.state,
            "taker": swap.taker_staff_id,
            "back": swap.back_where or None,
            "version": swap.version,
        },
    )


# -- reading ---------------------------------------------------------------------------------


def list_swaps(
    session: Session,
    network_id: int,
    states: Sequence[str] = ACTIVE,
    *,
    week: str | None = None,
    staff_id: str | None = None,
) -> list[Swap]:
    """The network's swaps in these states (of one week, or involving one person), by date."""
    statement = select(SwapRecord).where(
        SwapRecord.network_id == network_id, SwapRecord.state.in_(states)
    )
    if week is not None:
        statement = statement.where(SwapRecord.week == week)
    if staff_id is not None:
        statement = statement.where(
            (SwapRecord.from_staff_id == staff_id)
            | (SwapRecord.taker_staff_id == staff_id)
            | (SwapRecord.to_staff_id == staff_id)
        )
    ordered = statement.order_by(SwapRecord.date, SwapRecord.session_id, SwapRecord.id)
    return [swap_of(r) for r in session.scalars(ordered)]


def get_swap(session: Session, network_id: int, swap_id: int) -> Swap | None:
    record = session.get(SwapRecord, swap_id, populate_existing=True)
    return swap_of(record) if record is not None and record.network_id == network_id else None


def change_swap(
    session: Session,
    network_id: int,
    swap_id: int,
    values: dict[str, object],
    states: Sequence[str] = (OFFERED,),
    *,
    to: str | None = None,
) -> Swap | None:
    """Change a swap still in one of ``states`` (the UPDATE is the check that it still is, so
    of two people taking one offer at once exactly one gets it); None if it is not.  ``to``:
    only when the offer is open to that person (named, or to anyone)."""
    statement = update(SwapRecord).where(
        SwapRecord.id == swap_id,
        SwapRecord.network_id == network_id,
        SwapRecord.state.in_(states),
    )
    if to is not None:
        statement = statement.where(
            (SwapRecord.to_staff_id.is_(None)) | (SwapRecord.to_staff_id == to)
        )
    result = session.execute(statement.values(values).execution_options(synchronize_session=False))
    if not (isinstance(result, CursorResult) and result.rowcount == 1):
        return None
    return get_swap(session, network_id, swap_id)


def why_not_offered(session: Session, network_id: int, swap_id: int) -> str:
    found = get_swap(session, network_id, swap_id)
    if found is None:
        return f"there is no offer {swap_id}"
    if found.state in (ACCEPTED, DONE):
        return "someone else took it first"
    if found.state == OFFERED:
        return "it is offered to a named colleague"
    return f"it was {found.state}"


# -- who may take it -------------------------------------------------------------------------


def breaks(bundle: Bundle, published: frozenset[Assignment], swap: Swap, taker: str) -> str | None:
    """The first hard rule the swap would break (for either person, or a room), or None."""
    out, put = swap.moves(taker)
    if not out <= published:
        return "the sessions are no longer as offered in the published rota"
    if put & (published - out):
        return "the taker already works there then"
    broken = added_by_change(bundle, week_dates(swap.week), published, (published - out) | put)
    return broken[0].message if broken else None


def backs_for(
    bundle: Bundle, published: frozenset[Assignment], swap: Swap, person: Staff
) -> list[Assignment]:
    """The person's own sessions of the week they could give back for this swap."""
    own = sorted(c for c in published if c.staff_id == person.staff_id)
    fits = []
    for cell in own:
        if cell.date == swap.cell.date and cell.session_id == swap.cell.session_id:
            continue
        trial = dataclasses.replace(swap, back=cell)
        if breaks(bundle, published, trial, person.staff_id) is None:
            fits.append(cell)
    return fits


def refusal(
    bundle: Bundle, published: frozenset[Assignment], swap: Swap, person: Staff
) -> str | None:
    """Why the person cannot take the offer now, or None: role, then the validator's verdict
    on the week with both moves made (a swap without a named session back: none fits)."""
    holder = name_of(bundle, swap.from_staff_id)
    if person.staff_id == swap.from_staff_id:
        return "it is your own offer"
    if swap.to_staff_id not in (None, person.staff_id):
        return f"{holder} offered it to a named colleague"
    if person.role != bundle.person(swap.from_staff_id).role:
        return f"it is a {bundle.person(swap.from_staff_id).role} session"
    if swap.kind == "swap" and swap.back is None:
        return _no_back(bundle, published, swap, person)
    return breaks(bundle, published, swap, person.staff_id)


def _no_back(
    bundle: Bundle, published: frozenset[Assignment], swap: Swap, person: Staff
) -> str | None:
    """Why none of the person's sessions of the week can be given back for the swap."""
    if not any(c.staff_id == person.staff_id for c in published):
        return "you have no session that week to give back"
    if not backs_for(bundle, published, swap, person):
        return "none of your sessions that week can be swapped for it without breaking a rule"
    return None


def offers_for(
    session: Session,
    network_id: int,
    person: Staff,
    moment: dt.datetime,
    bundle: Bundle | None = None,
) -> list[tuple[Swap, str | None, list[Assignment]]]:
    """The open offers the person might take, each with why they cannot (None: they can) and
    the sessions they could give back (a swap without one named); offers named to them come
    first, then those to anyone of their role, soonest first."""
    bundle = bundle or current_bundle(session, network_id)
    weeks: dict[str, frozenset[Assignment]] = {}
    found: list[tuple[Swap, str | None, list[Assignment]]] = []
    for swap in list_swaps(session, network_id, (OFFERED,)):
        if swap.from_staff_id == person.staff_id or swap.to_staff_id not in (
            None,
            person.staff_id,
        ):
            continue
        if closes_at(bundle, swap) <= moment:
            continue
        if swap.to_staff_id is None and bundle.person(swap.from_staff_id).role != person.role:
            continue
        if swap.week not in weeks:
            weeks[swap.week] = published_cells(session, network_id, swap.week)
        why = refusal(bundle, weeks[swap.week], swap, person)
        backs = (
            backs_for(bundle, weeks[swap.week], swap, person)
            if why is None and swap.kind == "swap" and swap.back is None
            else []
        )
        found.append((swap, why, backs))
    found.sort(key=lambda item: (item[0].to_staff_id is None, item[0].cell.date))
    return found


# -- withdrawing and closing -----------------------------------------------------------------


def withdraw(session: Session, network_id: int, swap_id: int, staff_id: str, *, actor: str) -> Swap:
    """The offerer takes back an offer not yet done (the taker, if any, is told)."""
    found = get_swap(session, network_id, swap_id)
    if found is None or found.from_staff_id != staff_id:
        raise SwapRefusedError(f"there is no offer {swap_id} of yours")
    changed = change_swap(session, network_id, swap_id, {"state": "withdrawn"}, ACTIVE)
    if changed is None:
        raise SwapRefusedError(f"not withdrawn: {why_not_offered(session, network_id, swap_id)}")
    if changed.taker_staff_id is not None:
        tell(
            session,
            network_id,
            staff_id=changed.taker_staff_id,
            kind="swap",
            text=f"The offer of {changed.where} you accepted was withdrawn; nothing changed.",
            link=swaps_link(network_id, changed.taker_staff_id),
        )
    record_change(session, changed, "swap withdrawn", actor)
    return changed


def expire_due(session: Session, network_id: int, moment: dt.datetime) -> list[Swap]:
    """Close the offers (and swaps waiting for approval) whose first session has started."""
    bundle = current_bundle(session, network_id)
    closed = []
    for swap in list_swaps(session, network_id, ACTIVE):
        if closes_at(bundle, swap) > moment:
            continue
        values: dict[str, object] = {
            "state": "expired",
            "reason": "the session started before it was agreed",
        }
        found = change_swap(session, network_id, swap.id, values, (swap.state,))
        if found is None:
            continue
        for staff_id in {found.from_staff_id, found.taker_staff_id} - {None}:
            tell(
                session,
                network_id,
                staff_id=str(staff_id),
                kind="swap",
                text=f"The offer of {found.where} closed unagreed: the session has started.",
                link=swaps_link(network_id, str(staff_id)),
            )
        record_change(session, found, "swap expired", "rotapool")
        closed.append(found)
    return closed


def people_named(bundle: Bundle, staff_ids: Iterable[str | None]) -> dict[str, str]:
    """Names by staff id, for pages."""
    return {s: name_of(bundle, s) for s in staff_ids if s is not None}
