"""Calendar feeds: feed tokens, the published life of each event, change notices.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Written out in full, like 0001; tests compare the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40
FEED_KINDS = ("staff", "site", "hub")
EVENT_STATUSES = ("confirmed", "cancelled")
CHANGES = ("added", "moved", "removed")
MOMENT = sa.DateTime(timezone=True)


def _required(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A NOT NULL column."""
    return sa.Column(name, type_, nullable=False)


def _optional(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A nullable column."""
    return sa.Column(name, type_, nullable=True)


def _create_network_child(table: str, *items: sa.schema.SchemaItem) -> None:
    """A table owned by a network: id, network_id (cascading FK, indexed), then ``items``."""
    op.create_table(
        table,
        _required("id", sa.Integer()),
        _required("network_id", sa.Integer()),
        *items,
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f(f"fk_{table}_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_network_id"), table, ["network_id"], unique=False)


def upgrade() -> None:
    """Create the three feed tables."""
    _create_network_child(
        "feed_tokens",
        _required("kind", sa.String(length=8)),
        _required("subject", sa.String(length=ID)),
        _required("nonce", sa.String(length=64)),
        _required("token_hash", sa.String(length=64)),
        _required("created_at", MOMENT),
        _optional("revoked_at", MOMENT),
        sa.CheckConstraint(f"kind IN {FEED_KINDS!r}", name=op.f("ck_feed_tokens_kind")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_tokens_token_hash")),
    )
    _create_network_child(
        "calendar_events",
        _required("staff_id", sa.String(length=ID)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _required("site_id", sa.String(length=ID)),
        _required("status", sa.String(length=16)),
        _required("sequence", sa.Integer()),
        _required("created_at", MOMENT),
        _required("modified_at", MOMENT),
        sa.CheckConstraint(f"status IN {EVENT_STATUSES!r}", name=op.f("ck_calendar_events_status")),
        sa.UniqueConstraint(
            "network_id",
            "staff_id",
            "date",
            "session_id",
            name=op.f("uq_calendar_events_network_id_staff_id_date_session_id"),
        ),
    )
    _create_network_child(
        "change_notices",
        _required("staff_id", sa.String(length=ID)),
        _required("date", sa.Date()),
        _required("session_id", sa.String(length=ID)),
        _required("change", sa.String(length=16)),
        _optional("from_site", sa.String(length=ID)),
        _optional("to_site", sa.String(length=ID)),
        _required("created_at", MOMENT),
        _optional("emailed_at", MOMENT),
        _optional("email_error", sa.Text()),
        sa.CheckConstraint(f"change IN {CHANGES!r}", name=op.f("ck_change_notices_change")),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    for table in ("change_notices", "calendar_events", "feed_tokens"):
        op.drop_table(table)
