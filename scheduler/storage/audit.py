"""The audit log: every state-changing action, who did it, when, before and after.

Callers record within the same transaction as the change itself, so an
action that is rolled back leaves no entry and an entry never lacks its change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.storage.clock import now, utc
from scheduler.storage.models.app import AuditRecord


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    actor: str
    network_id: int | None
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    *,
    network_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one entry; ``actor`` is an account's e-mail or ``cli:<user>``."""
    session.add(
        AuditRecord(
            at=now(),
            actor=actor,
            network_id=network_id,
            action=action,
            subject=subject,
            before=before,
            after=after,
        )
    )
    session.flush()


def entries(session: Session, network_id: int | None, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first: one network's, or all when None.

    Network-less entries (the accounts of managers of every network, their
    logins) are not any one network's: only a manager of every network sees them.
    """
    statement = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if network_id is not None:
        statement = statement.where(AuditRecord.network_id == network_id)
    return [
        AuditEntry(utc(r.at), r.actor, r.network_id, r.action, r.subject, r.before, r.after)
        for r in session.scalars(statement)
    ]
