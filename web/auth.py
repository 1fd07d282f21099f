"""Logging in and out, the current user, and the role check every route carries.

``require(*roles)`` is the only way a view says who may use it: no account
-> redirect to the login page (302); the wrong role -> 403.  ``network_guard``
then refuses a network the account does not belong to, and
``staff_guard`` / ``site_guard`` narrow clinicians and practices to their own.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from scheduler.jobs.timetable import when
from scheduler.storage import audit
from scheduler.storage.models.network import NetworkRecord
from scheduler.usecases.accounts import (
    LoginThrottledError,
    User,
    check_credentials,
    find_user,
    record_attempt,
)
from scheduler.usecases.sessions import (
    end_all_sessions,
    end_session,
    is_live,
    live_sessions,
    start_session,
)
from web.db import migrated, reading, transaction

bp = Blueprint("auth", __name__)

ALL_ROLES = ("manager", "coordinator", "practice", "clinician")
STAFF_ROLES = ("manager", "coordinator")  # see every site, every person, leave reasons
SESSION_KEY = "sid"  # the session cookie's field holding the login's key

View = TypeVar("View", bound=Callable[..., Any])


def current_user() -> User | None:
    return cast(User | None, g.get("user"))


def load_user() -> None:
    """Before each request: the account the session cookie names, if still logged in.

    Logged in means: the account is active, its password is the one the
    session logged in with, and the session's row still exists on the
    server (logging out, here or everywhere, deletes it).
    """
    g.user = None
    user_id = session.get("uid")
    if user_id is None or not migrated():
        return
    with reading() as db:
        user = find_user(db, int(user_id))
        live = user is not None and is_live(db, user.id, session.get(SESSION_KEY))
    if (
        user is None
        or not live
        or not hmac.compare_digest(user.password_mark, session.get("pw", ""))
    ):
        session.clear()
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
    previous = session.get(SESSION_KEY)
    try:
        with reading() as db:  # the slow password hash runs outside any write lock
            user = check_credentials(db, email, password)
        with transaction() as db:
            record_attempt(db, email, user)
            if user is not None:
                end_session(db, previous)  # logging in again in this browser replaces its login
                audit.record(db, user.email, "login", user.email, network_id=user.network_id)
                key = start_session(db, user.id, current_app.permanent_session_lifetime)
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
    session[SESSION_KEY] = key
    generate_csrf()  # now, not on the first page: tabs opened together would each make one
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """End this browser's session on the server too: a copy of its cookie opens nothing."""
    key = session.get(SESSION_KEY)
    if key and migrated():
        with transaction() as db:  # first: if the database is busy, the 503 keeps the cookie
            end_session(db, key)
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/account")
@require(*ALL_ROLES)
def account() -> str:
    """Who is logged in, where else the account is logged in, and "log out everywhere"."""
    user = signed_in()
    with reading() as db:
        network = None if user.network_id is None else db.get(NetworkRecord, user.network_id)
        logins = live_sessions(db, user.id, session.get(SESSION_KEY))
    logins.sort(key=lambda login: not login.current)  # this browser first, then newest first
    return render_template(
        "account.html",
        user=user,
        network=network.name if network else None,
        logins=logins,
        when=when,
        hours=round(current_app.permanent_session_lifetime.total_seconds() / 3600, 1),
    )


@bp.post("/account/logout-everywhere")
@require(*ALL_ROLES)
def logout_everywhere() -> Response:
    """End every session of the account, this one included (a lost phone, a shared PC)."""
    user = signed_in()
    with transaction() as db:
        ended = end_all_sessions(db, user.id)
        audit.record(
            db,
            user.email,
            "logged out everywhere",
            user.email,
            network_id=user.network_id,
            after={"sessions_ended": ended},
        )
    session.clear()
    flash(
        f"Logged out everywhere: {ended} {'login' if ended == 1 else 'logins'} ended.",
        "success",
    )
    return redirect(url_for("auth.login"))
