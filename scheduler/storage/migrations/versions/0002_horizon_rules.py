"""Horizon rules: optional staff columns, forbidden sequences and per-type session limits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Written out in full, like 0001; tests compare the migrated schema with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40

STAFF_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("max_consecutive_days", sa.Integer()),
    ("min_consecutive_days", sa.Integer()),
    ("min_days_off_in_row", sa.Integer()),
    ("max_weekends", sa.Integer()),
    ("min_horizon_hours", sa.Float()),
    ("max_horizon_hours", sa.Float()),
)


def _required(name: str, type_: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A NOT NULL column."""
    return sa.Column(name, type_, nullable=False)


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
    """Add the staff columns (NULL = no limit) and the two new bundle tables."""
    with op.batch_alter_table("staff") as batch:
        for name, type_ in STAFF_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    _create_network_child(
        "forbidden_sequences",
        _required("session_id", sa.String(length=ID)),
        _required("next_day_session_id", sa.String(length=ID)),
        _required("source_row", sa.Integer()),
    )
    _create_network_child(
        "session_limits",
        _required("staff_id", sa.String(length=ID)),
        _required("session_id", sa.String(length=ID)),
        _required("max_sessions", sa.Integer()),
        _required("source_row", sa.Integer()),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("session_limits")
    op.drop_table("forbidden_sequences")
    with op.batch_alter_table("staff") as batch:
        for name, _ in reversed(STAFF_COLUMNS):
            batch.drop_column(name)
