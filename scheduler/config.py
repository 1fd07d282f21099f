"""The deployment's settings, read the same way by every process.

The web app, ``rotapool scheduler``, ``rotapool worker`` and the command
line all read the instance folder's ``config.py`` first and then the
``ROTAPOOL_*`` environment variables (``ROTAPOOL_SECRET_KEY`` sets
``SECRET_KEY``), so a value set once holds everywhere.  Every setting, its
default and its meaning are listed in ``docs/configuration.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.storage.db import instance_folder

if TYPE_CHECKING:
    from flask import Config


class ConfigurationError(RuntimeError):
    """A process cannot run safely with the settings it was given; the message names the setting."""


def app_settings() -> Config:
    """The settings without building the web app: the instance file, then ROTAPOOL_*."""
    from flask import Config  # noqa: PLC0415  (Flask is loaded by the commands that read settings)

    config = Config(str(instance_folder()))
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("ROTAPOOL")
    return config
