"""Everyone's inbox: what concerns the signed-in person, unread first, marked read when opened.

Thin handlers over ``scheduler.usecases.inbox``.  An item is opened through a POST (so
marking it read carries the CSRF token like every other change) that then sends the
browser to the item's page; only a path of this site is followed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from scheduler.usecases.accounts import User
from scheduler.usecases.inbox import Recipient, items, link_of, mark_read, unread_count
from web.auth import ALL_ROLES, require, signed_in
from web.db import migrated, reading, transaction

bp = Blueprint("inbox", __name__)


def recipient(user: User) -> Recipient:
    """Whose items: the account's, and a clinician's own staff_id's."""
    return Recipient(user.id, user.staff_id if user.role == "clinician" else None)


@bp.app_context_processor
def unread() -> dict[str, Any]:
    """``unread()`` for the navigation: how many inbox items this person has not opened."""

    def count() -> int:
        user = g.get("user")
        if user is None or not migrated():
            return 0
        with reading() as db:
            return unread_count(db, user.network_id, recipient(user))

    return {"unread": count}


@bp.get("/inbox")
@require(*ALL_ROLES)
def page() -> str:
    """The person's inbox, newest first with the unread ones on top."""
    user = signed_in()
    with reading() as db:
        found = items(db, user.network_id, recipient(user))
    return render_template("inbox/inbox.html", items=found)


@bp.post("/inbox/<int:item_id>/open")
@require(*ALL_ROLES)
def open_item(item_id: int) -> Response:
    """Mark one item read and go to its page (the inbox when it has none)."""
    user = signed_in()
    with transaction() as db:
        link = link_of(db, user.network_id, recipient(user), item_id)
        mark_read(db, user.network_id, recipient(user), item_id)
    if link and link.startswith("/") and not link.startswith("//"):
        return redirect(link)
    return redirect(url_for("inbox.page"))


@bp.post("/inbox/read")
@require(*ALL_ROLES)
def read_all() -> Response:
    """Mark every item of this person read."""
    user = signed_in()
    with transaction() as db:
        mark_read(db, user.network_id, recipient(user))
    return redirect(url_for("inbox.page"))
