"""The retention job: old audit entries, runs, cleared alerts and superseded versions.

This is the only code that deletes audit entries: the audit log is otherwise
append-only.  Entries with no network (all-network managers' accounts) are
kept.  It never deletes a draft or a published rota, and each run is itself
audited with its counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, delete
from sqlalchemy.orm import Session

from scheduler.domain import (
    iso_week_label,
)
from scheduler.jobs.alerts import ACTOR, count_words, job_settings
from scheduler.storage import audit
from scheduler.storage.models.app import (
    AuditRecord,
    JobRunRecord,
    LoginFailureRecord,
    WeekAlertRecord,
)
from scheduler.storage.models.network import RotaRecord
from scheduler.usecases.sessions import end_expired_sessions

# -- retention ------------------------------------------------------------------------------


SINGULAR = {
    "audit entries": "audit entry",
    "superseded versions": "superseded version",
    "login failures": "login failure",
    "job runs": "job run",
    "cleared alerts": "cleared alert",
    "expired logins": "expired login",
}


def _deleted(session: Session, statement: Any) -> int:
    """Run a bulk DELETE; how many rows it removed."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount if isinstance(result, CursorResult) else 0


def _delete_old(
    session: Session, network_id: int, old: dt.datetime, before_week: str
) -> dict[str, int]:
    """Delete what is older than ``old`` (or superseded before ``before_week``); counts by name."""
    return {
        "audit entries": _deleted(
            session,
            delete(AuditRecord).where(AuditRecord.network_id == network_id, AuditRecord.at < old),
        ),
        "superseded versions": _deleted(  # their assignments go with them (ON DELETE CASCADE)
            session,
            delete(RotaRecord).where(
                RotaRecord.network_id == network_id,
                RotaRecord.state == "superseded",
                RotaRecord.week < before_week,
            ),
        ),
        "login failures": _deleted(
            session, delete(LoginFailureRecord).where(LoginFailureRecord.at < old)
        ),
        "job runs": _deleted(
            session,
            delete(JobRunRecord).where(
                JobRunRecord.network_id == network_id,
                JobRunRecord.started_at < old,
                JobRunRecord.outcome != "running",
            ),
        ),
        "cleared alerts": _deleted(
            session,
            delete(WeekAlertRecord).where(
                WeekAlertRecord.network_id == network_id, WeekAlertRecord.cleared_at < old
            ),
        ),
    }


def run_retention(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Delete audit entries, superseded versions, login failures, job runs and cleared alerts
    older than the network's retention periods, and logins past their end; never a draft or
    a published rota."""
    settings = job_settings(session, network_id)
    old = now.astimezone(dt.UTC) - dt.timedelta(days=settings.audit_retention_days)
    # A week ended more than N days ago exactly when it comes before the week of that day.
    before_week = iso_week_label(now.date() - dt.timedelta(days=settings.version_retention_days))
    counts = _delete_old(session, network_id, old, before_week)
    counts["expired logins"] = end_expired_sessions(session, now)
    if any(counts.values()):
        audit.record(
            session,
            ACTOR,
            "retention",
            f"network {network_id}",
            network_id=network_id,
            after={
                **{name.replace(" ", "_"): n for name, n in counts.items()},
                "audit_before": old.isoformat(),
                "versions_before_week": before_week,
            },
        )
    listed = ", ".join(count_words(n, SINGULAR[name], name) for name, n in counts.items())
    return f"deleted {listed} (versions of weeks before {before_week})"
