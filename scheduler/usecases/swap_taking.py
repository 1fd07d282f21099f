"""Taking an offered session: a colleague accepts it (choosing what to give back for a swap),
then a manager or coordinator approves or declines it, or it applies at once, as the
network's ``[swaps] approval`` setting says.

Both moves are checked by the validator against the whole published week, for both people
and every room, at acceptance and again at approval.  In ``automatic`` mode a swap must
also leave no session further below its minimum than it was.  Applied, it is published
as the week's next version (so both people's calendar events change and grow their
SEQUENCE) and, when the week has a draft being worked on, written into the draft too.

Concurrency: every acceptance and approval first waits for any other publication of the
network (``publishing.lock_week``), then claims the offer with one UPDATE that is also
the check that it is still offered: of several people taking one offer at once exactly
one gets it, and two swaps never build on the same version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from scheduler.checks.validator import (
    CoverageLine,
    added_by_change,
    check_rota,
    coverage_of,
    newly_broken,
)
from scheduler.domain import Assignment, Bundle, Staff
from scheduler.storage.events import current_bundle
from scheduler.storage.models.network import AssignmentRecord, RotaRecord
from scheduler.storage.rotas import assignment_record, find_rota
from scheduler.usecases.editing import load_cells, pinned_cells, week_dates
from scheduler.usecases.inbox import tell, tell_coordinators
from scheduler.usecases.notices import notifiable, record_notices
from scheduler.usecases.publishing import PublishedVersion, copied_rota, lock_week, make_version
from scheduler.usecases.swaps import (
    ACCEPTED,
    DONE,
    OFFERED,
    Swap,
    SwapRefusedError,
    change_swap,
    closes_at,
    get_swap,
    name_of,
    record_change,
    swaps_link,
    where,
    why_not_offered,
)


@dataclass(frozen=True)
class Taken:
    """An acceptance or approval: the swap, and the version of the week that now holds it
    (None: it waits for a coordinator)."""

    swap: Swap
    version: PublishedVersion | None
    in_draft: bool = False


@dataclass(frozen=True)
class Checked:
    """The published rota of the swap's week, and its cells before and after the swap."""

    rota: RotaRecord
    before: frozenset[Assignment]
    after: frozenset[Assignment]


def _whole_week(
    bundle: Bundle, swap: Swap, taker: str, before: frozenset[Assignment]
) -> frozenset[Assignment]:
    """The week's cells after the swap, checked against every hard rule over the whole week;
    raises ``SwapRefusedError`` naming the first rule it would break and for whom."""
    out, put = swap.moves(taker)
    if not out <= before:
        raise SwapRefusedError(
            "the sessions are no longer as offered in the published rota (the week was "
            "changed since); nothing was swapped"
        )
    if put & (before - out):
        raise SwapRefusedError(f"{name_of(bundle, taker)} already works there then")
    after = (before - out) | put
    dates = week_dates(swap.week)
    added = newly_broken(
        check_rota(bundle, dates, before).violations, check_rota(bundle, dates, after).violations
    )
    if added:
        raise SwapRefusedError(f"it would break a rule: {added[0].label}: {added[0].message}")
    return after


def _checked(session: Session, bundle: Bundle, swap: Swap, taker: Staff) -> Checked:
    """The swap's week with both moves made, checked; raises ``SwapRefusedError`` why not."""
    holder = bundle.person(swap.from_staff_id)
    if taker.role != holder.role:
        raise SwapRefusedError(f"it is a {holder.role} session and you are a {taker.role}")
    rota = find_rota(session, swap.network_id, swap.week, "published")
    if rota is None:
        raise SwapRefusedError(f"{swap.week} is no longer published")
    before = load_cells(session, rota.id).assignments
    return Checked(rota, before, _whole_week(bundle, swap, taker.staff_id, before))


def newly_short(
    bundle: Bundle, week: str, before: frozenset[Assignment], after: frozenset[Assignment]
) -> list[str]:
    """The sessions the swap would leave further below their minimum, in words."""
    dates = week_dates(week)

    def key(line: CoverageLine) -> tuple[int, dt.date, str, str]:
        return (line.demand_row, line.date, line.site_id, line.session_id)

    was = {key(line): line.shortfall for line in coverage_of(bundle, dates, before)}
    return [
        f"{line.site_id} {line.date:%a %d %b} {line.session_id} would have {line.assigned} "
        f"{line.role or 'people'} of the {line.min} it needs"
        for line in coverage_of(bundle, dates, after)
        if line.shortfall > was.get(key(line), 0)
    ]


