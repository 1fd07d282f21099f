"""Database tables: one row per bundle record, plus rotas and their assignments.

The tables mirror the bundle files rather than the solver's needs, so that an
imported bundle can be rebuilt exactly (``source_row`` keeps the spreadsheet
row, so messages about stored data still name the row the manager typed).
List-valued fields are stored as ``;``-joined text: they are small, never
queried by element, and the text reads well in any database browser.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names: Alembic can only alter or drop a constraint
# it can name, and SQLite batch migrations need the same names as PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROTA_STATES = ("draft", "published", "superseded")

ID = 40  # length of short identifiers such as site_id or staff_id
MAX_INTEGER = 2**31 - 1  # the largest id or revision an Integer column holds (PostgreSQL)
LABEL = 200  # length of display names


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class NetworkOwned:
    """Columns of every table a network owns: deleting a network deletes its rows."""

    # Negative sort orders put these first, as in the migration.
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True, sort_order=-1
    )


class NetworkRecord(Base):
    """A network of practices: one imported bundle's header and settings."""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(LABEL), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # rules, weights, enhanced_access, bank_holidays_closed, file_labels
    settings: Mapped[dict[str, Any]]
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SiteRecord(NetworkOwned, Base):
    """One row of sites.csv."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("network_id", "site_id"),)

    site_id: Mapped[str] = mapped_column(String(ID))
    name: Mapped[str] = mapped_column(String(LABEL))
    kind: Mapped[str] = mapped_column(String(16))
    list_size: Mapped[int] = mapped_column(Integer)
    rooms: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    source_row: Mapped[int] = mapped_column(Integer)


class SessionTypeRecord(NetworkOwned, Base):
    """One row of session_types.csv; ``days`` holds weekday numbers (0 = Monday)."""

    __tablename__ = "session_types"
    __table_args__ = (UniqueConstraint("network_id", "session_id"),)

    session_id: Mapped[str] = mapped_column(String(ID))
    label: Mapped[str] = mapped_column(String(LABEL))
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    days: Mapped[str] = mapped_column(String(LABEL))
    kind: Mapped[str] = mapped_column(String(16))
    source_row: Mapped[int] = mapped_column(Integer)


class StaffRecord(NetworkOwned, Base):
    """One row of staff.csv; ``sites`` NULL means any site."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("network_id", "staff_id"),)

    staff_id: Mapped[str] = mapped_column(String(ID))
    name: Mapped[str] = mapped_column(String(LABEL))
    role: Mapped[str] = mapped_column(String(ID))
    home_site: Mapped[str] = mapped_column(String(ID))
    employer: Mapped[str] = mapped_column(String(ID))
    contract_hours: Mapped[float] = mapped_column(Float)
    min_hours: Mapped[float] = mapped_column(Float)
    max_hours: Mapped[float] = mapped_column(Float)
    skills: Mapped[str] = mapped_column(Text)
    sites: Mapped[str | None] = mapped_column(Text)
    max_sessions_per_day: Mapped[int | None] = mapped_column(Integer)
    max_evenings: Mapped[int] = mapped_column(Integer)
    max_weekend_sessions: Mapped[int] = mapped_column(Integer)
    hourly_rate: Mapped[float | None] = mapped_column(Float)
    email: Mapped[str | None] = mapped_column(String(LABEL))
    source_row: Mapped[int] = mapped_column(Integer)
    # Horizon rules (migration 0002); NULL = no limit.
    max_consecutive_days: Mapped[int | None] = mapped_column(Integer)
    min_consecutive_days: Mapped[int | None] = mapped_column(Integer)
    min_days_off_in_row: Mapped[int | None] = mapped_column(Integer)
    max_weekends: Mapped[int | None] = mapped_column(Integer)
    min_horizon_hours: Mapped[float | None] = mapped_column(Float)
    max_horizon_hours: Mapped[float | None] = mapped_column(Float)


class DemandRecord(NetworkOwned, Base):
    """One row of demand.csv; the day is either ``weekdays`` or ``day_date``."""

    __tablename__ = "demand"

    site_id: Mapped[str] = mapped_column(String(ID))
    weekdays: Mapped[str] = mapped_column(String(LABEL))
    day_date: Mapped[dt.date | None] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    role: Mapped[str | None] = mapped_column(String(ID))
    skill: Mapped[str | None] = mapped_column(String(ID))
    min_people: Mapped[int] = mapped_column(Integer)
    target_people: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)
    source_row: Mapped[int] = mapped_column(Integer)


