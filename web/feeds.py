"""Calendar feeds over HTTP, and the pages that hand out, replace and turn off their links.

``GET /feeds/<token>.ics`` needs no login: the token is the credential, so
an unknown or revoked one gets a bare 404 (no page, no hint), and nothing
here ever logs the request's path.  A feed's body is kept in memory per
(feed, published version, host, day): the day is part of it because a
cancelled session drops out once its date has passed.  A token checked in
the last few seconds is answered from memory without the database
(``FeedState``); clients revalidate with ``If-None-Match`` /
``If-Modified-Since`` and usually get a 304.

The link pages are thin handlers over ``scheduler.usecases.feeds``; every link
created, replaced or turned off is audited, never with the token itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.http import http_date, is_resource_modified
from werkzeug.wrappers import Response

from scheduler.config import public_address
from scheduler.outputs.calendar import render_feed
from scheduler.storage import audit
from scheduler.storage.clock import now
from scheduler.storage.db import database_trouble
from scheduler.storage.events import current_bundle
from scheduler.storage.feeds import (
    FEED_KINDS,
    FeedSubject,
    FeedSubjectError,
    feed_last_modified,
    feed_version,
    load_directory,
)
from scheduler.storage.models.network import NetworkRecord, SiteRecord
from scheduler.storage.repository import rows_of
from scheduler.usecases.feeds import (
    check_subject,
    current_token,
    find_feed,
    issue_token,
    revoke_token,
)
from scheduler.usecases.open_feed import render_open_feed
from scheduler.usecases.open_sessions import places_for
from web.auth import STAFF_ROLES, network_guard, require, site_guard, staff_guard
from web.common import (
    LONDON,
    STATE_KEY,
    FeedLinks,
    feed_links,
    feeds_changed,
    link_base,
    public_host,
    secret,
    today,
)
from web.db import reading, transaction
from web.errors import RETRY_AFTER

bp = Blueprint("feeds", __name__)
log = logging.getLogger(__name__)
CACHE_SIZE = 512  # rendered feeds (and checked tokens) kept per process; a few MB at most
RECHECK_SECONDS = 5.0  # how stale a change made outside this app may look
# Calendar apps and proxies may reuse a copy for 5 minutes; "private": a shared
# cache must not keep one person's rota (the URL is their secret).
CACHE_CONTROL = "private, max-age=300"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
LONGEST_TOKEN = 128  # real tokens are 43 characters; longer ones are not worth hashing
ACTIONS = ("rotate", "revoke")


# -- what the feed route remembers ------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A feed as served: its body and the validators a client sends back."""

    body: bytes
    etag: str
    last_modified: dt.datetime


@dataclass(frozen=True)
class Resolved:
    """What a token opened when last checked against the database, and its rendered feed."""

    feed: FeedSubject
    rendered: Rendered
    host: str
    day: dt.date
    checked: float  # clock() when checked
    generation: int  # FeedState.generation when the check began


class Lru:
    """A small thread-safe least-recently-used map.

    Two threads missing the same key both fill it (with equal values);
    holding the lock while rendering would queue every feed behind one.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def pop(self, key: Any) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class FeedState:
    """The feed route's memory: rendered feeds, and tokens recently checked.

    A calendar client asks for the same unchanged feed again and again, so
    the route answers from memory: a token checked less than ``recheck``
    seconds ago (and not since a change made through this app) is not looked
    up again.  Publishing, replacing or turning off a link in the app bumps
    ``generation``, so those take effect at once; a change made elsewhere
    (the command line) shows within ``recheck`` seconds.
    """

    def __init__(self, size: int, recheck: float) -> None:
        self.rendered = Lru(size)  # (feed, version, host, day) -> Rendered
        self.tokens = Lru(size)  # sha256(token) -> Resolved
        self.open = Lru(size)  # sha256(token) -> Resolved of the open-sessions feed
        self.recheck = recheck
        self.generation = 0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1

    def fresh(self, hit: Resolved, host: str, day: dt.date) -> bool:
        """Whether a remembered answer still stands without asking the database."""
        return (
            hit.generation == self.generation
            and hit.host == host
            and hit.day == day
            and clock() - hit.checked < self.recheck
        )


clock = time.monotonic  # tests move it forward


@bp.record_once
def _make_state(state: Any) -> None:
    """One memory per app, made when the blueprint is registered (not at import)."""
    app: Flask = state.app
    size = int(app.config.get("FEED_CACHE_SIZE", CACHE_SIZE))
    recheck = float(app.config.get("FEED_RECHECK_SECONDS", RECHECK_SECONDS))
    app.extensions.setdefault(STATE_KEY, FeedState(size, recheck))


def feed_state() -> FeedState:
    """The app's feed memory."""
    found: FeedState = current_app.extensions[STATE_KEY]
    return found


