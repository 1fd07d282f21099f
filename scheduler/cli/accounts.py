"""``rotapool users add`` and ``rotapool feeds url|rotate|revoke``."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.orm import Session

from scheduler.cli.common import EXIT_INPUT, EXIT_OK, db_arg, db_url, print_error
from scheduler.config import ConfigurationError, PublicAddress, app_settings, public_address
from scheduler.storage import audit
from scheduler.storage.db import (
    make_engine,
    session_scope,
)
from scheduler.storage.feeds import FeedSubjectError
from scheduler.storage.models.app import USER_ROLES
from scheduler.storage.repository import network_id_of
from scheduler.usecases.accounts import AccountError, add_user
from scheduler.usecases.feeds import (
    check_subject,
    current_token,
    feed_urls,
    issue_token,
    revoke_token,
)


def cmd_users_add(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print_error("error: give the password on standard input with --password-stdin")
        return EXIT_INPUT
    password = sys.stdin.readline().rstrip("\n")
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = None
            if args.network or args.role != "manager":
                network_id = network_id_of(session, args.network)
            user = add_user(
                session,
                args.email,
                password,
                args.role,
                network_id=network_id,
                staff_id=args.staff_id,
                site_id=args.site_id,
            )
            audit.record(
                session,
                f"cli:{getpass.getuser()}",
                "user added",
                user.email,
                network_id=network_id,
                after={"role": user.role, "staff_id": user.staff_id, "site_id": user.site_id},
            )
    except AccountError as err:
        print_error(f"error: --{err.field.replace('_', '-')}: {err.message}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    scope = "every network" if network_id is None else f"network {network_id}"
    print(f"Added {user.role} account {user.email} ({scope}).")
    return EXIT_OK


# -- calendar feed links ----------------------------------------------------------


class MissingSecretError(RuntimeError):
    """Feed links cannot be shown or made without the web app's secret key."""


def feed_settings() -> tuple[str | bytes, PublicAddress]:
    """The web app's secret key and public address, from the same layers the app reads.

    The instance folder's ``config.py``, then ``ROTAPOOL_*`` variables: a
    link printed here is the link the app serves.  A debug setting never
    substitutes a throwaway key here, as it may in the app.
    """
    config = app_settings()
    secret = config.get("SECRET_KEY")
    if not secret:
        raise MissingSecretError(
            "ROTAPOOL_SECRET_KEY is not set; feed links are derived from the web app's "
            "secret key. Set ROTAPOOL_SECRET_KEY (or SECRET_KEY in the instance folder's "
            "config.py) to the key the web app uses, and run again."
        )
    return secret, public_address(config)


def _print_links(address: PublicAddress, token: str) -> None:
    link, webcal = feed_urls(address.base, token)
    print(f"  {link}")
    print(f"  {webcal}")
    if not address.configured:
        print_error(
            f"warning: ROTAPOOL_PUBLIC_HOST is not set, so this link names {address.host}, "
            "which opens only on this machine. Set it to the address clinicians reach "
            "rotapool at (and ROTAPOOL_PUBLIC_SCHEME=http if it is served without TLS)."
        )


def _audit_feed(session: Session, network_id: int, staff_id: str, action: str) -> None:
    """An audit entry for a link change: who and whose link, never the token."""
    audit.record(
        session,
        f"cli:{getpass.getuser()}",
        action,
        f"calendar feed of staff {staff_id}",
        network_id=network_id,
        after={"kind": "staff", "subject": staff_id},
    )


def _feed_url(session: Session, network_id: int, staff_id: str, secret: str | bytes) -> str:
    """The person's working link, issuing one (and saying so) when there is none."""
    check_subject(session, network_id, "staff", staff_id)
    token = current_token(session, network_id, "staff", staff_id, secret)
    if token is None:
        token = issue_token(session, network_id, "staff", staff_id, secret)
        _audit_feed(session, network_id, staff_id, "feed link issued")
        print(f"{staff_id} had no working calendar link: issued a new one.")
    return token


def _feed_rotate(session: Session, network_id: int, staff_id: str, secret: str | bytes) -> str:
    """A new link for the person; the old one stops working."""
    token = issue_token(session, network_id, "staff", staff_id, secret)
    _audit_feed(session, network_id, staff_id, "feed link rotated")
    print(f"Replaced the calendar link of {staff_id}; the old link no longer works.")
    return token


def cmd_feeds_link(args: argparse.Namespace) -> int:
    """``feeds url`` and ``feeds rotate``: print the person's https:// and webcal:// links."""
    try:
        secret, address = feed_settings()
    except (MissingSecretError, ConfigurationError) as err:
        print_error(f"error: {err}")
        return EXIT_INPUT
    action = _feed_rotate if args.feeds_command == "rotate" else _feed_url
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            token = action(session, network_id, args.staff_id, secret)
    except FeedSubjectError as err:
        print_error(f"error: STAFF_ID: {err}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    print(f"Calendar links of {args.staff_id} (subscribe with either):")
    _print_links(address, token)
    return EXIT_OK


def cmd_feeds_revoke(args: argparse.Namespace) -> int:
    """``feeds revoke``: the person's link stops working; no new one is made."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            revoked = revoke_token(session, network_id, "staff", args.staff_id)
            if revoked:
                _audit_feed(session, network_id, args.staff_id, "feed link revoked")
            else:
                check_subject(session, network_id, "staff", args.staff_id)
    except FeedSubjectError as err:
        print_error(f"error: STAFF_ID: {err}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    if revoked:
        print(f"Revoked the calendar link of {args.staff_id}.")
    else:
        print(f"{args.staff_id} had no active calendar link; nothing changed.")
    return EXIT_OK


def users_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="manage web accounts")
    users = p.add_subparsers(dest="users_command", required=True)
    p = users.add_parser("add", help="add an account; the password is read from standard input")
    p.add_argument("email")
    p.add_argument("--role", required=True, choices=USER_ROLES)
    p.add_argument("--staff-id", help="the person a clinician account belongs to")
    p.add_argument("--site-id", help="the practice a practice account belongs to")
    p.add_argument("--network", help="network name (default: the only one; managers: every one)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    db_arg(p)
    p.set_defaults(func=cmd_users_add)


def feeds_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feeds", help="a clinician's calendar feed link")
    commands = p.add_subparsers(dest="feeds_command", required=True)
    for name, text, func in (
        ("url", "print the https:// and webcal:// links (issues one if none)", cmd_feeds_link),
        ("rotate", "replace the link: the old one stops working", cmd_feeds_link),
        ("revoke", "disable the link", cmd_feeds_revoke),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("staff_id", metavar="STAFF_ID", help="the person, as in staff.csv")
        p.add_argument("--network", help="network name (default: the only one)")
        db_arg(p)
        p.set_defaults(func=func)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """users add; feeds url, rotate and revoke."""
    users_parser(sub)
    feeds_parser(sub)
