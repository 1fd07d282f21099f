"""Administration for managers: accounts, the audit log, and importing a bundle.

Thin handlers over ``scheduler.usecases.accounts``, ``scheduler.storage.audit`` and
``scheduler.usecases.uploads``.  A manager bound to a network sees and changes only
that network; a manager with no network (the first account) sees them all.
Passwords are never echoed into a page, logged or audited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from scheduler.bundle.cells import BundleError
from scheduler.domain import Problem
from scheduler.storage import audit
from scheduler.storage.models.app import USER_ROLES
from scheduler.storage.repository import NetworkInfo, list_networks
from scheduler.usecases.accounts import AccountError, User, add_user, list_users
from scheduler.usecases.uploads import ImportRefusedError, import_upload
from scheduler.views.person_rota import current_week
from web.auth import require, signed_in
from web.common import IMPORT_CAPS, feeds_changed
from web.db import reading, transaction

bp = Blueprint("admin", __name__)

Page = str | tuple[str, int]
SHORT_JSON = 80  # characters of before/after shown in the table; longer values fold away
MEGABYTE = 1024 * 1024
ADD_FIELDS = ("email", "role", "network_id", "staff_id", "site_id")  # echoed back; never passwords


def _networks(db: Session, user: User) -> list[NetworkInfo]:
    """The networks this manager may act on."""
    return [n for n in list_networks(db) if user.may_see_network(n.id)]


# -- accounts -------------------------------------------------------------------------


def _users_page(user: User, form: Mapping[str, str], errors: Mapping[str, str]) -> Page:
    with reading() as db:
        accounts = list_users(db, user.network_id)
        networks = _networks(db, user)
    page = render_template(
        "admin/users.html",
        accounts=accounts,
        networks=networks,
        network_names={n.id: n.name for n in networks},
        roles=USER_ROLES,
        form={key: form.get(key, "") for key in ADD_FIELDS},
        errors=errors,
        choose_network=user.network_id is None,
    )
    return (page, 400) if errors else page


def _target_network(user: User, form: Mapping[str, str]) -> int | None:
    """A bound manager adds to their own network; an unbound one picks (blank = every network)."""
    if user.network_id is not None:
        return user.network_id
    text = (form.get("network_id") or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError as err:
        raise AccountError("network", "choose a network from the list") from err


def _scoped(form: Mapping[str, str], field: str, needed: bool) -> str | None:
    """A staff_id or site_id only for the role that needs it, so no stray value is stored."""
    if not needed:
        return None
    return (form.get(field) or "").strip() or None


def _create_account(db: Session, user: User, form: Mapping[str, str]) -> User:
    """Check the form, add the account and audit it (no password, no hash)."""
    if form.get("password", "") != form.get("confirm", ""):
        raise AccountError("confirm", "the two passwords differ; type the same password twice")
    role = form.get("role", "")
    network_id = _target_network(user, form)
    if network_id is not None and network_id not in {n.id for n in _networks(db, user)}:
        raise AccountError("network", "choose a network from the list")
    added = add_user(
        db,
        form.get("email", ""),
        form.get("password", ""),
        role,
        network_id=network_id,
        staff_id=_scoped(form, "staff_id", role == "clinician"),
        site_id=_scoped(form, "site_id", role == "practice"),
    )
    after = {
        "email": added.email,
        "role": added.role,
        "network_id": added.network_id,
        "staff_id": added.staff_id,
        "site_id": added.site_id,
    }
    audit.record(db, user.email, "user added", added.email, network_id=network_id, after=after)
    return added


@bp.route("/admin/users", methods=["GET", "POST"])
@require("manager")
def users() -> Page | Response:
    """The accounts of the manager's network, and a form to add one."""
    user = signed_in()
    if request.method == "GET":
        return _users_page(user, {}, {})
    try:
        with transaction() as db:
            added = _create_account(db, user, request.form)
    except AccountError as err:
        return _users_page(user, request.form, {err.field: err.message})
    flash(f"Account {added.email} ({added.role}) added.", "success")
    return redirect(url_for("admin.users"))


# -- audit log ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A before/after value as the table shows it: short text, and the whole when long."""

    short: str
    full: str | None  # None: ``short`` is all of it


def shown(value: dict[str, Any] | None) -> Shown:
    """Compact JSON; values longer than a cell fold into a <details>."""
    if value is None:
        return Shown("", None)
    compact = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    if len(compact) <= SHORT_JSON:
        return Shown(compact, None)
    return Shown(
        compact[:SHORT_JSON] + "…", json.dumps(value, sort_keys=True, indent=1, default=str)
    )


@bp.get("/admin/audit")
@require("manager")
def audit_log() -> str:
    """The newest audit entries of the manager's network (all, for a manager of every network)."""
    user = signed_in()
    with reading() as db:
        found = audit.entries(db, user.network_id)
        names = {n.id: n.name for n in list_networks(db)}
    rows = [(entry, shown(entry.before), shown(entry.after)) for entry in found]
    return render_template("admin/audit.html", rows=rows, names=names)


# -- import ---------------------------------------------------------------------------


def size_limit() -> str:
    """The upload limit in words: ``20 MB``, or bytes when below a megabyte."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return "no limit"
    return f"{limit // MEGABYTE} MB" if limit >= MEGABYTE else f"{limit} bytes"


def _imported(user: User) -> tuple[NetworkInfo, str] | None:
    """The network just imported (``?imported=<id>``) and its current week, to link to."""
    try:
        asked = int(request.args.get("imported", ""))
    except ValueError:
        return None
    if not user.may_see_network(asked):
        return None
    with reading() as db:
        found = next((n for n in list_networks(db) if n.id == asked), None)
    return None if found is None else (found, current_week(found.timezone))


def _import_page(problems: list[Problem], status: int = 200) -> Page:
    page = render_template(
        "admin/import.html",
        problems=problems,
        limit=size_limit(),
        imported=_imported(signed_in()) if status == 200 else None,
    )
    return (page, status) if status != 200 else page


@bp.route("/import", methods=["GET", "POST"])
@require("manager")
def import_bundle() -> Page | Response:
    """Upload a bundle (.zip or .xlsx): every problem listed, nothing saved unless all valid."""
    if request.method == "GET":
        return _import_page([])
    user = signed_in()
    upload = request.files.get("bundle")
    filename, data = "", b""
    if upload is not None:
        filename, data = upload.filename or "", upload.read()
    try:
        with transaction() as db:
            caps = current_app.extensions[IMPORT_CAPS]
            result = import_upload(db, data, filename, user.email, user.network_id, caps=caps)
    except BundleError as err:
        return _import_page(err.problems, 400)
    except ImportRefusedError as err:
        return _import_page([err.problem], 403)
    feeds_changed()  # renamed sites or sessions show in the feeds at once
    counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    flash(f"Imported {result.name}: {counts}.", "success")
    for warning in result.warnings:
        flash(f"Warning: {warning}", "warning")
    return redirect(url_for("admin.import_bundle", imported=result.network_id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """An upload over the size limit: say the limit and what to do, in the site's layout."""
    return render_template("admin/too_large.html", error=error, limit=size_limit()), 413
