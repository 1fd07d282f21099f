"""Spare capacity and lending between practices: the week's free people, and transfers.

Thin handlers over ``scheduler.checks.capacity`` and ``scheduler.usecases.lending``.  Managers
and coordinators see the spare capacity and every proposal; a practice sees
the proposals its site lends or borrows in, and accepts or declines its own
side only.  Nothing here names a kind of leave: people on leave are simply
not listed, and refusals say "on leave".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler.checks.capacity import Spare, by_session, site_text, spare_capacity
from scheduler.domain import DAY_NAMES, Bundle
from scheduler.storage.repository import NetworkLookupError
from scheduler.storage.rotas import RotaInfo
from scheduler.usecases.accounts import User
from scheduler.usecases.lending import (
    Transfer,
    TransferError,
    TransferNotFoundError,
    TransferStaleError,
)
from scheduler.usecases.transfers import (
    SIDES,
    Accepted,
    accept,
    decline,
    find_transfer,
    generate,
    sides_for,
    spare_week,
    week_transfers,
    withdraw,
)
from scheduler.views.week import neighbour_weeks, stored_bundle
from web.auth import STAFF_ROLES, network_guard, require
from web.common import checked_week, kept_args, not_found, page_context, picked_week
from web.db import reading, transaction

bp = Blueprint("lending", __name__)

LENDING_ROLES = (*STAFF_ROLES, "practice")
DECISIONS = ("accept", "decline", "withdraw")


def _day(day: dt.date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


# --------------------------------------------------------------------------- spare capacity


def _filtered(spares: list[Spare], role: str | None, site: str | None) -> list[Spare]:
    """People of the role chosen, who may work at the site chosen (None = any)."""
    return [
        s
        for s in spares
        if (role is None or s.person.role == role)
        and (site is None or any(o.site_id == site for o in s.sites))
    ]


@bp.get("/n/<int:network_id>/weeks/<week>/capacity")
@require(*STAFF_ROLES)
def capacity(network_id: int, week: str) -> str | Response:
    """Who is free in each session with contracted time left, where they may work, at what cost."""
    network_guard(network_id)
    moved = picked_week("lending.capacity", network_id)
    if moved is not None:
        return moved
    label = checked_week(week)
    with reading() as db:
        try:
            loaded = spare_week(db, network_id, label)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")
    spares = spare_capacity(loaded.bundle, loaded.dates, loaded.assignments)
    role = request.args.get("role") or None
    site = request.args.get("site") or None
    shown = _filtered(spares, role, site)
    return render_template(
        "lending/capacity.html",
        groups=by_session(shown),
        total=len(spares),
        roles=sorted({p.role for p in loaded.bundle.staff}),
        sites=loaded.bundle.sites,
        role=role,
        site=site,
        site_text=site_text,
        day=_day,
        **page_context(network_id, loaded.bundle.name, loaded, None),
    )


# --------------------------------------------------------------------------- lending


@dataclass(frozen=True)
class WeekRef:
    """The little the week's header and links need of a week without loading its rota."""

    label: str
    shown: RotaInfo | None = None


def _context(network_id: int, bundle: Bundle, label: str) -> dict[str, Any]:
    previous, following = neighbour_weeks(label)
    return {
        "keep": kept_args(),
        "network_id": network_id,
        "network_name": bundle.name,
        "week": WeekRef(label),
        "previous": previous,
        "following": following,
        "state": None,
    }


def _own_site(user: User) -> str | None:
    """A practice sees its own site's transfers; staff roles every one (None)."""
    if user.role != "practice":
        return None
    if user.site_id is None:
        abort(403)
    return user.site_id


@bp.get("/n/<int:network_id>/weeks/<week>/lending")
@require(*LENDING_ROLES)
def proposals(network_id: int, week: str) -> str | Response:
    """The week's lending proposals, with accept and decline for the sides the account holds."""
    user = network_guard(network_id)
    moved = picked_week("lending.proposals", network_id)
    if moved is not None:
        return moved
    label = checked_week(week)
    site = _own_site(user)
    with reading() as db:
        try:
            _, bundle = stored_bundle(db, network_id)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")
        found = week_transfers(db, network_id, label, site)
    rows = [(t, sides_for(user.role, user.site_id, t)) for t in found]
    return render_template(
        "lending/proposals.html",
        open_rows=[(t, sides) for t, sides in rows if t.open],
        closed=[t for t, _ in rows if not t.open],
        people={p.staff_id: p for p in bundle.staff},
        site_names={s.site_id: s.name for s in bundle.sites},
        staff_view=user.role in STAFF_ROLES,
        own_site=site,
        **_context(network_id, bundle, label),
    )


