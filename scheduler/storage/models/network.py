"""A network's imported bundle, one table per bundle file, and its rotas.

The tables mirror the bundle files rather than the solver's needs, so that an
imported bundle can be rebuilt exactly (``source_row`` keeps the spreadsheet
row, so messages about stored data still name the row the manager typed).
List-valued fields are stored as ``;``-joined text: they are small, never
queried by element, and the text reads well in any database browser."""

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
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.storage.models.base import ID, LABEL, Base, NetworkOwned

ROTA_STATES = ("draft", "published", "superseded")


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
    building: Mapped[str | None] = mapped_column(String(ID))
    organisation: Mapped[str | None] = mapped_column(String(ID))
    bank_holidays: Mapped[str | None] = mapped_column(String(16))  # NULL: the network's rule
    source_row: Mapped[int] = mapped_column(Integer)


class BuildingRecord(NetworkOwned, Base):
    """One row of buildings.csv."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("network_id", "building"),)

    building: Mapped[str] = mapped_column(String(ID))
    rooms: Mapped[int] = mapped_column(Integer)
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
    max_duty_hours: Mapped[float | None] = mapped_column(Float)
    bank: Mapped[bool | None] = mapped_column(Boolean)
    min_days_off_per_week: Mapped[int | None] = mapped_column(Integer)
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
    BuildingRecord,
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
