"""What the blueprints share: the app's clock and host, week addresses, 404 pages, feed links.

Blueprints never import each other; a helper two of them need lives here
(or in ``auth``, ``db`` and ``charts``), so each page module depends only
on these and on the ``scheduler`` use cases and read models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as Redirect

from scheduler.domain import Bundle
from scheduler.storage.events import current_bundle
from scheduler.storage.feeds import (
    DEFAULT_HOST,
)
from scheduler.storage.repository import NetworkLookupError
from scheduler.usecases.feeds import (
    current_token,
    feed_urls,
)
from scheduler.views.week import (
    SHOWN_STATES,
    Week,
    load_week,
    neighbour_weeks,
    week_label,
)
from web.db import transaction

# The query fields a week page passes on to the previous/next week and the week picker.
# Only these: anything else would reach url_for as a keyword (``network_id``, ``_external``).
KEPT_ARGS = ("by", "site", "role", "skill", "state")
STATE_KEY = "rotapool.feeds"  # app.extensions key of the feed route's memory (web.feeds)
IMPORT_CAPS = "rotapool.import_caps"  # app.extensions key: the most rows of each bundle file


# --------------------------------------------------------------------------- helpers


def not_found(message: str) -> NoReturn:
    """Stop with a 404 page that says what is missing and what to do."""
    abort(make_response(render_template("weeks/missing.html", message=message), 404))


def checked_week(text: str) -> str:
    """The week of the URL, normalised; a 404 naming the expected form otherwise."""
    try:
        return week_label(text)
    except ValueError:
        not_found(
            f"{text!r} is not a week. Write a week as an ISO week such as 2026-W49 "
            "(the year, -W, then the week number)."
        )


def kept_args() -> dict[str, Any]:
    """The page's filters, to carry over to another week of the same page."""
    return {key: value for key in KEPT_ARGS if (value := request.args.get(key))}


def picked_week(endpoint: str, network_id: int) -> Redirect | None:
    """The week picker's GET form: send the browser to the chosen week's own address."""
    picked = request.args.get("week")
    if picked is None:
        return None
    week = checked_week(picked)
    return redirect(url_for(endpoint, network_id=network_id, week=week, **kept_args()))


def chosen_state() -> str | None:
    """``?state=draft|published``; anything else is refused with the field named."""
    state = request.args.get("state") or None
    if state is not None and state not in SHOWN_STATES:
        abort(400, description=f"state: {state!r} is not one of {', '.join(SHOWN_STATES)}.")
    return state


def read_week(network_id: int, week: str, state: str | None) -> tuple[str, Week]:
    """The network's name and the week, or 404 when the network is not stored."""
    with transaction() as db:
        try:
            loaded = load_week(db, network_id, week, state)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")
    return loaded.bundle.name, loaded


def page_context(network_id: int, name: str, week: Week, state: str | None) -> dict[str, Any]:
    """What every week page's header needs: names, neighbours and the state asked for."""
    previous, following = neighbour_weeks(week.label)
    return {
        "keep": kept_args(),
        "network_id": network_id,
        "network_name": name,
        "week": week,
        "previous": previous,
        "following": following,
        "state": state,
    }


LONDON = ZoneInfo("Europe/London")


# -- configuration --------------------------------------------------------------------------


def public_host() -> str:
    """The host name links and event UIDs carry (``PUBLIC_HOST``), never the request's."""
    return str(current_app.config.get("PUBLIC_HOST") or DEFAULT_HOST)


def secret() -> str:
    """The key tokens are derived from: the app's secret key."""
    return str(current_app.config["SECRET_KEY"])


def today() -> dt.date:
    """Today in Europe/London; ``FIXED_TODAY`` (a date or ISO text) pins it for tests."""
    fixed = current_app.config.get("FIXED_TODAY")
    if isinstance(fixed, dt.date):
        return fixed
    if fixed:
        return dt.date.fromisoformat(str(fixed))
    return dt.datetime.now(LONDON).date()


# -- links ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedLinks:
    """A feed's two addresses: https:// to paste, webcal:// to open in a calendar app."""

    https: str
    webcal: str


def feed_links(db: Session, network_id: int, kind: str, subject: str) -> FeedLinks | None:
    """The feed's current links, or None when it has none (never made, or turned off)."""
    token = current_token(db, network_id, kind, subject, secret())
    if token is None:
        return None
    return FeedLinks(*feed_urls(public_host(), token))


def bundle_of(db: Session, network_id: int) -> Bundle:
    """The network's bundle as plans use it, or 404 when there is no such network."""
    try:
        return current_bundle(db, network_id)
    except NetworkLookupError:
        abort(404)


def feeds_changed() -> None:
    """Call after committing anything a feed shows or a link opens: forget what was checked."""
    current_app.extensions[STATE_KEY].invalidate()
