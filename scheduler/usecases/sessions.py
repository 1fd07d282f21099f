"""Login sessions, kept on the server: a browser is logged in while its row exists.

The browser's cookie carries a random key; the table keeps only its SHA-256,
so a copy of the table opens nothing.  Logging out deletes the row (a copied
cookie stops working at once), "log out everywhere" deletes every row of the
account, and a row past its expiry is as good as gone: a login deletes its
account's expired rows, and the retention job the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import CursorResult, Delete, delete, select
from sqlalchemy.orm import Session

from scheduler.storage.clock import now, utc
from scheduler.storage.models.app import LoginSessionRecord

SESSION_LIFETIME = dt.timedelta(hours=8)  # a working day, then log in again


@dataclass(frozen=True)
class LoginSession:
    """One logged-in browser of an account, as the account page lists it."""

    started_at: dt.datetime
    expires_at: dt.datetime
    current: bool  # the browser asking


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(
    session: Session,
    user_id: int,
    lifetime: dt.timedelta = SESSION_LIFETIME,
    at: dt.datetime | None = None,
) -> str:
    """Record a new login of the account; the key its browser's cookie keeps."""
    at = at or now()
    session.execute(
        delete(LoginSessionRecord).where(
            LoginSessionRecord.user_id == user_id, LoginSessionRecord.expires_at <= at
        )
    )
    key = secrets.token_urlsafe(32)
    session.add(
        LoginSessionRecord(
            user_id=user_id, digest=digest(key), started_at=at, expires_at=at + lifetime
        )
    )
    session.flush()
    return key


def is_live(session: Session, user_id: int, key: str | None, at: dt.datetime | None = None) -> bool:
    """Whether ``key`` is a login of this account that has neither ended nor expired."""
    if not key:
        return False
    found = session.scalar(
        select(LoginSessionRecord.expires_at).where(
            LoginSessionRecord.digest == digest(key), LoginSessionRecord.user_id == user_id
        )
    )
    return found is not None and utc(found) > (at or now())


def end_session(session: Session, key: str | None) -> None:
    """Log one browser out (nothing to do for a key that is unknown or already ended)."""
    if key:
        session.execute(delete(LoginSessionRecord).where(LoginSessionRecord.digest == digest(key)))


def end_all_sessions(session: Session, user_id: int) -> int:
    """Log the account out of every browser; how many logins were ended."""
    return _deleted(
        session, delete(LoginSessionRecord).where(LoginSessionRecord.user_id == user_id)
    )


def end_expired_sessions(session: Session, at: dt.datetime | None = None) -> int:
    """Forget every login past its expiry (the retention job); how many."""
    statement = delete(LoginSessionRecord).where(LoginSessionRecord.expires_at <= (at or now()))
    return _deleted(session, statement)


def live_sessions(
    session: Session, user_id: int, key: str | None, at: dt.datetime | None = None
) -> list[LoginSession]:
    """The account's logins that are still open, newest first."""
    mine = digest(key) if key else ""
    rows = session.execute(
        select(LoginSessionRecord)
        .where(LoginSessionRecord.user_id == user_id, LoginSessionRecord.expires_at > (at or now()))
        .order_by(LoginSessionRecord.started_at.desc(), LoginSessionRecord.id.desc())
    ).scalars()
    return [
        LoginSession(utc(row.started_at), utc(row.expires_at), row.digest == mine) for row in rows
    ]


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    return result.rowcount if isinstance(result, CursorResult) else 0
