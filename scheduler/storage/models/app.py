"""What the app records around a network: accounts, audit, jobs, requests, feeds, events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.storage.models.base import ID, LABEL, Base, NetworkOwned

USER_ROLES = ("manager", "coordinator", "practice", "clinician")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB = "state IN ('queued', 'running')"
REQUEST_STATES = ("requested", "approved", "declined")
LEAVE_REQUEST_STATES = (*REQUEST_STATES, "withdrawn")  # withdrawn by whoever asked


class UserRecord(Base):
    """An account; ``network_id`` NULL means every network (the first manager's)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {USER_ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(LABEL), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[str | None] = mapped_column(String(ID))
    site_id: Mapped[str | None] = mapped_column(String(ID))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LoginSessionRecord(Base):
    """One logged-in browser: the cookie carries the key, the table only its SHA-256.

    Logging out deletes the row, so a copy of the cookie stops working at once.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginFailureRecord(Base):
    """One failed login, kept for the rate limit (by e-mail, whether or not it exists)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(LABEL), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditRecord(Base):
    """One state-changing action: who, when, what, and the data before and after.

    No foreign key to the network: the log outlives what it describes.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(LABEL))
    network_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(LABEL))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class SolveJobRecord(NetworkOwned, Base):
    """A solve started from the web app, run in the background; progress lives here."""

    __tablename__ = "solve_jobs"
    __table_args__ = (
        CheckConstraint(f"state IN {JOB_STATES!r}", name="state"),
        # One queued or running solve per week: two would race to save the same draft.
        Index(
            "uq_solve_jobs_active_week",
            "network_id",
            "week",
            unique=True,
            sqlite_where=text(ACTIVE_JOB),
            postgresql_where=text(ACTIVE_JOB),
        ),
    )

    week: Mapped[str] = mapped_column(String(10))
    weeks: Mapped[int] = mapped_column(Integer)
    keep_pins: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(LABEL))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    elapsed: Mapped[float | None] = mapped_column(Float)
    solutions: Mapped[int] = mapped_column(Integer)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str | None] = mapped_column(Text)
    rota_id: Mapped[int | None] = mapped_column(Integer)
    # What the job solves, for idempotency: a hash of everything it reads when it starts
    # (input_hash) and of the same after it saved its drafts (result_hash).
    input_hash: Mapped[str | None] = mapped_column(String(64))
    result_hash: Mapped[str | None] = mapped_column(String(64))
    time_limit: Mapped[float | None] = mapped_column(Float)
    workers: Mapped[int | None] = mapped_column(Integer)
    if_free: Mapped[bool] = mapped_column(Boolean)  # save only into a week with no rota at all
    backend: Mapped[str | None] = mapped_column(String(16))  # local or celery
    owner: Mapped[str | None] = mapped_column(String(LABEL))  # host:pid running it
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # to Redis
    attempts: Mapped[int] = mapped_column(Integer)


class LeaveRequestRecord(NetworkOwned, Base):
    """Leave a clinician asked for; approved requests join leave.csv's rows when planning."""

    __tablename__ = "leave_requests"
    __table_args__ = (CheckConstraint(f"state IN {LEAVE_REQUEST_STATES!r}", name="state"),)

    staff_id: Mapped[str] = mapped_column(String(ID))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(LABEL))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(LABEL))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The person asked to cancel approved leave: a manager decides (declining cancels it).
    cancel_asked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CoverRequestRecord(NetworkOwned, Base):
    """Extra cover a practice asked the network for, on one date and session."""

    __tablename__ = "cover_requests"
    __table_args__ = (CheckConstraint(f"state IN {REQUEST_STATES!r}", name="state"),)

    site_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    role: Mapped[str | None] = mapped_column(String(ID))
    skill: Mapped[str | None] = mapped_column(String(ID))
    people: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(LABEL))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(LABEL))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


FEED_KINDS = ("staff", "site", "hub")
EVENT_STATUSES = ("confirmed", "cancelled")
CHANGES = ("added", "moved", "removed")


class FeedTokenRecord(NetworkOwned, Base):
    """A calendar-feed link: one person's, one site's, or the network's hub sessions.

    The token itself is never stored: it is an HMAC of ``nonce`` under the
    app's secret key, so the link can be shown again but a copy of the
    database alone opens nothing; ``token_hash`` (SHA-256) finds it.
    ``subject`` is the staff_id or site_id ('' for the hub feed).
    """

    __tablename__ = "feed_tokens"
    __table_args__ = (
        CheckConstraint(f"kind IN {FEED_KINDS!r}", name="kind"),
        UniqueConstraint("token_hash"),
    )

    kind: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(ID))
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CalendarEventRecord(NetworkOwned, Base):
    """The published life of one session of one person: its feed event.

    Identity is (staff, date, session): the UID is derived from it, so
    re-publishing keeps the event; ``sequence`` grows with every change
    (moved site, removed, restored) and a removed session stays, cancelled.
    """

    __tablename__ = "calendar_events"
    __table_args__ = (
        CheckConstraint(f"status IN {EVENT_STATUSES!r}", name="status"),
        UniqueConstraint("network_id", "staff_id", "date", "session_id"),
    )

    staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    site_id: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    modified_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ChangeNoticeRecord(NetworkOwned, Base):
    """A published session in the next 14 days that changed: shown to the person and e-mailed."""

    __tablename__ = "change_notices"
    __table_args__ = (CheckConstraint(f"change IN {CHANGES!r}", name="change"),)

    staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    change: Mapped[str] = mapped_column(String(16))
    from_site: Mapped[str | None] = mapped_column(String(ID))
    to_site: Mapped[str | None] = mapped_column(String(ID))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    email_error: Mapped[str | None] = mapped_column(Text)


