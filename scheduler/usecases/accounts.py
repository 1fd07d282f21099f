"""Accounts: who may log in, with which role, and the login throttle.

Plain functions of a SQLAlchemy session, so the CLI, the web app and the
tests share them.  Passwords are stored only as werkzeug hashes (scrypt);
a failed login is recorded by e-mail whether or not the account exists, so
the throttle says nothing about which addresses have accounts.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.storage.clock import now
from scheduler.storage.models.app import USER_ROLES, LoginFailureRecord, UserRecord
from scheduler.storage.models.base import LABEL
from scheduler.storage.models.network import SiteRecord, StaffRecord
from scheduler.usecases.sessions import end_all_sessions

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5  # failed logins per e-mail within the window before logins are refused
FAILURE_WINDOW = dt.timedelta(minutes=15)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@functools.cache
def no_account_hash() -> str:
    """Compared against when no account matches, so a miss costs as long as a wrong password
    (made on first use: hashing takes a sixth of a second every command would pay)."""
    return generate_password_hash("no account has this password")


class AccountError(ValueError):
    """An account cannot be created as asked; ``field`` names the input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class LoginThrottledError(RuntimeError):
    """Too many failed logins for this e-mail recently."""


@dataclass(frozen=True)
class User:
    """The logged-in person, as the web app needs them (never the password hash)."""

    id: int
    email: str
    role: str
    network_id: int | None  # None: every network
    staff_id: str | None
    site_id: str | None
    # Changes whenever the password does: a login session remembers it, so
    # changing a password ends every session opened with the old one.
    password_mark: str = ""

    def may_see_network(self, network_id: int) -> bool:
        return self.network_id is None or self.network_id == network_id


def user_of(record: UserRecord) -> User:
    return User(
        record.id,
        record.email,
        record.role,
        record.network_id,
        record.staff_id,
        record.site_id,
        hashlib.sha256(record.password_hash.encode()).hexdigest()[:32],
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def add_user(
    session: Session,
    email: str,
    password: str,
    role: str,
    *,
    network_id: int | None = None,
    staff_id: str | None = None,
    site_id: str | None = None,
) -> User:
    """Create an account after checking every field; raises ``AccountError``."""
    email = normalise_email(email)
    if len(email) > LABEL:
        raise AccountError("email", f"use an address of at most {LABEL} characters")
    if not EMAIL.match(email):
        raise AccountError("email", f"{email!r} is not an e-mail address")
    if role not in USER_ROLES:
        raise AccountError("role", f"{role!r} is not one of {', '.join(USER_ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"use at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(UserRecord).where(UserRecord.email == email)) is not None:
        raise AccountError("email", f"an account for {email} already exists")
    _check_scope(session, role, network_id, staff_id, site_id)
    record = UserRecord(
        email=email,
        password_hash=generate_password_hash(password),
        role=role,
        network_id=network_id,
        staff_id=staff_id,
        site_id=site_id,
        active=True,
        created_at=now(),
    )
    session.add(record)
    session.flush()
    return user_of(record)


def _check_scope(
    session: Session,
    role: str,
    network_id: int | None,
    staff_id: str | None,
    site_id: str | None,
) -> None:
    """A clinician is one person of a network; a practice is one site of it."""
    if role != "manager" and network_id is None:
        raise AccountError("network", f"a {role} account belongs to one network; name it")
    if role == "clinician":
        if not staff_id:
            raise AccountError("staff_id", "a clinician account needs the person's staff_id")
        staff = select(func.count()).where(
            StaffRecord.network_id == network_id, StaffRecord.staff_id == staff_id
        )
        _must_exist(session, staff, "staff_id", staff_id, "staff.csv")
    if role == "practice":
        if not site_id:
            raise AccountError("site_id", "a practice account needs the practice's site_id")
        sites = select(func.count()).where(
            SiteRecord.network_id == network_id, SiteRecord.site_id == site_id
        )
        _must_exist(session, sites, "site_id", site_id, "sites.csv")


def _must_exist(session: Session, count: Select[int], field: str, value: str, file: str) -> None:
    if not session.scalar(count):
        raise AccountError(field, f"{value!r} is not in the network's {file}")


def set_password(session: Session, email: str, password: str) -> User:
    """Give an existing account a new password (and re-activate it); ends its every login."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"use at least {MIN_PASSWORD_LENGTH} characters")
    record = session.scalar(select(UserRecord).where(UserRecord.email == normalise_email(email)))
    if record is None:
        raise AccountError("email", f"no account for {email}")
    record.password_hash = generate_password_hash(password)
    record.active = True
    session.flush()
    end_all_sessions(session, record.id)
    return user_of(record)


def authenticate(
    session: Session, email: str, password: str, at: dt.datetime | None = None
) -> User | None:
    """The account these credentials open, or None; raises ``LoginThrottledError``.

    Every failure is recorded; a success clears the e-mail's failures. The web app runs
    the two halves in separate transactions (``check_credentials`` while reading,
    ``record_attempt`` in a short write) so the slow password hash never holds the lock.
    """
    at = at or now()
    user = check_credentials(session, email, password, at)
    record_attempt(session, email, user, at)
    return user


def check_credentials(
    session: Session, email: str, password: str, at: dt.datetime | None = None
) -> User | None:
    """The account these credentials open, or None; reads only. Raises ``LoginThrottledError``."""
    email = normalise_email(email)
    if len(email) > LABEL:
        return None  # no account has so long an address, and the failure table could not hold it
    _refuse_if_throttled(session, email, at or now())
    record = session.scalar(select(UserRecord).where(UserRecord.email == email))
    stored = record.password_hash if record is not None else no_account_hash()
    if check_password_hash(stored, password) and record is not None and record.active:
        return user_of(record)
    return None


def record_attempt(
    session: Session, email: str, user: User | None, at: dt.datetime | None = None
) -> None:
    """Remember a login attempt: a failure counts towards the throttle, a success clears it.

    The throttle is asked again: failures recorded since the credentials were checked
    (another browser, another process) still refuse this login.
    """
    at = at or now()
    email = normalise_email(email)
    if len(email) > LABEL:
        return
    if user is None:
        session.add(LoginFailureRecord(email=email, at=at))
        session.flush()
        return
    _refuse_if_throttled(session, email, at)
    session.execute(delete(LoginFailureRecord).where(LoginFailureRecord.email == email))


def _refuse_if_throttled(session: Session, email: str, at: dt.datetime) -> None:
    recent = select(func.count()).where(
        LoginFailureRecord.email == email, LoginFailureRecord.at > at - FAILURE_WINDOW
    )
    if (session.scalar(recent) or 0) >= MAX_FAILURES:
        raise LoginThrottledError(
            f"too many failed logins; try again in {FAILURE_WINDOW.seconds // 60} minutes"
        )


def find_user(session: Session, user_id: int) -> User | None:
    """An active account by id (what a session cookie names)."""
    record = session.get(UserRecord, user_id)
    return user_of(record) if record is not None and record.active else None


def list_users(session: Session, network_id: int | None) -> list[User]:
    """Accounts of one network (every account when None), by e-mail."""
    statement = select(UserRecord).order_by(UserRecord.email)
    if network_id is not None:
        statement = statement.where(UserRecord.network_id == network_id)
    return [user_of(record) for record in session.scalars(statement)]
