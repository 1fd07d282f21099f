"""Logging in and out, the current user, and the role check every route carries.

``require(*roles)`` is the only way a view says who may use it: no account
-> redirect to the login page (302); the wrong role -> 403.  ``network_guard``
then refuses a network the account does not belong to, and
``staff_guard`` / ``site_guard`` narrow clinicians and practices to their own.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from scheduler.storage import audit
from scheduler.usecases.accounts import LoginThrottledError, User, authenticate, find_user
from web.db import migrated, transaction

bp = Blueprint("auth", __name__)

ALL_ROLES = ("manager", "coordinator", "practice", "clinician")
STAFF_ROLES = ("manager", "coordinator")  # see every site, every person, leave reasons
SESSION_LIFETIME = dt.timedelta(hours=8)

View = TypeVar("View", bound=Callable[..., Any])


def current_user() -> User | None:
    return cast(User | None, g.get("user"))


def load_user() -> None:
    """Before each request: the account the session cookie names, if still active."""
    g.user = None
    user_id = session.get("uid")
    if user_id is None or not migrated():
        return
    with transaction() as db:
        user = find_user(db, int(user_id))
    if user is not None and not hmac.compare_digest(user.password_mark, session.get("pw", "")):
        session.clear()  # the password changed since this session logged in
        return
    g.user = user


def require(*roles: str) -> Callable[[View], View]:
    """Only these roles may use the view; others get 403, strangers the login page."""
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.roles = roles  # type: ignore[attr-defined]  # read by the route-walk test
        return cast(View, wrapped)

    return decorate


def signed_in() -> User:
    """The current user inside a ``require``-guarded view."""
    user = current_user()
    if user is None:  # pragma: no cover - require() redirects first
        abort(401)
    return user


def network_guard(network_id: int) -> User:
    """403 unless the account may see this network."""
    user = signed_in()
    if not user.may_see_network(network_id):
        abort(403)
    return user


def staff_guard(network_id: int, staff_id: str) -> User:
    """403 unless the account may see this person: staff roles, or the person themselves."""
    user = network_guard(network_id)
    if user.role in STAFF_ROLES:
        return user
    if user.role == "clinician" and user.staff_id == staff_id:
        return user
    abort(403)


def site_guard(network_id: int, site_id: str) -> User:
    """403 unless the account may see this site: staff roles, or the practice itself."""
    user = network_guard(network_id)
    if user.role in STAFF_ROLES or (user.role == "practice" and user.site_id == site_id):
        return user
    abort(403)


def sees_leave_reasons(user: User | None) -> bool:
    """Sickness is health data: only managers and coordinators see why someone is away."""
    return user is not None and user.role in STAFF_ROLES


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never redirect a login to someone else's host."""
    if not target:
        return url_for("views.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("views.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Ask for e-mail and password; five failures in 15 minutes lock that e-mail for a while."""
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if not migrated():
        flash("No accounts exist yet: create one with `rotapool users add`.", "error")
        return render_template("login.html", next=""), 400
    try:
        with transaction() as db:
            user = authenticate(db, email, password)
            if user is not None:
                audit.record(db, user.email, "login", user.email, network_id=user.network_id)
    except LoginThrottledError as err:
        flash(f"Login refused: {err}.", "error")
        return render_template("login.html", next=""), 429
    if user is None:
        flash("That e-mail and password do not match an account.", "error")
        return render_template("login.html", next=request.form.get("next", "")), 401
    session.clear()  # a fresh session: no fixation of a pre-login cookie
    session.permanent = True
    session["uid"] = user.id
    session["pw"] = user.password_mark
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))
