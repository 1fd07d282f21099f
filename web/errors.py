"""What the app answers, and what it logs, when a request goes wrong.

Errors are pages in the site's layout saying what to do.  A database that
is busy (another process writing for longer than the busy timeout) or out
of reach is a 503 asking to try again, never a 500.  A logged failure names
the route, never the address asked for: a feed's address holds its token.
"""

from __future__ import annotations

import logging
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from scheduler.storage.db import DATABASE_ERRORS, database_trouble

log = logging.getLogger(__name__)
RETRY_AFTER = 10  # seconds a browser or a calendar app is asked to wait before trying again

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class RotapoolFlask(Flask):
    """Flask, logging failures by route pattern instead of by address."""

    def log_exception(self, exc_info: ExcInfo) -> None:
        self.logger.error("Exception on %s [%s]", logged_route(), request.method, exc_info=exc_info)


def logged_route() -> str:
    """The request's route as written in the code (``/feeds/<token>.ics``), not its values."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"


def error_page(error: HTTPException) -> tuple[str, int]:
    """Errors as a page in the site's layout, saying what happened and what to do."""
    return render_template("error.html", error=error, back=same_site_referrer()), error.code or 500


def same_site_referrer() -> str | None:
    """The page the request came from, when it is a page of this site (for "go back")."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
        return None
    path = "/" + referrer.path.lstrip("/")  # never "//host": that would leave the site
    return urlunsplit(("", "", path, referrer.query, ""))


def database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
    """503 with a page saying to try again, when the database is busy or out of reach."""
    trouble = database_trouble(error)
    if trouble is None:
        raise error  # a fault, not a busy database: Flask's 500 (logged by route)
    log.warning("%s (%s [%s])", trouble, logged_route(), request.method)
    busy = ServiceUnavailable(description=trouble[0].upper() + trouble[1:] + ".")
    page, status = error_page(busy)
    return page, status, {"Retry-After": str(RETRY_AFTER)}


def register(app: Flask) -> None:
    """Attach the error pages to ``app``."""
    app.register_error_handler(HTTPException, error_page)
    for error in DATABASE_ERRORS:
        app.register_error_handler(error, database_unavailable)