@bp.post("/n/<int:network_id>/weeks/<week>/lending/generate")
@require(*STAFF_ROLES)
def generate_proposals(network_id: int, week: str) -> Response:
    """Propose transfers to the week's short practices; open ones that still hold stay."""
    user = network_guard(network_id)
    label = checked_week(week)
    try:
        with transaction() as db:
            made = generate(db, network_id, label, user.email)
    except NetworkLookupError:
        not_found(f"There is no network {network_id}. Pick one from the front page.")
    except TransferError as err:
        flash(f"No proposals made: {err}.", "error")
    else:
        flash(
            f"{len(made.added)} new {'proposal' if len(made.added) == 1 else 'proposals'}, "
            f"{len(made.kept)} still open, {len(made.withdrawn)} withdrawn as no longer holding.",
            "success",
        )
    return redirect(url_for("lending.proposals", network_id=network_id, week=label))


def _form_choice() -> tuple[str, str | None]:
    """The decision and side the form asks for; 400 naming the field otherwise."""
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        abort(400, description=f"decision: {decision!r} is not one of {', '.join(DECISIONS)}.")
    if decision == "withdraw":
        return decision, None
    side = request.form.get("side", "")
    if side not in SIDES:
        abort(400, description=f"side: {side!r} is not one of {', '.join(SIDES)}.")
    return decision, side


def _may_decide(user: User, transfer: Transfer, decision: str, side: str | None) -> bool:
    """Withdrawing is for staff roles; accepting or declining for the side the account holds."""
    if decision == "withdraw":
        return user.role in STAFF_ROLES
    return side in sides_for(user.role, user.site_id, transfer)


def _accepted_words(done: Accepted, side: str) -> str:
    """What an acceptance did, for the flash message."""
    transfer = done.transfer
    if done.applied is None:
        other = "borrower" if side == "lender" else "lender"
        return (
            f"Transfer {transfer.id} accepted for {transfer.site_of(side)} ({side}); "
            f"it waits for {transfer.site_of(other)} ({other})."
        )
    return (
        f"Transfer {transfer.id} accepted by both practices: {transfer.staff_id} now works "
        f"{transfer.session_id} on {_day(transfer.date)} at {transfer.borrower_site} in the "
        f"draft rota of {transfer.week} (revision {done.applied.revision}). The draft must be "
        "published to reach calendars."
    )


@bp.post("/n/<int:network_id>/weeks/<week>/lending/<int:transfer_id>")
@require(*LENDING_ROLES)
def decide(network_id: int, week: str, transfer_id: int) -> Response:
    """Accept or decline one side of a transfer, or withdraw it (staff roles)."""
    user = network_guard(network_id)
    label = checked_week(week)
    decision, side = _form_choice()
    with reading() as db:
        try:
            transfer = find_transfer(db, network_id, transfer_id)
        except TransferNotFoundError:
            abort(404)
    if transfer.week != label:
        abort(404)
    if not _may_decide(user, transfer, decision, side):
        abort(403)
    try:
        with transaction() as db:
            if decision == "accept" and side is not None:
                message = _accepted_words(
                    accept(db, network_id, transfer_id, side, user.email), side
                )
            elif decision == "decline" and side is not None:
                decline(db, network_id, transfer_id, side, user.email)
                message = f"Transfer {transfer_id} declined for {transfer.site_of(side)} ({side})."
            else:
                withdraw(db, network_id, transfer_id, user.email)
                message = f"Transfer {transfer_id} withdrawn."
    except TransferNotFoundError:
        abort(404)
    except TransferStaleError as err:
        flash(
            f"Refused, nothing was changed: {err}. It is withdrawn when transfers are next "
            "proposed.",
            "error",
        )
    except TransferError as err:
        flash(f"Refused: {err}.", "error")
    else:
        flash(message, "success")
    return redirect(url_for("lending.proposals", network_id=network_id, week=label))
