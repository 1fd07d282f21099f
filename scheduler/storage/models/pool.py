"""What the network's people do themselves: swaps, availability, timesheets, their inbox.

- ``SwapRecord``: a clinician's published session offered for a swap or given away;
- ``AvailabilityRecord`` and ``AvailabilityAnswerRecord``: when a clinician can
  and cannot work in a future week, and that they answered for that week;
- ``TimesheetRecord``: what was actually worked, confirmed or corrected after the day;
- ``InboxRecord``: one thing that concerns one person, read or not;
- ``DigestRecord``: a person's open-sessions digest (opted out, last sent).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.storage.models.base import ID, LABEL, Base, NetworkOwned

SWAP_KINDS = ("swap", "give")
# offered -> accepted (waiting for a coordinator) -> done; or declined, withdrawn, expired.
SWAP_STATES = ("offered", "accepted", "done", "declined", "withdrawn", "expired")
AVAILABILITY_KINDS = ("prefer", "cannot")
TIMESHEET_OUTCOMES = ("worked", "not_worked", "changed")


class SwapRecord(NetworkOwned, Base):
    """One published session its holder offers for a swap (``swap``) or gives away (``give``).

    ``to_staff_id`` names the colleague it is offered to (None: anyone eligible);
    ``taker_staff_id`` is who accepted.  In a swap the taker gives back one of
    their own sessions of the same week (``back_*``), named by the offer or
    chosen at acceptance.  Applied to the published rota as a new version.
    """

    __tablename__ = "swaps"
    __table_args__ = (
        CheckConstraint(f"kind IN {SWAP_KINDS!r}", name="kind"),
        CheckConstraint(f"state IN {SWAP_STATES!r}", name="state"),
    )

    week: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    from_staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    site_id: Mapped[str] = mapped_column(String(ID))
    to_staff_id: Mapped[str | None] = mapped_column(String(ID))
    taker_staff_id: Mapped[str | None] = mapped_column(String(ID))
    back_date: Mapped[dt.date | None] = mapped_column(Date)
    back_session_id: Mapped[str | None] = mapped_column(String(ID))
    back_site_id: Mapped[str | None] = mapped_column(String(ID))
    note: Mapped[str | None] = mapped_column(String(LABEL))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(LABEL))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was declined or expired
    version: Mapped[int | None] = mapped_column(Integer)


class AvailabilityRecord(NetworkOwned, Base):
    """A clinician's "prefer" or "cannot" for one session of a day ('' : the whole day)."""

    __tablename__ = "availability"
    __table_args__ = (
        CheckConstraint(f"kind IN {AVAILABILITY_KINDS!r}", name="kind"),
        UniqueConstraint("network_id", "staff_id", "date", "session_id"),
    )

    staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))  # '' for the whole day
    kind: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AvailabilityAnswerRecord(NetworkOwned, Base):
    """That a clinician answered for a week (even "any session suits me")."""

    __tablename__ = "availability_answers"
    __table_args__ = (UniqueConstraint("network_id", "staff_id", "week"),)

    staff_id: Mapped[str] = mapped_column(String(ID))
    week: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class TimesheetRecord(NetworkOwned, Base):
    """What one person actually worked in one session: confirmed, corrected or flagged.

    ``start``/``end`` ('HH:MM') only when the times differed from the session's.
    A session worked that was never planned has a row too (``worked``).
    """

    __tablename__ = "timesheets"
    __table_args__ = (
        CheckConstraint(f"outcome IN {TIMESHEET_OUTCOMES!r}", name="outcome"),
        UniqueConstraint("network_id", "staff_id", "date", "session_id"),
    )

    staff_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[dt.date] = mapped_column(Date)
    session_id: Mapped[str] = mapped_column(String(ID))
    site_id: Mapped[str] = mapped_column(String(ID))
    outcome: Mapped[str] = mapped_column(String(16))
    start: Mapped[str | None] = mapped_column(String(5))
    end: Mapped[str | None] = mapped_column(String(5))
    note: Mapped[str | None] = mapped_column(String(LABEL))
    confirmed_by: Mapped[str | None] = mapped_column(String(LABEL))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    flagged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    flag_note: Mapped[str | None] = mapped_column(String(LABEL))


class InboxRecord(NetworkOwned, Base):
    """One thing that concerns one person: to a clinician's ``staff_id`` or to one ``user_id``.

    ``text`` is plain words with no health data (a leave kind or reason never
    goes here); ``link`` is the path of the page that shows it.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        CheckConstraint("staff_id IS NOT NULL OR user_id IS NOT NULL", name="addressed"),
        Index("ix_inbox_staff_id_read_at", "network_id", "staff_id", "read_at"),
    )

    staff_id: Mapped[str | None] = mapped_column(String(ID))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(LABEL))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DigestRecord(NetworkOwned, Base):
    """A person's daily e-mail of open sessions they could take: opted out, or last sent."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("network_id", "staff_id"),)

    staff_id: Mapped[str] = mapped_column(String(ID))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    last_sent_on: Mapped[dt.date | None] = mapped_column(Date)