# -- serving a feed -------------------------------------------------------------------------


def _plain(status: int, text: str) -> Response:
    """A bare text answer: no page, no navigation, nothing about why."""
    return Response(text, status=status, mimetype="text/plain")


def entity_tag(feed: FeedSubject, version: str, host: str, day: dt.date) -> str:
    """A strong ETag: the same exactly when the feed's bytes are the same."""
    seed = f"{feed.network_id}|{feed.kind}|{feed.subject}|{version}|{host}|{day.isoformat()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _render(db: Session, feed: FeedSubject, host: str, day: dt.date) -> Rendered:
    """The feed at its current version, from memory or rendered and remembered."""
    version = feed_version(db, feed)
    key = (feed, version, host, day)
    memory = feed_state().rendered
    found: Rendered | None = memory.get(key)
    if found is None:
        found = Rendered(
            render_feed(db, feed, host, day),
            entity_tag(feed, version, host, day),
            _last_modified(db, feed, day),
        )
        memory.put(key, found)
    return found


def _last_modified(db: Session, feed: FeedSubject, day: dt.date) -> dt.datetime:
    """When the body last changed: its last published change, or this day's start if later.

    The day counts because a cancelled session leaves the feed once past.
    """
    midnight = dt.datetime.combine(day, dt.time(), LONDON).astimezone(dt.UTC)
    return max(feed_last_modified(db, feed), midnight)


def _resolve(token: str, host: str, day: dt.date) -> Rendered | None:
    """The token's feed, from memory if checked recently, else from the database."""
    return _remembered(
        feed_state().tokens, token, host, day, lambda db, found: _render(db, found, host, day)
    )


def _remembered(
    memory: Lru,
    token: str,
    host: str,
    day: dt.date,
    render: Callable[[Session, FeedSubject], Rendered | None],
) -> Rendered | None:
    """What ``render`` made of the token's feed, from ``memory`` if checked recently."""
    state = feed_state()
    key = hashlib.sha256(token.encode()).digest()
    hit: Resolved | None = memory.get(key)
    if hit is not None and state.fresh(hit, host, day):
        return hit.rendered
    generation, checked = state.generation, clock()
    with reading() as db:
        found = find_feed(db, token, secret())
        rendered = None if found is None else render(db, found)
    if found is None or rendered is None:
        memory.pop(key)
        return None
    memory.put(key, Resolved(found, rendered, host, day, checked, generation))
    return rendered


def _answer(rendered: Rendered, status: int = 200) -> Response:
    """The feed (or a 304 carrying the same validators)."""
    response = Response(rendered.body if status == 200 else b"", status=status)
    response.headers["Content-Type"] = CALENDAR_TYPE
    response.set_etag(rendered.etag)
    response.headers["Last-Modified"] = http_date(rendered.last_modified)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _serve(token: str) -> Response:
    """Find the feed, then answer 304 if the client's copy is current, else the body."""
    if len(token) > LONGEST_TOKEN:
        return _plain(404, "Not found\n")
    rendered = _resolve(token, public_host(), today())
    if rendered is None:
        return _plain(404, "Not found\n")
    fresh = not is_resource_modified(
        request.environ, etag=rendered.etag, last_modified=rendered.last_modified
    )
    return _answer(rendered, 304 if fresh else 200)


@bp.get("/feeds/<token>.ics")
def feed(token: str) -> Response:
    """A published calendar feed; the token in the address is the only credential."""
    return _guarded(_serve, token)


@bp.get("/feeds/<token>/open.ics")
def open_feed(token: str) -> Response:
    """A person's open sessions as tentative events, under the token of their rota feed."""
    return _guarded(_serve_open, token)