def _claim_values(taker: Staff, back: Assignment | None, moment: dt.datetime) -> dict[str, object]:
    return {
        "state": ACCEPTED,
        "taker_staff_id": taker.staff_id,
        "accepted_at": moment,
        "back_date": back.date if back else None,
        "back_session_id": back.session_id if back else None,
        "back_site_id": back.site_id if back else None,
    }


def _back_for(offered: Swap, taker: Staff, back: Assignment | None) -> Assignment | None:
    """The session given back: the one named in the offer, else the taker's choice."""
    if offered.kind == "give":
        return None
    chosen = offered.back or back
    if chosen is None:
        raise SwapRefusedError("choose which of your sessions you give back for it")
    if chosen.staff_id != taker.staff_id:
        raise SwapRefusedError(f"{where(chosen)} is not one of your sessions")
    return chosen


def accept(
    session: Session,
    network_id: int,
    swap_id: int,
    taker: Staff,
    *,
    back: Assignment | None = None,
    actor: str,
    moment: dt.datetime,
) -> Taken:
    """The taker accepts the offer (giving back ``back`` for a swap, unless the offer named
    one), in the caller's transaction: applied at once in ``automatic`` mode, else waiting
    for a coordinator.  Raises ``SwapRefusedError`` saying why not; nothing changes then."""
    lock_week(session, network_id)
    offered = get_swap(session, network_id, swap_id)
    if offered is None or offered.state != OFFERED:
        raise SwapRefusedError(f"not taken: {why_not_offered(session, network_id, swap_id)}")
    values = _claim_values(taker, _back_for(offered, taker, back), moment)
    claimed = change_swap(session, network_id, swap_id, values, (OFFERED,), to=taker.staff_id)
    if claimed is None:
        raise SwapRefusedError(f"not taken: {why_not_offered(session, network_id, swap_id)}")
    bundle = current_bundle(session, network_id)
    if closes_at(bundle, claimed) <= moment:
        raise SwapRefusedError("not taken: the session has started")
    try:
        checked = _checked(session, bundle, claimed, taker)
    except SwapRefusedError as err:
        raise SwapRefusedError(f"not taken: {err}") from None
    if bundle.swaps.approval == "automatic":
        short = newly_short(bundle, claimed.week, checked.before, checked.after)
        if short:
            raise SwapRefusedError(f"not taken: it would leave a session short ({short[0]})")
        return _apply(session, bundle, claimed, checked, actor=actor, decided_by="automatic")
    holder = name_of(bundle, claimed.from_staff_id)
    tell(
        session,
        network_id,
        staff_id=claimed.from_staff_id,
        kind="swap",
        text=f"{taker.name} accepted your offer of {claimed.where}; a coordinator approves it.",
        link=swaps_link(network_id, claimed.from_staff_id),
    )
    tell_coordinators(
        session,
        network_id,
        kind="request",
        text=f"A {claimed.kind} of {claimed.where} ({holder} to {taker.name}) waits for approval.",
        link=f"/n/{network_id}/swaps",
    )
    record_change(session, claimed, "swap accepted", actor)
    return Taken(claimed, None)


def approve(
    session: Session, network_id: int, swap_id: int, *, actor: str, moment: dt.datetime
) -> Taken:
    """A manager or coordinator approves an accepted swap: checked again now, then applied."""
    lock_week(session, network_id)
    values: dict[str, object] = {"decided_by": actor, "decided_at": moment}
    claimed = change_swap(session, network_id, swap_id, values, (ACCEPTED,))
    if claimed is None or claimed.taker_staff_id is None:
        raise SwapRefusedError(f"not approved: swap {swap_id} does not wait for approval")
    bundle = current_bundle(session, network_id)
    if closes_at(bundle, claimed) <= moment:
        raise SwapRefusedError("not approved: the session has started")
    try:
        checked = _checked(session, bundle, claimed, bundle.person(claimed.taker_staff_id))
    except SwapRefusedError as err:
        raise SwapRefusedError(f"not approved: {err}") from None
    return _apply(session, bundle, claimed, checked, actor=actor, decided_by=actor)


