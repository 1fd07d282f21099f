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

from scheduler.config import public_address
from scheduler.domain import Bundle
from scheduler.jobs.settings import QueueSettings, queue_settings
from scheduler.storage.db import DATABASE_ERRORS, database_trouble
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import NetworkLookupError
from scheduler.usecases import notices
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
from web.db import engine, reading

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
    with reading() as db:
        try:
            loaded = load_week(db, network_id, week, state)
        except NetworkLookupError:
            not_found(f"There is no network {network_id}. Pick one from the front page.")
    return loaded.bundle.name, loaded


def editable_shown(loaded: Week) -> bool:
    """Whether the shown rota is the one edits change: the draft, else the published one."""
    shown = loaded.shown
    if shown is None or shown.state not in ("draft", "published"):
        return False
    return shown.state == "draft" or not any(r.state == "draft" for r in loaded.rotas)


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
    """The host name event UIDs and e-mails carry (``PUBLIC_HOST``), never the request's.

    A calendar keeps an event by its UID: the UIDs must not change with the
    address a request happened to use.
    """
    return public_address(current_app.config).host


def link_base() -> str:
    """What the links a page shows start with: the public address when it is set.

    When it is not set, the address this page was asked at: a link shown
    then opens for whoever is looking (the demo on 127.0.0.1, a test server),
    where the development default would point nowhere.
    """
    address = public_address(current_app.config)
    if address.configured:
        return address.base
    return f"{request.scheme}://{request.host}"


def queue() -> QueueSettings:
    """Where this app's solve jobs go (checked when the app was made)."""
    return queue_settings(current_app.config)


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
    """A feed's two addresses: https:// (or http://) to paste, webcal:// for a calendar app."""

    web: str
    webcal: str

    @property
    def open_sessions(self) -> FeedLinks:
        """The same person's second feed: open sessions they could take, as tentative events."""
        return FeedLinks(
            self.web[: -len(".ics")] + "/open.ics", self.webcal[: -len(".ics")] + "/open.ics"
        )


def feed_links(db: Session, network_id: int, kind: str, subject: str) -> FeedLinks | None:
    """The feed's current links, or None when it has none (never made, or turned off)."""
    token = current_token(db, network_id, kind, subject, secret())
    if token is None:
        return None
    return FeedLinks(*feed_urls(link_base(), token))


def bundle_of(db: Session, network_id: int) -> Bundle:
    """The network's bundle as plans use it, or 404 when there is no such network."""
    try:
        return current_bundle(db, network_id)
    except NetworkLookupError:
        abort(404)


def feeds_changed() -> None:
    """Call after committing anything a feed shows or a link opens: forget what was checked."""
    current_app.extensions[STATE_KEY].invalidate()


def email_notices(recorded: int) -> str:
    """After a publication's commit (or a booking's): e-mail the pending change notices; what
    happened.

    Runs in the request so the flash can say who was told; a mail server that
    is down costs at most its timeout and never undoes the publication.
    """
    smtp = notices.smtp_settings(current_app.config)
    if smtp is None:
        return notices.unsent_summary(recorded)
    try:
        return notices.deliver_pending(engine(), smtp, public_host(), today=today()).summary
    except DATABASE_ERRORS as err:  # the publication stands: say so, not "try again"
        if database_trouble(err) is None:
            raise
        return "The change notices are recorded but were not e-mailed: the database was busy."
