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

from scheduler.storage.db import database_url, instance_folder
from web import views

# One random key per process for debug and test runs only: sessions do not
# survive a restart, which is what a development key should do.
_DEVELOPMENT_SECRET = secrets.token_hex(32)


class ConfigurationError(RuntimeError):
    """The app cannot run safely with the configuration it was given."""


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Layer the configuration sources, later ones winning."""
    app.config.from_mapping(
        DATABASE_URL=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
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
    app = Flask(
        __name__,
        instance_path=str(instance_folder()),
        instance_relative_config=True,
    )
    load_config(app, test_config)
    apply_security(app)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = database_url(app.instance_path)
    app.register_blueprint(views.bp)
    return app
