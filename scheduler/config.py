"""The deployment's settings, read the same way by every process.

The web app, ``rotapool scheduler``, ``rotapool worker`` and the command
line all read the instance folder's ``config.py`` first and then the
``ROTAPOOL_*`` environment variables (``ROTAPOOL_SECRET_KEY`` sets
``SECRET_KEY``), so a value set once holds everywhere.  Every setting, its
default and its meaning are listed in ``docs/configuration.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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


DEFAULT_HOST = "localhost:5000"  # the development server's; deployments set PUBLIC_HOST
SCHEMES = ("https", "http")


@dataclass(frozen=True)
class PublicAddress:
    """Where people reach the web app: links, e-mails and calendar event ids name it.

    ``configured`` is False when ``PUBLIC_HOST`` is not set: the host is then
    the development server's, right on this machine and wrong anywhere else.
    """

    host: str
    scheme: str
    configured: bool

    @property
    def base(self) -> str:
        """``https://rota.example.nhs.uk``: what a link's path is appended to."""
        return f"{self.scheme}://{self.host}"


def public_address(config: Mapping[str, Any]) -> PublicAddress:
    """``PUBLIC_HOST`` and ``PUBLIC_SCHEME``.

    The scheme is https for a configured host (unless the site is served without TLS),
    and http for the development server's host, which serves no TLS.
    """
    host = str(config.get("PUBLIC_HOST") or "").strip()
    scheme = str(config.get("PUBLIC_SCHEME") or ("https" if host else "http")).strip().lower()
    if scheme not in SCHEMES:
        raise ConfigurationError(f"PUBLIC_SCHEME: give https or http, not {scheme!r}")
    if "/" in host or " " in host:
        raise ConfigurationError(
            f"PUBLIC_HOST: give a host name, with a port if needed (rota.example.nhs.uk), "
            f"not {host!r}"
        )
    return PublicAddress(host or DEFAULT_HOST, scheme, bool(host))