def decline(
    session: Session,
    network_id: int,
    swap_id: int,
    *,
    actor: str,
    moment: dt.datetime,
    reason: str | None = None,
) -> Swap:
    """A manager or coordinator declines an accepted swap; both people are told."""
    values: dict[str, object] = {
        "state": "declined",
        "decided_by": actor,
        "decided_at": moment,
        "reason": reason,
    }
    found = change_swap(session, network_id, swap_id, values, (ACCEPTED,))
    if found is None:
        raise SwapRefusedError(f"not declined: swap {swap_id} does not wait for approval")
    because = f" ({reason})" if reason else ""
    for staff_id in (found.from_staff_id, found.taker_staff_id):
        if staff_id is not None:
            tell(
                session,
                network_id,
                staff_id=staff_id,
                kind="swap",
                text=f"The {found.kind} of {found.where} was declined{because}; nothing changed.",
                link=swaps_link(network_id, staff_id),
            )
    record_change(session, found, "swap declined", actor)
    return found


def turn_down(
    session: Session, network_id: int, swap_id: int, staff_id: str, *, actor: str
) -> Swap:
    """The named colleague turns an offer down; the offerer is told."""
    found = get_swap(session, network_id, swap_id)
    if found is None or found.to_staff_id != staff_id:
        raise SwapRefusedError(f"there is no offer {swap_id} to you")
    changed = change_swap(session, network_id, swap_id, {"state": "declined"}, (OFFERED,))
    if changed is None:
        raise SwapRefusedError(f"not turned down: {why_not_offered(session, network_id, swap_id)}")
    tell(
        session,
        network_id,
        staff_id=changed.from_staff_id,
        kind="swap",
        text=f"Your offer of {changed.where} was turned down; the session is still yours.",
        link=swaps_link(network_id, changed.from_staff_id),
    )
    record_change(session, changed, "swap turned down", actor)
    return changed


def _apply(
    session: Session,
    bundle: Bundle,
    swap: Swap,
    checked: Checked,
    *,
    actor: str,
    decided_by: str,
) -> Taken:
    """Publish the week with the swap made (and put it in the draft), tell both people."""
    taker = swap.taker_staff_id or ""
    out, put = swap.moves(taker)
    in_draft = _into_draft(session, swap.network_id, bundle, swap.week, (out, put))
    pins = pinned_cells(session, checked.rota.id)
    rota = copied_rota(session, checked.rota, checked.after, pins)
    version = make_version(session, rota, checked.after, actor)
    record_notices(session, notifiable(version), version.published_at.date())
    values = {"state": DONE, "version": version.version, "decided_by": decided_by}
    done = change_swap(session, swap.network_id, swap.id, values, (ACCEPTED,))
    assert done is not None  # claimed by this transaction
    gave = f", for {where(swap.back)}" if swap.back is not None else ""
    for staff_id in (swap.from_staff_id, taker):
        tell(
            session,
            swap.network_id,
            staff_id=staff_id,
            kind="swap",
            text=(
                f"Done: {name_of(bundle, taker)} now works {swap.where}{gave}. "
                "Your published sessions and calendar feed show it."
            ),
            link=swaps_link(swap.network_id, staff_id),
        )
    record_change(session, done, "swap done", actor)
    return Taken(done, version, in_draft)


def _into_draft(
    session: Session,
    network_id: int,
    bundle: Bundle,
    week: str,
    moves: tuple[frozenset[Assignment], frozenset[Assignment]],
) -> bool:
    """Make the swap in the week's draft too (so its next publication keeps it), when the draft
    can take it without a new break; False when there is no draft."""
    out, put = moves
    draft = find_rota(session, network_id, week, "draft")
    if draft is None:
        return False
    cells = load_cells(session, draft.id).assignments
    after = (cells - out) | put
    broken = added_by_change(bundle, week_dates(week), cells, after)
    if broken:
        raise SwapRefusedError(
            "the week is being re-planned and its draft cannot take this swap "
            f"({broken[0].message}); ask the coordinator"
        )
    a = AssignmentRecord
    for cell in out & cells:
        session.execute(
            delete(a).where(
                a.rota_id == draft.id,
                a.date == cell.date,
                a.session_id == cell.session_id,
                a.site_id == cell.site_id,
                a.staff_id == cell.staff_id,
            )
        )
    session.add_all(assignment_record(draft.id, cell, False) for cell in put - cells)
    draft.revision += 1
    session.flush()
    return True
