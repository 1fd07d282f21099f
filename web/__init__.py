"""The rotapool web application (application factory).

Configuration comes, in order, from defaults in code, the instance folder's
``config.py``, ``ROTAPOOL_*`` environment variables, and finally the
``test_config`` a test passes in.  Creating the app starts nothing: no
scheduler, no database connection, no migrations.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter, ValidationError
from werkzeug.wrappers import Response

from scheduler.bundle.tables import row_caps
from scheduler.checks.fixes import hours_text
from scheduler.config import ConfigurationError, public_address
from scheduler.jobs.settings import QueueSettingsError, queue_settings
from scheduler.money import counted, pounds, pounds_change
from scheduler.storage.db import database_url, instance_folder
from scheduler.storage.models.base import MAX_INTEGER
from scheduler.usecases.sessions import SESSION_LIFETIME
from scheduler.views.words import local_moment, quality_words, status_words
from web import (
    admin,
    auth,
    availability,
    board,
    errors,
    feeds,
    glossary,
    inbox,
    jobs_admin,
    lending,
    open_sessions,
    people,
    repair,
    report_ea,
    report_fairness,
    report_ledger,
    rota,
    swaps,
    timesheets,
    views,
    weeks,
)
from web.common import IMPORT_CAPS
from web.errors import RotapoolFlask

# One random key per process for debug and test runs only: sessions do not
# survive a restart, which is what a development key should do.
_DEVELOPMENT_SECRET = secrets.token_hex(32)

__all__ = ["ConfigurationError", "create_app"]


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in the app's URLs: an id no larger than the database can store.

    A longer number would make the database driver fail (a 500) instead of
    the address simply matching nothing (a 404).
    """

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        if number > MAX_INTEGER:
            raise ValidationError()
        return number


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Layer the configuration sources, later ones winning."""
    app.config.from_mapping(
        DATABASE_URL=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,  # an uploaded bundle; far above any real one
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the login session
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ROTAPOOL")
    if test_config is not None:
        app.config.from_mapping(test_config)


def development_mode(app: Flask) -> bool:
    """Debug or testing: the only modes where a throwaway secret is acceptable."""
    return bool(app.debug or app.testing)


def apply_security(app: Flask) -> None:
    """Refuse to run in production without a secret; secure cookies outside development."""
    if not app.config.get("SECRET_KEY"):
        if not development_mode(app):
            raise ConfigurationError(
                "SECRET_KEY is not set: set ROTAPOOL_SECRET_KEY or SECRET_KEY in "
                f"{os.path.join(app.instance_path, 'config.py')}"
            )
        app.config["SECRET_KEY"] = _DEVELOPMENT_SECRET
    app.config["SESSION_COOKIE_SECURE"] = not development_mode(app)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build a configured app with its blueprints registered."""
    app = RotapoolFlask(
        __name__,
        instance_path=str(instance_folder()),
        instance_relative_config=True,
    )
    load_config(app, test_config)
    apply_security(app)
    try:
        queue_settings(app.config)
        app.extensions[IMPORT_CAPS] = row_caps(app.config.get("IMPORT_MAX_ROWS"))
        public_address(app.config)
    except (QueueSettingsError, ValueError, ConfigurationError) as err:
        raise ConfigurationError(f"{err} (ROTAPOOL_ settings or config.py)") from None
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = database_url(app.instance_path)
    CSRFProtect(app)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.before_request(auth.load_user)
    app.after_request(security_headers)
    errors.register(app)
    app.jinja_env.filters["money"] = pounds
    app.jinja_env.filters["money_change"] = pounds_change
    app.jinja_env.filters["counted"] = counted
    app.jinja_env.filters["hours"] = hours_text
    app.jinja_env.filters["status_words"] = status_words
    app.jinja_env.filters["quality"] = quality_words
    app.jinja_env.filters["local_moment"] = local_moment
    for blueprint in (
        views.bp,
        auth.bp,
        weeks.bp,
        board.bp,
        rota.bp,
        people.bp,
        admin.bp,
        feeds.bp,
        lending.bp,
        open_sessions.bp,
        swaps.bp,
        availability.bp,
        repair.bp,
        report_ea.bp,
        report_fairness.bp,
        report_ledger.bp,
        timesheets.bp,
        jobs_admin.bp,
        glossary.bp,
        inbox.bp,
    ):
        app.register_blueprint(blueprint)
    return app


# Pages load nothing from other hosts: scripts and styles are the app's own files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def security_headers(response: Response) -> Response:
    """Headers every response carries: no framing, no sniffing, no third-party content."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