ABSENCE_KINDS = ("sick", "annual", "study", "parental", "other")
DEMAND_CHANGE_KINDS = ("set", "cancel")
TRANSFER_STATES = ("proposed", "accepted", "declined", "withdrawn")


class AbsenceRecord(NetworkOwned, Base):
    """Someone away after the rota was published: planned around, and repaired around.

    ``reason`` is health data when the kind is sickness: only managers and
    coordinators see it, and it never reaches the audit log.
    """

    __tablename__ = "absences"
    __table_args__ = (CheckConstraint(f"kind IN {ABSENCE_KINDS!r}", name="kind"),)

    staff_id: Mapped[str] = mapped_column(String(ID))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str | None] = mapped_column(String(ID))  # NULL = whole days
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(LABEL))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DemandChangeRecord(NetworkOwned, Base):
    """A site's need on one date, changed after planning: an extra need or a cancelled clinic.

    ``set`` replaces the demand rows with the same site, session, role and
    skill on that date; ``cancel`` sets every row of the session to nobody.
    """

    __tablename__ = "demand_changes"
    __table_args__ = (CheckConstraint(f"kind IN {DEMAND_CHANGE_KINDS!r}", name="kind"),)

    site_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(ID))
    skill: Mapped[str | None] = mapped_column(String(ID))
    min: Mapped[int] = mapped_column(Integer)
    target: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    cover_request_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(LABEL))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TransferRecord(NetworkOwned, Base):
    """A lending proposal: one person lent by one practice to another for one session.

    Both practices accept (their practice accounts, or a manager or
    coordinator for either); the second acceptance puts it in the rota.
    """

    __tablename__ = "transfers"
    __table_args__ = (CheckConstraint(f"state IN {TRANSFER_STATES!r}", name="state"),)

    week: Mapped[str] = mapped_column(String(10))
    staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    lender_site: Mapped[str] = mapped_column(String(ID))
    borrower_site: Mapped[str] = mapped_column(String(ID))
    hours: Mapped[float] = mapped_column(Float)
    cost: Mapped[float | None] = mapped_column(Float)
    travel_minutes: Mapped[int] = mapped_column(Integer)
    leaves_lender_short: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    proposed_by: Mapped[str] = mapped_column(String(LABEL))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    lender_accepted_by: Mapped[str | None] = mapped_column(String(LABEL))
    lender_accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    borrower_accepted_by: Mapped[str | None] = mapped_column(String(LABEL))
    borrower_accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


OPEN_SESSION_STATES = ("open", "requested", "booked", "withdrawn", "expired")


class OpenSessionRecord(NetworkOwned, Base):
    """A place in a published week offered to the network's people (an open session).

    Booked by the first eligible person (checked against every hard rule at that
    moment), or withdrawn by a manager or coordinator, or expired at
    ``closes_at``.  The booking is put in the published rota as a new version.
    """

    __tablename__ = "open_sessions"
    __table_args__ = (CheckConstraint(f"state IN {OPEN_SESSION_STATES!r}", name="state"),)

    week: Mapped[str] = mapped_column(String(10))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    site_id: Mapped[str] = mapped_column(String(ID))
    role: Mapped[str | None] = mapped_column(String(ID))
    skill: Mapped[str | None] = mapped_column(String(ID))
    rate: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(LABEL))
    state: Mapped[str] = mapped_column(String(16))
    offered_by: Mapped[str] = mapped_column(String(LABEL))
    offered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    booked_staff_id: Mapped[str | None] = mapped_column(String(ID))
    booked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(LABEL))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int | None] = mapped_column(Integer)


JOB_OUTCOMES = ("running", "done", "failed", "skipped")
ALERT_KINDS = ("shortfall", "reminder")


class JobRunRecord(NetworkOwned, Base):
    """One run of a scheduled job: claimed before it starts, so it runs once.

    (``job_id``, ``due_at``) is unique: a second scheduler process that wakes
    for the same run fails to insert its claim and leaves the run alone.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(f"outcome IN {JOB_OUTCOMES!r}", name="outcome"),
        UniqueConstraint("job_id", "due_at"),
    )

    job_id: Mapped[str] = mapped_column(String(LABEL))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str] = mapped_column(String(LABEL))  # host and process id


class WeekAlertRecord(NetworkOwned, Base):
    """Something a scheduled job found about a week, shown on its overview until cleared."""

    __tablename__ = "week_alerts"
    __table_args__ = (CheckConstraint(f"kind IN {ALERT_KINDS!r}", name="kind"),)

    week: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
