"""Open sessions: a place offered to the network's people, booked by one of them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Written out in full, like 0005; tests compare the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40
LABEL = 200
OPEN_SESSION_STATES = ("open", "requested", "booked", "withdrawn", "expired")
MOMENT = sa.DateTime(timezone=True)


def _required(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=False)


def _optional(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=True)


def upgrade() -> None:
    """Create the open_sessions table."""
    table = "open_sessions"
    op.create_table(
        table,
        _required("id", sa.Integer()),
        _required("network_id", sa.Integer()),
        _required("week", sa.String(length=10)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _required("site_id", sa.String(length=ID)),
        _optional("role", sa.String(length=ID)),
        _optional("skill", sa.String(length=ID)),
        _optional("rate", sa.Float()),
        _optional("note", sa.String(length=LABEL)),
        _required("state", sa.String(length=16)),
        _required("offered_by", sa.String(length=LABEL)),
        _required("offered_at", MOMENT),
        _required("closes_at", MOMENT),
        _optional("booked_staff_id", sa.String(length=ID)),
        _optional("booked_at", MOMENT),
        _optional("closed_by", sa.String(length=LABEL)),
        _optional("closed_at", MOMENT),
        _optional("version", sa.Integer()),
        sa.CheckConstraint(
            f"state IN {OPEN_SESSION_STATES!r}", name=op.f("ck_open_sessions_state")
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_open_sessions_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_sessions")),
    )
    op.create_index(op.f("ix_open_sessions_network_id"), table, ["network_id"], unique=False)


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index(op.f("ix_open_sessions_network_id"), table_name="open_sessions")
    op.drop_table("open_sessions")