def _serve_open(token: str) -> Response:
    """The places the feed's person could book now; 304 when the client has these bytes."""
    if len(token) > LONGEST_TOKEN:
        return _plain(404, "Not found\n")
    rendered = _resolve_open(token, public_host(), today())
    if rendered is None:
        return _plain(404, "Not found\n")
    fresh = not is_resource_modified(request.environ, etag=rendered.etag)
    response = Response(b"" if fresh else rendered.body, status=304 if fresh else 200)
    response.headers["Content-Type"] = CALENDAR_TYPE
    response.set_etag(rendered.etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _resolve_open(token: str, host: str, day: dt.date) -> Rendered | None:
    """The open-sessions feed, from memory when worked out less than ``recheck`` seconds ago.

    Working out a person's places reads the whole network (about 0.1 s on 60
    practices), so a burst of refreshes is answered from memory; a booking,
    offer or publication made in the app forgets it at once (``feeds_changed``),
    and a place whose session has begun leaves within ``recheck`` seconds.
    """
    return _remembered(
        feed_state().open, token, host, day, lambda db, found: _render_open(db, found, host)
    )


def _render_open(db: Session, found: FeedSubject, host: str) -> Rendered | None:
    """The person's open places as a feed; None for a feed that is not one person's."""
    if found.kind != "staff":
        return None
    bundle = current_bundle(db, found.network_id)
    person = next((p for p in bundle.staff if p.staff_id == found.subject), None)
    fits = []
    if person is not None:
        shown = places_for(db, found.network_id, person, now(), bundle)
        fits = [p for p, why in shown if why is None and p.state == "open"]
    directory = load_directory(db, found.network_id)
    page = f"{link_base()}/n/{found.network_id}/people/{quote(found.subject, safe='')}/open"
    name = person.name if person is not None else found.subject
    body = render_open_feed(directory, name, fits, host, page)
    return Rendered(body, hashlib.sha256(body).hexdigest()[:32], now())


def _guarded(serve: Callable[[str], Response], token: str) -> Response:
    """Serve a feed; a busy database is a 503 to retry, any other failure a bare 500."""
    try:
        return serve(token)
    except Exception as err:  # reported here, by route: the address holds the token
        if database_trouble(err) is not None:
            log.warning("a calendar feed waited too long for the database; asked to retry")
            busy = _plain(503, "The calendar is busy; try again in a moment\n")
            busy.headers["Retry-After"] = str(RETRY_AFTER)
            return busy
        log.exception("a calendar feed could not be served (its address is left out)")
        return _plain(500, "Server error\n")


def _label(kind: str, subject: str) -> str:
    """How the audit log names a feed (never by its token)."""
    return "hub feed" if kind == "hub" else f"{kind} feed {subject}"


def _exists(db: Session, network_id: int, kind: str, subject: str) -> bool:
    """Whether the feed's subject is a person, site or the hub of this network."""
    try:
        check_subject(db, network_id, kind, subject)
    except FeedSubjectError:
        return False
    return True


def _change(db: Session, actor: str, feed: FeedSubject, action: str) -> str:
    """Replace (or make) or turn off a feed's link, audited; what happened, in words."""
    network_id, kind, subject = feed.network_id, feed.kind, feed.subject
    had = current_token(db, network_id, kind, subject, secret()) is not None
    if action == "rotate":
        issue_token(db, network_id, kind, subject, secret())
        done = "link replaced: the old link no longer works" if had else "link created"
        audit_action = "feed link replaced" if had else "feed link created"
    else:
        revoke_token(db, network_id, kind, subject)
        done = "link turned off: it no longer works" if had else "had no link to turn off"
        audit_action = "feed link turned off"
    if had or action == "rotate":
        audit.record(
            db,
            actor,
            audit_action,
            _label(kind, subject),
            network_id=network_id,
            before={"active": had},
            after={"active": action == "rotate"},
        )
    return done


@bp.post("/n/<int:network_id>/people/<staff_id>/feed")
@require("clinician", *STAFF_ROLES)
def rotate_person(network_id: int, staff_id: str) -> Response:
    """Make the person's calendar link, or replace it (the old one stops working)."""
    user = staff_guard(network_id, staff_id)
    with transaction() as db:
        if not _exists(db, network_id, "staff", staff_id):
            abort(404)
        feed = FeedSubject(network_id, "staff", staff_id)
        done = _change(db, user.email, feed, "rotate")
    feeds_changed()
    flash(f"Calendar {done}.", "success")
    target = url_for("people.person", network_id=network_id, staff_id=staff_id)
    return redirect(f"{target}#feed-heading")


@dataclass(frozen=True)
class FeedRow:
    """One feed of the network feeds page."""

    kind: str
    subject: str
    title: str
    links: FeedLinks | None


def _network_rows(db: Session, network_id: int) -> list[FeedRow]:
    """Each site's feed, then the hub feed."""
    rows = [
        FeedRow("site", site.site_id, f"{site.name} ({site.site_id})", None)
        for site in rows_of(db, SiteRecord, network_id)
    ]
    rows.append(FeedRow("hub", "", "Hub sessions of the whole network", None))
    return [
        FeedRow(row.kind, row.subject, row.title, feed_links(db, network_id, row.kind, row.subject))
        for row in rows
    ]


@bp.get("/n/<int:network_id>/feeds")
@require(*STAFF_ROLES)
def network_feeds(network_id: int) -> str:
    """The network's site feeds and hub feed, with their links and buttons to change them."""
    network_guard(network_id)
    with reading() as db:
        network = db.get(NetworkRecord, network_id)
        if network is None:
            abort(404)
        rows = _network_rows(db, network_id)
    return render_template(
        "feeds/network.html",
        network_id=network_id,
        network=network.name,
        rows=rows,
        unset_address=None if _address_set() else link_base(),
    )


def _address_set() -> bool:
    """Whether links have a configured address (or this is a debug or test run, where any do)."""
    app = current_app
    return public_address(app.config).configured or bool(app.debug or app.testing)


def _manage_form() -> tuple[str, str, str]:
    """The kind, subject and action posted; raises ``ValueError`` naming the bad field."""
    kind = request.form.get("kind", "")
    subject = request.form.get("subject", "")
    action = request.form.get("action", "")
    if kind not in FEED_KINDS:
        raise ValueError(f"kind: choose one of {', '.join(FEED_KINDS)}")
    if action not in ACTIONS:
        raise ValueError("action: choose rotate (new link) or revoke (turn the link off)")
    return kind, "" if kind == "hub" else subject, action


def _manage_target(network_id: int, kind: str, subject: str) -> str:
    """Back where the button was: the person's page for a person's feed, else the feeds page."""
    if kind == "staff" and subject:
        url = url_for("people.person", network_id=network_id, staff_id=subject)
        return f"{url}#feed-heading"
    return url_for("feeds.network_feeds", network_id=network_id)


@bp.post("/n/<int:network_id>/feeds")
@require(*STAFF_ROLES)
def manage(network_id: int) -> Response:
    """Create, replace (``action=rotate``) or turn off (``action=revoke``) any feed's link."""
    user = network_guard(network_id)
    try:
        kind, subject, action = _manage_form()
    except ValueError as err:
        flash(f"Nothing changed. {err}.", "error")
        return redirect(url_for("feeds.network_feeds", network_id=network_id))
    with transaction() as db:
        if not _exists(db, network_id, kind, subject):
            flash(f"Nothing changed. subject: no {kind} {subject!r} in this network.", "error")
            return redirect(url_for("feeds.network_feeds", network_id=network_id))
        done = _change(db, user.email, FeedSubject(network_id, kind, subject), action)
    feeds_changed()
    label = _label(kind, subject)
    flash(f"{label[:1].upper()}{label[1:]}: {done}.", "success")
    return redirect(_manage_target(network_id, kind, subject))


@bp.get("/n/<int:network_id>/sites/<site_id>/feed")
@require("practice", *STAFF_ROLES)
def site_feed_page(network_id: int, site_id: str) -> str:
    """A site's calendar link: who works there when, for the practice's own screens."""
    user = site_guard(network_id, site_id)
    with reading() as db:
        site = db.scalar(
            select(SiteRecord).where(
                SiteRecord.network_id == network_id, SiteRecord.site_id == site_id
            )
        )
        if site is None:
            abort(404)
        links = feed_links(db, network_id, "site", site_id)
    return render_template(
        "feeds/site.html",
        network_id=network_id,
        site=site,
        links=links,
        may_change=user.role in STAFF_ROLES,
    )