class LeaveRecord(NetworkOwned, Base):
    """One row of leave.csv; ``session_id`` NULL means whole days."""

    __tablename__ = "leave"

    staff_id: Mapped[str] = mapped_column(String(ID))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[str | None] = mapped_column(String(ID))
    source_row: Mapped[int] = mapped_column(Integer)


class PreferenceRecord(NetworkOwned, Base):
    """One row of preferences.csv; NULL session or site means any."""

    __tablename__ = "preferences"

    staff_id: Mapped[str] = mapped_column(String(ID))
    weekdays: Mapped[str] = mapped_column(String(LABEL))
    day_date: Mapped[dt.date | None] = mapped_column(Date)
    session_id: Mapped[str | None] = mapped_column(String(ID))
    site_id: Mapped[str | None] = mapped_column(String(ID))
    preference: Mapped[str] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Float)
    source_row: Mapped[int] = mapped_column(Integer)


class FixedRecord(NetworkOwned, Base):
    """One row of fixed.csv: an assignment every rota must keep."""

    __tablename__ = "fixed"

    staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    site_id: Mapped[str] = mapped_column(String(ID))
    source_row: Mapped[int] = mapped_column(Integer)


class TravelRecord(NetworkOwned, Base):
    """One row of travel.csv."""

    __tablename__ = "travel"

    from_site: Mapped[str] = mapped_column(String(ID))
    to_site: Mapped[str] = mapped_column(String(ID))
    minutes: Mapped[int] = mapped_column(Integer)
    source_row: Mapped[int] = mapped_column(Integer)


class ForbiddenSequenceRecord(NetworkOwned, Base):
    """One row of forbidden_sequences.csv."""

    __tablename__ = "forbidden_sequences"

    session_id: Mapped[str] = mapped_column(String(ID))
    next_day_session_id: Mapped[str] = mapped_column(String(ID))
    source_row: Mapped[int] = mapped_column(Integer)


class SessionLimitRecord(NetworkOwned, Base):
    """One row of session_limits.csv."""

    __tablename__ = "session_limits"

    staff_id: Mapped[str] = mapped_column(String(ID))
    session_id: Mapped[str] = mapped_column(String(ID))
    max_sessions: Mapped[int] = mapped_column(Integer)
    source_row: Mapped[int] = mapped_column(Integer)


DRAFT_ONLY = "state = 'draft'"


class RotaRecord(NetworkOwned, Base):
    """One planned week of one network, with how the solve went.

    At most one draft per network and week (a partial unique index): a new
    draft replaces the old one, while published and superseded rotas are kept
    as history.
    """

    __tablename__ = "rotas"
    __table_args__ = (
        CheckConstraint(f"state IN {ROTA_STATES!r}", name="state"),
        Index(
            "uq_rotas_one_draft_per_week",
            "network_id",
            "week",
            unique=True,
            sqlite_where=text(DRAFT_ONLY),
            postgresql_where=text(DRAFT_ONLY),
        ),
    )

    week: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(32))
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[dict[str, Any]]
    # Web editing and publication (migration 0003).  ``revision`` grows with
    # every edit so that two coordinators editing one draft are told, not
    # overwritten; ``version`` numbers the publications of a week from 1.
    revision: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    version: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(LABEL))


class AssignmentRecord(Base):
    """One person at one site for one session on one date, within a rota."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("rota_id", "date", "session_id", "site_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rota_id: Mapped[int] = mapped_column(
        ForeignKey("rotas.id", ondelete="CASCADE"), index=True, nullable=False
    )
    staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    site_id: Mapped[str] = mapped_column(String(ID))
    pinned: Mapped[bool] = mapped_column(Boolean)


# Tables that hold one imported bundle, in the order they are written.
BUNDLE_TABLES = (
    SiteRecord,
    SessionTypeRecord,
    StaffRecord,
    DemandRecord,
    LeaveRecord,
    PreferenceRecord,
    FixedRecord,
    TravelRecord,
    ForbiddenSequenceRecord,
    SessionLimitRecord,
)


USER_ROLES = ("manager", "coordinator", "practice", "clinician")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB = "state IN ('queued', 'running')"
REQUEST_STATES = ("requested", "approved", "declined")


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
    __table_args__ = (CheckConstraint(f"state IN {REQUEST_STATES!r}", name="state"),)

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
